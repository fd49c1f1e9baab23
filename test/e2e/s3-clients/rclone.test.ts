// rclone (Debian's rclone) against hanul over plain HTTP, as an S3 remote of
// provider "Other" with an endpoint: mkdir, copy (multipart), sync, ls/lsjson,
// cat, check (MD5 hashes), delete, purge.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cliVersion, randomFile, runCmd, sha256File, startRig, type ClientRig } from './helpers.js';

const MiB = 1024 * 1024;
const BIN = '/usr/bin/rclone';

interface LsEntry {
  Path: string;
  Size: number;
  IsDir: boolean;
  Hashes?: { md5?: string };
}

describe('S3 with rclone', { skip: cliVersion(BIN) === undefined ? 'rclone not installed' : false }, () => {
  let rig: ClientRig;
  const rclone = (...args: string[]): Promise<string> => runCmd(BIN, ['--config', join(rig.dir, 'rclone.conf'), ...args], rig.env, 60_000);

  before(async () => {
    rig = await startRig({ tls: false });
    await writeFile(
      join(rig.dir, 'rclone.conf'),
      [
        '[hanul]',
        'type = s3',
        'provider = Other',
        `access_key_id = ${rig.server.credentials.accessKeyId}`,
        `secret_access_key = ${rig.server.credentials.secretAccessKey}`,
        `endpoint = ${rig.endpoint}`,
        `region = ${rig.server.region}`,
        // New buckets disable ACLs (Object Ownership BucketOwnerEnforced, S3's default since
        // 2023): PUTs may carry no ACL or bucket-owner-full-control, not rclone's default 'private'.
        'acl = bucket-owner-full-control',
        '',
      ].join('\n'),
    );
  });
  after(() => rig.stop());

  it('mkdir, copy (multipart and weird key names), lsjson, cat, check, delete, purge', async () => {
    await rclone('mkdir', 'hanul:rclone-bucket');
    assert.match(await rclone('lsd', 'hanul:'), /rclone-bucket/);

    const src = join(rig.dir, 'src');
    await mkdir(src);
    const bigHash = await randomFile(join(src, 'big.bin'), 12 * MiB);
    await writeFile(join(src, 'a b+c ü 100%.txt'), 'hello from rclone\n');
    // Cut-off and chunk at S3's 5 MiB minimum: big.bin goes up in three parts.
    await rclone('copy', '--s3-upload-cutoff=5M', '--s3-chunk-size=5M', src, 'hanul:rclone-bucket/d');

    const sdk = new S3Client({ ...rig.server.clientConfig, forcePathStyle: true });
    const head = await sdk.send(new HeadObjectCommand({ Bucket: 'rclone-bucket', Key: 'd/big.bin' }));
    assert.match(head.ETag ?? '', /-3"$/, 'multipart ETag');
    const weird = await sdk.send(new HeadObjectCommand({ Bucket: 'rclone-bucket', Key: 'd/a b+c ü 100%.txt' }));
    assert.equal(weird.ContentLength, 18, 'the weird key is stored under its exact name');
    sdk.destroy();

    const list = JSON.parse(await rclone('lsjson', '--recursive', '--hash', '--files-only', 'hanul:rclone-bucket')) as LsEntry[];
    const byPath = new Map(list.map((e) => [e.Path, e]));
    assert.deepEqual([...byPath.keys()].sort(), ['d/a b+c ü 100%.txt', 'd/big.bin']);
    assert.equal(byPath.get('d/big.bin')?.Size, 12 * MiB);
    assert.equal(byPath.get('d/a b+c ü 100%.txt')?.Hashes?.md5, createHash('md5').update('hello from rclone\n').digest('hex'), 'MD5 from the ETag');
    assert.match(await rclone('ls', 'hanul:rclone-bucket'), /12582912 d\/big\.bin/);

    assert.equal(await rclone('cat', 'hanul:rclone-bucket/d/a b+c ü 100%.txt'), 'hello from rclone\n');
    // check compares sizes and MD5s (the single-part ETag; rclone's own
    // metadata for the multipart one) and then the bytes themselves.
    await rclone('check', src, 'hanul:rclone-bucket/d');
    await rclone('check', '--download', src, 'hanul:rclone-bucket/d');
    const down = join(rig.dir, 'down');
    await rclone('copy', 'hanul:rclone-bucket/d', down);
    assert.equal(await sha256File(join(down, 'big.bin')), bigHash, '12 MiB round-trips byte-identical');

    // A changed local file is a difference check reports (non-zero exit).
    await writeFile(join(src, 'a b+c ü 100%.txt'), 'changed\n');
    await assert.rejects(rclone('check', src, 'hanul:rclone-bucket/d'), /1 differences found/);

    await rclone('delete', 'hanul:rclone-bucket/d', '--include', 'big.bin');
    assert.doesNotMatch(await rclone('ls', 'hanul:rclone-bucket'), /big\.bin/);
    await rclone('purge', 'hanul:rclone-bucket');
    assert.doesNotMatch(await rclone('lsd', 'hanul:'), /rclone-bucket/);
  });

  it('sync uploads, skips unchanged files, deletes removed ones, and check agrees', async () => {
    const src = join(rig.dir, 'site');
    await mkdir(join(src, 'sub dir'), { recursive: true });
    await writeFile(join(src, 'index.html'), '<h1>hi</h1>');
    await writeFile(join(src, 'sub dir', 'ü +1.css'), 'body{}');
    await writeFile(join(src, 'gone.txt'), 'bye');
    await rclone('mkdir', 'hanul:rclone-sync');
    await rclone('sync', src, 'hanul:rclone-sync/site');
    // -v logs one "Copied" line per transferred file (on stderr, so use --log-file).
    const log = join(rig.dir, 'sync.log');
    await rclone('sync', '-v', '--log-file', log, src, 'hanul:rclone-sync/site');
    assert.doesNotMatch(await readFile(log, 'utf8'), /Copied/, 'nothing changed, nothing copied');

    await writeFile(join(src, 'index.html'), '<h1>changed</h1>');
    await rm(join(src, 'gone.txt'));
    await rm(log);
    await rclone('sync', '-v', '--log-file', log, src, 'hanul:rclone-sync/site');
    const text = await readFile(log, 'utf8');
    assert.match(text, /index\.html: Copied/);
    assert.match(text, /gone\.txt: Deleted/);
    await rclone('check', src, 'hanul:rclone-sync/site');

    const listed = (await rclone('ls', 'hanul:rclone-sync')).trim().split('\n').map((l) => l.trim().replace(/^\d+ /, '')).sort();
    assert.deepEqual(listed, ['site/index.html', 'site/sub dir/ü +1.css']);
    assert.equal(await rclone('cat', 'hanul:rclone-sync/site/sub dir/ü +1.css'), 'body{}');
    await rclone('purge', 'hanul:rclone-sync');
  });
});
