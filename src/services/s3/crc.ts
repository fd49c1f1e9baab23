/**
 * CRC pieces S3 needs beyond computing a CRC: a fast CRC32C (slice-by-8; the
 * package one is byte-at-a-time) and combining CRCs of consecutive byte
 * ranges, so a multipart upload's FULL_OBJECT checksum comes from its parts'
 * CRCs without reading the bytes again.
 */

const CRC32C_POLY = 0x82f63b78;
const T = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let s = 1; s < 8; s++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[s * 256 + n] = c;
    }
  }
  return t;
})();

/** Continues a CRC32C (pass the previous result, 0 to start). */
export function crc32c(data: Uint8Array, prev = 0): number {
  let c = ~prev;
  let i = 0;
  const n = data.length;
  const t = T;
  for (; i + 8 <= n; i += 8) {
    const a = c ^ ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24));
    c =
      (t[7 * 256 + (a & 0xff)] as number) ^
      (t[6 * 256 + ((a >>> 8) & 0xff)] as number) ^
      (t[5 * 256 + ((a >>> 16) & 0xff)] as number) ^
      (t[4 * 256 + (a >>> 24)] as number) ^
      (t[3 * 256 + (data[i + 4] as number)] as number) ^
      (t[2 * 256 + (data[i + 5] as number)] as number) ^
      (t[256 + (data[i + 6] as number)] as number) ^
      (t[data[i + 7] as number] as number);
  }
  for (; i < n; i++) c = (t[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

interface CrcSpec {
  width: number;
  /** Reflected polynomial. */
  poly: bigint;
  x2n: bigint[];
}

function spec(width: number, poly: bigint): CrcSpec {
  const s: CrcSpec = { width, poly, x2n: [] };
  let p = 1n << BigInt(width - 2); // x^1
  for (let i = 0; i < 64; i++) {
    s.x2n.push(p);
    p = multModP(s, p, p);
  }
  return s;
}

/** a·b mod P in the reflected representation (zlib's multmodp, any width). */
function multModP(s: CrcSpec, a: bigint, b: bigint): bigint {
  let m = 1n << BigInt(s.width - 1);
  let p = 0n;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ s.poly : b >> 1n;
  }
  return p;
}

/** x^(n·2^k) mod P. */
function x2nModP(s: CrcSpec, n: bigint, k: number): bigint {
  let p = 1n << BigInt(s.width - 1); // x^0
  while (n) {
    if (n & 1n) p = multModP(s, s.x2n[k & 63] as bigint, p);
    n >>= 1n;
    k++;
  }
  return p;
}

export const CRC32_SPEC = spec(32, 0xedb88320n);
export const CRC32C_SPEC = spec(32, 0x82f63b78n);
export const CRC64NVME_SPEC = spec(64, 0x9a6c9329ac4bc9b5n);

/** CRC(A‖B) from CRC(A), CRC(B) and |B| (for CRCs with all-ones init and final xor). */
export function crcCombine(s: CrcSpec, crcA: bigint, crcB: bigint, lengthB: number): bigint {
  return multModP(s, x2nModP(s, BigInt(lengthB), 3), crcA) ^ crcB;
}
