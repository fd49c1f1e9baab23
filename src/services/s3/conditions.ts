/**
 * Conditional reads, in S3's (RFC 7232's) order: If-Match, else
 * If-Unmodified-Since → 412; then If-None-Match, else If-Modified-Since →
 * 304. Copy-source conditions (x-amz-copy-source-if-*) evaluate the same way
 * but every failure is a 412. Dates compare at second precision, as the
 * Last-Modified header carries them.
 */
import { preconditionFailed, s3Error } from './errors.js';
import type { ObjectRecord } from './model.js';

export interface ReadConditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: Date | undefined;
  ifUnmodifiedSince?: Date | undefined;
}

function unquote(e: string): string {
  const t = e.trim();
  return t.startsWith('W/') ? unquote(t.slice(2)) : t.replace(/^"|"$/g, '');
}

/** Whether an If-Match / If-None-Match list names this ETag (or is `*`). */
export function etagMatches(list: string, etag: string): boolean {
  const mine = unquote(etag);
  return list.split(',').some((e) => e.trim() === '*' || unquote(e) === mine);
}

function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

function modifiedSince(rec: ObjectRecord, d: Date): boolean {
  return seconds(rec.lastModified) > seconds(d);
}

/** GET/HEAD: throws 412 PreconditionFailed or 304 NotModified. */
export function checkReadConditions(rec: ObjectRecord, c: ReadConditions): void {
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, rec.etag)) throw preconditionFailed('If-Match');
  } else if (c.ifUnmodifiedSince !== undefined && modifiedSince(rec, c.ifUnmodifiedSince)) {
    throw preconditionFailed('If-Unmodified-Since');
  }
  const notModified = c.ifNoneMatch !== undefined ? etagMatches(c.ifNoneMatch, rec.etag) : c.ifModifiedSince !== undefined && !modifiedSince(rec, c.ifModifiedSince);
  if (notModified) {
    throw s3Error('NotModified', 'Not Modified', {}, { etag: rec.etag, 'last-modified': rec.lastModified.toUTCString() });
  }
}

/** CopyObject / UploadPartCopy source conditions: every failure is 412. */
export function checkCopySourceConditions(rec: ObjectRecord, c: ReadConditions): void {
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, rec.etag)) throw preconditionFailed('x-amz-copy-source-If-Match');
  } else if (c.ifUnmodifiedSince !== undefined && modifiedSince(rec, c.ifUnmodifiedSince)) {
    throw preconditionFailed('x-amz-copy-source-If-Unmodified-Since');
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, rec.etag)) throw preconditionFailed('x-amz-copy-source-If-None-Match');
  } else if (c.ifModifiedSince !== undefined && !modifiedSince(rec, c.ifModifiedSince)) {
    throw preconditionFailed('x-amz-copy-source-If-Modified-Since');
  }
}

export interface ResolvedRange {
  start: number;
  end: number;
}

/**
 * A single `bytes=` range against an object of `size` bytes. Unparseable or
 * multi-range headers are ignored (the whole object is returned, as S3
 * does); a syntactically valid but unsatisfiable range is 416 InvalidRange.
 */
export function parseRange(raw: string | undefined, size: number): ResolvedRange | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(raw);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) throw invalidRange(raw, size);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return undefined;
  }
  if (start >= size || size === 0) throw invalidRange(raw, size);
  return { start, end };
}

export function invalidRange(raw: string, size: number) {
  return s3Error('InvalidRange', 'The requested range is not satisfiable', { RangeRequested: raw, ActualObjectSize: size }, { 'content-range': `bytes */${size}` });
}
