/**
 * The flexible-checksum algorithms S3 accepts in x-amz-checksum-* trailers,
 * computed incrementally over decoded body bytes. Digests are big-endian, as
 * AWS base64-encodes them.
 */
import { createHash, type Hash } from 'node:crypto';
import zlib from 'node:zlib';
import { Crc32 } from '@aws-crypto/crc32';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';

export interface Checksum {
  update(data: Uint8Array): void;
  digest(): Promise<Buffer>;
}

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export function isChecksumAlgorithm(s: string): s is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(s);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** zlib's native CRC-32 (Node ≥ 20.15) runs at GB/s; the JS table is the fallback. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

class Crc32Checksum implements Checksum {
  #crc = 0;
  readonly #js = nativeCrc32 ? undefined : new Crc32();
  update(data: Uint8Array): void {
    if (this.#js) this.#js.update(data);
    else this.#crc = (nativeCrc32 as (d: Uint8Array, v?: number) => number)(data, this.#crc);
  }
  digest(): Promise<Buffer> {
    return Promise.resolve(u32(this.#js ? this.#js.digest() : this.#crc));
  }
}

/*
 * CRC-32C (Castagnoli), slice-by-8: the @aws-crypto table walk does about
 * 100 MB/s, well under what an upload should cost; eight tables make it
 * several times faster in V8.
 */
const CRC32C_TABLES: Int32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Int32Array(256));
  const t0 = t[0] as Int32Array;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[n] = c;
  }
  for (let s = 1; s < 8; s++) {
    const prev = t[s - 1] as Int32Array;
    const cur = t[s] as Int32Array;
    for (let n = 0; n < 256; n++) {
      const p = prev[n] as number;
      cur[n] = (p >>> 8) ^ (t0[p & 0xff] as number);
    }
  }
  return t;
})();

export function crc32cUpdate(crc: number, data: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC32C_TABLES as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  let c = ~crc;
  let i = 0;
  const n = data.length;
  const end8 = n - (n & 7);
  while (i < end8) {
    const a = c ^ ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24));
    c = (t7[a & 0xff] as number) ^ (t6[(a >>> 8) & 0xff] as number) ^ (t5[(a >>> 16) & 0xff] as number) ^ (t4[a >>> 24] as number)
      ^ (t3[data[i + 4] as number] as number) ^ (t2[data[i + 5] as number] as number)
      ^ (t1[data[i + 6] as number] as number) ^ (t0[data[i + 7] as number] as number);
    i += 8;
  }
  while (i < n) {
    c = (t0[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
    i++;
  }
  return ~c >>> 0;
}

class Crc32cChecksum implements Checksum {
  #crc = 0;
  update(data: Uint8Array): void {
    this.#crc = crc32cUpdate(this.#crc, data);
  }
  digest(): Promise<Buffer> {
    return Promise.resolve(u32(this.#crc));
  }
}

class Crc64Checksum implements Checksum {
  readonly #impl = new Crc64Nvme();
  update(data: Uint8Array): void {
    this.#impl.update(data);
  }
  async digest(): Promise<Buffer> {
    return Buffer.from(await this.#impl.digest());
  }
}

class HashChecksum implements Checksum {
  readonly #hash: Hash;
  constructor(algorithm: 'sha1' | 'sha256') {
    this.#hash = createHash(algorithm);
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  digest(): Promise<Buffer> {
    return Promise.resolve(this.#hash.digest());
  }
}

export function newChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'crc32':
      return new Crc32Checksum();
    case 'crc32c':
      return new Crc32cChecksum();
    case 'crc64nvme':
      return new Crc64Checksum();
    case 'sha1':
    case 'sha256':
      return new HashChecksum(algorithm);
  }
}

/** The spelling AWS uses in "The CRC32 you specified did not match …". */
export function checksumLabel(algorithm: string): string {
  return algorithm.toUpperCase();
}
