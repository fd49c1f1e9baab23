// s3cmd (Debian's s3cmd 2.x) against hanul over plain HTTP: path-style
// addressing through host_base/host_bucket, SigV4, multipart put, sync, info.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cliVersion, randomFile, runCmd, sha256File, startRig, type ClientRig } from './helpers.js';

const MiB = 1024 * 1024;
const BIN = '/usr/bin/s3cmd';
// Spaces, unicode, '+', '%' and a literal '&': the names real clients mangle first.
const WEIRD = 'dir/a b+c ü 100%&x.txt';

describe('S3 with s3cmd', { skip: cliVersion(BIN) === undefined ? 's3cmd not installed' : false }, () => {
  let rig: ClientRig;
  let cfg: string;
  const s3cmd = (...args: string[]): Promise<string> => runCmd(BIN, ['-c', cfg, '--no-progress', ...args], rig.env, 60_000);

  before(async () => {
    rig = await startRig({ tls: false });
    cfg = join(rig.dir, 's3cfg');
    const host = rig.endpoint.replace(/^https?:\/\//, '');
    // host_bucket without %(bucket)s makes s3cmd address buckets path-style.
    await writeFile(
      cfg,
      [
        '[default]',
        `access_key = ${rig.server.credentials.accessKeyId}`,
        `secret_key = ${rig.server.credentials.secretAccessKey}`,
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        'use_https = False',
        'signature_v2 = False',
        `bucket_location = ${rig.server.region}`,
        '',
      ].join('\n'),
    );
  });
  after(() => rig.stop());

  it('mb, put (multipart and weird key names), ls, get, info, del, rb round-trip the bytes', async () => {
    await s3cmd('mb', 's3://s3cmd-bucket');
    assert.match(await s3cmd('ls'), /s3:\/\/s3cmd-bucket/);

    const big = join(rig.dir, 'big.bin');
    const bigHash = await randomFile(big, 12 * MiB);
    const put = await s3cmd('put', '--multipart-chunk-size-mb=5', big, 's3://s3cmd-bucket/dir/big.bin');
    assert.match(put, /upload: .*big\.bin/);
    const small = join(rig.dir, 'small.txt');
    await writeFile(small, 'hello from s3cmd\n');
    await s3cmd('put', small, `s3://s3cmd-bucket/${WEIRD}`);

    // 12 MiB in 5 MiB chunks went up as three parts: the ETag says so.
    const sdk = new S3Client({ ...rig.server.clientConfig, forcePathStyle: true });
    const head = await sdk.send(new HeadObjectCommand({ Bucket: 's3cmd-bucket', Key: 'dir/big.bin' }));
    assert.equal(head.ContentLength, 12 * MiB);
    assert.match(head.ETag ?? '', /-3"$/, 'multipart ETag');
    assert.ok(head.Metadata?.['s3cmd-attrs']?.includes('md5:'), 's3cmd keeps its attrs in user metadata');
    const weirdHead = await sdk.send(new HeadObjectCommand({ Bucket: 's3cmd-bucket', Key: WEIRD }));
    assert.equal(weirdHead.ContentLength, 17, 'the weird key is stored under its exact name');
    sdk.destroy();

    const ls = await s3cmd('ls', '--recursive', 's3://s3cmd-bucket');
    assert.match(ls, /12582912\s+s3:\/\/s3cmd-bucket\/dir\/big\.bin/);
    assert.ok(ls.includes(`s3://s3cmd-bucket/${WEIRD}`), ls);

    const back = join(rig.dir, 'big.back');
    await s3cmd('get', 's3://s3cmd-bucket/dir/big.bin', back);
    assert.equal(await sha256File(back), bigHash, '12 MiB round-trips byte-identical');
    const smallBack = join(rig.dir, 'small.back');
    await s3cmd('get', `s3://s3cmd-bucket/${WEIRD}`, smallBack);
    assert.equal(await readFile(smallBack, 'utf8'), 'hello from s3cmd\n');

    const info = await s3cmd('info', 's3://s3cmd-bucket/dir/big.bin');
    assert.match(info, /File size:\s+12582912/);
    assert.match(info, /Storage:\s+STANDARD/);
    const binfo = await s3cmd('info', 's3://s3cmd-bucket');
    assert.match(binfo, new RegExp(`Location:\\s+${rig.server.region}`));

    // A missing object is S3's 404, reported as such.
    await assert.rejects(s3cmd('get', 's3://s3cmd-bucket/nope', join(rig.dir, 'nope')), /404|does not exist|NoSuchKey/);
    await assert.rejects(s3cmd('rb', 's3://s3cmd-bucket'), /BucketNotEmpty/);

    await s3cmd('del', 's3://s3cmd-bucket/dir/big.bin');
    await s3cmd('del', `s3://s3cmd-bucket/${WEIRD}`);
    assert.equal((await s3cmd('ls', '--recursive', 's3://s3cmd-bucket')).trim(), '');
    await s3cmd('rb', 's3://s3cmd-bucket');
    assert.doesNotMatch(await s3cmd('ls'), /s3cmd-bucket/);
  });

  it('sync uploads, skips unchanged files, deletes removed ones and syncs back down', async () => {
    const src = join(rig.dir, 'site');
    await mkdir(join(src, 'sub dir'), { recursive: true });
    await writeFile(join(src, 'index.html'), '<h1>hi</h1>');
    await writeFile(join(src, 'sub dir', 'ü +1.css'), 'body{}');
    await writeFile(join(src, 'gone.txt'), 'bye');
    await s3cmd('mb', 's3://s3cmd-sync');
    const first = await s3cmd('sync', `${src}/`, 's3://s3cmd-sync/site/');
    assert.equal((first.match(/upload:/g) ?? []).length, 3, first);
    // Unchanged files are compared by size and MD5 (the ETag) and skipped.
    const again = await s3cmd('sync', `${src}/`, 's3://s3cmd-sync/site/');
    assert.doesNotMatch(again, /upload:/, again);
    await writeFile(join(src, 'index.html'), '<h1>changed</h1>');
    await rm(join(src, 'gone.txt'));
    const third = await s3cmd('sync', '--delete-removed', `${src}/`, 's3://s3cmd-sync/site/');
    assert.match(third, /upload: .*index\.html/);
    assert.match(third, /delete: 's3:\/\/s3cmd-sync\/site\/gone\.txt'/);

    const down = join(rig.dir, 'site-down');
    await s3cmd('sync', 's3://s3cmd-sync/site/', `${down}/`);
    assert.equal(await readFile(join(down, 'index.html'), 'utf8'), '<h1>changed</h1>');
    assert.equal(await readFile(join(down, 'sub dir', 'ü +1.css'), 'utf8'), 'body{}');
    await assert.rejects(readFile(join(down, 'gone.txt')), /ENOENT/);

    await s3cmd('del', '--recursive', '--force', 's3://s3cmd-sync');
    await s3cmd('rb', 's3://s3cmd-sync');
  });
});
