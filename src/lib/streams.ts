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
