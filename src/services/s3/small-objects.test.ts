import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { nsInline } from './model.js';
import { s3Failure, startS3Harness, type S3Harness } from './test-harness.js';

// The small-object GET path (one encrypted inline blob, frame keys from FrameKeyCache after the PUT).
describe('small encrypted objects (inline, SSE-S3 by default)', () => {
  let h: S3Harness;
  const Bucket = 'small-objs';
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => h.close());

  it('GET and range GETs return the bytes PUT stored, with the SSE header', async () => {
    const data = randomBytes(4096);
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'k', Body: data }));
    const got = await h.client.send(new GetObjectCommand({ Bucket, Key: 'k' }));
    assert.equal(got.ServerSideEncryption, 'AES256');
    assert.ok(Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).equals(data));
    for (const [range, from, to] of [
      ['bytes=0-0', 0, 0],
      ['bytes=100-199', 100, 199],
      ['bytes=-10', 4086, 4095],
      ['bytes=4000-', 4000, 4095],
      ['bytes=4000-99999', 4000, 4095],
    ] as const) {
      const r = await h.client.send(new GetObjectCommand({ Bucket, Key: 'k', Range: range }));
      assert.equal(r.ContentRange, `bytes ${from}-${to}/4096`, range);
      assert.ok(Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).equals(data.subarray(from, to + 1)), range);
    }
  });

  it('a flipped byte in the stored inline ciphertext fails GET (InternalError), even with the frame keys cached; HEAD still answers', async () => {
    const data = randomBytes(4096);
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'tamper', Body: data }));
    // Read once: the frame keys are cached from the PUT and this GET.
    await (await h.client.send(new GetObjectCommand({ Bucket, Key: 'tamper' }))).Body?.transformToByteArray();
    // Flip a byte in every stored 4 KiB object (this one and the first test's).
    const rows = await h.stores.metadata.read((tx) => tx.scan<Uint8Array>(nsInline(Bucket)));
    assert.ok(rows.some((x) => x.value.length === 4096 + 16), 'the inline rows');
    for (const r of rows.filter((x) => x.value.length === 4096 + 16)) {
      const bytes = Buffer.from(r.value);
      bytes[2000] = (bytes[2000] as number) ^ 0x01;
      await h.stores.metadata.write(async (tx) => tx.put(nsInline(Bucket), r.key, bytes));
    }
    const e = await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'tamper' })));
    assert.deepEqual([e.name, e.status], ['InternalError', 500]);
    const r = await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'tamper', Range: 'bytes=0-9' })));
    assert.equal(r.name, 'InternalError');
    assert.equal((await h.client.send(new HeadObjectCommand({ Bucket, Key: 'tamper' }))).ContentLength, 4096);
  });
});
