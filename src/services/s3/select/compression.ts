/**
 * Whole-object compression of S3 Select's CSV and JSON input
 * (InputSerialization.CompressionType): GZIP through node:zlib, BZIP2 through
 * unbzip2-stream's decoder. Both inflate the object as it streams, one compressed chunk
 * at a time; neither holds it whole. GZIP and BZIP2 files made of several
 * members / streams back to back (what `pigz`, `bzip2` and `pbzip2` may
 * write) read as their concatenation. A body that does not decompress is
 * S3's `TruncatedInput`.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import bitIterator, { type BitReader } from 'unbzip2-stream/lib/bit_iterator.js';
import bz2 from 'unbzip2-stream/lib/bzip2.js';
import { isAwsError } from '../../../aws/errors.js';
import { selectError } from './sql.js';

export type Compression = 'NONE' | 'GZIP' | 'BZIP2';

/** What S3 answers for an object that does not decompress with the format the request names. */
export const truncatedInput = (format: Compression) =>
  selectError('TruncatedInput', `Object decompression failed. Check that the object is properly compressed using the format specified in the request (${format}).`);

async function* gunzip(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const z = createGunzip();
  const piping = pipeline(Readable.from(body), z);
  piping.catch(() => undefined);
  try {
    yield* z as AsyncIterable<Buffer>;
  } catch (e) {
    if (isAwsError(e)) throw e;
    throw truncatedInput('GZIP');
  } finally {
    z.destroy();
  }
}

const OUT_PIECE = 64 * 1024;

/**
 * BZIP2 through unbzip2-stream's decoder (its lib/bzip2.js and bit reader),
 * driven here rather than through its through-stream: that stream collects a
 * block's output as a JavaScript array of numbers, so one crafted 50-byte
 * block (≈ 46 MB of output) costs about 1 GB of memory; here the output is
 * written into 64 KiB buffers. The driving follows its index.js: a block is
 * decoded once enough compressed bytes are buffered for it (≤ 900 kB + 25 kB),
 * the rest at the end; a block comes out only after its CRC matched; after
 * an end-of-stream marker a new stream header may follow (concatenated files).
 * Everything is synchronous, so a damaged object is an exception here, never
 * an event or an exception later.
 */
export async function* bunzip2(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let has = 0;
  let bits: BitReader | undefined;
  let blockSize = 0;
  let streamCrc: number | null = null;
  let blockBuf: Int32Array | undefined;
  /** Verified output (whole blocks whose CRC matched), and the block being decoded. */
  let out: Buffer[] = [];
  let current: Buffer[] = [];
  let piece = Buffer.allocUnsafe(OUT_PIECE);
  let at = 0;
  const sink = (b: number): void => {
    piece[at++] = b;
    if (at === OUT_PIECE) {
      current.push(piece);
      piece = Buffer.allocUnsafe(OUT_PIECE);
      at = 0;
    }
  };
  const block = (): void => {
    const r = bits as BitReader;
    if (blockSize === 0) {
      blockSize = bz2.header(r);
      streamCrc = 0;
      return;
    }
    const size = 100000 * blockSize;
    if (blockBuf?.length !== size) blockBuf = new Int32Array(size);
    const crc = bz2.decompress(r, sink, blockBuf, size, streamCrc);
    if (crc === null) blockSize = 0;
    streamCrc = crc;
    // The block's CRC matched (decompress throws otherwise): its bytes may go out.
    if (at > 0) {
      current.push(piece.subarray(0, at));
      piece = Buffer.allocUnsafe(OUT_PIECE);
      at = 0;
    }
    out.push(...current);
    current = [];
  };
  /**
   * Decodes the blocks it can (all when `final`), handing out each block's output before the next
   * block is decoded: a crafted file of many tiny blocks (~46 MB of output each) never has more than
   * one block's output in memory, and a consumer that stops reading stops the decoding.
   */
  function* blocks(final: boolean): Generator<Buffer> {
    if (bits === undefined) return;
    const r = bits;
    for (;;) {
      const more = final ? has > r.bytesRead : has - r.bytesRead + 1 >= 25000 + 100000 * blockSize;
      if (!more) break;
      block();
      const got = out;
      out = [];
      yield* got;
    }
    if (final && streamCrc !== null) throw new Error('the input ended inside a bzip2 stream');
  }
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    queue.push(chunk);
    has += chunk.length;
    bits ??= bitIterator(() => queue.shift());
    try {
      yield* blocks(false);
    } catch (e) {
      if (isAwsError(e)) throw e;
      throw truncatedInput('BZIP2');
    }
  }
  try {
    // No bytes is no bzip2 file (as `bzip2 -d` and GZIP see an empty input); a bzip2 file of nothing is 14 bytes.
    if (bits === undefined) throw new Error('empty');
    yield* blocks(true);
  } catch (e) {
    if (isAwsError(e)) throw e;
    throw truncatedInput('BZIP2');
  }
}

/** `body` inflated per `format` (as is for NONE). */
export function inflate(body: AsyncIterable<Buffer>, format: Compression): AsyncIterable<Buffer> {
  if (format === 'GZIP') return gunzip(body);
  if (format === 'BZIP2') return bunzip2(body);
  return body;
}
