import { randomFillSync, randomUUID } from 'node:crypto';

// Per-request ids (not secrets) come from one pooled buffer refilled a few KB
// at a time: a randomBytes() call per id is a measurable share of a no-op request.
const pool = Buffer.allocUnsafe(8192);
let poolAt = pool.length;
function pooled(n: number): Buffer {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const b = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return b;
}

/** An AWS-looking request id (uuid), as the JSON services send in x-amzn-RequestId. */
export function requestId(): string {
  return randomUUID();
}

/** Where the next `n` pooled bytes start (no view of the pool built: these ids are read out as text at once). */
function pooledAt(n: number): number {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += n;
  return at;
}

/** S3's x-amz-request-id is 16 upper-case hex characters. */
export function s3RequestId(): string {
  const at = pooledAt(8);
  return pool.toString('hex', at, at + 8).toUpperCase();
}

/** S3's x-amz-id-2: an opaque base64 host id. */
export function s3HostId(): string {
  const at = pooledAt(48);
  return pool.toString('base64', at, at + 48);
}

/** A random id safe in file names and URLs: lower-case hex, 32 chars. */
export function randomId(): string {
  return pooled(16).toString('hex');
}

/**
 * `n` bytes from the CSPRNG in a buffer of their own (a copy, never a view of
 * the pool, which is refilled): for per-request keys, salts and nonces, where
 * a randomBytes() call each is a measurable share of a small S3 PUT.
 */
export function randomBytesPooled(n: number): Buffer {
  return Buffer.from(pooled(n));
}
