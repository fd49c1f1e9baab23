/** The parts of unbzip2-stream@1.4.3 that compression.ts drives (the package types only its through-stream). */
declare module 'unbzip2-stream/lib/bit_iterator.js' {
  /** Reads `n` bits (null: skip to the next byte boundary); bytesRead counts the bytes begun. */
  export interface BitReader {
    (n: number | null): number;
    bytesRead: number;
  }
  export default function bitIterator(nextBuffer: () => Buffer | undefined): BitReader;
}

declare module 'unbzip2-stream/lib/bzip2.js' {
  import type { BitReader } from 'unbzip2-stream/lib/bit_iterator.js';
  const bzip2: {
    /** A stream header: its block size (1–9, in 100 kB); throws on a bad magic. */
    header(bits: BitReader): number;
    /** One block into `sink`, checked against its CRC; the running stream CRC, or null at the end-of-stream marker (checked too). Throws on damage. */
    decompress(bits: BitReader, sink: (byte: number) => void, buf: Int32Array, bufsize: number, streamCrc: number | null): number | null;
  };
  export default bzip2;
}
