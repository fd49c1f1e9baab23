/**
 * An object's bytes as one stream: its blobs in order (one for a PUT, one
 * per part for a multipart object), optionally a byte range that may span
 * several of them. The blobs are held against deletion while the stream is
 * open (see BlobReaper).
 */
import { Readable } from 'node:stream';
import type { BlobRef } from './model.js';
import type { S3 } from './state.js';

export interface Segment {
  id: string;
  start: number;
  end: number;
}

/** The blob pieces covering [start, end] (inclusive) of the concatenation. */
export function segmentsFor(blobs: readonly BlobRef[], range?: { start: number; end: number }): Segment[] {
  const out: Segment[] = [];
  let offset = 0;
  const from = range?.start ?? 0;
  const to = range?.end ?? Number.MAX_SAFE_INTEGER;
  for (const b of blobs) {
    const bStart = offset;
    const bEnd = offset + b.size - 1;
    offset += b.size;
    if (b.size === 0 || bEnd < from || bStart > to) continue;
    out.push({ id: b.id, start: Math.max(from, bStart) - bStart, end: Math.min(to, bEnd) - bStart });
  }
  return out;
}

export function objectStream(s3: S3, blobs: readonly BlobRef[], range?: { start: number; end: number }): Readable {
  const segments = segmentsFor(blobs, range);
  const release = s3.reaper.acquire(segments.map((s) => s.id));
  let stream: Readable;
  if (segments.length === 0) {
    stream = Readable.from([], { objectMode: false });
  } else if (segments.length === 1) {
    const s = segments[0] as Segment;
    stream = s3.blobs.read(s.id, { start: s.start, end: s.end }) as unknown as Readable;
  } else {
    const blobStore = s3.blobs;
    stream = Readable.from(
      (async function* () {
        for (const s of segments) yield* blobStore.read(s.id, { start: s.start, end: s.end });
      })(),
      { objectMode: false },
    );
  }
  stream.once('close', release);
  return stream;
}
