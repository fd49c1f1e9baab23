import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import { hashingSource, localHasher } from './checksums.js';
import { offloadedHasher } from './hash-worker.js';
import type { ChecksumAlgorithm } from './model.js';

const ALL: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

async function* pieces(data: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let off = 0;
  for (let i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length] as number;
    yield data.subarray(off, off + n);
    off += n;
  }
}

async function drain(s: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

describe('hashing on a worker thread', () => {
  it('gives the same digests as hashing in place, over odd chunkings, and passes the bytes through', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 12345);
    const here = hashingSource(pieces(data, [1, 65536, 7, 300_000, 1024 * 1024]), localHasher(ALL));
    const there = hashingSource(pieces(data, [4096, 3, 700_000]), offloadedHasher(ALL));
    const [a, b] = await Promise.all([drain(here.stream), drain(there.stream)]);
    assert.ok(a.equals(data) && b.equals(data), 'bytes pass through unchanged');
    const [ra, rb] = [await here.result(), await there.result()];
    assert.deepEqual(rb, ra);
    assert.equal(ra.size, data.length);
    // The WebAssembly CRC64NVME agrees with the SDK's own implementation.
    const sdk = new Crc64Nvme();
    sdk.update(data);
    assert.equal(ra.checksums.CRC64NVME, Buffer.from(await sdk.digest()).toString('base64'));
  });

  it('runs many jobs at once and a dropped job does not disturb the others', async () => {
    const bodies = Array.from({ length: 6 }, (_, i) => randomBytes(1024 * 1024 + i * 1000));
    const dropped = offloadedHasher(['CRC64NVME']);
    void dropped.update(randomBytes(1000));
    dropped.drop();
    const results = await Promise.all(
      bodies.map(async (b) => {
        const h = hashingSource(pieces(b, [65536]), offloadedHasher(['CRC64NVME', 'SHA256']));
        await drain(h.stream);
        return h.result();
      }),
    );
    for (const [i, b] of bodies.entries()) {
      const l = localHasher(['CRC64NVME', 'SHA256']);
      void l.update(b);
      assert.deepEqual(results[i], { ...(await l.result()), size: b.length });
    }
  });
  it('passes a trickle on in full 256 KiB batches (the first batch grows from a few KiB), the last one short', async () => {
    const data = randomBytes(600_000);
    const h = hashingSource(pieces(data, [1, 3, 5000, 1, 70_000]), localHasher(['CRC32']));
    const sizes: number[] = [];
    const out: Buffer[] = [];
    for await (const c of h.stream) {
      sizes.push(c.byteLength);
      out.push(Buffer.from(c));
    }
    assert.deepEqual(sizes, [262_144, 262_144, 600_000 - 2 * 262_144]);
    assert.ok(Buffer.concat(out).equals(data));
    assert.equal((await h.result()).size, data.length);
  });
});
