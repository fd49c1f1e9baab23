/**
 * Values are stored as V8's structured-serialization bytes: Date, bigint,
 * Map, Set, typed arrays and Buffers round-trip with their types, and every
 * decode yields a fresh copy, so a caller can never mutate stored state.
 * Newer Node versions read what older ones wrote (V8 keeps the format
 * backward compatible). A PostgreSQL adapter stores the same bytes in bytea.
 */
import { deserialize, serialize } from 'node:v8';

export function encodeValue(value: unknown): Buffer {
  // A stored undefined would read back exactly like a missing key.
  if (value === undefined) throw new TypeError('cannot store undefined: delete the key instead');
  return serialize(value);
}

export function decodeValue<V>(bytes: Uint8Array): V {
  return deserialize(bytes) as V;
}
