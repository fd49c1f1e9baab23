/**
 * Object annotations' rules, without storage (annotations.ts applies them):
 * names, the payload's limits and UTF-8 check, the per-version row keys,
 * and ListObjectAnnotations' page size and continuation tokens.
 *
 * Names follow the S3 User Guide ("Managing annotations"): 1–512 bytes of
 * UTF-8, made of Unicode letters, digits, underscores, periods and hyphens,
 * not starting with `aws` or `s3` (any case). Combining marks are accepted
 * with letters (scripts such as Devanagari need them).
 */
import { s3Error, invalidArgument } from './errors.js';
import { SEP } from './model.js';

/** Annotations one object version may have. */
export const MAX_ANNOTATIONS = 1000;
/** An annotation payload: 1 byte to 1 MiB. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
export const MAX_NAME_BYTES = 512;
/** ListObjectAnnotations' largest (and default) page. */
export const MAX_PAGE = 1000;

const NAME_CHARS = /^[\p{L}\p{M}\p{Nd}_.-]+$/u;
const RESERVED = /^(aws|s3)/i;

/** The annotation name of a request, checked (AnnotationNameTooLong / InvalidAnnotationName). */
export function checkAnnotationName(name: string | undefined): string {
  if (name === undefined || name === '') throw s3Error('InvalidAnnotationName', 'The annotation name must not be empty.');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw s3Error('AnnotationNameTooLong', `The annotation name exceeds ${MAX_NAME_BYTES} bytes.`);
  if (!NAME_CHARS.test(name)) {
    throw s3Error('InvalidAnnotationName', 'Annotation names may contain only Unicode letters, digits, underscores (_), periods (.) and hyphens (-).');
  }
  if (RESERVED.test(name)) throw s3Error('InvalidAnnotationName', 'Annotation names cannot start with aws or s3.');
  return name;
}

/** AnnotationPrefix: empty means none; otherwise it must be able to begin a valid name. */
export function checkAnnotationPrefix(prefix: string | undefined): string | undefined {
  if (prefix === undefined || prefix === '') return undefined;
  if (Buffer.byteLength(prefix) > MAX_NAME_BYTES || !NAME_CHARS.test(prefix)) {
    throw s3Error('InvalidPrefix', 'The annotation prefix you provided is invalid.');
  }
  return prefix;
}

/** MaxAnnotationResults: 1 to 1,000 (more is taken as 1,000, as S3 does with max-keys). */
export function pageSize(max: number | undefined): number {
  if (max === undefined) return MAX_PAGE;
  if (!Number.isInteger(max) || max < 1) throw invalidArgument('MaxAnnotationResults must be an integer between 1 and 1000.', 'max-annotation-results', String(max));
  return Math.min(max, MAX_PAGE);
}

/** The continuation token after `name`: opaque to clients, bound to nothing but the name. */
export function encodeAnnotationToken(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

export function decodeAnnotationToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (name === '' || encodeAnnotationToken(name) !== token || !NAME_CHARS.test(name)) {
    throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  }
  return name;
}

/** Row keys of one version's annotations begin with this (a version is its key and sequence number). */
export function annotationRowPrefix(key: string, seq: number): string {
  return `${key}${SEP}${seq.toString(16).padStart(14, '0')}${SEP}`;
}

/** The annotation name in a row key under `prefix`, or undefined for a row of a longer object key sharing it. */
export function nameInRow(rowKey: string, prefix: string): string | undefined {
  const name = rowKey.slice(prefix.length);
  return name.includes(SEP) ? undefined : name;
}

/**
 * Passes a payload through, failing with 415 UnsupportedMediaType at the
 * first byte that is not valid UTF-8 (or at a sequence cut by the end).
 */
export async function* utf8Checked(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const bad = () => s3Error('UnsupportedMediaType', 'The annotation payload is not valid UTF-8 encoded text.');
  for await (const chunk of src) {
    try {
      decoder.decode(chunk, { stream: true });
    } catch {
      throw bad();
    }
    yield chunk;
  }
  try {
    decoder.decode();
  } catch {
    throw bad();
  }
}
