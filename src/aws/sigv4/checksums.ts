/**
 * The flexible-checksum algorithms S3 accepts in x-amz-checksum-* headers and
 * trailers, computed incrementally over decoded body bytes. Digests are
 * big-endian, as AWS base64-encodes them. The one implementation of each:
 * S3's object checksums (services/s3/checksums.ts) use these too.
 *
 * MD5, SHA-1, SHA-256 and SHA-512 are node:crypto's. The xxHash family is the
 * SDK's own JavaScript (`@aws-sdk/checksums/xxh`), so a digest here is exactly
 * what an SDK client computes; it is slow (~30–70 MB/s), and runs only when a
 * client asks for one of these algorithms.
 */
import { createHash, type Hash } from 'node:crypto';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { Crc32 } from '@aws-crypto/crc32';
import { Crc64NvmeFast, crc32c } from '../../lib/crc.js';

type Xxh = typeof import('@aws-sdk/checksums/xxh');
let xxh: Xxh | undefined;
/** Loaded on first use (~10 ms), not at every start of the server and of each hash worker. */
function xxhash(): Xxh {
  return (xxh ??= createRequire(import.meta.url)('@aws-sdk/checksums/xxh') as Xxh);
}

export interface Checksum {
  update(data: Uint8Array): void;
  digest(): Promise<Buffer>;
}

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'md5', 'sha1', 'sha256', 'sha512', 'xxhash64', 'xxhash3', 'xxhash128'] as const;
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

class Crc32cChecksum implements Checksum {
  #crc = 0;
  update(data: Uint8Array): void {
    this.#crc = crc32c(data, this.#crc);
  }
  digest(): Promise<Buffer> {
    return Promise.resolve(u32(this.#crc));
  }
}

class Crc64Checksum implements Checksum {
  readonly #impl = new Crc64NvmeFast();
  update(data: Uint8Array): void {
    this.#impl.update(data);
  }
  digest(): Promise<Buffer> {
    return Promise.resolve(this.#impl.digest());
  }
}

class HashChecksum implements Checksum {
  readonly #hash: Hash;
  constructor(algorithm: 'md5' | 'sha1' | 'sha256' | 'sha512') {
    this.#hash = createHash(algorithm);
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  digest(): Promise<Buffer> {
    return Promise.resolve(this.#hash.digest());
  }
}

/** The SDK's xxHash classes: update, then an async digest of big-endian bytes. */
class SdkChecksum implements Checksum {
  readonly #impl: { update(data: Uint8Array): void; digest(): Promise<Uint8Array> };
  constructor(impl: { update(data: Uint8Array): void; digest(): Promise<Uint8Array> }) {
    this.#impl = impl;
  }
  update(data: Uint8Array): void {
    this.#impl.update(data);
  }
  async digest(): Promise<Buffer> {
    const d = await this.#impl.digest();
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
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
    case 'md5':
    case 'sha1':
    case 'sha256':
    case 'sha512':
      return new HashChecksum(algorithm);
    case 'xxhash64':
      return new SdkChecksum(new (xxhash().Xxh64)());
    case 'xxhash3':
      return new SdkChecksum(new (xxhash().Xxh3_64)());
    case 'xxhash128':
      return new SdkChecksum(new (xxhash().Xxh3_128)());
  }
}

/** The spelling AWS uses in "The CRC32 you specified did not match …". */
export function checksumLabel(algorithm: string): string {
  return algorithm.toUpperCase();
}
