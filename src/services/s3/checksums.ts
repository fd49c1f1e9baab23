/**
 * Object checksums: MD5 (the ETag) and one of S3's additional checksums,
 * computed in a pass-through while the body streams to the BlobStore, then
 * compared with what the client sent (header or aws-chunked trailer).
 */
import { createHash } from 'node:crypto';
import { newChecksum, type Checksum, type ChecksumAlgorithm as TrailerAlgorithm } from '../../aws/sigv4/checksums.js';
import { CRC32_SPEC, CRC32C_SPEC, CRC64NVME_SPEC, crcCombine } from '../../lib/crc.js';
import { invalidArgument, s3Error } from './errors.js';
import type { ChecksumAlgorithm } from './model.js';

export const ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'MD5', 'SHA1', 'SHA256', 'SHA512', 'XXHASH64', 'XXHASH3', 'XXHASH128'];

/** Digest lengths in bytes. */
const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  MD5: 16,
  SHA1: 20,
  SHA256: 32,
  SHA512: 64,
  XXHASH64: 8,
  XXHASH3: 8,
  XXHASH128: 16,
};

/**
 * The algorithms a multipart upload may use with the FULL_OBJECT type: only a CRC of the whole
 * object can be combined from the parts' CRCs. Every algorithm may be COMPOSITE but CRC64NVME.
 */
export function fullObjectCapable(alg: ChecksumAlgorithm): boolean {
  return alg === 'CRC32' || alg === 'CRC32C' || alg === 'CRC64NVME';
}

export function checksumHeader(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

/** The SDK output member for an algorithm's value: ChecksumCRC32, ChecksumSHA256… */
export function checksumMember(alg: ChecksumAlgorithm): `Checksum${ChecksumAlgorithm}` {
  return `Checksum${alg}`;
}

export function parseAlgorithm(raw: string | undefined, name = 'x-amz-checksum-algorithm'): ChecksumAlgorithm | undefined {
  if (raw === undefined || raw === '') return undefined;
  const up = raw.toUpperCase() as ChecksumAlgorithm;
  if (!ALGORITHMS.includes(up)) {
    throw invalidArgument(`Value for ${name} header is invalid.`, name, raw);
  }
  return up;
}

/** A base64 digest of the right length for the algorithm, else InvalidRequest. */
export function checkDigestFormat(alg: ChecksumAlgorithm, value: string): void {
  const b = Buffer.from(value, 'base64');
  if (b.length !== DIGEST_BYTES[alg] || b.toString('base64') !== value) {
    throw s3Error('InvalidRequest', `Value for ${checksumHeader(alg)} header is invalid.`);
  }
}

type Digester = Checksum;

/** The one implementation of each algorithm, shared with aws-chunked trailers (aws/sigv4/checksums.ts). */
function digester(alg: ChecksumAlgorithm): Digester {
  return newChecksum(alg.toLowerCase() as TrailerAlgorithm);
}

export interface StreamDigests {
  md5Hex: string;
  size: number;
  /** base64 digests of the algorithms asked for. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

export interface Digests {
  md5Hex: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** MD5 plus checksums over a stream of chunks, here or on a worker (hash-worker.ts). */
export interface Hasher {
  /** A promise only when the caller should wait before the next chunk. */
  update(chunk: Uint8Array): Promise<void> | undefined;
  result(): Promise<Digests>;
  /** Abandons the work (the body failed). */
  drop(): void;
}

export function localHasher(algorithms: readonly ChecksumAlgorithm[]): Hasher {
  const md5 = createHash('md5');
  // The MD5 checksum is the ETag's MD5: computed once.
  const ds = algorithms.filter((a) => a !== 'MD5').map((a) => [a, digester(a)] as const);
  const withMd5 = algorithms.includes('MD5');
  return {
    update(chunk) {
      md5.update(chunk);
      for (const [, d] of ds) d.update(chunk);
      return undefined;
    },
    async result() {
      const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
      for (const [a, d] of ds) checksums[a] = (await d.digest()).toString('base64');
      const m = md5.digest();
      if (withMd5) checksums.MD5 = m.toString('base64');
      return { md5Hex: m.toString('hex'), checksums };
    },
    drop() {},
  };
}

/**
 * Chunks hashed and passed on together: a socket hands over 16–64 KiB at a
 * time (less on a busy machine), and every chunk costs a hash call per
 * algorithm, a generator hop and a BlobStore write step. Gathering them into
 * 256 KiB batches costs one copy and makes that per-chunk work per-batch.
 */
const BATCH_BYTES = 256 * 1024;
/**
 * A body's first batch starts this small (or as large as its first chunk) and grows ×4 up to
 * BATCH_BYTES: a body that trickles in (thousands of slow uploads at once) holds a few KiB each, not
 * 256 KiB, which cost an mmap'd allocation per request and the GC pressure of their sum.
 */
const FIRST_BATCH_BYTES = 4 * 1024;

/**
 * Wraps a body so that the hasher sees every byte as it streams;
 * `result()` is valid once the source has been read to the end. The stream
 * yields batches in fresh buffers (never reused).
 */
export function hashingSource(source: AsyncIterable<Uint8Array>, hasher: Hasher) {
  let size = 0;
  async function* run(): AsyncGenerator<Uint8Array> {
    let batch: Buffer | undefined;
    let filled = 0;
    try {
      for await (const chunk of source) {
        if (filled === 0 && chunk.byteLength >= BATCH_BYTES) {
          size += chunk.byteLength;
          await hasher.update(chunk);
          yield chunk;
          continue;
        }
        let off = 0;
        while (off < chunk.byteLength) {
          if (batch === undefined) batch = Buffer.allocUnsafe(size === 0 ? Math.min(BATCH_BYTES, Math.max(FIRST_BATCH_BYTES, chunk.byteLength - off)) : BATCH_BYTES);
          else if (filled === batch.byteLength) {
            // Only the first batch grows (it is full and smaller than BATCH_BYTES).
            const bigger = Buffer.allocUnsafe(Math.min(BATCH_BYTES, batch.byteLength * 4));
            batch.copy(bigger, 0, 0, filled);
            batch = bigger;
          }
          const n = Math.min(batch.byteLength - filled, chunk.byteLength - off);
          batch.set(chunk.subarray(off, off + n), filled);
          filled += n;
          off += n;
          if (filled === BATCH_BYTES) {
            const full: Buffer = batch;
            batch = undefined;
            filled = 0;
            size += full.byteLength;
            await hasher.update(full);
            yield full;
          }
        }
      }
      if (batch !== undefined && filled > 0) {
        const last = batch.subarray(0, filled);
        size += last.byteLength;
        await hasher.update(last);
        yield last;
      }
    } catch (e) {
      hasher.drop();
      throw e;
    }
  }
  return {
    stream: run(),
    async result(): Promise<StreamDigests> {
      return Object.assign({}, await hasher.result(), { size });
    },
  };
}

/** Content-MD5 must be base64 of 16 bytes. */
export function parseContentMd5(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const b = Buffer.from(raw, 'base64');
  if (b.length !== 16 || b.toString('base64') !== raw.trim()) {
    throw s3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.', { 'Content-MD5': raw });
  }
  return b.toString('hex');
}

export function checkContentMd5(expectedHex: string | undefined, actualHex: string): void {
  if (expectedHex !== undefined && expectedHex !== actualHex) {
    throw s3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
      ExpectedDigest: Buffer.from(expectedHex, 'hex').toString('base64'),
      CalculatedDigest: Buffer.from(actualHex, 'hex').toString('base64'),
    });
  }
}

