/**
 * Shard iterators: where a reader is in a shard. An iterator is a sealed
 * token (tokens.ts) holding the stream's name and id, the shard, the next
 * record index to read and when it was made; it expires after 5 minutes
 * (ExpiredIteratorException), as AWS's do. Positions are record indexes:
 * TRIM_HORIZON is 0, LATEST the shard's next index, AT/AFTER_SEQUENCE_NUMBER
 * the number's index (+1), AT_TIMESTAMP a binary search over arrival times
 * (which never go backwards within a shard).
 */
import type { GetShardIteratorInput, GetShardIteratorOutput } from '@aws-sdk/client-kinesis';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx } from '../../storage/ports.js';
import type { KinesisCore } from './core.js';
import { dryRunSucceeded, kinesisError, streamNotFound } from './errors.js';
import { rowInfo, type ChunkRow } from './chunks.js';
import { NS_SEQ, counterKey, recordNs, type ShardCounter, type ShardMeta, type StreamMeta } from './model.js';
import { indexOfRecordKey, parseSeq, recordKey, shardIdOf, shardIxOf } from './seq.js';
import { seal, unseal } from './tokens.js';
import { STREAM_REF, SeqRule, ShardIdRule, check } from './validate.js';

export const ITERATOR_TTL_MS = 300_000;
const VERSION = 1;

export interface IteratorState {
  stream: string;
  streamId: string;
  shardIx: number;
  /** The next record index to read. */
  pos: number;
  createdMs: number;
}

export function encodeIterator(key: Uint8Array, st: IteratorState): string {
  const name = Buffer.from(st.stream, 'utf8');
  const id = Buffer.from(st.streamId, 'hex');
  const b = Buffer.alloc(1 + 8 + 4 + 8 + 1 + id.length + name.length);
  let o = b.writeUInt8(VERSION, 0);
  o = b.writeDoubleBE(st.createdMs, o);
  o = b.writeUInt32BE(st.shardIx, o);
  o = b.writeDoubleBE(st.pos, o);
  o = b.writeUInt8(id.length, o);
  o += id.copy(b, o);
  name.copy(b, o);
  return seal(key, b);
}

export function decodeIterator(key: Uint8Array, token: string): IteratorState | undefined {
  const b = unseal(key, token);
  if (!b || b.length < 22 || b.readUInt8(0) !== VERSION) return undefined;
  const idLen = b.readUInt8(21);
  if (b.length < 22 + idLen) return undefined;
  return {
    createdMs: b.readDoubleBE(1),
    shardIx: b.readUInt32BE(9),
    pos: b.readDoubleBE(13),
    streamId: b.subarray(22, 22 + idLen).toString('hex'),
    stream: b.subarray(22 + idLen).toString('utf8'),
  };
}

export async function counterOf(tx: ReadTx, streamId: string, shardIx: number): Promise<ShardCounter> {
  return (await tx.get<ShardCounter>(NS_SEQ, counterKey(streamId, shardIx))) ?? { next: 1, lastMs: 0 };
}

/**
 * A position from which reading yields exactly the records that arrived at
 * or after `ts`: the end of the last chunk that arrived before it (0 when
 * none did). Arrivals never go backwards within a shard, so a binary search
 * over the chunk keys finds it in O(log n) one-key scans.
 */
export async function indexAtTimestamp(tx: ReadTx, s: StreamMeta, sh: ShardMeta, ts: number): Promise<number> {
  const ns = recordNs(s.id, sh.ix);
  const c = await counterOf(tx, s.id, sh.ix);
  let lo = 0;
  let hi = c.next - 1;
  let best = 0;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [row] = await tx.scan<ChunkRow>(ns, { end: recordKey(mid + 1), reverse: true, limit: 1 });
    if (!row) {
      lo = mid + 1;
      continue;
    }
    const first = indexOfRecordKey(row.key);
    const h = rowInfo(row.value);
    if (h.arrivalMs < ts) {
      best = Math.max(best, first + h.count);
      lo = mid + 1;
    } else {
      hi = first - 1;
    }
  }
  return best;
}

export interface PositionRequest {
  /** A ShardIteratorType (validated by the caller). */
  type: string;
  seq?: string | undefined;
  timestamp?: Date | undefined;
}

