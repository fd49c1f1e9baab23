/**
 * PutRecords over JSON 1.1, straight from the body's bytes and into the wire
 * text, for the usual call — the generic codec (json-bytes + json-shapes)
 * stays the authority for everything else.
 *
 * decode: accepts only bodies of one plain form — an object of StreamName /
 * StreamARN (strings) and Records (a non-empty list of objects of Data and
 * PartitionKey strings), in any order, with JSON whitespace, each key once,
 * no escapes or control characters in the strings, and Data canonical base64
 * — and answers exactly what parseJsonBody + the PutRecords reader would.
 * Anything else (a null, an unknown or repeated key, an ExplicitHashKey, an
 * escape, bad base64, bad JSON) answers undefined and the generic path runs,
 * so every error, its order and its message stay the generic path's.
 *
 * Why: the generic path makes each record's 1,368-character base64 text a
 * JS string checked byte by byte for control characters, then a parsed
 * object, then a second object from the schema walk, then decodes the text
 * into its own buffer. Here each record's Data text is sliced as Latin-1
 * (a copy, no decoding) and decoded into one buffer per call; strictness
 * comes from the same checks decodeBase64 makes (only the base64 alphabet
 * yields exactly 3/4 of the length in bytes), which also rule out any
 * backslash, control or non-ASCII byte — so the raw text is the JSON value.
 */
