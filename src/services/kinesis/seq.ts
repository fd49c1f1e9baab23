/**
 * Hash keys and sequence numbers, as Kinesis shapes them.
 *
 * Hash keys: a partition key's MD5, read as an unsigned 128-bit number, picks
 * the shard whose [start, end] range holds it. Internally a hash key is a
 * 32-character lower-case hex string (zero-padded), so ranges compare as
 * plain strings; the API shows them as decimal strings.
 *
 * Sequence numbers: AWS's current ("version 2") layout, 186 bits written as
 * 47 hex digits and shown in decimal — always 56 digits, so equal-length
 * string comparison and bigint comparison agree:
 *
 *   '2' | shard creation (9 hex, epoch s) | shard index low nibble (1) |
 *   record index in the shard (16) | '00' | arrival (9 hex, epoch s) |
 *   shard index (8) | '2'
 *
 * Within a shard only the record index varies among the high-order digits, so
 * numbers grow with it. A child shard gets a creation second later than its
 * parents' (see shards.ts), so its numbers sort after theirs.
 */
import crypto from 'node:crypto';

export const MAX_HASH_KEY = (1n << 128n) - 1n;
export const HASH_SPACE = 1n << 128n;
/** AWS writes a closed shard's EndingSequenceNumber with the largest index. */
export const MAX_SEQ_INDEX = 0x7fffffffffffffffn;

// crypto.hash (Node ≥ 20.12) is a one-shot digest, ~3× cheaper than createHash per key.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;

export function hashKeyOfPartitionKey(partitionKey: string): string {
  return oneShot ? oneShot('md5', partitionKey, 'hex') : crypto.createHash('md5').update(partitionKey, 'utf8').digest('hex');
}

export function hexOfHashKey(n: bigint): string {
  return n.toString(16).padStart(32, '0');
}

export function decimalOfHashHex(hex: string): string {
  return BigInt(`0x${hex}`).toString(10);
}

export function bigintOfHashHex(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

/** The first hash key of shard i of n when 2^128 is split evenly (AWS's initial layout). */
export function evenSplitStart(i: number, n: number): bigint {
  return (HASH_SPACE * BigInt(i)) / BigInt(n);
}

export interface SeqParts {
  shardCreatedSecs: number;
  shardIx: number;
  index: bigint;
  arrivalSecs: number;
}

/**
 * The bits of the layout above, from the right: '2' (0-3), shard index
 * (4-35), arrival (36-71), '00' (72-79), record index (80-143), shard index
 * nibble (144-147), shard creation (148-183), '2' (184-187). Built with
 * shifts rather than a hex string: this runs once per record.
 */
export function formatSeq(p: SeqParts): string {
  return seqPrefix(p.shardCreatedSecs, p.shardIx)
    .plus(p.index, p.arrivalSecs)
    .toString();
}

/**
 * `count` consecutive sequence numbers from `first` (same shard, same
 * arrival): numbers one record apart differ by exactly 2^80, so after one
 * bigint conversion the rest are decimal additions on four 14-digit limbs —
 * several times cheaper per record than a 186-bit toString.
 */
export function formatSeqRun(first: SeqParts, count: number): string[] {
  const out = new Array<string>(count);
  if (count === 0) return out;
  const s = formatSeq(first);
  out[0] = s;
  if (s.length !== 56) {
    for (let i = 1; i < count; i++) out[i] = formatSeq({ ...first, index: first.index + BigInt(i) });
    return out;
  }
  const L = 1e14;
  let a = Number(s.slice(0, 14));
  let b = Number(s.slice(14, 28));
  let c = Number(s.slice(28, 42));
  let d = Number(s.slice(42, 56));
  // The upper 28 digits change only on a carry (2^80 < 10^28): their text is reused until then.
  let hi = s.slice(0, 28);
  for (let i = 1; i < count; i++) {
    d += STEP[3];
    c += STEP[2] + (d >= L ? 1 : 0);
    if (d >= L) d -= L;
    const carry = STEP[1] !== 0 || STEP[0] !== 0 || c >= L;
    b += STEP[1] + (c >= L ? 1 : 0);
    if (c >= L) c -= L;
    a += STEP[0] + (b >= L ? 1 : 0);
    if (b >= L) b -= L;
    if (a >= L) {
      // Past 56 digits (never for real indexes): fall back to exact arithmetic.
      for (let j = i; j < count; j++) out[j] = formatSeq({ ...first, index: first.index + BigInt(j) });
      return out;
    }
    if (carry) hi = digits14(a) + digits14(b);
    out[i] = hi + digits14(c) + digits14(d);
  }
  return out;
}

/** '0000' … '9999'. */
const FOUR = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, '0'));
/** The same as ASCII bytes, four per entry. */
const FOUR_BYTES = Uint8Array.from(FOUR.join(''), (ch) => ch.charCodeAt(0));

