/**
 * One AWS CLI session against hanul, shared by the CLI v1 (Python, aws-cli
 * 1.45 with the 2025 default checksums) and CLI v2 (Debian's `awscli`) test
 * files, over plain HTTP and over TLS (where both send their checksums in
 * aws-chunked trailers).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchUrl, randomFile, runCmd, sha256File, startRig, type ClientRig } from './helpers.js';

const MiB = 1024 * 1024;

export function describeCli(title: string, bin: string | undefined, tls: boolean, part: 's3' | 's3api'): void {
  describe(`${title}: aws ${part}`, { skip: bin === undefined ? 'CLI not installed' : false }, () => {
    let rig: ClientRig;
    const aws = (...args: string[]): Promise<string> => runCmd(bin as string, ['--endpoint-url', rig.endpoint, ...args], rig.env, 120_000);
    const json = async (...args: string[]): Promise<Record<string, unknown>> => JSON.parse((await aws(...args, '--output', 'json')) || '{}') as Record<string, unknown>;
    before(async () => {
      rig = await startRig({ tls });
    });
    after(() => rig.stop());

    // Each file runs one half (keeps every file well under a minute); the other half is not registered.
    const skip = ((): undefined => undefined) as unknown as typeof it;
    const s3 = part === 's3' ? it : skip;
    const api = part === 's3api' ? it : skip;

    s3('s3 mb/cp (50 MiB multipart and small)/ls/presign/rm/rb round-trip the bytes', async () => {
      await aws('s3', 'mb', 's3://cli-bucket');
      const big = join(rig.dir, 'big.bin');
      const bigHash = await randomFile(big, 50 * MiB);
      await aws('s3', 'cp', big, 's3://cli-bucket/dir/big.bin');
      const small = join(rig.dir, 'small.txt');
      await writeFile(small, 'hello from the cli\n');
      await aws('s3', 'cp', small, 's3://cli-bucket/dir/small file+.txt');

      // The 50 MiB object went up in parts (CLI threshold 8 MiB): its ETag says so.
      const head = await json('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'dir/big.bin');
      assert.equal(head['ContentLength'], 50 * MiB);
      assert.match(String(head['ETag']), /-\d+"$/, 'multipart ETag');

      const back = join(rig.dir, 'big.back');
      await aws('s3', 'cp', 's3://cli-bucket/dir/big.bin', back);
      assert.equal(await sha256File(back), bigHash, '50 MiB round-trips byte-identical');
      await aws('s3', 'cp', 's3://cli-bucket/dir/small file+.txt', join(rig.dir, 'small.back'));
      assert.equal(await readFile(join(rig.dir, 'small.back'), 'utf8'), 'hello from the cli\n');

      const ls = await aws('s3', 'ls', 's3://cli-bucket/dir/');
      assert.match(ls, /52428800 big\.bin/);
      assert.match(ls, /small file\+\.txt/);
      const buckets = await aws('s3', 'ls');
      assert.match(buckets, /cli-bucket/);

      const url = (await aws('s3', 'presign', 's3://cli-bucket/dir/small file+.txt', '--expires-in', '300')).trim();
      assert.match(url, /X-Amz-Signature=/, 'SigV4 presigned URL');
      const got = await fetchUrl(url, rig.caFile);
      assert.equal(got.status, 200, got.body.toString());
      assert.equal(got.body.toString(), 'hello from the cli\n');
      const tampered = await fetchUrl(url.replace('small', 'smalL'), rig.caFile);
      assert.equal(tampered.status, 403);

      await assert.rejects(aws('s3', 'rb', 's3://cli-bucket'), /BucketNotEmpty/);
      await aws('s3', 'rm', 's3://cli-bucket', '--recursive');
      assert.equal((await aws('s3', 'ls', 's3://cli-bucket/')).trim(), '');
      await aws('s3', 'rb', 's3://cli-bucket');
      assert.doesNotMatch(await aws('s3', 'ls'), /cli-bucket/);
    });

    s3('s3 sync uploads, skips unchanged files, deletes with --delete and syncs back down', async () => {
      const src = join(rig.dir, 'site');
      await mkdir(join(src, 'css'), { recursive: true });
      await writeFile(join(src, 'index.html'), '<h1>hi</h1>');
      await writeFile(join(src, 'css', 'a.css'), 'body{}');
      await writeFile(join(src, 'gone.txt'), 'bye');
      await aws('s3', 'mb', 's3://sync-bucket');
      const first = await aws('s3', 'sync', src, 's3://sync-bucket/site');
      assert.equal((first.match(/upload:/g) ?? []).length, 3);
      const again = await aws('s3', 'sync', src, 's3://sync-bucket/site');
      assert.doesNotMatch(again, /upload:/, 'nothing changed, nothing uploaded');
      const { rm } = await import('node:fs/promises');
      await rm(join(src, 'gone.txt'));
      const del = await aws('s3', 'sync', src, 's3://sync-bucket/site', '--delete');
      assert.match(del, /delete: s3:\/\/sync-bucket\/site\/gone\.txt/);
      const down = join(rig.dir, 'site-down');
      await aws('s3', 'sync', 's3://sync-bucket/site', down);
      assert.equal(await readFile(join(down, 'css', 'a.css'), 'utf8'), 'body{}');
      assert.equal(await readFile(join(down, 'index.html'), 'utf8'), '<h1>hi</h1>');
    });

    api('s3api versioning: put-bucket-versioning, two versions, list-object-versions, get by version', async () => {
      await aws('s3api', 'create-bucket', '--bucket', 'ver-bucket');
      await aws('s3api', 'put-bucket-versioning', '--bucket', 'ver-bucket', '--versioning-configuration', 'Status=Enabled');
      const v = await json('s3api', 'get-bucket-versioning', '--bucket', 'ver-bucket');
      assert.equal(v['Status'], 'Enabled');
      const f1 = join(rig.dir, 'v1.txt');
      const f2 = join(rig.dir, 'v2.txt');
      await writeFile(f1, 'version one');
      await writeFile(f2, 'version two');
      const p1 = await json('s3api', 'put-object', '--bucket', 'ver-bucket', '--key', 'doc.txt', '--body', f1);
      const p2 = await json('s3api', 'put-object', '--bucket', 'ver-bucket', '--key', 'doc.txt', '--body', f2);
      assert.ok(p1['VersionId'] && p2['VersionId'] && p1['VersionId'] !== p2['VersionId']);
      await aws('s3api', 'delete-object', '--bucket', 'ver-bucket', '--key', 'doc.txt');
      const list = await json('s3api', 'list-object-versions', '--bucket', 'ver-bucket');
      const versions = list['Versions'] as Array<{ VersionId: string; IsLatest: boolean }>;
      const markers = list['DeleteMarkers'] as Array<{ IsLatest: boolean }>;
      assert.deepEqual(versions.map((x) => x.VersionId).sort(), [p1['VersionId'], p2['VersionId']].sort());
      assert.equal(markers.length, 1);
      assert.equal(markers[0]?.IsLatest, true);
      const out = join(rig.dir, 'v1.back');
      await aws('s3api', 'get-object', '--bucket', 'ver-bucket', '--key', 'doc.txt', '--version-id', p1['VersionId'] as string, out);
      assert.equal(await readFile(out, 'utf8'), 'version one');
      await assert.rejects(aws('s3api', 'get-object', '--bucket', 'ver-bucket', '--key', 'doc.txt', join(rig.dir, 'x')), /NoSuchKey/);
    });

    api('s3api multipart: create-multipart-upload, upload-part ×2, complete-multipart-upload', async () => {
      await aws('s3api', 'create-bucket', '--bucket', 'mpu-bucket');
      const part1 = join(rig.dir, 'p1.bin');
      const part2 = join(rig.dir, 'p2.bin');
      await randomFile(part1, 5 * MiB);
      await writeFile(part2, 'the tail');
      const created = await json('s3api', 'create-multipart-upload', '--bucket', 'mpu-bucket', '--key', 'joined.bin');
      const uploadId = String(created['UploadId']);
      const e1 = await json('s3api', 'upload-part', '--bucket', 'mpu-bucket', '--key', 'joined.bin', '--upload-id', uploadId, '--part-number', '1', '--body', part1);
      const e2 = await json('s3api', 'upload-part', '--bucket', 'mpu-bucket', '--key', 'joined.bin', '--upload-id', uploadId, '--part-number', '2', '--body', part2);
      const parts = await json('s3api', 'list-parts', '--bucket', 'mpu-bucket', '--key', 'joined.bin', '--upload-id', uploadId);
      assert.equal((parts['Parts'] as unknown[]).length, 2);
      const mpu = JSON.stringify({ Parts: [{ PartNumber: 1, ETag: e1['ETag'] }, { PartNumber: 2, ETag: e2['ETag'] }] });
      const done = await json('s3api', 'complete-multipart-upload', '--bucket', 'mpu-bucket', '--key', 'joined.bin', '--upload-id', uploadId, '--multipart-upload', mpu);
      assert.match(String(done['ETag']), /-2"$/);
      const out = join(rig.dir, 'joined.back');
      await aws('s3api', 'get-object', '--bucket', 'mpu-bucket', '--key', 'joined.bin', out);
      const expected = Buffer.concat([await readFile(part1), Buffer.from('the tail')]);
      assert.ok((await readFile(out)).equals(expected), 'parts joined in order');
      // A part number out of range is S3's error, not a crash.
      await assert.rejects(aws('s3api', 'upload-part', '--bucket', 'mpu-bucket', '--key', 'joined.bin', '--upload-id', 'nope', '--part-number', '1', '--body', part2), /NoSuchUpload/);
    });
  });
}