import type { EncryptionType, PutRecordsInput, PutRecordsOutput, PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { type SeqParts, writeSeqRun } from './seq.js';

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const EQUALS = 0x3d;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Bytes of the keys this path knows, to compare without making a string. */
const K_RECORDS = Buffer.from('Records');
const K_STREAM_NAME = Buffer.from('StreamName');
const K_STREAM_ARN = Buffer.from('StreamARN');
const K_DATA = Buffer.from('Data');
const K_PARTITION_KEY = Buffer.from('PartitionKey');

function isKey(b: Buffer, start: number, end: number, k: Buffer): boolean {
  const n = k.length;
  if (end - start !== n) return false;
  for (let j = 0; j < n; j++) if (b[start + j] !== k[j]) return false;
  return true;
}

type Rec = { Data: Uint8Array; PartitionKey: string };

/** The generic path's answer for this body, or undefined when only the generic path may answer. */
export function decodePutRecordsJson(b: Buffer): PutRecordsInput | undefined {
  const n = b.length;
  let i = 0;
  // Decoded Data of every record, back to back: at most 3/4 of the body.
  let data: Buffer | undefined;
  let dataAt = 0;
  let lastLen = 0;

  const ws = (): void => {
    while (i < n) {
      const c = b[i] as number;
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) return;
      i++;
    }
  };

  /** At an opening quote: the end of a plain string's bytes (i then past its closing quote), or -1. */
  const plainEnd = (): number => {
    const start = i + 1;
    const q = b.indexOf(QUOTE, start);
    if (q < 0) return -1;
    for (let j = start; j < q; j++) {
      const c = b[j] as number;
      if (c < SPACE || c === BACKSLASH) return -1;
    }
    i = q + 1;
    return q;
  };

  /** A plain string value (UTF-8 decoded as the generic parser does), or undefined. */
  const plainString = (): string | undefined => {
    if (b[i] !== QUOTE) return undefined;
    const start = i + 1;
    const q = plainEnd();
    return q < 0 ? undefined : b.toString('utf8', start, q);
  };

  /** The text b[start, q) as canonical base64 (decodeBase64's rules), decoded into `data`; undefined otherwise. */
  const decodeAt = (start: number, q: number): Uint8Array | undefined => {
    const len = q - start;
    if (len % 4 !== 0) return undefined;
    let pad = 0;
    if (len > 0 && b[q - 1] === EQUALS) pad = b[q - 2] === EQUALS ? 2 : 1;
    const want = (len / 4) * 3 - pad;
    if (pad > 0) {
      // The bits after the last byte must be zero, or two texts decode alike.
      const last = B64.indexOf(String.fromCharCode(b[q - pad - 1] as number));
      if (last < 0 || (pad === 1 ? last & 0x3 : last & 0xf) !== 0) return undefined;
    }
    if (!data) data = Buffer.allocUnsafeSlow(Math.ceil((n * 3) / 4));
    // Node's decoder skips what is not base64 (and reads '-' '_' as base64url): the exact length
    // and the absence of '-' and '_' prove every byte was one of A–Z a–z 0–9 + / (and '=' at the end)
    // — so no quote, backslash, control or non-ASCII byte: the raw text is the JSON string's value.
    const text = b.toString('latin1', start, q);
    if (text.indexOf('-') >= 0 || text.indexOf('_') >= 0) return undefined;
    if (data.write(text, dataAt, 'base64') !== want) return undefined;
    const out = data.subarray(dataAt, dataAt + want);
    dataAt += want;
    return out;
  };

  /** A Data value, decoded; undefined when not a plain string of canonical base64. */
  const blob = (): Uint8Array | undefined => {
    if (b[i] !== QUOTE) return undefined;
    const start = i + 1;
    // Records of a call are mostly one size: a quote where the last one's text ended is tried first
    // (saves a search per record). Should it not be this text's end, the text up to it holds a quote
    // and fails the base64 checks; then the real end is searched for.
    const guess = start + lastLen;
    let out = b[guess] === QUOTE ? decodeAt(start, guess) : undefined;
    let q = guess;
    if (out === undefined) {
      q = b.indexOf(QUOTE, start);
      if (q < 0 || q === guess) return undefined;
      out = decodeAt(start, q);
      if (out === undefined) return undefined;
    }
    lastLen = q - start;
    i = q + 1;
    return out;
  };

  /**
   * At '{': walks a non-empty object's members, calling `member` with each key's bytes [ks, ke)
   * once i is at its value (it reads the value, or answers false). False on anything else.
   */
  const members = (member: (ks: number, ke: number) => boolean): boolean => {
    if (b[i] !== LBRACE) return false;
    i++;
    ws();
    if (b[i] === RBRACE) return false;
    for (;;) {
      ws();
      if (b[i] !== QUOTE) return false;
      const ks = i + 1;
      const ke = plainEnd();
      if (ke < 0) return false;
      ws();
      if (b[i] !== COLON) return false;
      i++;
      ws();
      if (!member(ks, ke)) return false;
      ws();
      const c = b[i];
      i++;
      if (c === RBRACE) return true;
      if (c !== COMMA) return false;
    }
  };

  const record = (): Rec | undefined => {
    // An object, not two lets: TypeScript does not see assignments made inside the callback.
    const r: { d: Uint8Array | undefined; pk: string | undefined } = { d: undefined, pk: undefined };
    const ok = members((ks, ke) => {
      if (isKey(b, ks, ke, K_DATA)) return r.d === undefined && (r.d = blob()) !== undefined;
      if (isKey(b, ks, ke, K_PARTITION_KEY)) return r.pk === undefined && (r.pk = plainString()) !== undefined;
      return false;
    });
    return ok && r.d !== undefined && r.pk !== undefined ? { Data: r.d, PartitionKey: r.pk } : undefined;
  };

  const records = (): Rec[] | undefined => {
    if (b[i] !== LBRACKET) return undefined;
    i++;
    const out: Rec[] = [];
    ws();
    if (b[i] === RBRACKET) return undefined;
    for (;;) {
      ws();
      const r = record();
      if (r === undefined) return undefined;
      out.push(r);
      ws();
      const c = b[i];
      i++;
      if (c === RBRACKET) return out;
      if (c !== COMMA) return undefined;
    }
  };

  const top: { recs: Rec[] | undefined; name: string | undefined; arn: string | undefined } = { recs: undefined, name: undefined, arn: undefined };
  ws();
  const ok = members((ks, ke) => {
    if (isKey(b, ks, ke, K_RECORDS)) return top.recs === undefined && (top.recs = records()) !== undefined;
    if (isKey(b, ks, ke, K_STREAM_NAME)) return top.name === undefined && (top.name = plainString()) !== undefined;
    if (isKey(b, ks, ke, K_STREAM_ARN)) return top.arn === undefined && (top.arn = plainString()) !== undefined;
    return false;
  });
  if (!ok) return undefined;
  const { recs, name, arn } = top;
  ws();
  if (i < n || recs === undefined) return undefined;
  // Members in the schema's order, as the generic reader builds them.
  const input: PutRecordsInput = { Records: recs };
  if (name !== undefined) input.StreamName = name;
  if (arn !== undefined) input.StreamARN = arn;
  return input;
}

