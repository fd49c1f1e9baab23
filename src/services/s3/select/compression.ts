/**
 * Whole-object compression of S3 Select's CSV and JSON input
 * (InputSerialization.CompressionType): GZIP through node:zlib, BZIP2 through
 * unbzip2-stream. Both inflate the object as it streams, one compressed chunk
 * at a time; neither holds it whole. GZIP and BZIP2 files made of several
 * members / streams back to back (what `pigz`, `bzip2` and `pbzip2` may
 * write) read as their concatenation. A body that does not decompress is
 * S3's `TruncatedInput`.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import unbzip2 from 'unbzip2-stream';
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

/**
 * unbzip2-stream is a classic synchronous through-stream: `write` decodes
 * every whole block it has buffered (it waits for ~a block's worth of
 * compressed bytes, ≤ 900 kB) and emits the plaintext and any error before it
 * returns, so each chunk is written, what came out is yielded, and a
 * corruption (an error event, or an exception the library lets escape) stops
 * the stream after the blocks decoded before it. A damaged block is caught by
 * its CRC before any of its bytes come out.
 */
export async function* bunzip2(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const s = unbzip2();
  let out: Buffer[] = [];
  let failed = false;
  let seen = 0;
  s.on('data', (d: Buffer) => {
    out.push(d);
  });
  s.on('error', () => {
    failed = true;
  });
  const step = (fn: () => void): Buffer[] => {
    try {
      fn();
    } catch {
      failed = true;
    }
    const got = out;
    out = [];
    return got;
  };
  try {
    for await (const chunk of body) {
      if (chunk.length === 0) continue;
      seen += chunk.length;
      yield* step(() => s.write(chunk));
      if (failed) throw truncatedInput('BZIP2');
    }
    yield* step(() => s.end());
    // No bytes is no bzip2 file (as `bzip2 -d` and GZIP see an empty input); a bzip2 file of nothing is 14 bytes.
    if (failed || seen === 0) throw truncatedInput('BZIP2');
  } finally {
    s.destroy();
  }
}

/** `body` inflated per `format` (as is for NONE). */
export function inflate(body: AsyncIterable<Buffer>, format: Compression): AsyncIterable<Buffer> {
  if (format === 'GZIP') return gunzip(body);
  if (format === 'BZIP2') return bunzip2(body);
  return body;
}
