import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
} from '@aws-sdk/client-s3';
import { nsObjects, type ObjectRecord } from './model.js';
import { s3Failure, startS3Harness, type S3Harness } from './test-harness.js';

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');
const sha256b64 = (s: string | Buffer) => createHash('sha256').update(s).digest('base64');

describe('objects', () => {
  let h: S3Harness;
  const Bucket = 'objs';
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => h.close());

  it('put → get → head round-trips bytes, ETag, metadata and entity headers', async () => {
    const body = 'hello world';
    const put = await h.client.send(
      new PutObjectCommand({ Bucket, Key: 'a/b.txt', Body: body, ContentType: 'text/plain', Metadata: { Color: 'blue' }, CacheControl: 'max-age=60', ContentDisposition: 'inline' }),
    );
    assert.equal(put.ETag, `"${md5(body)}"`);
    assert.equal(put.VersionId, undefined);
    const got = await h.client.send(new GetObjectCommand({ Bucket, Key: 'a/b.txt' }));
    assert.equal(await got.Body?.transformToString(), body);
    assert.equal(got.ETag, put.ETag);
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.ContentLength, body.length);
    assert.deepEqual(got.Metadata, { color: 'blue' });
    assert.equal(got.CacheControl, 'max-age=60');
    assert.equal(got.ContentDisposition, 'inline');
    assert.equal(got.AcceptRanges, 'bytes');
    const head = await h.client.send(new HeadObjectCommand({ Bucket, Key: 'a/b.txt' }));
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.LastModified?.getTime(), h.clock.nowMs() - (h.clock.nowMs() % 1000));
  });

  it('defaults Content-Type to binary/octet-stream and stores empty objects', async () => {
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'empty', Body: Buffer.alloc(0) }));
    const got = await h.client.send(new GetObjectCommand({ Bucket, Key: 'empty' }));
    assert.equal(got.ContentLength, 0);
    assert.equal((await got.Body?.transformToByteArray())?.length, 0);
  });

  it('checks Content-MD5 and additional checksums; returns them with checksum mode', async () => {
    const body = 'checksummed';
    const bad = await s3Failure(h.client.send(new PutObjectCommand({ Bucket, Key: 'c', Body: body, ContentMD5: Buffer.from(md5('other'), 'hex').toString('base64') })));
    assert.equal(bad.name, 'BadDigest');
    assert.equal(bad.status, 400);
    const invalid = await s3Failure(h.client.send(new PutObjectCommand({ Bucket, Key: 'c', Body: body, ContentMD5: 'nope' })));
    assert.equal(invalid.name, 'InvalidDigest');
    const wrongSha = await s3Failure(h.client.send(new PutObjectCommand({ Bucket, Key: 'c', Body: body, ChecksumSHA256: sha256b64('other') })));
    assert.equal(wrongSha.name, 'BadDigest');
    const ok = await h.client.send(new PutObjectCommand({ Bucket, Key: 'c', Body: body, ChecksumSHA256: sha256b64(body) }));
    assert.equal(ok.ChecksumSHA256, sha256b64(body));
    const got = await h.client.send(new GetObjectCommand({ Bucket, Key: 'c', ChecksumMode: 'ENABLED' }));
    assert.equal(got.ChecksumSHA256, sha256b64(body));
    assert.equal(got.ChecksumType, 'FULL_OBJECT');
    await got.Body?.transformToString();
    // The SDK's default CRC32 is verified and stored.
    const crc = await h.client.send(new PutObjectCommand({ Bucket, Key: 'crc', Body: body }));
    assert.ok(crc.ChecksumCRC32);
    const attrs = await h.client.send(new GetObjectAttributesCommand({ Bucket, Key: 'crc', ObjectAttributes: ['ETag', 'Checksum', 'ObjectSize', 'StorageClass'] }));
    assert.equal(attrs.ETag, md5(body));
    assert.equal(attrs.ObjectSize, body.length);
    assert.equal(attrs.Checksum?.ChecksumCRC32, crc.ChecksumCRC32);
    assert.equal(attrs.StorageClass, 'STANDARD');
  });

  it('ranges: 206 with Content-Range, suffix ranges, 416 InvalidRange, ignored malformed ranges', async () => {
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'r', Body: '0123456789' }));
    const mid = await h.client.send(new GetObjectCommand({ Bucket, Key: 'r', Range: 'bytes=2-5' }));
    assert.equal(await mid.Body?.transformToString(), '2345');
    assert.equal(mid.ContentRange, 'bytes 2-5/10');
    assert.equal(mid.$metadata.httpStatusCode, 206);
    const suffix = await h.client.send(new GetObjectCommand({ Bucket, Key: 'r', Range: 'bytes=-3' }));
    assert.equal(await suffix.Body?.transformToString(), '789');
    const open = await h.client.send(new GetObjectCommand({ Bucket, Key: 'r', Range: 'bytes=7-' }));
    assert.equal(await open.Body?.transformToString(), '789');
    const past = await h.client.send(new GetObjectCommand({ Bucket, Key: 'r', Range: 'bytes=8-100' }));
    assert.equal(await past.Body?.transformToString(), '89');
    const bad = await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'r', Range: 'bytes=10-20' })));
    assert.equal(bad.name, 'InvalidRange');
    assert.equal(bad.status, 416);
    const ignored = await h.client.send(new GetObjectCommand({ Bucket, Key: 'r', Range: 'bytes=a-b' }));
    assert.equal(await ignored.Body?.transformToString(), '0123456789');
    const both = await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'r', Range: 'bytes=0-1', PartNumber: 1 })));
    assert.equal(both.name, 'InvalidRequest');
    const p2 = await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'r', PartNumber: 2 })));
    assert.equal(p2.name, 'InvalidPartNumber');
  });

  it('conditional GET: 304 and 412 in S3 order', async () => {
    const put = await h.client.send(new PutObjectCommand({ Bucket, Key: 'cond', Body: 'x' }));
    const etag = put.ETag as string;
    const now = h.clock.now();
    const past = new Date(now.getTime() - 3600_000);
    const future = new Date(now.getTime() + 3600_000);
    const s = async (cmd: ConstructorParameters<typeof GetObjectCommand>[0]) => (await s3Failure(h.client.send(new GetObjectCommand(cmd)))).status;
    assert.equal(await s({ Bucket, Key: 'cond', IfNoneMatch: etag }), 304);
    assert.equal(await s({ Bucket, Key: 'cond', IfMatch: '"nope"' }), 412);
    assert.equal(await s({ Bucket, Key: 'cond', IfModifiedSince: future }), 304);
    assert.equal(await s({ Bucket, Key: 'cond', IfUnmodifiedSince: past }), 412);
    // If-Match true wins over a failing If-Unmodified-Since; If-None-Match false wins over If-Modified-Since.
    const ok = await h.client.send(new GetObjectCommand({ Bucket, Key: 'cond', IfMatch: etag, IfUnmodifiedSince: past }));
    assert.equal(await ok.Body?.transformToString(), 'x');
    const ok2 = await h.client.send(new GetObjectCommand({ Bucket, Key: 'cond', IfNoneMatch: '"other"', IfModifiedSince: future }));
    assert.equal(await ok2.Body?.transformToString(), 'x');
    // 412 is checked before 304.
    assert.equal(await s({ Bucket, Key: 'cond', IfMatch: '"nope"', IfNoneMatch: etag }), 412);
    const headNm = await s3Failure(h.client.send(new HeadObjectCommand({ Bucket, Key: 'cond', IfNoneMatch: etag })));
    assert.equal(headNm.status, 304);
  });

  it('conditional writes: If-None-Match: * and If-Match', async () => {
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'cw', Body: '1', IfNoneMatch: '*' }));
    const again = await s3Failure(h.client.send(new PutObjectCommand({ Bucket, Key: 'cw', Body: '2', IfNoneMatch: '*' })));
    assert.equal(again.name, 'PreconditionFailed');
    assert.equal(again.status, 412);
    const cur = await h.client.send(new HeadObjectCommand({ Bucket, Key: 'cw' }));
    const wrong = await s3Failure(h.client.send(new PutObjectCommand({ Bucket, Key: 'cw', Body: '3', IfMatch: '"abc"' })));
    assert.equal(wrong.status, 412);
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'cw', Body: '4', IfMatch: cur.ETag }));
    const missing = await s3Failure(h.client.send(new PutObjectCommand({ Bucket, Key: 'cw-none', Body: '4', IfMatch: cur.ETag })));
    assert.equal(missing.name, 'NoSuchKey');
    const got = await h.client.send(new GetObjectCommand({ Bucket, Key: 'cw' }));
    assert.equal(await got.Body?.transformToString(), '4');
  });

  it('concurrent If-None-Match: * writers: exactly one wins', async () => {
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => h.client.send(new PutObjectCommand({ Bucket, Key: 'race', Body: `writer-${i}`, IfNoneMatch: '*' }))));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok([409, 412].includes((r.reason as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode));
  });

  it('limits: key length, metadata size, storage class', async () => {
    const long = await s3Failure(h.client.send(new PutObjectCommand({ Bucket, Key: 'k'.repeat(1025), Body: 'x' })));
    assert.equal(long.name, 'KeyTooLongError');
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'é'.repeat(512), Body: 'x' }));
    const meta = await s3Failure(h.client.send(new PutObjectCommand({ Bucket, Key: 'm', Body: 'x', Metadata: { big: 'v'.repeat(2100) } })));
    assert.equal(meta.name, 'MetadataTooLarge');
    const sc = await s3Failure(h.client.send(new PutObjectCommand({ Bucket, Key: 'm', Body: 'x', StorageClass: 'COLD' as never })));
    assert.equal(sc.name, 'InvalidStorageClass');
    const noBucket = await s3Failure(h.client.send(new PutObjectCommand({ Bucket: 'no-such-bucket-x', Key: 'm', Body: 'x' })));
    assert.equal(noBucket.name, 'NoSuchBucket');
  });

  it('response-* overrides and Expires round-trip', async () => {
    const expires = new Date('2030-01-01T00:00:00Z');
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'ov', Body: 'x', ContentType: 'a/b', Expires: expires }));
    const got = await h.client.send(new GetObjectCommand({ Bucket, Key: 'ov', ResponseContentType: 'c/d', ResponseContentDisposition: 'attachment' }));
    assert.equal(got.ContentType, 'c/d');
    assert.equal(got.ContentDisposition, 'attachment');
    assert.equal(got.Expires?.getTime(), expires.getTime());
  });

  it('delete, delete again (idempotent), DeleteObjects with per-key errors and quiet mode', async () => {
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'd1', Body: 'x' }));
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'd2', Body: 'x' }));
    const del = await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'd1' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'd1' }));
    assert.equal((await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'd1' })))).name, 'NoSuchKey');
    const multi = await h.client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'd2' }, { Key: 'never' }, { Key: 'x'.repeat(1100) }] } }));
    assert.deepEqual(multi.Deleted?.map((d) => d.Key), ['d2', 'never']);
    assert.equal(multi.Errors?.[0]?.Code, 'KeyTooLongError');
    const quiet = await h.client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'r' }], Quiet: true } }));
    assert.equal(quiet.Deleted, undefined);
    const tooMany = await s3Failure(h.client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: Array.from({ length: 1001 }, (_, i) => ({ Key: `k${i}` })) } })));
    assert.equal(tooMany.name, 'MalformedXML');
  });

  it('small objects live inline with their metadata; overwrite and delete remove the bytes in the same commit', async () => {
    const count = () => h.stores.metadata.read((tx) => tx.count('s3:data:inl'));
    await h.client.send(new CreateBucketCommand({ Bucket: 'inl' }));
    const small = Buffer.alloc(64 * 1024, 7);
    const big = Buffer.alloc(64 * 1024 + 1, 9);
    await h.client.send(new PutObjectCommand({ Bucket: 'inl', Key: 's', Body: small }));
    assert.equal(await count(), 1);
    await h.client.send(new PutObjectCommand({ Bucket: 'inl', Key: 's', Body: Buffer.from('smaller') }));
    assert.equal(await count(), 1);
    await h.client.send(new PutObjectCommand({ Bucket: 'inl', Key: 'b', Body: big }));
    assert.equal(await count(), 1);
    const r = await h.client.send(new GetObjectCommand({ Bucket: 'inl', Key: 's', Range: 'bytes=1-3' }));
    assert.equal(await r.Body?.transformToString(), 'mal');
    const b = await h.client.send(new GetObjectCommand({ Bucket: 'inl', Key: 'b' }));
    assert.ok(Buffer.from((await b.Body?.transformToByteArray()) ?? []).equals(big));
    await h.client.send(new CopyObjectCommand({ Bucket: 'inl', Key: 'c', CopySource: 'inl/s' }));
    assert.equal(await count(), 2);
    assert.equal(await (await h.client.send(new GetObjectCommand({ Bucket: 'inl', Key: 'c' }))).Body?.transformToString(), 'smaller');
    await h.client.send(new DeleteObjectsCommand({ Bucket: 'inl', Delete: { Objects: [{ Key: 's' }, { Key: 'c' }, { Key: 'b' }] } }));
    assert.equal(await count(), 0);
  });

  it('an unversioned overwrite of a small object rewrites its inline row; a versioned one keeps the old bytes', async () => {
    const state = (bucket: string) =>
      h.stores.metadata.read(async (tx) => ({
        rows: (await tx.scan<Uint8Array>(`s3:data:${bucket}`)).map((r) => r.key),
        id: (await tx.get<ObjectRecord>(nsObjects(bucket), 'k'))?.blobs[0]?.id,
      }));
    const text = async (bucket: string, versionId?: string) =>
      (await h.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', ...(versionId ? { VersionId: versionId } : {}) }))).Body?.transformToString();
    await h.client.send(new CreateBucketCommand({ Bucket: 'reuse' }));
    await h.client.send(new PutObjectCommand({ Bucket: 'reuse', Key: 'k', Body: 'first' }));
    const before = await state('reuse');
    await h.client.send(new PutObjectCommand({ Bucket: 'reuse', Key: 'k', Body: 'second, longer' }));
    assert.deepEqual(await state('reuse'), before, 'the same one row, under the same id');
    assert.equal(await text('reuse'), 'second, longer');

    await h.client.send(new CreateBucketCommand({ Bucket: 'reuse-v' }));
    await h.client.send(new PutBucketVersioningCommand({ Bucket: 'reuse-v', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await h.client.send(new PutObjectCommand({ Bucket: 'reuse-v', Key: 'k', Body: 'first' }))).VersionId;
    await h.client.send(new PutObjectCommand({ Bucket: 'reuse-v', Key: 'k', Body: 'second' }));
    assert.equal((await state('reuse-v')).rows.length, 2);
    assert.equal(await text('reuse-v', v1), 'first');
    assert.equal(await text('reuse-v'), 'second');
  });

  it('archived storage classes need a restore; restore follows the clock', async () => {
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'cold', Body: 'frozen', StorageClass: 'GLACIER' }));
    const head = await h.client.send(new HeadObjectCommand({ Bucket, Key: 'cold' }));
    assert.equal(head.StorageClass, 'GLACIER');
    const denied = await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'cold' })));
    assert.equal(denied.name, 'InvalidObjectState');
    assert.equal(denied.status, 403);
    const r = await h.client.send(new RestoreObjectCommand({ Bucket, Key: 'cold', RestoreRequest: { Days: 2, GlacierJobParameters: { Tier: 'Expedited' } } }));
    assert.equal(r.$metadata.httpStatusCode, 202);
    assert.equal((await h.client.send(new HeadObjectCommand({ Bucket, Key: 'cold' }))).Restore, 'ongoing-request="true"');
    const twice = await s3Failure(h.client.send(new RestoreObjectCommand({ Bucket, Key: 'cold', RestoreRequest: { Days: 2 } })));
    assert.equal(twice.name, 'RestoreAlreadyInProgress');
    assert.equal(twice.status, 409);
    h.clock.advance(5 * 60_000);
    const restored = await h.client.send(new HeadObjectCommand({ Bucket, Key: 'cold' }));
    assert.match(restored.Restore ?? '', /^ongoing-request="false", expiry-date=".+GMT"$/);
    const got = await h.client.send(new GetObjectCommand({ Bucket, Key: 'cold' }));
    assert.equal(await got.Body?.transformToString(), 'frozen');
    const again = await h.client.send(new RestoreObjectCommand({ Bucket, Key: 'cold', RestoreRequest: { Days: 1 } }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    h.clock.advance(3 * 86_400_000);
    assert.equal((await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'cold' })))).name, 'InvalidObjectState');
    const std = await s3Failure(h.client.send(new RestoreObjectCommand({ Bucket, Key: 'r', RestoreRequest: { Days: 1 } })));
    assert.equal(std.name, 'NoSuchKey');
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'deep', Body: 'x', StorageClass: 'DEEP_ARCHIVE' }));
    const exp = await s3Failure(h.client.send(new RestoreObjectCommand({ Bucket, Key: 'deep', RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: 'Expedited' } } })));
    assert.equal(exp.name, 'InvalidArgument');
  });
});
