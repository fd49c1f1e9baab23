/** Bytes a crash-test blob must hold: derived from its seed, so nobody stores them. */
export function patternBytes(seed: number, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (seed * 31 + ((offset + i) * 7) + ((offset + i) >>> 9)) & 0xff;
  return buf;
}

export const BLOB_CHUNK = 16 * 1024;
