/**
 * An object's bytes as one stream: its blobs in order (one for a PUT, one
 * per part for a multipart object), optionally a byte range that may span
 * several of them. The blobs are held against deletion while the stream is
 * open (see BlobReaper).
 */
import { Readable } from 'node:stream';
import type { ReadTx } from '../../storage/ports.js';
import { type BlobRef, nsInline } from './model.js';
import type { S3 } from './state.js';

export type InlineData = ReadonlyMap<string, Uint8Array>;

/** The bytes of an object's inline blobs, read in the same snapshot as its record. */
export async function loadInline(tx: ReadTx, bucket: string, blobs: readonly BlobRef[]): Promise<InlineData | undefined> {
  let out: Map<string, Uint8Array> | undefined;
  for (const b of blobs) {
    if (!b.inline) continue;
    const data = await tx.get<Uint8Array>(nsInline(bucket), b.id);
    if (!data) throw new Error(`s3: inline data ${b.id} is missing`);
    (out ??= new Map()).set(b.id, data);
  }
  return out;
}

export interface Segment {
  id: string;
  start: number;
  end: number;
  inline?: true;
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
    const seg: Segment = { id: b.id, start: Math.max(from, bStart) - bStart, end: Math.min(to, bEnd) - bStart };
    if (b.inline) seg.inline = true;
    out.push(seg);
  }
  return out;
}

function inlineParts(segments: readonly Segment[], inline: InlineData | undefined): Buffer[] {
  return segments.map((s) => {
    const d = inline?.get(s.id);
    if (!d) throw new Error(`s3: inline data ${s.id} was not loaded`);
    return Buffer.from(d.buffer, d.byteOffset + s.start, s.end - s.start + 1);
  });
}

/** The parts as one buffer (the only part itself when there is one). */
export function joined(parts: readonly Buffer[]): Buffer {
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/**
 * The bytes (or a range) of an object whose blobs there are all inline, as one
 * buffer, else undefined: a small GET answers with it directly, without a
 * stream between the metadata row and the socket.
 */
export function inlineBytes(blobs: readonly BlobRef[], range?: { start: number; end: number }, inline?: InlineData): Buffer | undefined {
  const segments = segmentsFor(blobs, range);
  return segments.every((s) => s.inline) ? joined(inlineParts(segments, inline)) : undefined;
}

export function objectStream(s3: S3, blobs: readonly BlobRef[], range?: { start: number; end: number }, inline?: InlineData): Readable {
  const segments = segmentsFor(blobs, range);
  if (segments.every((s) => s.inline)) return Readable.from(inlineParts(segments, inline), { objectMode: false });
  const release = s3.reaper.acquire(segments.filter((s) => !s.inline).map((s) => s.id));
  let stream: Readable;
  if (segments.length === 0) {
    stream = Readable.from([], { objectMode: false });
  } else if (segments.length === 1 && !segments[0]?.inline) {
    const s = segments[0] as Segment;
    stream = s3.blobs.read(s.id, { start: s.start, end: s.end }) as unknown as Readable;
  } else {
    const blobStore = s3.blobs;
    stream = Readable.from(
      (async function* () {
        for (const s of segments) {
          const d = s.inline ? inline?.get(s.id) : undefined;
          if (s.inline && !d) throw new Error(`s3: inline data ${s.id} was not loaded`);
          if (d) yield Buffer.from(d.buffer, d.byteOffset + s.start, s.end - s.start + 1);
          else yield* blobStore.read(s.id, { start: s.start, end: s.end });
        }
      })(),
      { objectMode: false },
    );
  }
  stream.once('close', release);
  return stream;
}
