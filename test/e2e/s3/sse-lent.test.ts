/**
 * An encrypted GET's worker slots lent to the response's socket (sse-worker.ts's
 * SlotLoans, the pipeline's pump): over real HTTP/1 and HTTP/2 connections every
 * lent slot comes back from its write callback, or is written off when the
 * response is cut (clients gone mid-stream, a tampered frame, the server
 * stopping), and never ends up in two responses at once. Anything else that
 * reads the stream (CopyObject) gets copies.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { sseWorkerStats } from '../../../src/services/s3/sse-worker.js';
import { filesUnder, startHanul, waitFor, type TestServer } from '../../support/hanul.js';

const MiB = 1024 * 1024;
const FRAME = 65_536;
const STRIDE = FRAME + 16;

/** Every lent slot is back or written off, and no GET is open on the worker. */
async function settled(): Promise<void> {
  await waitFor(() => sseWorkerStats.lent === 0 && sseWorkerStats.open === 0, { what: `slots back (lent ${sseWorkerStats.lent}, open ${sseWorkerStats.open})` });
}

interface Got {
  status: number;
  body: Buffer;
  error?: Error;
}

/** A GET over HTTP/1: `stopAt` bytes received → the client goes away; `paused` holds the reading until it resolves. */
function get(url: string, opts: { stopAt?: number; paused?: Promise<void>; range?: string } = {}): Promise<Got> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let n = 0;
    const req = http.get(url, { agent: false, headers: opts.range === undefined ? {} : { range: opts.range } }, (res) => {
      let waited = opts.paused === undefined;
      res.on('data', (c: Buffer) => {
        parts.push(c);
        n += c.length;
        if (opts.stopAt !== undefined && n >= opts.stopAt) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) });
        } else if (!waited) {
          waited = true;
          res.pause();
          void opts.paused?.then(() => res.resume());
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', (error) => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), error }));
    });
    req.on('error', (error) => resolve({ status: 0, body: Buffer.concat(parts), error }));
  });
}