/** A position in `sh` as GetShardIterator / SubscribeToShard's StartingPosition ask for it. */
export async function resolvePosition(core: KinesisCore, tx: ReadTx, s: StreamMeta, sh: ShardMeta, req: PositionRequest, op: string): Promise<number> {
  const shardId = shardIdOf(sh.ix);
  const bySeq = req.type === 'AT_SEQUENCE_NUMBER' || req.type === 'AFTER_SEQUENCE_NUMBER';
  if (bySeq !== (req.seq !== undefined)) {
    throw kinesisError(
      'InvalidArgumentException',
      `Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified ${req.type} and ${req.seq === undefined ? 'no' : 'also a'} StartingSequenceNumber.`,
    );
  }
  switch (req.type) {
    case 'TRIM_HORIZON':
      return 0;
    case 'LATEST':
      return sh.endIndex ?? (await counterOf(tx, s.id, sh.ix)).next;
    case 'AT_TIMESTAMP': {
      if (req.timestamp === undefined) {
        throw kinesisError('InvalidArgumentException', 'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.');
      }
      const ts = req.timestamp.getTime();
      const now = core.clock.nowMs();
      if (ts > now) {
        throw kinesisError('InvalidArgumentException', `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: ${ts}, currentTimestampInMillis: ${now}`);
      }
      return indexAtTimestamp(tx, s, sh, ts);
    }
    default: {
      const seq = req.seq as string;
      const p = parseSeq(seq);
      if (!p || p.shardCreatedSecs !== sh.createdSecs) {
        if (p && p.shardIx !== sh.ix) {
          throw kinesisError('InvalidArgumentException', `Invalid StartingSequenceNumber. It encodes ${shardIdOf(p.shardIx)}, while it was used in a call to a shard with ${shardId}`);
        }
        throw kinesisError('InvalidArgumentException', `StartingSequenceNumber ${seq} used in ${op} on shard ${shardId} in stream ${s.name} under account ${core.account} is invalid because it did not come from this stream.`);
      }
      if (p.shardIx !== sh.ix) {
        throw kinesisError('InvalidArgumentException', `Invalid StartingSequenceNumber. It encodes ${shardIdOf(p.shardIx)}, while it was used in a call to a shard with ${shardId}`);
      }
      const index = Number(p.index);
      return req.type === 'AFTER_SEQUENCE_NUMBER' ? index + 1 : index;
    }
  }
}

export function findShardOrThrow(core: KinesisCore, s: StreamMeta, shardId: string): ShardMeta {
  const ix = shardIxOf(shardId);
  const sh = ix === undefined ? undefined : s.shards.find((x) => x.ix === ix);
  if (!sh) throw kinesisError('ResourceNotFoundException', `Shard ${shardId} in stream ${s.name} under account ${core.account} does not exist`);
  return sh;
}

export function iteratorHandlers(core: KinesisCore) {
  return {
    async GetShardIterator(input: GetShardIteratorInput, ctx: RequestContext): Promise<GetShardIteratorOutput> {
      check(input, [
        ShardIdRule('ShardId'),
        { field: 'ShardIteratorType', notNull: true, enum: ['AT_SEQUENCE_NUMBER', 'AFTER_SEQUENCE_NUMBER', 'TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] },
        SeqRule('StartingSequenceNumber'),
        ...STREAM_REF,
      ]);
      const name = core.streamName(input, ctx);
      return core.store.read(async (tx) => {
        const s = await core.getStream(tx, name);
        if (s.status !== 'ACTIVE' && s.status !== 'UPDATING') throw streamNotFound(name, core.account);
        const sh = findShardOrThrow(core, s, input.ShardId as string);
        const pos = await resolvePosition(core, tx, s, sh, { type: input.ShardIteratorType as string, seq: input.StartingSequenceNumber, timestamp: input.Timestamp }, 'GetShardIterator');
        if (input.DryRun === true) throw dryRunSucceeded();
        return { ShardIterator: encodeIterator(core.iteratorKey, { stream: name, streamId: s.id, shardIx: sh.ix, pos, createdMs: core.clock.nowMs() }) };
      });
    },
  };
}
