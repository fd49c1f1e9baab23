/**
 * The pieces of a SigV4 canonical request, computed from the request as it
 * came off the wire.
 *
 * Strings here are byte strings: Node hands header values (and the URL) over
 * as latin1, one char per byte, so a canonical request built from them is
 * hashed with the 'latin1' encoding and reproduces the bytes the client
 * signed. A char above U+00FF can only come from a caller that passed real
 * text; such values are turned into their UTF-8 bytes first.
 */

type HeaderValue = string | readonly string[] | undefined;
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** RFC 3986 unreserved: the only bytes AWS leaves unescaped. */
const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';
const PCT: readonly string[] = Array.from({ length: 256 }, (_, b) => `%${HEX[b >> 4]}${HEX[b & 15]}`);
const SLASH = 0x2f;
const PERCENT = 0x25;

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/** Any char that is not a single byte. */
const WIDE = /[\u0100-\uffff]/;

/** Byte string of `s`: unchanged when it already is one, else its UTF-8 bytes as latin1. */
export function byteString(s: string): string {
  return WIDE.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

/**
 * AWS's URI encoding of one wire-form component (a query key or value, or an
 * S3 path). With `decode`, percent-escapes are decoded and re-encoded, so `%7e`
 * and `~` agree and hex case does not matter; an escaped byte that is not
 * unreserved stays escaped (`%2F` is never confused with a literal `/`).
 * Without `decode`, `%` itself is escaped: the "encode twice" of non-S3 paths.
 */
export function awsEncode(s: string, keepSlash: boolean, decode: boolean): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || (UNRESERVED[c] === 0 && !(keepSlash && c === SLASH))) break;
  }
  if (i === n) return s;
  if (WIDE.test(s)) s = Buffer.from(s, 'utf8').toString('latin1');
  let out = s.slice(0, i);
  const len = s.length;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 && (UNRESERVED[c] === 1 || (keepSlash && c === SLASH))) {
      out += s[i];
      continue;
    }
    if (decode && c === PERCENT && i + 2 < len) {
      const hi = hexVal(s.charCodeAt(i + 1));
      const lo = hexVal(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        const b = (hi << 4) | lo;
        out += UNRESERVED[b] === 1 ? String.fromCharCode(b) : PCT[b];
        i += 2;
        continue;
      }
    }
    out += PCT[c];
  }
  return out;
}

/** Percent-decodes a query component to text (UTF-8); undefined if the bytes are not UTF-8. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function decodeComponent(s: string): string | undefined {
  if (s.indexOf('%') < 0 && !/[\u0080-\uffff]/.test(s)) return s;
  s = byteString(s);
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === PERCENT && i + 2 < s.length) {
      const hi = hexVal(s.charCodeAt(i + 1));
      const lo = hexVal(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        bytes.push((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    bytes.push(c);
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * The canonical URI. S3 signs the path as sent (`normalize` false), so the
 * escapes are only made canonical; every other service signs the normalized
 * path (no `.`/`..`/empty segments) URI-encoded once more.
 */
export function canonicalPath(rawPath: string, normalize: boolean): string {
  if (!normalize) return rawPath === '' ? '/' : awsEncode(rawPath, true, true);
  const segments: string[] = [];
  for (const seg of rawPath.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return awsEncode(`/${segments.join('/')}${trailing}`, true, false);
}

export interface QueryParam {
  /** Canonical (AWS-encoded) key and value. */
  key: string;
  value: string;
  /** The value as sent, for reading auth parameters. */
  raw: string;
}

export function parseQuery(rawQuery: string): QueryParam[] {
  const out: QueryParam[] = [];
  if (rawQuery === '') return out;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out.push({ key: awsEncode(k, false, true), value: awsEncode(v, false, true), raw: v });
  }
  return out;
}

/** Sorted by key then value (byte order; both are ASCII after encoding), `k=v` joined by `&`. */
export function canonicalQuery(params: readonly QueryParam[], skip?: ReadonlySet<string>): string {
  const kept = skip ? params.filter((p) => !skip.has(p.key)) : params.slice();
  if (kept.length === 0) return '';
  if (kept.length > 1) {
    kept.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  }
  let out = '';
  for (let i = 0; i < kept.length; i++) {
    const p = kept[i] as QueryParam;
    out += i === 0 ? `${p.key}=${p.value}` : `&${p.key}=${p.value}`;
  }
  return out;
}

const NEEDS_TRIM = /[\t\r\n]| {2}|^ | $/;

/** Trims and collapses inner whitespace runs (line folds included) to one space. */
function trimCollapse(v: string): string {
  const b = byteString(v);
  return NEEDS_TRIM.test(b) ? b.replace(/[ \t\r\n]+/g, ' ').trim() : b;
}

/** Canonical value of one header: each occurrence trimmed, repeats joined with ','. */
export function canonicalHeaderValue(v: HeaderValue): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return trimCollapse(v);
  if (v.length === 0) return undefined;
  if (v.length === 1) return trimCollapse(v[0] as string);
  return v.map(trimCollapse).join(',');
}

/** One header as a single string (repeats joined with ','), or undefined. */
export function headerString(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.length === 0 ? undefined : v.join(',');
}

/**
 * The canonical header block and the names it covers. A signed `host` that is
 * absent falls back to HTTP/2's `:authority`, which is what the client signed.
 */
export function canonicalHeaders(headers: HeaderBag, signed: readonly string[]): string {
  let out = '';
  for (const name of signed) {
    const lname = name.toLowerCase();
    let value = canonicalHeaderValue(headers[lname]);
    if (value === undefined && lname === 'host') value = canonicalHeaderValue(headers[':authority']);
    out += `${name}:${value ?? ''}\n`;
  }
  return out;
}

/** The number written by `n` ASCII digits of `s` at `at`; -1 when one is not a digit. */
function digitsAt(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Parses `yyyymmddThhmmssZ`; undefined unless it names a real instant. (Read digit by digit: no match array per request.) */
export function parseAmzDate(s: string): Date | undefined {
  // Requests signed in the same second carry the same text: its instant is reused (a fresh Date each time, as callers may keep it).
  if (s === lastAmzText) return new Date(lastAmzMs);
  const d = parseAmzDateText(s);
  if (d !== undefined) {
    lastAmzText = s;
    lastAmzMs = d.getTime();
  }
  return d;
}

let lastAmzText: string | undefined;
let lastAmzMs = 0;

function parseAmzDateText(s: string): Date | undefined {
  if (s.length !== 16 || s.charCodeAt(8) !== 0x54 /* T */ || s.charCodeAt(15) !== 0x5a /* Z */) return undefined;
  const y = digitsAt(s, 0, 4);
  const mo = digitsAt(s, 4, 2);
  const d = digitsAt(s, 6, 2);
  const h = digitsAt(s, 9, 2);
  const mi = digitsAt(s, 11, 2);
  const se = digitsAt(s, 13, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const date = new Date(t);
  // Date.UTC rolls 20150230 over to March; AWS rejects it, so must we.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return undefined;
  return date;
}

export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/** An RFC 7231 Date header (the SigV4 fallback when x-amz-date is absent), as x-amz-date form. */
export function amzDateFromHttpDate(s: string): string | undefined {
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(s.trim())) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : formatAmzDate(new Date(t));
}