describe('s3 e2e: an encrypted GET lends its worker slots to the socket', () => {
  let server: TestServer;
  let s3: S3Client;
  const Bucket = 'sse-lent';
  const data = randomBytes(6 * MiB + 12_345);
  const url = (Key: string) => getSignedUrl(s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 600 });

  /** PUTs `data` (SSE-S3) and returns its blob file (the only new file of its stored size). */
  async function put(Key: string): Promise<string> {
    const before = new Set(await filesUnder(server.dataDir));
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: data, ServerSideEncryption: 'AES256' }));
    const stored = data.length + Math.ceil(data.length / FRAME) * 16;
    for (const f of await filesUnder(server.dataDir)) if (!before.has(f) && (await stat(f)).size === stored) return f;
    throw new Error('no blob file');
  }

  before(async () => {
    server = await startHanul();
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket }));
    await put('big');
  });
  after(async () => {
    s3.destroy();
    await server.stop();
  });

  it('a whole GET sends slots as they are and gives every one back from its write callback', async () => {
    const given = sseWorkerStats.given;
    const off = sseWorkerStats.writtenOff;
    const r = await get(await url('big'));
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(data));
    await settled();
    // One slot per batch (32 frames, 2 MiB), all given back, none written off.
    assert.ok(sseWorkerStats.given - given >= 4, `${sseWorkerStats.given - given} slots given back`);
    assert.equal(sseWorkerStats.writtenOff, off);
  });

  it('ranges (partial first and last frames) and a multipart object (a job per part, one lender) read right', async () => {
    const off = sseWorkerStats.writtenOff;
    for (const [a, b] of [[100_000, 5_000_000], [FRAME * 3 - 1, FRAME * 40 + 1], [2 * MiB - 7, data.length - 1]] as const) {
      const r = await get(await url('big'), { range: `bytes=${a}-${b}` });
      assert.equal(r.status, 206);
      assert.ok(r.body.equals(data.subarray(a, b + 1)), `${a}-${b}`);
    }
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'multi', ServerSideEncryption: 'AES256' }));
    const p1 = data.subarray(0, 5 * MiB);
    const p2 = data.subarray(5 * MiB);
    const e1 = (await s3.send(new UploadPartCommand({ Bucket, Key: 'multi', UploadId, PartNumber: 1, Body: p1 }))).ETag;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket, Key: 'multi', UploadId, PartNumber: 2, Body: p2 }))).ETag;
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'multi', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } }));
    const started = sseWorkerStats.started;
    const r = await get(await url('multi'));
    assert.ok(r.body.equals(data));
    assert.equal(sseWorkerStats.started - started, 2, 'one worker job per part');
    await settled();
    assert.equal(sseWorkerStats.writtenOff, off);
  });

  it('over HTTP/2 too', async () => {
    const given = sseWorkerStats.given;
    const u = new URL(await url('big'));
    const session = http2.connect(server.endpoint);
    try {
      const body = await new Promise<Buffer>((resolve, reject) => {
        const req = session.request({ ':path': `${u.pathname}${u.search}` });
        const parts: Buffer[] = [];
        req.on('response', (h) => (h[':status'] === 200 ? undefined : reject(new Error(`status ${h[':status']}`))));
        req.on('data', (c: Buffer) => parts.push(c));
        req.on('end', () => resolve(Buffer.concat(parts)));
        req.on('error', reject);
      });
      assert.ok(body.equals(data));
    } finally {
      session.close();
    }
    await settled();
    assert.ok(sseWorkerStats.given - given >= 4);
  });

  it('a client that stops reading holds a few slots, not the object; it reads on to the right bytes', async () => {
    // 24 MiB: 12 batches of 2 MiB.
    const large = randomBytes(24 * MiB);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'large', Body: large, ServerSideEncryption: 'AES256' }));
    let go!: () => void;
    const paused = new Promise<void>((r) => (go = r));
    const pending = get(await url('large'), { paused });
    await waitFor(() => sseWorkerStats.lent > 0, { what: 'slots lent' });
    // Let the stream fill what it may while the client reads nothing; the loan count stays bounded.
    let most = 0;
    const until = Date.now() + 300;
    while (Date.now() < until) {
      most = Math.max(most, sseWorkerStats.lent);
      await new Promise((r) => setImmediate(r));
    }
    // The socket's write, the stream's queue, the batch opened ahead (a transient one more at most).
    assert.ok(most <= 4, `${most} slots lent to one stopped client`);
    go();
    const r = await pending;
    assert.ok(r.body.equals(large));
    await settled();
  });

  it('12 clients gone mid-stream: every slot is back or written off, and the next GETs read right', async () => {
    const u = await url('big');
    const cut = await Promise.all(Array.from({ length: 12 }, (_, i) => get(u, { stopAt: MiB + i * 300_000 })));
    for (const r of cut) assert.ok(r.body.equals(data.subarray(0, r.body.length)), 'a prefix');
    await settled();
    const all = await Promise.all(Array.from({ length: 6 }, () => get(u)));
    for (const r of all) assert.ok(r.error === undefined && r.body.equals(data));
    await settled();
  });

  it('a tampered frame cuts the response after the frames before it; no slot stays out', async () => {
    const blob = await put('flip');
    const bytes = await readFile(blob);
    bytes[40 * STRIDE + 100] = (bytes[40 * STRIDE + 100] as number) ^ 0x01;
    await writeFile(blob, bytes);
    const r = await get(await url('flip'));
    assert.equal(r.status, 200);
    assert.ok(r.error !== undefined || r.body.length < data.length, 'the response was cut');
    assert.ok(r.body.length <= 40 * FRAME && r.body.equals(data.subarray(0, r.body.length)), `${r.body.length} bytes, a prefix`);
    await settled();
  });

  it('CopyObject reads the stream itself: copies, nothing lent', async () => {
    const given = sseWorkerStats.given;
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'copied', CopySource: `${Bucket}/big`, ServerSideEncryption: 'AES256' }));
    assert.equal(sseWorkerStats.given, given);
    const r = await get(await url('copied'));
    assert.ok(r.body.equals(data));
    await settled();
  });

  it('the server stopping under a stopped client: its slots are back or written off', async () => {
    const other = await startHanul();
    const c = new S3Client({ ...other.clientConfig, forcePathStyle: true });
    await c.send(new CreateBucketCommand({ Bucket }));
    await c.send(new PutObjectCommand({ Bucket, Key: 'big', Body: data, ServerSideEncryption: 'AES256' }));
    let go!: () => void;
    const pending = get(await getSignedUrl(c, new GetObjectCommand({ Bucket, Key: 'big' }), { expiresIn: 600 }), { paused: new Promise<void>((r) => (go = r)) });
    await waitFor(() => sseWorkerStats.lent > 0, { what: 'slots lent' });
    c.destroy();
    // Stopping waits out its grace period, then cuts the connection the client is not reading.
    await other.stop();
    await settled();
    go();
    const r = await pending;
    assert.ok(r.body.equals(data.subarray(0, r.body.length)), 'a prefix');
  });
});
