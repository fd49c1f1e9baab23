/**
 * Input constraints as data, checked in AWS's order and reported in AWS's
 * words: "2 validation errors detected: Value 'a b' at 'streamName' failed to
 * satisfy constraint: Member must satisfy regular expression pattern:
 * [a-zA-Z0-9_.-]+; Value …". The codec has already checked types; this checks
 * the Smithy constraints (required, range, length, pattern, enum).
 */
import { kinesisError } from './errors.js';

export interface Rule {
  field: string;
  notNull?: boolean;
  min?: number;
  max?: number;
  lenMin?: number;
  lenMax?: number;
  pattern?: string;
  enum?: readonly string[];
  /** How the value prints: a blob as Java's ByteBuffer, a list of structs by a placeholder. */
  kind?: 'blob' | 'list' | 'map' | 'struct';
  /** For a list: the rules of each (struct) member. */
  members?: readonly Rule[];
  /** For a struct: its members' rules. */
  children?: readonly Rule[];
  /** For a map: key and value lengths. */
  keyLen?: [number, number];
  valueLen?: [number, number];
}

const compiled = new Map<string, RegExp>();
function regex(p: string): RegExp {
  let r = compiled.get(p);
  if (!r) {
    r = new RegExp(`^(?:${p})$`, 's');
    compiled.set(p, r);
  }
  return r;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** A scalar as Java would print it; anything else as JSON. */
function scalar(x: unknown): string {
  return typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint' ? String(x) : JSON.stringify(x);
}

function show(v: unknown, rule: Rule): string {
  if (v === null || v === undefined) return 'null';
  if (v instanceof Uint8Array) return `'java.nio.HeapByteBuffer[pos=0 lim=${v.length} cap=${v.length}]'`;
  if (Array.isArray(v)) return `'[${v.map((x) => (typeof x === 'object' && x !== null ? `com.amazonaws.kinesis.v20131202.${rule.field}@1` : scalar(x))).join(', ')}]'`;
  if (v instanceof Date) return `'${v.toISOString()}'`;
  if (typeof v === 'object') return `'{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${scalar(x)}`).join(', ')}}'`;
  return `'${scalar(v)}'`;
}

/** Code points, as Java counts a String's length here (a surrogate pair is one). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function lengthOf(v: unknown): number {
  if (typeof v === 'string') return codePoints(v);
  if (v instanceof Uint8Array || Array.isArray(v)) return v.length;
  if (typeof v === 'object' && v !== null) return Object.keys(v).length;
  return 0;
}

export function collect(input: unknown, rules: readonly Rule[], path: string, errors: string[]): void {
  const obj = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  for (const rule of rules) {
    const v = obj[rule.field];
    // Runs per record of a PutRecords call: the path and the closure are only built when something fails.
    const at = (): string => `${path}${lowerFirst(rule.field)}`;
    const fail = (msg: string) => {
      if (errors.length < 10) errors.push(`Value ${show(v, rule)} at '${at()}' failed to satisfy constraint: ${msg}`);
    };
    if (v === undefined || v === null) {
      if (rule.notNull) fail('Member must not be null');
      continue;
    }
    if (typeof v === 'number') {
      if (rule.min !== undefined && v < rule.min) fail(`Member must have value greater than or equal to ${rule.min}`);
      if (rule.max !== undefined && v > rule.max) fail(`Member must have value less than or equal to ${rule.max}`);
    }
    if (rule.enum && typeof v === 'string' && !rule.enum.includes(v)) fail(`Member must satisfy enum value set: [${rule.enum.join(', ')}]`);
    if (rule.pattern && typeof v === 'string' && !regex(rule.pattern).test(v)) fail(`Member must satisfy regular expression pattern: ${rule.pattern}`);
    if (rule.lenMin !== undefined && lengthOf(v) < rule.lenMin) fail(`Member must have length greater than or equal to ${rule.lenMin}`);
    if (rule.lenMax !== undefined && lengthOf(v) > rule.lenMax) fail(`Member must have length less than or equal to ${rule.lenMax}`);
    if (rule.keyLen && typeof v === 'object') {
      const [lo, hi] = rule.keyLen;
      if (!Object.keys(v).every((k) => k.length >= lo && k.length <= hi)) {
        fail(`Map keys must satisfy constraint: [Member must have length less than or equal to ${hi}, Member must have length greater than or equal to ${lo}]`);
      }
    }
    if (rule.valueLen && typeof v === 'object') {
      const [lo, hi] = rule.valueLen;
      if (!Object.values(v as Record<string, unknown>).every((x) => typeof x === 'string' && x.length >= lo && x.length <= hi)) {
        fail(`Map value must satisfy constraint: [Member must have length less than or equal to ${hi}, Member must have length greater than or equal to ${lo}]`);
      }
    }
    if (rule.members && Array.isArray(v)) {
      const base = at();
      for (let i = 0; i < v.length; i++) collect(v[i], rule.members, `${base}.${i + 1}.member.`, errors);
    }
    if (rule.children && typeof v === 'object') collect(v, rule.children, `${at()}.`, errors);
  }
}

/** Throws AWS's ValidationException listing up to 10 violations. */
export function check(input: unknown, rules: readonly Rule[]): void {
  const errors: string[] = [];
  collect(input, rules, '', errors);
  if (errors.length > 0) {
    throw kinesisError('ValidationException', `${errors.length} validation error${errors.length > 1 ? 's' : ''} detected: ${errors.join('; ')}`);
  }
}

// The constraints Kinesis's model puts on its shared members.
export const NAME_PATTERN = '[a-zA-Z0-9_.-]+';
export const STREAM_ARN_PATTERN = 'arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+';
export const CONSUMER_ARN_PATTERN = '^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+';
export const STREAM_ID_PATTERN = '[a-z0-9]{1,63}';

export const StreamNameRule: Rule = { field: 'StreamName', pattern: NAME_PATTERN, lenMin: 1, lenMax: 128 };
export const StreamArnRule: Rule = { field: 'StreamARN', pattern: STREAM_ARN_PATTERN, lenMin: 1, lenMax: 2048 };
export const StreamIdRule: Rule = { field: 'StreamId', pattern: STREAM_ID_PATTERN, lenMin: 1, lenMax: 63 };
/** StreamName or StreamARN (either may be given), plus StreamId. */
export const STREAM_REF: readonly Rule[] = [StreamNameRule, StreamArnRule, StreamIdRule];
export const ShardIdRule = (field: string, notNull = true): Rule => ({ field, notNull, pattern: NAME_PATTERN, lenMin: 1, lenMax: 128 });
export const HashKeyRule = (field: string, notNull = true): Rule => ({ field, notNull, pattern: '0|([1-9]\\d{0,38})' });
export const SeqRule = (field: string, notNull = false): Rule => ({ field, notNull, pattern: '0|([1-9]\\d{0,128})' });
export const TagsMapRule: Rule = { field: 'Tags', kind: 'map', lenMin: 1, lenMax: 200, keyLen: [1, 128], valueLen: [0, 256] };
