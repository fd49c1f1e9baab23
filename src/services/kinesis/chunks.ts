/**
 * How records sit in storage: one chunk per shard per put. A PutRecords call
 * of 500 records over 4 shards writes 4 keys, not 500 — the store's per-key
 * cost (B-tree insert, serialization) is paid per call, and the records of
 * one put share their arrival time anyway. A chunk's key is the record index
 * of its first record (records keep individual indexes and sequence
 * numbers); GetRecords may start and stop in the middle of a chunk.
 *
 * Layout (little-endian):
 *   u8 version=1 | u8 flags (1 = encrypted) | u32 count | f64 arrival ms |
 *   u8 ref length | ref (utf8) | body
 *   body = count × (u16 partition key length | key (utf8) | u32 data length | data)
 * An encrypted chunk's body is sealed whole (AES-256-GCM, iv ‖ ciphertext ‖
 * tag) under the stream's data key named by ref.
 *
 * Where the chunk is: with a StreamLog (embedded mode), in the stream's lane
 * of the log, and the row holds a ChunkPointer (where, plus what a reader
 * needs to skip or size the chunk without reading it); rows written by
 * builds before the log (and by stores without one) hold the chunk's bytes.
 * The row's value type tells them apart.
 */
import type { LogPointer, StreamLog } from '../../storage/ports.js';
import type { RecordKey } from './encryption.js';

const VERSION = 1;

export interface ChunkHeader {
  count: number;
  arrivalMs: number;
  ref: string | undefined;
  bodyOffset: number;
}

export interface ChunkRecord {
  pk: string;
  data: Uint8Array;
  /** The partition key's UTF-8 length, when the caller already knows it. */
  pkBytes?: number;
}

export function encodeChunk(records: readonly ChunkRecord[], arrivalMs: number, key: RecordKey | undefined): Uint8Array {
  // Sized first, then written in place: no per-record buffers (this runs for every record put).
  const n = records.length;
  const pkLens = new Array<number>(n);
  let bodyLen = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i] as ChunkRecord;
    const len = r.pkBytes ?? Buffer.byteLength(r.pk, 'utf8');
    pkLens[i] = len;
    bodyLen += 6 + len + r.data.length;
  }
  const ref = key ? Buffer.from(key.ref, 'utf8') : undefined;
  const head = 15 + (ref ? ref.length : 0);
  // Unencrypted, the body is written straight into the chunk.
  const out = Buffer.allocUnsafe(key ? head : head + bodyLen);
  const body = key ? Buffer.allocUnsafe(bodyLen) : out;
  let o = key ? 0 : head;
  for (let i = 0; i < n; i++) {
    const r = records[i] as ChunkRecord;
    const len = pkLens[i] as number;
    body[o] = len & 0xff;
    body[o + 1] = len >>> 8;
    const pk = r.pk;
    if (len === pk.length) {
      // ASCII (as many UTF-8 bytes as UTF-16 units): copied here, cheaper than a native write per record.
      for (let k = 0; k < len; k++) body[o + 2 + k] = pk.charCodeAt(k);
    } else {
      body.write(pk, o + 2, len, 'utf8');
    }
    o += 2 + len;
    body.writeUInt32LE(r.data.length, o);
    body.set(r.data, o + 4);
    o += 4 + r.data.length;
  }
  out.writeUInt8(VERSION, 0);
  out.writeUInt8(key ? 1 : 0, 1);
  out.writeUInt32LE(n, 2);
  out.writeDoubleLE(arrivalMs, 6);
  out.writeUInt8(ref ? ref.length : 0, 14);
  if (!key || !ref) return out;
  ref.copy(out, 15);
  return Buffer.concat([out, key.encrypt(body)]);
}

function view(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function chunkHeader(chunk: Uint8Array): ChunkHeader {
  const b = view(chunk);
  if (b.readUInt8(0) !== VERSION) throw new Error(`unknown record chunk version ${b.readUInt8(0)}`);
  const refLen = b.readUInt8(14);
  return {
    count: b.readUInt32LE(2),
    arrivalMs: b.readDoubleLE(6),
    ref: b.readUInt8(1) & 1 ? b.subarray(15, 15 + refLen).toString('utf8') : undefined,
    bodyOffset: 15 + refLen,
  };
}

/** The records of a chunk (data as views into it, or into its decrypted body). */
export function chunkRecords(chunk: Uint8Array, h: ChunkHeader, key: RecordKey | undefined): ChunkRecord[] {
  let body = view(chunk).subarray(h.bodyOffset);
  if (h.ref !== undefined) {
    if (!key) throw new Error(`no key for record chunk sealed under ${h.ref}`);
    body = view(key.decrypt(body));
  }
  const out: ChunkRecord[] = new Array<ChunkRecord>(h.count);
  let o = 0;
  for (let i = 0; i < h.count; i++) {
    const pkLen = body.readUInt16LE(o);
    o += 2;
    const pk = body.toString('utf8', o, o + pkLen);
    o += pkLen;
    const len = body.readUInt32LE(o);
    o += 4;
    out[i] = { pk, data: body.subarray(o, o + len) };
    o += len;
  }
  return out;
}

/** A record row: the chunk itself (inline), or where it sits in the stream log. */
export type ChunkRow = Uint8Array | ChunkPointer;

export interface ChunkPointer {
  log: LogPointer;
  count: number;
  arrivalMs: number;
  /** The chunk's length minus its header (what GetRecords' size limit counts). */
  bodyBytes: number;
}

/** What a reader needs before deciding to read a row's chunk. */
export interface RowInfo {
  count: number;
  arrivalMs: number;
  bodyBytes: number;
}

export function rowInfo(row: ChunkRow): RowInfo {
  if (row instanceof Uint8Array) {
    const h = chunkHeader(row);
    return { count: h.count, arrivalMs: h.arrivalMs, bodyBytes: row.length - h.bodyOffset };
  }
  return row;
}

/** A stream's lane of the log: its random id, under Kinesis's prefix (the log's sweep frees only lanes it owns). */
export const LANE_PREFIX = 'kinesis-';

export function laneOf(streamId: string): string {
  return LANE_PREFIX + streamId;
}

/** Appends a chunk to the stream's lane and returns the row that points to it. */
export function logChunk(log: StreamLog, streamId: string, chunk: Uint8Array, count: number, arrivalMs: number): ChunkPointer {
  const bodyBytes = chunk.length - 15 - (chunk[14] as number);
  return { log: log.append(laneOf(streamId), chunk), count, arrivalMs, bodyBytes };
}

/** A row's chunk bytes: inline, or read from the log (synchronously, in the turn the row was scanned). */
export function chunkOf(row: ChunkRow, log: StreamLog | undefined, streamId: string): Uint8Array {
  if (row instanceof Uint8Array) return row;
  if (!log) throw new Error('record row points into a stream log, but this store has none');
  return log.read(laneOf(streamId), row.log);
}
