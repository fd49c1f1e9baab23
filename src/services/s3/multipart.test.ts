import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { combinedCrc } from './checksums.js';
import { crc32c } from '../../lib/crc.js';
import { s3Failure, startS3Harness, type S3Harness } from './test-harness.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();

describe('crc combination', () => {
  it('combines CRC32 and CRC32C of consecutive ranges', () => {
    const a = randomBytes(1000);
    const b = randomBytes(777);
    const b64 = (n: number) => {
      const x = Buffer.alloc(4);
      x.writeUInt32BE(n >>> 0);
      return x.toString('base64');
    };
    assert.equal(combinedCrc('CRC32', [{ digestB64: b64(zlib.crc32(a)), size: a.length }, { digestB64: b64(zlib.crc32(b)), size: b.length }]), b64(zlib.crc32(Buffer.concat([a, b]))));
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(b, crc32c(a)), crc32c(Buffer.concat([a, b])));
    assert.equal(combinedCrc('CRC32C', [{ digestB64: b64(crc32c(a)), size: a.length }, { digestB64: b64(crc32c(b)), size: b.length }]), b64(crc32c(Buffer.concat([a, b]))));
  });
});

describe('multipart', () => {
  let h: S3Harness;
  const Bucket = 'mpu';
  const p1 = randomBytes(5 * MiB);
  const p2 = randomBytes(5 * MiB + 17);
  const p3 = randomBytes(1000);
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => h.close());

  it('uploads parts, lists them, completes with the multipart ETag; GET streams across parts', async () => {
    const c = h.client;
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key: 'big', ContentType: 'app/x', Metadata: { m: '1' } }));
    assert.ok(UploadId);
    const e1 = (await c.send(new UploadPartCommand({ Bucket, Key: 'big', UploadId, PartNumber: 1, Body: p1 }))).ETag;
    // Re-uploading a part number replaces it.
    await c.send(new UploadPartCommand({ Bucket, Key: 'big', UploadId, PartNumber: 2, Body: p3 }));
    const e2 = (await c.send(new UploadPartCommand({ Bucket, Key: 'big', UploadId, PartNumber: 2, Body: p2 }))).ETag;
    const e3 = (await c.send(new UploadPartCommand({ Bucket, Key: 'big', UploadId, PartNumber: 3, Body: p3 }))).ETag;
    const parts = await c.send(new ListPartsCommand({ Bucket, Key: 'big', UploadId }));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.Size]), [
      [1, p1.length],
      [2, p2.length],
      [3, p3.length],
    ]);
    const page = await c.send(new ListPartsCommand({ Bucket, Key: 'big', UploadId, MaxParts: 2 }));
    assert.equal(page.IsTruncated, true);
    assert.equal(page.NextPartNumberMarker, '2');
    const uploads = await c.send(new ListMultipartUploadsCommand({ Bucket }));
    assert.deepEqual(uploads.Uploads?.map((u) => u.UploadId), [UploadId]);
    const done = await c.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'big',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }, { PartNumber: 3, ETag: e3 }] },
      }),
    );
    const expected = `"${createHash('md5').update(Buffer.concat([md5(p1), md5(p2), md5(p3)])).digest('hex')}-3"`;
    assert.equal(done.ETag, expected);
    const all = Buffer.concat([p1, p2, p3]);
    const got = await c.send(new GetObjectCommand({ Bucket, Key: 'big' }));
    assert.ok(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(all));
    assert.equal(got.ContentType, 'app/x');
    assert.deepEqual(got.Metadata, { m: '1' });
    const span = await c.send(new GetObjectCommand({ Bucket, Key: 'big', Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` }));
    assert.ok(Buffer.from((await span.Body?.transformToByteArray()) ?? []).equals(all.subarray(5 * MiB - 10, 5 * MiB + 10)));
    const part2 = await c.send(new GetObjectCommand({ Bucket, Key: 'big', PartNumber: 2 }));
    assert.equal(part2.PartsCount, 3);
    assert.equal(part2.ContentLength, p2.length);
    assert.ok(Buffer.from((await part2.Body?.transformToByteArray()) ?? []).equals(p2));
    const head = await c.send(new HeadObjectCommand({ Bucket, Key: 'big', PartNumber: 3 }));
    assert.equal(head.ContentLength, p3.length);
    const attrs = await c.send(new GetObjectAttributesCommand({ Bucket, Key: 'big', ObjectAttributes: ['ObjectParts', 'Checksum'] }));
    assert.equal(attrs.ObjectParts?.TotalPartsCount, 3);
    assert.equal(attrs.Checksum?.ChecksumType, 'FULL_OBJECT');
    assert.ok(attrs.Checksum?.ChecksumCRC64NVME);
    assert.equal((await s3Failure(c.send(new ListPartsCommand({ Bucket, Key: 'big', UploadId })))).name, 'NoSuchUpload');
  });

  it('rejects small middle parts, wrong ETags, bad order, unknown uploads, bad part numbers', async () => {
    const c = h.client;
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key: 'bad' }));
    const small = (await c.send(new UploadPartCommand({ Bucket, Key: 'bad', UploadId, PartNumber: 1, Body: p3 }))).ETag;
    const last = (await c.send(new UploadPartCommand({ Bucket, Key: 'bad', UploadId, PartNumber: 2, Body: p3 }))).ETag;
    const complete = (Parts: { PartNumber: number; ETag: string | undefined }[]) => s3Failure(c.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'bad', UploadId, MultipartUpload: { Parts } })));
    assert.equal((await complete([{ PartNumber: 1, ETag: small }, { PartNumber: 2, ETag: last }])).name, 'EntityTooSmall');
    assert.equal((await complete([{ PartNumber: 2, ETag: last }, { PartNumber: 1, ETag: small }])).name, 'InvalidPartOrder');
    assert.equal((await complete([{ PartNumber: 1, ETag: '"0000"' }])).name, 'InvalidPart');
    assert.equal((await complete([{ PartNumber: 7, ETag: small }])).name, 'InvalidPart');
    const bogus = await s3Failure(c.send(new UploadPartCommand({ Bucket, Key: 'bad', UploadId: 'nope', PartNumber: 1, Body: 'x' })));
    assert.equal(bogus.name, 'NoSuchUpload');
    assert.equal(bogus.status, 404);
    const pn = await s3Failure(c.send(new UploadPartCommand({ Bucket, Key: 'bad', UploadId, PartNumber: 10001, Body: 'x' })));
    assert.equal(pn.name, 'InvalidArgument');
    // A single small part is a valid object (the last part may be small).
    const ok = await c.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'bad', UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: last }] } }));
    assert.match(ok.ETag ?? '', /-1"$/);
  });

  it('ListMultipartUploads pages by key and upload id markers, with a delimiter', async () => {
    const c = h.client;
    const B = 'mpu-list';
    await c.send(new CreateBucketCommand({ Bucket: B }));
    const ids: string[] = [];
    for (const Key of ['a/1', 'a/1', 'b', 'c/2']) {
      h.clock.advance(1000);
      ids.push((await c.send(new CreateMultipartUploadCommand({ Bucket: B, Key }))).UploadId as string);
    }
    const seen: string[] = [];
    let km: string | undefined;
    let um: string | undefined;
    for (;;) {
      const page = await c.send(new ListMultipartUploadsCommand({ Bucket: B, MaxUploads: 1, KeyMarker: km, UploadIdMarker: um }));
      seen.push(...(page.Uploads ?? []).map((u) => `${u.Key}:${u.UploadId}`));
      if (!page.IsTruncated) break;
      km = page.NextKeyMarker;
      um = page.NextUploadIdMarker;
    }
    assert.deepEqual(seen, [`a/1:${ids[0]}`, `a/1:${ids[1]}`, `b:${ids[2]}`, `c/2:${ids[3]}`]);
    const del = await c.send(new ListMultipartUploadsCommand({ Bucket: B, Delimiter: '/' }));
    assert.deepEqual(del.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'c/']);
    assert.deepEqual(del.Uploads?.map((u) => u.Key), ['b']);
    const afterKey = await c.send(new ListMultipartUploadsCommand({ Bucket: B, KeyMarker: 'a/1' }));
    assert.deepEqual(afterKey.Uploads?.map((u) => u.Key), ['b', 'c/2']);
  });

  it('abort frees the upload', async () => {
    const { UploadId } = await h.client.send(new CreateMultipartUploadCommand({ Bucket, Key: 'ab' }));
    await h.client.send(new UploadPartCommand({ Bucket, Key: 'ab', UploadId, PartNumber: 1, Body: 'x' }));
    await h.client.send(new AbortMultipartUploadCommand({ Bucket, Key: 'ab', UploadId }));
    assert.equal((await s3Failure(h.client.send(new AbortMultipartUploadCommand({ Bucket, Key: 'ab', UploadId })))).name, 'NoSuchUpload');
  });

  it('COMPOSITE CRC32 checksums: per-part values required and combined as checksum-of-checksums', async () => {
    const c = h.client;
    const { UploadId, ChecksumAlgorithm, ChecksumType } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key: 'comp', ChecksumAlgorithm: 'CRC32' }));
    assert.equal(ChecksumAlgorithm, 'CRC32');
    assert.equal(ChecksumType, 'COMPOSITE');
    const r1 = await c.send(new UploadPartCommand({ Bucket, Key: 'comp', UploadId, PartNumber: 1, Body: p1, ChecksumAlgorithm: 'CRC32' }));
    const r2 = await c.send(new UploadPartCommand({ Bucket, Key: 'comp', UploadId, PartNumber: 2, Body: p3, ChecksumAlgorithm: 'CRC32' }));
    assert.ok(r1.ChecksumCRC32 && r2.ChecksumCRC32);
    const wrong = await s3Failure(c.send(new UploadPartCommand({ Bucket, Key: 'comp', UploadId, PartNumber: 3, Body: p3, ChecksumAlgorithm: 'SHA256' })));
    assert.equal(wrong.name, 'InvalidRequest');
    const done = await c.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'comp',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r1.ETag, ChecksumCRC32: r1.ChecksumCRC32 }, { PartNumber: 2, ETag: r2.ETag, ChecksumCRC32: r2.ChecksumCRC32 }] },
      }),
    );
    const raw = Buffer.concat([Buffer.from(r1.ChecksumCRC32, 'base64'), Buffer.from(r2.ChecksumCRC32, 'base64')]);
    const x = Buffer.alloc(4);
    x.writeUInt32BE(zlib.crc32(raw));
    assert.equal(done.ChecksumCRC32, `${x.toString('base64')}-2`);
    assert.equal(done.ChecksumType, 'COMPOSITE');
    const got = await c.send(new HeadObjectCommand({ Bucket, Key: 'comp', ChecksumMode: 'ENABLED' }));
    assert.equal(got.ChecksumCRC32, done.ChecksumCRC32);
  });

  it('FULL_OBJECT CRC32C: the completed checksum equals the CRC of the whole object', async () => {
    const c = h.client;
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key: 'full', ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' }));
    const r1 = await c.send(new UploadPartCommand({ Bucket, Key: 'full', UploadId, PartNumber: 1, Body: p1, ChecksumAlgorithm: 'CRC32C' }));
    const r2 = await c.send(new UploadPartCommand({ Bucket, Key: 'full', UploadId, PartNumber: 2, Body: p3, ChecksumAlgorithm: 'CRC32C' }));
    const x = Buffer.alloc(4);
    x.writeUInt32BE(crc32c(Buffer.concat([p1, p3])));
    const done = await c.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: 'full', UploadId, ChecksumCRC32C: x.toString('base64'), ChecksumType: 'FULL_OBJECT', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r1.ETag }, { PartNumber: 2, ETag: r2.ETag }] } }),
    );
    assert.equal(done.ChecksumCRC32C, x.toString('base64'));
    const sha = await s3Failure(c.send(new CreateMultipartUploadCommand({ Bucket, Key: 'x', ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' })));
    assert.equal(sha.name, 'InvalidRequest');
  });

  it('UploadPartCopy with a source range; If-None-Match on complete', async () => {
    const c = h.client;
    const src = Buffer.concat([p1, p3]);
    await c.send(new PutObjectCommand({ Bucket, Key: 'src', Body: src }));
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key: 'copied' }));
    const a = await c.send(new UploadPartCopyCommand({ Bucket, Key: 'copied', UploadId, PartNumber: 1, CopySource: `${Bucket}/src`, CopySourceRange: `bytes=0-${5 * MiB - 1}` }));
    const b = await c.send(new UploadPartCopyCommand({ Bucket, Key: 'copied', UploadId, PartNumber: 2, CopySource: `${Bucket}/src`, CopySourceRange: `bytes=${5 * MiB}-${src.length - 1}` }));
    const badRange = await s3Failure(c.send(new UploadPartCopyCommand({ Bucket, Key: 'copied', UploadId, PartNumber: 3, CopySource: `${Bucket}/src`, CopySourceRange: `bytes=0-${src.length}` })));
    assert.equal(badRange.name, 'InvalidArgument');
    const parts = { Parts: [{ PartNumber: 1, ETag: a.CopyPartResult?.ETag }, { PartNumber: 2, ETag: b.CopyPartResult?.ETag }] };
    await c.send(new PutObjectCommand({ Bucket, Key: 'copied', Body: 'already here' }));
    const blocked = await s3Failure(c.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'copied', UploadId, IfNoneMatch: '*', MultipartUpload: parts })));
    assert.equal(blocked.name, 'PreconditionFailed');
    await c.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'copied', UploadId, MultipartUpload: parts }));
    const got = await c.send(new GetObjectCommand({ Bucket, Key: 'copied' }));
    assert.ok(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(src));
  });
});
