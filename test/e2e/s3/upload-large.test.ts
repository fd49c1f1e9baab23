/**
 * @aws-sdk/lib-storage Upload of 100 MiB generated as a stream (never held in
 * memory by the test), then read back and compared by hash. The server runs
 * in this process, so its memory is measured too: neither side may buffer
 * the object.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startHanul, type TestServer } from '../../support/hanul.js';

const MiB = 1024 * 1024;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const TOTAL = 100 * MiB;

/** Deterministic pseudo-random bytes, chunk by chunk. */
function* chunks(total: number, size = 256 * 1024): Generator<Buffer> {
  let seed = 0x12345678;
  for (let done = 0; done < total; done += size) {
    const n = Math.min(size, total - done);
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i + 4 <= n; i += 4) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      b.writeUInt32LE(seed, i);
    }
    yield b;
  }
}

describe('s3 e2e: 100 MiB upload with lib-storage', () => {
  let server: TestServer;
  let s3: S3Client;
  const Bucket = 'e2e-large';
  before(async () => {
    server = await startHanul();
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => {
    s3.destroy();
    await server.stop();
  });

  it('uploads in parts, streams back byte-identical, without buffering the object', async () => {
    const expected = createHash('sha256');
    const source = Readable.from(
      (function* () {
        for (const c of chunks(TOTAL)) {
          expected.update(c);
          yield c;
        }
      })(),
    );
    // Live buffers (external memory) after a GC, sampled: RSS and un-collected
    // garbage would count memory nobody holds.
    gc();
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sample = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 25);
    try {
      const upload = new Upload({ client: s3, params: { Bucket, Key: 'big/object.bin', Body: source }, partSize: 5 * MiB, queueSize: 4 });
      const res = await upload.done();
      assert.match(res.ETag ?? '', /-20"$/);
      const uploadPeak = peak;
      peak = before;
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'big/object.bin' }));
      assert.equal(head.ContentLength, TOTAL);

      const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'big/object.bin' }));
      const actual = createHash('sha256');
      let size = 0;
      for await (const c of got.Body as AsyncIterable<Uint8Array>) {
        actual.update(c);
        size += c.length;
      }
      assert.equal(size, TOTAL);
      assert.equal(actual.digest('hex'), expected.digest('hex'));
      // lib-storage itself holds up to queueSize (4) parts of 5 MiB and a part being filled;
      // the server holds neither the object nor a part whole.
      const up = (uploadPeak - before) / MiB;
      const down = (peak - before) / MiB;
      assert.ok(up < 64, `live buffers grew by ${up.toFixed(1)} MiB while uploading 100 MiB`);
      // Stream and socket buffers fill when the reader is slow (a loaded machine): the bound only has to
      // prove the object is never held whole.
      assert.ok(down < 40, `live buffers grew by ${down.toFixed(1)} MiB while downloading 100 MiB`);
    } finally {
      clearInterval(sample);
    }
  });
});
