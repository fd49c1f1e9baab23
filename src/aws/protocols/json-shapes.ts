import { Tag } from 'cbor-x';
import type { NormalizedSchema } from '@smithy/core/schema';
import { decodeBase64, encodeBase64 } from './wire.js';

/**
 * Schema-driven converters between JSON-like wire trees (parsed JSON, decoded
 * CBOR) and the typed values handlers see (Uint8Array blobs, Date timestamps).
 * Each shape is compiled once into a closure, so a request walks its value,
 * never the schema's traits.
 */

/** Which JSON-like wire: JSON RPC, CBOR 1.1 (Kinesis), or restJson1 (jsonName honoured). */
export interface JsonFlavor {
  readonly id: 'json' | 'cbor' | 'rest-json';
  /** Blobs are byte strings (CBOR), not base64 text. */
  readonly bytes: boolean;
  /** Member names come from the jsonName trait (restJson1 only). */
  readonly jsonName: boolean;
}
export const JSON_RPC: JsonFlavor = { id: 'json', bytes: false, jsonName: false };
export const CBOR: JsonFlavor = { id: 'cbor', bytes: true, jsonName: false };
export const REST_JSON: JsonFlavor = { id: 'rest-json', bytes: false, jsonName: true };

export type Reader = (value: unknown) => unknown;
export type Writer = (value: unknown) => unknown;

/** A wire value of the wrong kind; `path` is filled in on the way out. */
export class ShapeError extends Error {
  readonly path: (string | number)[] = [];
  constructor(readonly detail: string) {
    super(detail);
  }
  /** e.g. "Expected a string but found a number at 'Records[0].PartitionKey'". */
  describe(): string {
    if (this.path.length === 0) return this.detail;
    let p = '';
    for (const s of this.path) p += typeof s === 'number' ? `[${s}]` : p ? `.${s}` : s;
    return `${this.detail} at '${p}'`;
  }
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'a byte string';
  if (v instanceof Date) return 'a timestamp';
  if (typeof v === 'object') return 'a structure or map';
  return typeof v === 'number' || typeof v === 'bigint' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : `a ${typeof v}`;
}
function mismatch(expected: string, v: unknown): never {
  throw new ShapeError(`Expected ${expected} but found ${kindOf(v)}`);
}
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Date);
}

/** Sets a key even when it is '__proto__' (which plain assignment would treat as the prototype). */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

const ISO_8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)$/i;

/** Epoch seconds (fractions kept to the ms) or an ISO 8601 string, as Coral accepts. */
function readEpochOrIso(v: unknown): Date {
  let d: Date;
  if (typeof v === 'number') d = new Date(Math.round(v * 1000));
  else if (typeof v === 'string' && ISO_8601.test(v)) d = new Date(v);
  else if (typeof v === 'string' && /^-?\d+(?:\.\d+)?$/.test(v)) d = new Date(Math.round(Number(v) * 1000));
  else return mismatch('a timestamp (epoch seconds)', v);
  if (Number.isNaN(d.getTime())) throw new ShapeError('Timestamp is out of range');
  return d;
}

/**
 * AWS's CBOR 1.1 puts epoch *milliseconds* under tag 1 (the Java SDK writes
 * `tag(1) long millis`), while cbor-x reads tag 1 as RFC seconds. Values
 * that only make sense as millis (≥ 1e11, i.e. after 1973 as millis, after
 * year 5138 as seconds) are read as millis; smaller ones as RFC seconds.
 */
function readCborTime(v: unknown): Date {
  let ms: number;
  if (v instanceof Date) ms = v.getTime() >= 1e14 ? v.getTime() / 1000 : v.getTime();
  else if (typeof v === 'number') ms = Math.abs(v) >= 1e11 ? v : v * 1000;
  else if (v instanceof Tag && v.tag === 1 && typeof v.value === 'bigint') ms = Number(v.value);
  else return readEpochOrIso(v);
  const d = new Date(Math.round(ms));
  if (Number.isNaN(d.getTime())) throw new ShapeError('Timestamp is out of range');
  return d;
}

