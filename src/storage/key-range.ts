/**
 * Keys compare as UTF-8 bytes (S3's listing order). Both SQLite (TEXT with
 * BINARY collation) and PostgreSQL (text COLLATE "C" in a UTF8 database)
 * compare that way natively, so every scan option can become a plain
 * `k >= lower AND k < upper` range that an index can seek. This module turns
 * ScanOptions into that range; it knows nothing of SQL.
 */
import type { ScanOptions } from './ports.js';

export type RangeFilter = Omit<ScanOptions, 'limit' | 'reverse'>;

export interface KeyRange {
  /** Absent: unbounded below. */
  lower?: { key: string; inclusive: boolean };
  /** Exclusive. Absent: unbounded above. */
  upper?: string;
  /** The filters cannot match anything (e.g. start beyond end). */
  empty: boolean;
}

const MAX_CODE_POINT = 0x10ffff;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * A lone surrogate has no UTF-8 encoding: the driver would store U+FFFD, so
 * two different keys would silently become one. NUL cannot be stored in a
 * PostgreSQL text column; refusing it everywhere keeps adapters alike.
 */
export function assertWellFormed(what: string, s: string): void {
  if (typeof s !== 'string') throw new TypeError(`${what} must be a string`);
  if (LONE_SURROGATE.test(s)) throw new TypeError(`${what} contains a lone surrogate (not valid UTF-8)`);
  if (s.includes('\0')) throw new TypeError(`${what} contains NUL`);
}

/**
 * Compares as UTF-8 bytes would. Code point order equals UTF-8 byte order;
 * JS `<` compares UTF-16 units, which puts U+10000.. before U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only where a surrogate meets a unit in E000..FFFF do the orders disagree.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The least string greater than every string starting with `prefix`, or
 * undefined when none exists (empty prefix, or only U+10FFFF). Bump the last
 * code point below U+10FFFF and drop what follows; any string between the
 * prefix and that successor must start with the prefix.
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0) as number);
  for (let i = cps.length - 1; i >= 0; i--) {
    const cp = cps[i] as number;
    if (cp === MAX_CODE_POINT) continue;
    // Surrogate code points cannot be encoded; nothing sorts between D7FF and E000.
    const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1;
    return String.fromCodePoint(...cps.slice(0, i), next);
  }
  return undefined;
}

/** Folds prefix/start/startAfter/end into one lower and one upper bound. */
export function toKeyRange(opts: RangeFilter = {}): KeyRange {
  const { prefix, start, startAfter, end } = opts;
  for (const [name, v] of [['prefix', prefix], ['start', start], ['startAfter', startAfter], ['end', end]] as const) {
    if (v !== undefined) assertWellFormed(name, v);
  }
  let lower: KeyRange['lower'];
  const raise = (key: string, inclusive: boolean): void => {
    const c = lower === undefined ? 1 : compareUtf8(key, lower.key);
    // At an equal key the exclusive bound is the tighter one.
    if (c > 0 || (c === 0 && lower !== undefined && lower.inclusive && !inclusive)) lower = { key, inclusive };
  };
  if (prefix !== undefined && prefix !== '') raise(prefix, true);
  if (start !== undefined) raise(start, true);
  if (startAfter !== undefined) raise(startAfter, false);

  let upper = prefix === undefined ? undefined : prefixSuccessor(prefix);
  if (end !== undefined) upper = upper === undefined ? end : compareUtf8(end, upper) < 0 ? end : upper;

  const range: KeyRange = { empty: false };
  if (lower !== undefined) range.lower = lower;
  if (upper !== undefined) {
    range.upper = upper;
    if (lower !== undefined) {
      range.empty = compareUtf8(lower.key, upper) >= 0;
    }
  }
  return range;
}

/** Validates `limit`: a non-negative integer, or absent for no limit. */
export function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError('limit must be a non-negative integer');
  return limit;
}

/** The reference semantics of a filter, for tests and for adapters without ranges. */
export function matchesFilter(key: string, opts: RangeFilter = {}): boolean {
  if (opts.prefix !== undefined && !key.startsWith(opts.prefix)) return false;
  if (opts.start !== undefined && compareUtf8(key, opts.start) < 0) return false;
  if (opts.startAfter !== undefined && compareUtf8(key, opts.startAfter) <= 0) return false;
  if (opts.end !== undefined && compareUtf8(key, opts.end) >= 0) return false;
  return true;
}
