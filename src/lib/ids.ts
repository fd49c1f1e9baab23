import { randomFillSync } from 'node:crypto';

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
  return uuid();
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

/** Upper-case hex digits as bytes; ids are spelled into `spell` and read out as one flat latin1 string. */
const HEX_UPPER = Buffer.from('0123456789ABCDEF', 'latin1');
const HEX_LOWER = Buffer.from('0123456789abcdef', 'latin1');
const spell = Buffer.allocUnsafe(36);

/** S3's x-amz-request-id is 16 upper-case hex characters. */
export function s3RequestId(): string {
  const at = pooledAt(8);
  for (let i = 0; i < 8; i++) {
    const b = pool[at + i] as number;
    spell[2 * i] = HEX_UPPER[b >> 4] as number;
    spell[2 * i + 1] = HEX_UPPER[b & 15] as number;
  }
  return spell.toString('latin1', 0, 16);
}

/**
 * A version-4 UUID (RFC 9562: 122 random bits, version and variant set), lower-case, from the
 * pooled CSPRNG bytes: spelled into one buffer and read out once, not joined from 20 pieces.
 */
export function uuid(): string {
  const at = pooledAt(16);
  let o = 0;
  for (let i = 0; i < 16; i++) {
    let b = pool[at + i] as number;
    if (i === 6) b = (b & 0x0f) | 0x40;
    else if (i === 8) b = (b & 0x3f) | 0x80;
    if (i === 4 || i === 6 || i === 8 || i === 10) spell[o++] = 0x2d;
    spell[o++] = HEX_LOWER[b >> 4] as number;
    spell[o++] = HEX_LOWER[b & 15] as number;
  }
  return spell.toString('latin1', 0, 36);
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
