import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3Harness, type S3Harness } from './test-harness.js';

const MiB = 1024 * 1024;

/** Polls `check` every 5 ms until it holds; fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The GET handler's body stream itself (the harness's SDK client would consume it). */
async function bodyStream(h: S3Harness, Bucket: string, Key: string, Range?: string): Promise<Readable> {
  const spec = h.service.operations['GetObject'];
  assert.ok(spec);
  const out = (await spec.handler(Range === undefined ? { Bucket, Key } : { Bucket, Key, Range }, { ...h.ctx(), operation: 'GetObject' })) as { Body: Readable };
  return out.Body;
}

describe('encrypted GET stream', () => {
  let h: S3Harness;
  const Bucket = 'sse-stream';
  const data = randomBytes(12 * MiB + 12345);
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket }));
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'big', Body: data, ServerSideEncryption: 'AES256' }));
  });
  after(async () => h.close());

  it('opens the next stored chunk while the last is still queued, and holds at most ~2 MiB of plaintext for a reader that stops', async () => {
    const body = await bodyStream(h, Bucket, 'big');
    const got: Buffer[] = [];
    body.read(0);
    await until(() => body.readableLength >= MiB, 'the first chunk');
    // One frame taken: the stream is below its mark and opens the next chunk at once,
    // rather than waiting to run dry (which left the socket idle for every chunk's read and decryption).
    got.push(body.read(64 * 1024) as Buffer);
    await until(() => body.readableLength > MiB, 'the chunk after');
    // A reader that stops reading does not make the stream read on: the queue stays bounded.
    for (let i = 0; i < 20; i++) {
      assert.ok(body.readableLength <= 2 * MiB, `${body.readableLength} bytes queued`);
      await new Promise((r) => setTimeout(r, 5));
    }
    for await (const c of body) got.push(c as Buffer);
    assert.ok(Buffer.concat(got).equals(data));
  });

  it('a range GET still returns exactly its bytes, also across chunk boundaries and with reads ahead', async () => {
    for (const [start, end] of [[0, 0], [MiB - 10, MiB + 10], [65_536 * 16 - 1, 65_536 * 48], [5 * MiB + 3, data.length - 1], [data.length - 1, data.length - 1]] as const) {
      const body = await bodyStream(h, Bucket, 'big', `bytes=${start}-${end}`);
      const got: Buffer[] = [];
      for await (const c of body) got.push(c as Buffer);
      assert.ok(Buffer.concat(got).equals(data.subarray(start, end + 1)), `${start}-${end}`);
    }
    // And through the SDK (the response pump) end to end.
    const r = await h.client.send(new GetObjectCommand({ Bucket, Key: 'big', Range: 'bytes=3000000-7000000' }));
    assert.ok(Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).equals(data.subarray(3_000_000, 7_000_001)));
  });
});
