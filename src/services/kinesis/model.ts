/**
 * What Kinesis keeps in the MetadataStore, and where.
 *
 *   kinesis:meta      'iterator-key'            HMAC key for shard iterators
 *                     'account-settings'        DescribeAccountSettings' state
 *   kinesis:stream    <stream name>             StreamMeta (shards, lineage, settings)
 *   kinesis:seq       <stream id>/<shard ix>    ShardCounter (next record index, last arrival)
 *   kinesis:rec:<stream id>:<shard ix>
 *                     <first record index, 14 hex>  a chunk of records, or a pointer to it
 *                                                   in the stream log's lane kinesis-<stream id> (chunks.ts)
 *   kinesis:consumer  <stream id>/<name>        ConsumerMeta
 *
 * Records live in one namespace per shard, one chunk per put, keyed so a
 * scan is GetRecords.
 * A stream's id (random) rather than its name keys its records, so a stream
 * deleted and created again under the same name shares nothing with the old
 * one (iterators of the old one answer ResourceNotFound).
 */
import type { EncryptionType, MetricsName, StreamMode, StreamStatus } from '@aws-sdk/client-kinesis';

export const NS_META = 'kinesis:meta';
export const NS_STREAM = 'kinesis:stream';
export const NS_SEQ = 'kinesis:seq';
export const NS_CONSUMER = 'kinesis:consumer';

export function recordNs(streamId: string, shardIx: number): string {
  return `kinesis:rec:${streamId}:${shardIx}`;
}

export function counterKey(streamId: string, shardIx: number): string {
  return `${streamId}/${shardIx}`;
}

export interface ShardMeta {
  ix: number;
  parent?: number;
  adjacentParent?: number;
  /** Hash key range, inclusive, as 32-char hex. */
  start: string;
  end: string;
  /** The creation second written into its sequence numbers. */
  createdSecs: number;
  openedMs: number;
  /** Set when a split/merge closed it. */
  closedMs?: number;
  /** The first record index it will never hold (its counter when it closed). */
  endIndex?: number;
}

/** What happens when a transitional status (CREATING, UPDATING, DELETING) ends. */
export type PendingOp =
  | { kind: 'create' }
  | { kind: 'delete' }
  | { kind: 'split'; shard: number; newStart: string }
  | { kind: 'merge'; shard: number; adjacent: number }
  | { kind: 'scale'; target: number }
  | { kind: 'mode'; mode: StreamMode }
  | { kind: 'encryption'; type: EncryptionType; keyId?: string; ref?: string; blob?: Uint8Array }
  | { kind: 'none' };

export interface StreamMeta {
  name: string;
  id: string;
  arn: string;
  status: StreamStatus;
  createdMs: number;
  /** When the current transitional status ends (clock ms). */
  dueMs?: number;
  pending?: PendingOp;
  /** Bumped on every change to the shard set, so caches know they are stale. */
  version: number;
  mode: StreamMode;
  retentionHours: number;
  shards: ShardMeta[];
  nextShardIx: number;
  /** keyId as the caller gave it; ref names the data key in `dataKeys` that puts use now. */
  encryption: { type: EncryptionType; keyId?: string; ref?: string };
  /** Every data key records of this stream were sealed with: KMS ciphertext, by ref. */
  dataKeys?: Record<string, { keyId: string; blob: Uint8Array }>;
  metrics: MetricsName[];
  tags: Record<string, string>;
  maxRecordSizeKiB: number;
  warmThroughputMiBps?: number;
  distribution?: string;
  policy?: string;
}

export interface ShardCounter {
  /** The index the next record gets (records start at 1; 0 is the shard's StartingSequenceNumber). */
  next: number;
  /** Arrival time of the last record (ms): arrivals never go backwards within a shard. */
  lastMs: number;
}


export interface ConsumerMeta {
  name: string;
  arn: string;
  streamId: string;
  streamName: string;
  streamArn: string;
  status: 'CREATING' | 'ACTIVE' | 'DELETING';
  createdMs: number;
  dueMs?: number;
  tags: Record<string, string>;
  policy?: string;
}

export function streamArn(region: string, account: string, name: string): string {
  return `arn:aws:kinesis:${region}:${account}:stream/${name}`;
}

export interface ParsedArn {
  region: string;
  account: string;
  stream: string;
  consumer?: string;
  consumerCreatedSecs?: string;
}

/** arn:aws:kinesis:<region>:<account>:stream/<name>[/consumer/<name>:<created secs>] */
export function parseArn(arn: string): ParsedArn | undefined {
  const m = /^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})(?:\/consumer\/([a-zA-Z0-9_.-]{1,128}):(\d+))?$/.exec(arn);
  if (!m) return undefined;
  const out: ParsedArn = { region: m[1] as string, account: m[2] as string, stream: m[3] as string };
  if (m[4] !== undefined) {
    out.consumer = m[4];
    out.consumerCreatedSecs = m[5] as string;
  }
  return out;
}

export function openShards(s: StreamMeta): ShardMeta[] {
  return s.shards.filter((sh) => sh.closedMs === undefined);
}
