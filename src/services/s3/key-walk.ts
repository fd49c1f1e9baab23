/**
 * The listing walk shared by ListObjects, ListObjectsV2 and ListObjectVersions:
 * keys of one namespace in UTF-8 byte order from a marker, rolled up into
 * CommonPrefixes by a delimiter. A common prefix costs one seek, not a walk
 * over its keys: after emitting `photos/` the next scan starts at the least
 * string above every `photos/…` key. Each page runs in one read transaction,
 * so it is a consistent snapshot even while writes go on.
 */
import type { ReadTx } from '../../storage/ports.js';
import { compareUtf8, prefixSuccessor } from '../../storage/key-range.js';
import { invalidArgument } from './errors.js';

export type WalkItem<V> = { kind: 'key'; key: string; value: V } | { kind: 'prefix'; prefix: string };

export interface WalkOptions<V> {
  prefix: string;
  delimiter: string | undefined;
  /** Exclusive: only items after this key (or common prefix). */
  after: string | undefined;
  /** Items wanted (keys + prefixes); one more is read to know whether there are more. */
  max: number;
  /** Whether a key counts (delete markers do not, for ListObjects). */
  include?: (value: V) => boolean;
}

export interface WalkResult<V> {
  items: WalkItem<V>[];
  truncated: boolean;
}

export async function walkKeys<V>(tx: ReadTx, ns: string, o: WalkOptions<V>): Promise<WalkResult<V>> {
  const items: WalkItem<V>[] = [];
  if (o.max <= 0) return { items, truncated: false };
  const include = o.include ?? (() => true);
  const want = o.max + 1;
  let cursor: { start?: string; startAfter?: string } = o.after !== undefined ? { startAfter: o.after } : {};
  const prefixOpt = o.prefix !== '' ? { prefix: o.prefix } : {};
  // Batches grow while keys are consumed one by one and shrink after a common
  // prefix is skipped: a seek then needs only the next few keys, not a page.
  let batchSize = o.delimiter ? 8 : want;
  for (;;) {
    const limit = Math.min(Math.max(want - items.length, 1), batchSize);
    const batch = await tx.scan<V>(ns, { ...prefixOpt, ...cursor, limit });
    if (batch.length === 0) break;
    let reseek = false;
    let done = false;
    for (const e of batch) {
      if (o.delimiter) {
        const i = e.key.indexOf(o.delimiter, o.prefix.length);
        if (i >= 0) {
          const cp = e.key.slice(0, i + o.delimiter.length);
          if ((o.after === undefined || compareUtf8(cp, o.after) > 0) && (include(e.value) || (await hasIncluded(tx, ns, cp, include)))) {
            items.push({ kind: 'prefix', prefix: cp });
          }
          const next = prefixSuccessor(cp);
          if (next === undefined) done = true;
          else cursor = { start: next };
          reseek = true;
          break;
        }
      }
      cursor = { startAfter: e.key };
      if (include(e.value)) items.push({ kind: 'key', key: e.key, value: e.value });
      if (items.length >= want) break;
    }
    if (done || items.length >= want) break;
    if (!reseek && batch.length < limit) break;
    batchSize = reseek ? 8 : Math.min(batchSize * 4, 1001);
  }
  const truncated = items.length > o.max;
  if (truncated) items.length = o.max;
  return { items, truncated };
}

/** Whether any key under `cp` counts (only needed when the first one did not). */
async function hasIncluded<V>(tx: ReadTx, ns: string, cp: string, include: (v: V) => boolean): Promise<boolean> {
  let after: string | undefined;
  for (;;) {
    const page = await tx.scan<V>(ns, { prefix: cp, ...(after !== undefined ? { startAfter: after } : {}), limit: 256 });
    if (page.some((e) => include(e.value))) return true;
    if (page.length < 256) return false;
    after = (page[page.length - 1] as { key: string }).key;
  }
}

/** max-keys: an integer ≥ 0; more than 1000 lists 1000. */
export function checkMaxKeys(v: number | undefined, name = 'max-keys'): number {
  if (v === undefined) return 1000;
  if (!Number.isInteger(v) || v < 0 || v > 2147483647) {
    throw invalidArgument(`Argument ${name} must be an integer between 0 and 2147483647`, name, String(v));
  }
  return Math.min(v, 1000);
}

export function checkEncodingType(v: string | undefined): boolean {
  if (v === undefined) return false;
  if (v !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', v);
  return true;
}

/** S3's encoding-type=url: form-style percent-encoding (space as '+'), '/' kept. */
export function urlEncodeKey(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Continuation tokens are opaque to clients: base64url of where to resume. */
export function encodeToken(after: string): string {
  return Buffer.from(after, 'utf8').toString('base64url');
}

export function decodeToken(token: string): string {
  const s = Buffer.from(token, 'base64url').toString('utf8');
  if (s === '' || encodeToken(s) !== token) throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  return s;
}