/**
 * A whole request payload read into memory (an XML configuration, DeleteObjects…)
 * against its Content-MD5 and the x-amz-checksum-* headers that are not input
 * members of the operation, as S3 checks them.
 */
export async function checkBufferedBody(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer, bound: ReadonlySet<string>): Promise<void> {
  const rawMd5 = headers['content-md5'];
  if (typeof rawMd5 === 'string') checkContentMd5(parseContentMd5(rawMd5), createHash('md5').update(body).digest('hex'));
  for (const alg of ALGORITHMS) {
    const name = checksumHeader(alg);
    const value = headers[name];
    // A modelled checksum header is the operation's value (CompleteMultipartUpload: the whole object's).
    if (typeof value !== 'string' || bound.has(name)) continue;
    checkDigestFormat(alg, value);
    const d = digester(alg);
    d.update(body);
    if ((await d.digest()).toString('base64') !== value) throw checksumMismatch(alg);
  }
}

export function checksumMismatch(alg: ChecksumAlgorithm): Error {
  return s3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
}

/** ETag of a multipart object: MD5 of the parts' binary MD5s, then `-N`. */
export function multipartEtag(partMd5Hex: readonly string[]): string {
  const h = createHash('md5');
  for (const m of partMd5Hex) h.update(Buffer.from(m, 'hex'));
  return `"${h.digest('hex')}-${partMd5Hex.length}"`;
}

/** COMPOSITE checksum: the algorithm over the parts' binary digests, then `-N`. */
export async function compositeChecksum(alg: ChecksumAlgorithm, partDigestsB64: readonly string[]): Promise<string> {
  const d = digester(alg);
  for (const p of partDigestsB64) d.update(Buffer.from(p, 'base64'));
  return `${(await d.digest()).toString('base64')}-${partDigestsB64.length}`;
}

/** FULL_OBJECT checksum of concatenated parts from their CRCs (CRC algorithms only). */
export function combinedCrc(alg: ChecksumAlgorithm, parts: ReadonlyArray<{ digestB64: string; size: number }>): string {
  const s = alg === 'CRC32' ? CRC32_SPEC : alg === 'CRC32C' ? CRC32C_SPEC : alg === 'CRC64NVME' ? CRC64NVME_SPEC : undefined;
  if (!s) throw invalidArgument(`The FULL_OBJECT checksum type is not supported for ${alg}.`);
  let acc: bigint | undefined;
  for (const p of parts) {
    const v = BigInt('0x' + Buffer.from(p.digestB64, 'base64').toString('hex'));
    acc = acc === undefined ? v : crcCombine(s, acc, v, p.size);
  }
  const bytes = DIGEST_BYTES[alg];
  return Buffer.from((acc ?? 0n).toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
}

/** Empty-input digest (for a FULL_OBJECT checksum of zero parts, which cannot happen; and empty objects). */
export async function digestOf(alg: ChecksumAlgorithm, data: Uint8Array): Promise<string> {
  const d = digester(alg);
  d.update(data);
  return (await d.digest()).toString('base64');
}
