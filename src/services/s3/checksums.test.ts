/**
 * The newer S3 checksum algorithms (MD5, SHA512, XXHASH64, XXHASH3, XXHASH128) against
 * known vectors: the xxHash ones from the C reference library (libxxhash 0.8.1, canonical
 * big-endian form, as S3 and the SDK base64 them), MD5/SHA-512 from node:crypto; and against
 * the SDK's own classes, which compute what a client sends.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Md5 } from '@aws-sdk/checksums/md5';
import { Sha512 } from '@aws-sdk/checksums/sha';
import { Xxh3_128, Xxh3_64, Xxh64 } from '@aws-sdk/checksums/xxh';
import { isAwsError } from '../../aws/errors.js';
import { ALGORITHMS, checkDigestFormat, combinedCrc, compositeChecksum, digestOf, fullObjectCapable, localHasher, parseAlgorithm } from './checksums.js';
import { offloadedHasher } from './hash-worker.js';
import type { ChecksumAlgorithm } from './model.js';

/** Deterministic input: byte i is (31·i + 7) mod 256. */
function input(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 255;
  return b;
}

/** [length, XXH64 (seed 0), XXH3_64, XXH3_128] from libxxhash's XXH64 / XXH3_64bits / XXH3_128bits. */
const XXH_VECTORS: ReadonlyArray<readonly [number, string, string, string]> = [
  [0, '70bbN1HY6Zk=', 'LQaABTjTlMI=', 'maoG0wFHmNhgAcMkRo1Jfw=='],
  [1, 'qWx/DOhYu7c=', 'TFzKRdD0gR8=', 'SVtiBz73DKRMXMpF0PSBHw=='],
  [3, 'VuaVdjKkh/k=', 'FfcJOxc9AFw=', 'RvZsuTU4FWUV9wk7Fz0AXA=='],
  [16, 'oZrUKbArxBM=', 'fkhMGNdIldA=', 'ZQ/jCMVmdH34U92UYU36Bw=='],
  [17, '/p8P637u3Ak=', 'IIveXuK+1Ac=', 'GCFzALUTLVp4w0n+gbLybA=='],
  [128, 'clpbmzvt/pQ=', '+Stw6qIaYog=', 'tPh7mdLbilEeBPrZ8MrLTQ=='],
  [129, 'KPyDYmQ2J9c=', '+PdnE/K7YPo=', 'aIFjNlDNiSTFG8iHl2rvYw=='],
  [240, '1DBSCuPtL8Y=', 'zMc3UXLEHwM=', '3leqsx53ov+T4XODP3WrZg=='],
  [241, '0/UEltW/J+A=', 'CztjCUjOSgA=', 'krmRpxkvPwgLO2MJSM5KAA=='],
  [1024, 'FJqkSXLNrgA=', 'I7yIDr8NKcY=', 'TBcnHJBt95IjvIgOvw0pxg=='],
  [1025, 'LJ0LA4tKSzU=', 'wJ/fvDmMfYI=', 'cKTrG5aR13/An9+8OYx9gg=='],
  [5000, 'qlsmTwWspNQ=', 'VZ//ksK3+O4=', 'O/YKqJx/7qpVn/+Swrf47g=='],
  [100000, 'OsnLxam3+EM=', 'zPkN9+fjcDY=', 'jOeiTTHNlLHM+Q335+NwNg=='],
];

const SDK: Partial<Record<ChecksumAlgorithm, new () => { update(d: Uint8Array): void; digest(): Promise<Uint8Array> }>> = {
  MD5: Md5,
  SHA512: Sha512,
  XXHASH64: Xxh64,
  XXHASH3: Xxh3_64,
  XXHASH128: Xxh3_128,
};
const NEW: readonly ChecksumAlgorithm[] = ['MD5', 'SHA512', 'XXHASH64', 'XXHASH3', 'XXHASH128'];

async function sdkDigest(alg: ChecksumAlgorithm, data: Uint8Array): Promise<string> {
  const C = SDK[alg] as new () => { update(d: Uint8Array): void; digest(): Promise<Uint8Array> };
  const c = new C();
  c.update(data);
  return Buffer.from(await c.digest()).toString('base64');
}