function readTimestamp(format: unknown, flavor: JsonFlavor): Reader {
  if (flavor.bytes) return readCborTime;
  if (format === 5 || format === 6) {
    return (v) => {
      if (typeof v !== 'string') return typeof v === 'number' ? readEpochOrIso(v) : mismatch('a timestamp string', v);
      const d = new Date(v);
      if (Number.isNaN(d.getTime())) throw new ShapeError(`'${v.slice(0, 64)}' is not a valid timestamp`);
      return d;
    };
  }
  return readEpochOrIso;
}

function readBlob(flavor: JsonFlavor): Reader {
  return (v) => {
    if (v instanceof Uint8Array && flavor.bytes) return v;
    if (typeof v !== 'string') return mismatch(flavor.bytes ? 'a byte string' : 'a base64-encoded string', v);
    const r = decodeBase64(v);
    if (Buffer.isBuffer(r)) return r;
    throw new ShapeError(`'${v.length > 64 ? `${v.slice(0, 64)}…` : v}' can not be converted to a Blob: ${r.problem}`);
  };
}

const readString: Reader = (v) => (typeof v === 'string' ? v : mismatch('a string', v));
const readBoolean: Reader = (v) => (typeof v === 'boolean' ? v : mismatch('a boolean', v));
const readNumber: Reader = (v) => {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  // JSON has no literal for these, so Smithy sends them as strings.
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return mismatch('a number', v);
};
const identity = (v: unknown): unknown => v;

const caches = { json: new WeakMap<object, Reader>(), cbor: new WeakMap<object, Reader>(), 'rest-json': new WeakMap<object, Reader>() };
const writerCaches = { json: new WeakMap<object, Writer>(), cbor: new WeakMap<object, Writer>(), 'rest-json': new WeakMap<object, Writer>() };

/**
 * Memoises aggregate shapes by their (immutable, static) schema object and
 * ties recursive shapes through a forwarding stub, so compiling terminates.
 */
function memo<F extends (v: unknown) => unknown>(cache: WeakMap<object, F>, ns: NormalizedSchema, build: () => F): F {
  const key = ns.getSchema();
  if (typeof key !== 'object' || key === null) return build();
  const hit = cache.get(key);
  if (hit) return hit;
  // The stub only runs once requests flow, long after `impl` is initialised.
  const stub = ((v: unknown) => impl(v)) as F;
  cache.set(key, stub);
  const impl = build();
  cache.set(key, impl);
  return impl;
}

/** The wire name of a struct member: its jsonName in restJson1, else the member name. */
export function wireName(member: NormalizedSchema, name: string, flavor: JsonFlavor): string {
  const jn = flavor.jsonName ? member.getMergedTraits().jsonName : undefined;
  return typeof jn === 'string' ? jn : name;
}

/**
 * Wire tree → typed value. Unknown members are ignored, nulls are absent, a
 * wrong kind of value throws ShapeError. `only` restricts a structure to some
 * members (restJson1's body members).
 */
export function compileReader(ns: NormalizedSchema, flavor: JsonFlavor, only?: (m: NormalizedSchema) => boolean): Reader {
  if (ns.isStructSchema()) {
    const build = (): Reader => {
      const names: string[] = [];
      const keys: string[] = [];
      const readers: Reader[] = [];
      for (const [name, member] of ns.structIterator()) {
        if (only && !only(member)) continue;
        if (member.isStructSchema() && member.isStreaming()) continue; // event streams travel outside the body
        names.push(name);
        keys.push(wireName(member, name, flavor));
        readers.push(compileReader(member, flavor));
      }
      const n = names.length;
      return (v) => {
        if (!isRecord(v)) return mismatch('a structure', v);
        const out: Record<string, unknown> = {};
        let i = 0;
        try {
          for (; i < n; i++) {
            const w = v[keys[i] as string];
            if (w !== undefined && w !== null) out[names[i] as string] = (readers[i] as Reader)(w);
          }
        } catch (e) {
          if (e instanceof ShapeError) e.path.unshift(keys[i] as string);
          throw e;
        }
        return out;
      };
    };
    return only ? build() : memo(caches[flavor.id], ns, build);
  }
  if (ns.isListSchema()) {
    return memo(caches[flavor.id], ns, () => {
      const item = compileReader(ns.getValueSchema(), flavor);
      return (v) => {
        if (!Array.isArray(v)) return mismatch('a list', v);
        const out: unknown[] = [];
        let i = 0;
        try {
          for (; i < v.length; i++) if (v[i] !== null && v[i] !== undefined) out.push(item(v[i]));
        } catch (e) {
          if (e instanceof ShapeError) e.path.unshift(i);
          throw e;
        }
        return out;
      };
    });
  }
  if (ns.isMapSchema()) {
    return memo(caches[flavor.id], ns, () => {
      const value = compileReader(ns.getValueSchema(), flavor);
      return (v) => {
        if (!isRecord(v)) return mismatch('a map', v);
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(v)) {
          const w = v[k];
          if (w === null || w === undefined) continue;
          try {
            put(out, k, value(w));
          } catch (e) {
            if (e instanceof ShapeError) e.path.unshift(k);
            throw e;
          }
        }
        return out;
      };
    });
  }
  if (ns.isBlobSchema()) return readBlob(flavor);
  if (ns.isTimestampSchema()) return readTimestamp(ns.getSchema(), flavor);
  if (ns.isStringSchema()) return readString;
  if (ns.isBooleanSchema()) return readBoolean;
  if (ns.isNumericSchema() || ns.isBigIntegerSchema() || ns.isBigDecimalSchema()) return readNumber;
  return identity; // documents (and unit) pass through as parsed
}

