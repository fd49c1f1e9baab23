/**
 * Values are stored as V8's structured-serialization bytes: Date, bigint,
 * Map, Set, typed arrays and Buffers round-trip with their types, and every
 * decode yields a fresh copy, so a caller can never mutate stored state.
 * Newer Node versions read what older ones wrote (V8 keeps the format
 * backward compatible). A PostgreSQL adapter stores the same bytes in bytea.
 *
 * A value that is a bare Buffer or Uint8Array (a Kinesis record chunk, a
 * firehose buffer: hundreds of KiB per write) takes a shortcut: the very
 * bytes v8.serialize would produce — its header, the host-object tag, the
 * array type, the length — written with one allocation and one copy, instead
 * of a serializer that grows its buffer by doubling. Reading such a value
 * back yields a view of the stored bytes, as v8.deserialize does. The
 * shortcut learns the header from v8.serialize itself at load and checks
 * itself against it; should the two ever disagree it is not used.
 */
import { deserialize, serialize } from 'node:v8';

interface Shortcut {
  /** The serialized form of an empty value, minus its length byte (0). */
  prefix: Buffer;
}

function learn(empty: Uint8Array, sample: Uint8Array): Shortcut | undefined {
  const e = serialize(empty);
  if (e.length < 2 || e[e.length - 1] !== 0) return undefined;
  const s: Shortcut = { prefix: Buffer.from(e.subarray(0, e.length - 1)) };
  return encodeWith(s, sample).equals(serialize(sample)) ? s : undefined;
}

/** Unsigned LEB128, as V8 writes lengths. */
function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function encodeWith(s: Shortcut, value: Uint8Array): Buffer {
  const n = value.byteLength;
  const p = s.prefix.length;
  const out = Buffer.allocUnsafe(p + varintLength(n) + n);
  s.prefix.copy(out, 0);
  let o = p;
  let v = n;
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[o++] = v;
  out.set(value, o);
  return out;
}

const sample = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
const BUFFER = learn(Buffer.alloc(0), Buffer.from(sample));
const UINT8 = learn(new Uint8Array(0), sample);

export function encodeValue(value: unknown): Buffer {
  // A stored undefined would read back exactly like a missing key.
  if (value === undefined) throw new TypeError('cannot store undefined: delete the key instead');
  if (value instanceof Uint8Array) {
    const s = value.constructor === Buffer ? BUFFER : value.constructor === Uint8Array ? UINT8 : undefined;
    if (s) return encodeWith(s, value);
  }
  return serialize(value);
}

/** The bytes of a shortcut-encoded (or identically serialized) Buffer/Uint8Array, as a view; undefined otherwise. */
function decodeShortcut(bytes: Uint8Array, s: Shortcut | undefined, asBuffer: boolean): Uint8Array | undefined {
  if (!s) return undefined;
  const p = s.prefix;
  if (bytes.length <= p.length) return undefined;
  for (let i = 0; i < p.length; i++) if (bytes[i] !== p[i]) return undefined;
  let o = p.length;
  let n = 0;
  let scale = 1;
  for (;;) {
    if (o >= bytes.length || scale > 2 ** 35) return undefined;
    const b = bytes[o++] as number;
    n += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 128;
  }
  // Anything after the bytes (never written by either encoder) is left to V8 to judge.
  if (o + n !== bytes.length) return undefined;
  return asBuffer ? Buffer.from(bytes.buffer, bytes.byteOffset + o, n) : new Uint8Array(bytes.buffer, bytes.byteOffset + o, n);
}

export function decodeValue<V>(bytes: Uint8Array): V {
  const fast = decodeShortcut(bytes, BUFFER, true) ?? decodeShortcut(bytes, UINT8, false);
  if (fast) return fast as V;
  return deserialize(bytes) as V;
}