/** Hashes in uneven pieces (1, 7, 1000, 4093 … bytes) so that every buffering boundary is crossed. */
async function streamed(alg: ChecksumAlgorithm, data: Buffer): Promise<string> {
  const h = localHasher([alg]);
  const sizes = [1, 7, 1000, 4093, 65_537];
  let off = 0;
  for (let i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length] as number;
    await h.update(data.subarray(off, off + n));
    off += n;
  }
  return (await h.result()).checksums[alg] as string;
}

describe('checksum algorithms beyond CRC/SHA-1/SHA-256', () => {
  it('knows all ten algorithms of the SDK model', () => {
    assert.deepEqual([...ALGORITHMS].sort(), ['CRC32', 'CRC32C', 'CRC64NVME', 'MD5', 'SHA1', 'SHA256', 'SHA512', 'XXHASH128', 'XXHASH3', 'XXHASH64']);
    for (const a of NEW) assert.equal(parseAlgorithm(a.toLowerCase()), a);
  });

  it('computes XXHASH64, XXHASH3 and XXHASH128 as the reference library does, in one piece and streamed', async () => {
    for (const [n, x64, x3, x128] of XXH_VECTORS) {
      const data = input(n);
      for (const [alg, want] of [['XXHASH64', x64], ['XXHASH3', x3], ['XXHASH128', x128]] as const) {
        assert.equal(await digestOf(alg, data), want, `${alg} of ${n} bytes`);
        assert.equal(await streamed(alg, data), want, `${alg} of ${n} bytes, streamed`);
        assert.equal(await sdkDigest(alg, data), want, `the SDK's ${alg} of ${n} bytes`);
      }
    }
  });

  it('computes MD5 and SHA512 as node:crypto and the SDK do', async () => {
    for (const n of [0, 1, 55, 56, 64, 111, 112, 128, 5000, 100_000]) {
      const data = input(n);
      for (const [alg, name] of [['MD5', 'md5'], ['SHA512', 'sha512']] as const) {
        const want = createHash(name).update(data).digest('base64');
        assert.equal(await digestOf(alg, data), want);
        assert.equal(await streamed(alg, data), want);
        assert.equal(await sdkDigest(alg, data), want);
      }
    }
  });

  it('hashes on the worker thread as in place', async () => {
    const data = input(3 * 1024 * 1024 + 17);
    const h = offloadedHasher(NEW);
    for (let off = 0; off < data.length; off += 200_000) await h.update(data.subarray(off, off + 200_000));
    const got = (await h.result()).checksums;
    for (const a of NEW) assert.equal(got[a], await sdkDigest(a, data), a);
  });

  it('accepts only base64 digests of the algorithm length (InvalidRequest otherwise)', async () => {
    const lengths: Record<string, number> = { MD5: 16, SHA512: 64, XXHASH64: 8, XXHASH3: 8, XXHASH128: 16 };
    for (const a of NEW) {
      const n = lengths[a] as number;
      checkDigestFormat(a, await digestOf(a, Buffer.from('x')));
      for (const bad of [Buffer.alloc(n - 1).toString('base64'), Buffer.alloc(n + 1).toString('base64'), 'not base64!']) {
        assert.throws(() => checkDigestFormat(a, bad), (e: unknown) => isAwsError(e) && e.code === 'InvalidRequest' && e.message.includes(`x-amz-checksum-${a.toLowerCase()}`));
      }
    }
  });

  it('makes COMPOSITE values of the parts’ binary digests, and FULL_OBJECT only of CRCs', async () => {
    const parts = [input(100), input(7)];
    for (const a of NEW) {
      const digests = await Promise.all(parts.map((p) => digestOf(a, p)));
      const joined = Buffer.concat(digests.map((d) => Buffer.from(d, 'base64')));
      assert.equal(await compositeChecksum(a, digests), `${await sdkDigest(a, joined)}-2`);
      assert.equal(fullObjectCapable(a), false);
      assert.throws(() => combinedCrc(a, digests.map((d) => ({ digestB64: d, size: 1 }))));
    }
    for (const a of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) assert.equal(fullObjectCapable(a), true);
    for (const a of ['SHA1', 'SHA256'] as const) assert.equal(fullObjectCapable(a), false);
  });
});
