/**
 * Storage layout. One record per delivery stream (`firehose:stream`, by
 * name) holding its configuration; buffered records in one namespace per
 * stream (`firehose:buf:<name>`), one chunk per put call, keyed `<arrival ms, 13 digits>-<boot>-<n>`
 * so a scan returns them in arrival order and concurrent puts never touch
 * the same key (no contention on a counter). A record stays there until the
 * object holding it is committed in S3 (or at the HTTP endpoint), so a crash
 * loses nothing and re-delivers at most one buffer (at least once).
 */
import type {
  DeliveryStreamEncryptionConfiguration,
  ExtendedS3DestinationConfiguration,
  HttpEndpointDestinationConfiguration,
  Tag,
} from '@aws-sdk/client-firehose';

export const NS_STREAM = 'firehose:stream';
export const nsBuffer = (stream: string): string => `firehose:buf:${stream}`;
/** Kinesis-source checkpoints: last sequence number read per shard. */
export const NS_SOURCE = 'firehose:source';

export interface DeliveryStreamMeta {
  name: string;
  arn: string;
  account: string;
  region: string;
  type: 'DirectPut' | 'KinesisStreamAsSource';
  /** CREATING until this time (clock ms), then ACTIVE. */
  activeAt: number;
  /** Set by DeleteDeliveryStream: DELETING (visible to Describe) until the removal finishes. */
  deletingSince?: number;
  createdAt: Date;
  updatedAt?: Date;
  versionId: number;
  /** Exactly one destination: S3 (extended) or HTTP endpoint. */
  s3?: ExtendedS3DestinationConfiguration;
  http?: HttpEndpointDestinationConfiguration;
  source?: { streamArn: string; roleArn: string; startedAt: Date };
  encryption?: DeliveryStreamEncryptionConfiguration;
  /** Sealed data keys by ref (KMS ciphertext), so old records stay readable. */
  dataKeys?: Record<string, { keyArn: string; ciphertext: Uint8Array }>;
  currentKeyRef?: string;
  tags: Tag[];
}

/**
 * One put's records, buffered together (one key per call, not per record:
 * 500 records cost one store entry). `ref` names the data key when the
 * records are sealed (encryption on). `bytes` is the records' plaintext size.
 */
export interface BufferedChunk {
  /** The records; empty when they are `packed` (see `chunkRecords`). */
  records: Uint8Array[];
  bytes: number;
  at: number;
  ref?: string;
  /** Kinesis source: each record's origin, for the Lambda event's kinesisRecordMetadata. */
  kinesis?: KinesisRecordMetadata[];
  /**
   * For a GZIP S3 destination without processing, the records back to back
   * as one gzip member (sealed as a whole when `ref` is set), compressed when
   * they are put: the store then holds a fraction of the bytes, and delivery
   * concatenates members into the object (a multi-member gzip file, which
   * every gzip reader reads as the concatenation) without decompressing.
   */
  packed?: { gzip: Uint8Array; lengths: number[] };
}

/**
 * A chunk as stored: one Buffer — `FHC1`, u32 header length, JSON header
 * ({at, bytes, ref?, kinesis?, gzip?} and the record lengths), then the
 * records back to back (or, with `gzip: true`, the packed member) — so the
 * store's bare-bytes shortcut writes it with one copy (an object holding 500
 * Uint8Arrays went through V8's serializer record by record). Reading yields
 * views of the stored bytes. Object-shaped chunks written before this format
 * still read.
 */
export type StoredChunk = Uint8Array | BufferedChunk;
const MAGIC = 0x31434846; // 'FHC1' little-endian

export function encodeChunk(c: BufferedChunk): Buffer {
  const { records, packed, ...rest } = c;
  const parts = packed ? [packed.gzip] : records;
  const head = Buffer.from(JSON.stringify({ ...rest, lengths: packed ? packed.lengths : records.map((r) => r.byteLength), ...(packed ? { gzip: true } : {}) }));
  const out = Buffer.allocUnsafe(8 + head.length + parts.reduce((n, r) => n + r.byteLength, 0));
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(head.length, 4);
  head.copy(out, 8);
  let off = 8 + head.length;
  for (const r of parts) {
    out.set(r, off);
    off += r.byteLength;
  }
  return out;
}

export function decodeChunk(v: StoredChunk): BufferedChunk {
  if (!(v instanceof Uint8Array)) return v;
  const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (b.length < 8 || b.readUInt32LE(0) !== MAGIC) throw new Error('firehose: unreadable buffered chunk');
  const headLen = b.readUInt32LE(4);
  const { lengths, gzip, ...rest } = JSON.parse(b.subarray(8, 8 + headLen).toString()) as Omit<BufferedChunk, 'records'> & { lengths: number[]; gzip?: true };
  if (gzip) return { ...rest, records: [], packed: { gzip: b.subarray(8 + headLen), lengths } };
  return { ...rest, records: splitRecords(b.subarray(8 + headLen), lengths) };
}

/** Views of records stored back to back. */
export function splitRecords(b: Buffer, lengths: number[]): Uint8Array[] {
  const records: Uint8Array[] = [];
  let off = 0;
  for (const n of lengths) {
    records.push(b.subarray(off, off + n));
    off += n;
  }
  return records;
}

/** How many records a chunk holds, packed or not. */
export function recordCount(c: BufferedChunk): number {
  return c.packed ? c.packed.lengths.length : c.records.length;
}

export interface KinesisRecordMetadata {
  shardId: string;
  partitionKey: string;
  approximateArrivalTimestamp: number;
  sequenceNumber: string;
  subsequenceNumber: string;
}

export function streamArn(region: string, account: string, name: string): string {
  return `arn:aws:firehose:${region}:${account}:deliverystream/${name}`;
}

export function bucketOf(arn: string | undefined): string | undefined {
  const m = /^arn:aws[a-z-]*:s3:::([a-z0-9.-]{3,63})$/.exec(arn ?? '');
  return m?.[1];
}

export const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