/** Where a PutRecords answer keeps its renderer (not enumerable: no copy, comparison or encoder sees it). */
const RENDER = Symbol('kinesis.putRecordsJson');

/** One chunk's run of sequence numbers (records.ts). */
interface Run {
  first: SeqParts;
  slots: number[];
  shardId: string;
}

/**
 * The handler's answer. Records is made on first read only: when nothing
 * reads it and every record was written, the JSON answer is rendered
 * straight to bytes from the runs of sequence numbers, with no object or
 * string per record; otherwise the generic codec writes it.
 */
export function putRecordsAnswer(entries: () => PutRecordsResultEntry[], failed: number, encryption: EncryptionType, runs: readonly Run[], count: number): PutRecordsOutput {
  const out = {} as PutRecordsOutput;
  let records: PutRecordsResultEntry[] | undefined;
  Object.defineProperty(out, 'Records', {
    enumerable: true,
    configurable: true,
    get: () => (records ??= entries()),
    set: (v: PutRecordsResultEntry[]) => void (records = v),
  });
  // Read or replaced, Records is no longer what the runs say: the generic codec writes the answer.
  out.FailedRecordCount = failed;
  out.EncryptionType = encryption;
  Object.defineProperty(out, RENDER, { value: () => (records === undefined && failed === 0 ? renderAllWritten(runs, count, encryption) : undefined) });
  return out;
}

const HEAD = Buffer.from('{"Records":[');
const SEQ_AT = '{"SequenceNumber":"'.length;
const SEQ_DIGITS = 56;
const SHARD_ID = 20;
/** {"SequenceNumber":"<56 digits>","ShardId":"<20>"}, and a comma. */
const STRIDE = SEQ_AT + SEQ_DIGITS + '","ShardId":"'.length + SHARD_ID + '"}'.length + 1;

/** Every record written: the answer's bytes (fixed-size entries), or undefined when an entry would not have the usual form. */
function renderAllWritten(runs: readonly Run[], count: number, encryption: EncryptionType): Uint8Array | undefined {
  if (count === 0) return undefined;
  let covered = 0;
  for (const r of runs) {
    if (r.shardId.length !== SHARD_ID || !/^shardId-\d{12}$/.test(r.shardId)) return undefined;
    covered += r.slots.length;
  }
  if (covered !== count) return undefined;
  const tail = Buffer.from(`],"FailedRecordCount":0,"EncryptionType":${JSON.stringify(encryption)}}`);
  const out = Buffer.allocUnsafe(HEAD.length + count * STRIDE - 1 + tail.length);
  HEAD.copy(out, 0);
  for (const r of runs) {
    const entry = Buffer.from(`{"SequenceNumber":"${'0'.repeat(SEQ_DIGITS)}","ShardId":"${r.shardId}"},`, 'latin1');
    const at = new Array<number>(r.slots.length);
    for (let j = 0; j < r.slots.length; j++) {
      const p = HEAD.length + (r.slots[j] as number) * STRIDE;
      entry.copy(out, p);
      at[j] = p + SEQ_AT;
    }
    if (!writeSeqRun(r.first, r.slots.length, out, at)) return undefined;
  }
  // Over the last entry's comma.
  tail.copy(out, HEAD.length + count * STRIDE - 1);
  return out;
}

/**
 * PutRecords' answer as JSON bytes, exactly as the generic writer and
 * JSON.stringify would write it, when it can be rendered from the runs (all
 * written, Records never read); undefined leaves it to the generic codec.
 */
export function encodePutRecordsJson(out: PutRecordsOutput): Uint8Array | undefined {
  return (out as { [RENDER]?: () => Uint8Array | undefined })[RENDER]?.();
}
