import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { sseWorkerIdle, sseWorkerStats } from './sse-worker.js';
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

/** Open descriptors of blob files (the worker opens them itself). */
function blobFds(): number {
  let n = 0;
  for (const f of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${f}`).includes('/blobs/')) n++;
    } catch {
      // Closed meanwhile (the directory's own descriptor among them).
    }
  }
  return n;
}

/** Every file under `dir`. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else out.push(p);
  }
  return out;
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

describe('encrypted GET on the worker thread', () => {
  let h: S3Harness;
  const Bucket = 'sse-worker';
  // Longer than a batch in a stream plus one opened ahead (2 × 2 MiB): a reader that stops keeps its blob open.
  const data = randomBytes(7 * MiB + 5);
  const FRAME = 65_536;
  const STRIDE = FRAME + 16;
  /** PUTs `data` (SSE-S3) under a new key and finds its blob file (the only new file of its stored size). */
  async function put(Key: string): Promise<string> {
    const before = new Set(await files(h.dir));
    await h.client.send(new PutObjectCommand({ Bucket, Key, Body: data, ServerSideEncryption: 'AES256' }));
    const stored = data.length + Math.ceil(data.length / FRAME) * 16;
    for (const f of await files(h.dir)) if (!before.has(f) && (await stat(f)).size === stored) return f;
    throw new Error('no blob file');
  }
  /** Reads a body until it ends or fails: the bytes received and the error, if any. */
  async function drain(body: Readable): Promise<{ got: Buffer; error?: unknown }> {
    const parts: Buffer[] = [];
    try {
      for await (const c of body) parts.push(c as Buffer);
      return { got: Buffer.concat(parts) };
    } catch (error) {
      return { got: Buffer.concat(parts), error };
    }
  }
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => h.close());

  it('long reads go to the worker, short ones and small objects stay on this thread', async () => {
    await put('plain');
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'small', Body: data.subarray(0, 300_000), ServerSideEncryption: 'AES256' }));
    const n0 = sseWorkerStats.started;
    assert.ok((await drain(await bodyStream(h, Bucket, 'small'))).got.equals(data.subarray(0, 300_000)));
    assert.ok((await drain(await bodyStream(h, Bucket, 'plain', 'bytes=100-200000'))).got.equals(data.subarray(100, 200_001)));
    assert.equal(sseWorkerStats.started, n0);
    assert.ok((await drain(await bodyStream(h, Bucket, 'plain'))).got.equals(data));
    assert.ok((await drain(await bodyStream(h, Bucket, 'plain', `bytes=${FRAME * 3 + 7}-${FRAME * 40}`))).got.equals(data.subarray(FRAME * 3 + 7, FRAME * 40 + 1)));
    assert.equal(sseWorkerStats.started, n0 + 2);
    await until(() => sseWorkerStats.open === 0, 'jobs closed');
  });

  it('a flipped byte fails the GET after the frames before it, never sending its frame or any after', async () => {
    const blob = await put('flip');
    const bytes = await readFile(blob);
    bytes[20 * STRIDE + 100] = (bytes[20 * STRIDE + 100] as number) ^ 0x01;
    await writeFile(blob, bytes);
    const r = await drain(await bodyStream(h, Bucket, 'flip'));
    assert.ok(r.error, 'the GET failed');
    assert.ok(r.got.length <= 20 * FRAME && r.got.equals(data.subarray(0, r.got.length)), `${r.got.length} bytes, a prefix`);
    // Ranges on either side of the damaged frame still read (both long enough for the worker).
    assert.ok((await drain(await bodyStream(h, Bucket, 'flip', `bytes=0-${FRAME * 12}`))).got.equals(data.subarray(0, FRAME * 12 + 1)));
    assert.ok((await drain(await bodyStream(h, Bucket, 'flip', `bytes=${FRAME * 21}-${FRAME * 45}`))).got.equals(data.subarray(FRAME * 21, FRAME * 45 + 1)));
    await until(() => sseWorkerStats.open === 0, 'jobs closed');
  });

  it('a truncated blob fails the GET', async () => {
    const blob = await put('short');
    await truncate(blob, 30 * STRIDE + 500);
    const r = await drain(await bodyStream(h, Bucket, 'short'));
    assert.ok(r.error, 'the GET failed');
    assert.ok(r.got.length <= 30 * FRAME && r.got.equals(data.subarray(0, r.got.length)));
    await until(() => sseWorkerStats.open === 0, 'jobs closed');
  });

  it('readers that go away close their jobs and files; many GETs at once all read right, and the worker keeps working', async () => {
    await put('many');
    assert.equal(blobFds(), 0);
    const bodies = await Promise.all(Array.from({ length: 12 }, () => bodyStream(h, Bucket, 'many')));
    for (const b of bodies) b.read(0);
    await until(() => bodies.every((b) => b.readableLength > 0), 'first batches');
    assert.ok(blobFds() > 0, 'the worker holds the blob open');
    for (const b of bodies) b.destroy();
    await until(() => sseWorkerStats.open === 0, 'jobs closed');
    const all = await Promise.all(Array.from({ length: 10 }, async () => drain(await bodyStream(h, Bucket, 'many'))));
    for (const r of all) assert.ok(r.error === undefined && r.got.equals(data));
    await until(() => sseWorkerStats.open === 0, 'jobs closed');
    // The worker's descriptors are closed: no more open than before (the harness's own may vary by a few).
    // The worker's descriptors of blob files are all closed.
    await until(() => blobFds() === 0, 'blob files closed');
  });

  it('an idle worker exits and the next GET starts a new one; a worker with a GET open stays', async () => {
    const keep = sseWorkerIdle.exitMs;
    sseWorkerIdle.exitMs = 30;
    try {
      await put('idle');
      const r0 = sseWorkerStats.retired;
      const open = await bodyStream(h, Bucket, 'idle');
      open.read(0);
      await until(() => open.readableLength > 0, 'first batch');
      // Longer than exitMs with the GET open: its worker is not ended.
      await new Promise((resolve) => setTimeout(resolve, 120));
      assert.equal(sseWorkerStats.retired, r0);
      const rest = await drain(open);
      assert.ok(rest.error === undefined);
      await until(() => sseWorkerStats.retired > r0, 'idle worker ended');
      const n0 = sseWorkerStats.started;
      const again = await drain(await bodyStream(h, Bucket, 'idle'));
      assert.ok(again.error === undefined && again.got.equals(data));
      assert.equal(sseWorkerStats.started, n0 + 1);
    } finally {
      sseWorkerIdle.exitMs = keep;
    }
  });
});
