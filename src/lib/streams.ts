import type { Readable } from 'node:stream';

/**
 * Reads a whole stream into one Buffer, refusing more than `limit` bytes: the
 * stream is destroyed as soon as the limit is passed, so an oversized body is
 * read no further. `onTooLarge` makes the error to throw.
 */
export async function readAll(stream: Readable | AsyncIterable<Uint8Array>, limit: number, onTooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) {
      if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
      throw onTooLarge();
    }
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

/**
 * A body stream whose chunks may be lent: views of memory that is filled
 * again (by another thread) once it is given back. The one writer that sends
 * the stream claims it with `take()` before reading (chunks read before that,
 * or by any other reader, are the reader's own); it then hands each chunk's
 * write callback to `sent(chunk)` (the destination no longer holds it) and
 * calls `ended()` once the response is over, finished or cut (what was never
 * sent back is written off, left to the garbage collector, never reused).
 */
export const LENDER = Symbol('hanul.lender');
export interface Lender {
  take(): void;
  sent(chunk: Buffer): void;
  ended(): void;
}

/** The stream's lender, if its chunks may be lent. */
export function lenderOf(s: Readable): Lender | undefined {
  return (s as Readable & { [LENDER]?: Lender })[LENDER];
}