/** A limb (< 10^14) as exactly 14 ASCII digits at out[p] — digits14 without making strings. */
function put14(out: Uint8Array, p: number, x: number): void {
  const h = Math.floor(x / 1e8); // < 10^6
  const l = x - h * 1e8; // < 10^8
  const hh = Math.floor(h / 1e4); // < 100
  const lh = Math.floor(l / 1e4);
  let t = hh * 4;
  out[p] = FOUR_BYTES[t + 2] as number;
  out[p + 1] = FOUR_BYTES[t + 3] as number;
  t = (h - hh * 1e4) * 4;
  out[p + 2] = FOUR_BYTES[t] as number;
  out[p + 3] = FOUR_BYTES[t + 1] as number;
  out[p + 4] = FOUR_BYTES[t + 2] as number;
  out[p + 5] = FOUR_BYTES[t + 3] as number;
  t = lh * 4;
  out[p + 6] = FOUR_BYTES[t] as number;
  out[p + 7] = FOUR_BYTES[t + 1] as number;
  out[p + 8] = FOUR_BYTES[t + 2] as number;
  out[p + 9] = FOUR_BYTES[t + 3] as number;
  t = (l - lh * 1e4) * 4;
  out[p + 10] = FOUR_BYTES[t] as number;
  out[p + 11] = FOUR_BYTES[t + 1] as number;
  out[p + 12] = FOUR_BYTES[t + 2] as number;
  out[p + 13] = FOUR_BYTES[t + 3] as number;
}

/**
 * formatSeqRun's numbers written as ASCII digits, the j-th at out[at[j]]
 * (56 bytes each), with no string per record: for an answer rendered
 * straight to bytes. False (out partly written) where formatSeqRun would
 * leave the 56-digit form.
 */
export function writeSeqRun(first: SeqParts, count: number, out: Uint8Array, at: readonly number[]): boolean {
  if (count === 0) return true;
  const s = formatSeq(first);
  if (s.length !== 56) return false;
  const L = 1e14;
  let a = Number(s.slice(0, 14));
  let b = Number(s.slice(14, 28));
  let c = Number(s.slice(28, 42));
  let d = Number(s.slice(42, 56));
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      d += STEP[3];
      c += STEP[2] + (d >= L ? 1 : 0);
      if (d >= L) d -= L;
      b += STEP[1] + (c >= L ? 1 : 0);
      if (c >= L) c -= L;
      a += STEP[0] + (b >= L ? 1 : 0);
      if (b >= L) b -= L;
      if (a >= L) return false;
    }
    const p = at[i] as number;
    put14(out, p, a);
    put14(out, p + 14, b);
    put14(out, p + 28, c);
    put14(out, p + 42, d);
  }
  return true;
}

/**
 * A limb (< 10^14) as exactly 14 digits, from table lookups: String() of a
 * number this large runs V8's double-to-string (its number cache misses on
 * fresh values), which cost more than everything else in a run.
 */
function digits14(x: number): string {
  const h = Math.floor(x / 1e8); // < 10^6
  const l = x - h * 1e8; // < 10^8
  const hh = Math.floor(h / 1e4); // < 100
  const lh = Math.floor(l / 1e4);
  return (FOUR[hh] as string).slice(2) + (FOUR[h - hh * 1e4] as string) + (FOUR[lh] as string) + (FOUR[l - lh * 1e4] as string);
}

/** 2^80 as four 14-digit limbs (most significant first). */
const STEP = (() => {
  const s = (1n << 80n).toString().padStart(56, '0');
  return [0, 14, 28, 42].map((i) => Number(s.slice(i, i + 14))) as [number, number, number, number];
})();

const prefixes = new Map<string, bigint>();

function seqPrefix(createdSecs: number, shardIx: number): { plus(index: bigint, arrivalSecs: number): bigint } {
  const k = `${createdSecs}/${shardIx}`;
  let hi = prefixes.get(k);
  if (hi === undefined) {
    hi = (2n << 184n) | (BigInt(createdSecs) << 148n) | (BigInt(shardIx & 0xf) << 144n) | (BigInt(shardIx >>> 0) << 4n) | 2n;
    if (prefixes.size > 10_000) prefixes.clear();
    prefixes.set(k, hi);
  }
  const base = hi;
  return { plus: (index, arrivalSecs) => base | (index << 80n) | (BigInt(arrivalSecs) << 36n) };
}

/** Parses one of our (version 2) sequence numbers; undefined for anything else. */
export function parseSeq(seq: string): SeqParts | undefined {
  if (!/^\d{1,128}$/.test(seq)) return undefined;
  const h = BigInt(seq).toString(16);
  if (h.length !== 47 || h[0] !== '2' || h[46] !== '2') return undefined;
  const index = BigInt(`0x${h.slice(11, 27)}`);
  if (index > MAX_SEQ_INDEX) return undefined;
  return {
    shardCreatedSecs: parseInt(h.slice(1, 10), 16),
    index,
    arrivalSecs: parseInt(h.slice(29, 38), 16),
    shardIx: parseInt(h.slice(38, 46), 16),
  };
}

/** Orders two decimal sequence numbers (any lengths) numerically. */
export function compareSeq(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function shardIdOf(ix: number): string {
  return `shardId-${String(ix).padStart(12, '0')}`;
}

/** 'shardId-000000000003' → 3; also accepts the bare number part, as AWS does. */
export function shardIxOf(shardId: string): number | undefined {
  const m = /^(?:shardId-)?(\d{1,12})$/.exec(shardId);
  if (!m?.[1]) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Record keys inside a shard's namespace: the record index, zero-padded hex. */
export function recordKey(index: number): string {
  return index.toString(16).padStart(14, '0');
}

export function indexOfRecordKey(key: string): number {
  return parseInt(key, 16);
}