function writeTimestamp(format: unknown, flavor: JsonFlavor): Writer {
  if (flavor.bytes) {
    // tag 1 + integer millis, as AWS's CBOR does; a BigInt makes cbor-x write an int, not a float.
    return (v) => (v instanceof Date ? new Tag(BigInt(v.getTime()), 1) : v);
  }
  if (format === 5) return (v) => (v instanceof Date ? v.toISOString() : v);
  if (format === 6) return (v) => (v instanceof Date ? v.toUTCString() : v);
  return (v) => (v instanceof Date ? v.getTime() / 1000 : v);
}

/** Typed output → wire tree: blobs base64 (JSON) or bytes (CBOR), Dates per format, absent members dropped. */
export function compileWriter(ns: NormalizedSchema, flavor: JsonFlavor, only?: (m: NormalizedSchema) => boolean): Writer {
  if (ns.isStructSchema()) {
    const build = (): Writer => {
      const names: string[] = [];
      const keys: string[] = [];
      const writers: Writer[] = [];
      for (const [name, member] of ns.structIterator()) {
        if (only && !only(member)) continue;
        names.push(name);
        keys.push(wireName(member, name, flavor));
        writers.push(compileWriter(member, flavor));
      }
      const n = names.length;
      // Copies only the modelled members, so nothing internal a handler left on its result leaks out.
      return (v) => {
        if (!isRecord(v)) return v;
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const w = v[names[i] as string];
          if (w !== undefined && w !== null) out[keys[i] as string] = (writers[i] as Writer)(w);
        }
        return out;
      };
    };
    return only ? build() : memo(writerCaches[flavor.id], ns, build);
  }
  if (ns.isListSchema()) {
    return memo(writerCaches[flavor.id], ns, () => {
      const item = compileWriter(ns.getValueSchema(), flavor);
      if (item === identity) return identity;
      return (v) => (Array.isArray(v) ? v.map((x) => (x === null || x === undefined ? x : item(x))) : v);
    });
  }
  if (ns.isMapSchema()) {
    return memo(writerCaches[flavor.id], ns, () => {
      const value = compileWriter(ns.getValueSchema(), flavor);
      if (value === identity) return identity;
      return (v) => {
        if (!isRecord(v)) return v;
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(v)) if (v[k] !== undefined && v[k] !== null) put(out, k, value(v[k]));
        return out;
      };
    });
  }
  if (ns.isBlobSchema()) {
    return flavor.bytes
      ? (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v)
      : (v) => (v instanceof Uint8Array ? encodeBase64(v) : typeof v === 'string' ? Buffer.from(v, 'utf8').toString('base64') : v);
  }
  if (ns.isTimestampSchema()) return writeTimestamp(ns.getSchema(), flavor);
  if (flavor.bytes && ns.isNumericSchema()) {
    // cbor-x writes integers beyond 32 bits as float64; Java's CBOR reader wants an integer for a Long.
    return (v) => (typeof v === 'number' && Number.isSafeInteger(v) && (v > 0xffffffff || v < -0xffffffff) ? BigInt(v) : v);
  }
  return identity;
}
