/**
 * The CRCs S3's flexible checksums use, in one place for the SigV4 trailer
 * check and S3's stored checksums: a fast CRC32C (slice-by-8; the package one
 * is byte-at-a-time), CRC64NVME in WebAssembly, and combining CRCs of
 * consecutive byte ranges, so a multipart upload's FULL_OBJECT checksum comes
 * from its parts' CRCs without reading the bytes again.
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

/*
 * CRC64NVME, S3's default checksum, in WebAssembly: every PUT without a
 * client checksum computes it, and the SDK's JS version (slice-by-8 over
 * 32-bit halves) costs ~2.7 ms of CPU per MB, more than MD5. With native
 * 64-bit integers the same slice-by-8 runs several times faster. The module
 * is a single function, assembled below from its instructions (no toolchain
 * needed): `update(crc: i64, len: i32) -> i64` over `len` bytes at BUF, with
 * the eight 256-entry tables at 0..16 KiB of its memory.
 */
const WASM_BUF = 16384;
const WASM_CHUNK = 256 * 1024;

/** Unsigned / signed LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

function crc64Module(): Uint8Array {
  const [CRC, LEN, P, X] = [0, 1, 2, 3];
  const get = (l: number) => [0x20, l];
  const set = (l: number) => [0x21, l];
  const i32 = (n: number) => [0x41, ...sleb(n)];
  const i64 = (n: number) => [0x42, ...sleb(n)];
  const load64 = (offset: number) => [0x29, 3, ...uleb(offset)];
  const [I32_ADD, I32_SUB, I32_AND, I32_SHL, I32_LT_U, I32_EQZ] = [0x6a, 0x6b, 0x71, 0x74, 0x49, 0x45];
  const [I64_XOR, I64_SHR_U, WRAP, LOAD8_U64] = [0x85, 0x88, 0xa7, 0x31];
  const [BLOCK, LOOP, BR, BR_IF, END, VOID] = [0x02, 0x03, 0x0c, 0x0d, 0x0b, 0x40];
  /** Table k's entry for the byte at bit `shift` of x (an i32 address → i64 load). */
  const lookup = (k: number, shift: number) => [...get(X), ...(shift > 0 ? [...i64(shift), I64_SHR_U] : []), WRAP, ...i32(255), I32_AND, ...i32(3), I32_SHL, ...load64(k * 2048)];
  const eight: number[] = [];
  for (let j = 0; j < 8; j++) eight.push(...lookup(7 - j, 8 * j), ...(j > 0 ? [I64_XOR] : []));
  const body = [
    ...i32(WASM_BUF), ...set(P),
    BLOCK, VOID, LOOP, VOID,
    ...get(LEN), ...i32(8), I32_LT_U, BR_IF, 1,
    ...get(CRC), ...get(P), ...load64(0), I64_XOR, ...set(X),
    ...eight, ...set(CRC),
    ...get(P), ...i32(8), I32_ADD, ...set(P),
    ...get(LEN), ...i32(8), I32_SUB, ...set(LEN),
    BR, 0, END, END,
    BLOCK, VOID, LOOP, VOID,
    ...get(LEN), I32_EQZ, BR_IF, 1,
    ...get(CRC), ...get(P), LOAD8_U64, 0, 0, I64_XOR, ...set(X), ...lookup(0, 0),
    ...get(CRC), ...i64(8), I64_SHR_U, I64_XOR, ...set(CRC),
    ...get(P), ...i32(1), I32_ADD, ...set(P),
    ...get(LEN), ...i32(1), I32_SUB, ...set(LEN),
    BR, 0, END, END,
    ...get(CRC), END,
  ];
  const fn = [2, 1, 0x7f, 1, 0x7e, ...body]; // locals: p i32, x i64
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  const name = (s: string) => [s.length, ...Buffer.from(s)];
  const pages = Math.ceil((WASM_BUF + WASM_CHUNK) / 65536);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, 0x7e, 0x7f, 1, 0x7e]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, pages]),
    ...section(7, [2, ...name('mem'), 2, 0, ...name('update'), 0, 0]),
    ...section(10, [1, ...uleb(fn.length), ...fn]),
  ]);
}

interface Crc64Wasm {
  mem: Uint8Array;
  update: (crc: bigint, len: number) => bigint;
}

/** The part of the WebAssembly global used here (the DOM lib that types it is not loaded). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let wasm: Crc64Wasm | undefined;
function crc64Wasm(): Crc64Wasm {
  if (wasm) return wasm;
  const inst = new WA.Instance(new WA.Module(crc64Module()));
  const { mem, update } = inst.exports as { mem: { buffer: ArrayBuffer }; update: Crc64Wasm['update'] };
  const bytes = new Uint8Array(mem.buffer);
  const view = new DataView(mem.buffer);
  const poly = CRC64NVME_SPEC.poly;
  const t0: bigint[] = [];
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t0.push(c);
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n] as bigint;
    view.setBigUint64(n * 8, c, true);
    for (let k = 1; k < 8; k++) {
      c = (t0[Number(c & 0xffn)] as bigint) ^ (c >> 8n);
      view.setBigUint64(k * 2048 + n * 8, c, true);
    }
  }
  wasm = { mem: bytes, update };
  return wasm;
}

/** CRC64NVME, streaming: update() with each chunk, digest() for the 8 big-endian bytes. */
export class Crc64NvmeFast {
  private crc = -1n;

  update(data: Uint8Array): void {
    const w = crc64Wasm();
    for (let off = 0; off < data.byteLength; off += WASM_CHUNK) {
      const piece = data.subarray(off, Math.min(off + WASM_CHUNK, data.byteLength));
      w.mem.set(piece, WASM_BUF);
      this.crc = w.update(this.crc, piece.byteLength);
    }
  }

  digest(): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, ~this.crc));
    return b;
  }
}
