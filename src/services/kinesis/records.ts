/**
 * The data plane: PutRecord, PutRecords, GetRecords.
 *
 * A put is one write transaction: it reads the stream (so a reshard that
 * committed first is seen, and no record lands in a closed shard), takes the
 * next record index of each shard it touches, writes the records and the
 * counters, and commits — the sequence numbers it answers with are durable
 * and strictly increasing per shard, across restarts and reshards. Group
 * commit makes concurrent puts share one fsync. Subscribers of the touched
 * shards are woken right after the commit.
 */
import type { ChildShard, GetRecordsInput, GetRecordsOutput, PutRecordInput, PutRecordOutput, PutRecordsInput, PutRecordsOutput, PutRecordsResultEntry, _Record } from '@aws-sdk/client-kinesis';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx, WriteTx } from '../../storage/ports.js';
import type { KinesisCore } from './core.js';
import { type RecordKey, EncryptionChanged } from './encryption.js';
import { dryRunSucceeded, kinesisError, streamNotFound, throughputExceeded } from './errors.js';
import { ITERATOR_TTL_MS, counterOf, decodeIterator, encodeIterator } from './iterators.js';
import { chunkHeader, chunkOf, chunkRecords, encodeChunk, logChunk, rowInfo, type ChunkHeader, type ChunkRecord, type ChunkRow } from './chunks.js';
import { NS_SEQ, counterKey, recordNs, type ShardCounter, type ShardMeta, type StreamMeta } from './model.js';
import { MAX_HASH_KEY, formatSeq, formatSeqRun, hashKeyOfPartitionKey, hexOfHashKey, indexOfRecordKey, recordKey, shardIdOf, type SeqParts } from './seq.js';
import { putRecordsAnswer } from './put-records-json.js';
import { describeShard } from './shards.js';
import { HashKeyRule, STREAM_REF, SeqRule, check, type Rule } from './validate.js';

const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const MAX_GET_BYTES = 10 * 1024 * 1024;
const MAX_DATA_BYTES = 10 * 1024 * 1024;
/**
 * A chunk up to this size stays in its row: it costs SQLite a page or two
 * either way, and a group with no log entry commits with one fsync, not two
 * (a lone PutRecord's latency). Larger chunks (a PutRecords batch per shard)
 * are written once, to the stream log, instead of twice (WAL, checkpoint).
 */
const INLINE_MAX_BYTES = 4096;
const DATA_RULE: Rule = { field: 'Data', notNull: true, kind: 'blob', lenMax: MAX_DATA_BYTES };
const PK_RULE: Rule = { field: 'PartitionKey', notNull: true, lenMin: 1, lenMax: 256 };
const PUT_RECORD_RULES: readonly Rule[] = [DATA_RULE, PK_RULE, HashKeyRule('ExplicitHashKey', false), SeqRule('SequenceNumberForOrdering'), ...STREAM_REF];
const PUT_RECORDS_RULES: readonly Rule[] = [
  { field: 'Records', notNull: true, kind: 'list', lenMin: 1, lenMax: 500, members: [DATA_RULE, HashKeyRule('ExplicitHashKey', false), PK_RULE] },
  ...STREAM_REF,
];

interface Entry {
  data: Uint8Array;
  pk: string;
  pkBytes: number;
  hash: string;
  bytes: number;
}

function entryOf(data: Uint8Array, pk: string, explicit: string | undefined): Entry {
  let hash: string;
  if (explicit !== undefined) {
    const n = BigInt(explicit);
    if (n > MAX_HASH_KEY) {
      throw kinesisError('InvalidArgumentException', `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${explicit}`);
    }
    hash = hexOfHashKey(n);
  } else {
    hash = hashKeyOfPartitionKey(pk);
  }
  const pkBytes = Buffer.byteLength(pk, 'utf8');
  return { data, pk, pkBytes, hash, bytes: data.length + pkBytes };
}

/**
 * True when every record trivially meets its rules (the usual batch): Data
 * within 10 MiB, a partition key of 1–256 UTF-16 units (so 1–256 code
 * points), no ExplicitHashKey — the per-record rule walk is then skipped.
 * Anything else goes through the full rules, for AWS's messages.
 */
function plainRecords(records: PutRecordsInput['Records']): boolean {
  if (!Array.isArray(records) || records.length < 1 || records.length > 500) return false;
  for (const r of records) {
    if (r === null || typeof r !== 'object') return false;
    const d = r.Data;
    const pk = r.PartitionKey;
    if (!(d instanceof Uint8Array) || d.length > MAX_DATA_BYTES) return false;
    if (typeof pk !== 'string' || pk.length < 1 || pk.length > 256) return false;
    if (r.ExplicitHashKey !== undefined && r.ExplicitHashKey !== null) return false;
  }
  return true;
}

/**
 * What a put did with each entry, without an object or a string per record:
 * the shard it went to, and per chunk written the run of sequence numbers it
 * took (their entries' slots); an entry in no run was throttled (PutRecords
 * reports it).
 */
interface PutResults {
  shards: ShardMeta[];
  runs: SeqRun[];
  written: number;
  encrypted: boolean;
}

/** Consecutive sequence numbers from `first`, the j-th for the entry in slots[j]. */
export interface SeqRun {
  first: SeqParts;
  slots: number[];
  shardId: string;
}

/** Each entry's sequence number, undefined where throttled. */
function seqStrings(r: PutResults): Array<string | undefined> {
  const seqs = new Array<string | undefined>(r.shards.length);
  for (const run of r.runs) {
    const strs = formatSeqRun(run.first, run.slots.length);
    for (let j = 0; j < strs.length; j++) seqs[run.slots[j] as number] = strs[j];
  }
  return seqs;
}

export function recordHandlers(core: KinesisCore) {
  const acct = core.account;
  /**
   * The shard counters as the last committed put left them ('<stream id>/<ix>'
   * → counter): puts are the only writers of a live shard's counter and run one
   * at a time, so a put reads its counters here instead of from the store (4
   * point reads and decodes per call). An entry is set only inside a put's
   * transaction and the whole cache is dropped whenever a put fails, so a
   * rolled-back write never leaves a counter ahead of the store; after a
   * restart it starts empty and fills from the store. This leans on the
   * embedded store running write fns one at a time, each once: should a put's
   * fn ever run twice (a retrying adapter) or overlap another's, the cache is
   * dropped and no longer used.
   */
  const counters = new Map<string, ShardCounter>();
  let cacheOn = true;
  let inPut = false;

  /** Writes entries in one transaction; a throttled entry is skipped (PutRecords reports it). */
  async function put(name: string, entries: Entry[], ctx: RequestContext): Promise<PutResults> {
    let key: RecordKey | undefined = core.crypto?.cached(name);
    for (let attempt = 0; ; attempt++) {
      try {
        return await putOnce(name, entries, key);
      } catch (e) {
        if (!(e instanceof EncryptionChanged) || attempt > 1 || !core.crypto) throw e;
        key = await core.crypto.keyFor(name, e.encryption, ctx);
      }
    }
  }

  async function putOnce(name: string, entries: Entry[], key: RecordKey | undefined): Promise<PutResults> {
    const now = core.clock.nowMs();
    const touched = new Set<number>();
    const hot = new Set<number>();
    let streamId = '';
    const written: Array<[string, ShardCounter]> = [];
    const log = core.streamLog;
    let runs = 0;
    const out = await core.store.write(async (tx) => {
      if (runs++ > 0 || inPut) {
        cacheOn = false;
        counters.clear();
      }
      inPut = true;
      try {
        return await putTx(tx);
      } finally {
        inPut = false;
      }
    }).catch((e: unknown) => {
      // This put (or its whole group) rolled back: what was cached may be ahead of the store.
      counters.clear();
      throw e;
    });
    for (const ix of touched) core.signals.notify(streamId, ix);
    for (const ix of hot) core.lifecycle?.autoSplit(name, streamId, ix);
    return out;

    async function putTx(tx: WriteTx): Promise<PutResults> {
      const s = await tx.get<StreamMeta>('kinesis:stream', name);
      if (!s || (s.status !== 'ACTIVE' && s.status !== 'UPDATING')) throw streamNotFound(name, acct);
      streamId = s.id;
      const ref = s.encryption.type === 'KMS' ? s.encryption.ref : undefined;
      if (ref !== key?.ref) throw new EncryptionChanged(s.encryption);
      const maxBytes = s.maxRecordSizeKiB * 1024;
      for (const e of entries) {
        if (e.data.length > maxBytes) {
          throw kinesisError('ValidationException', `1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=${e.data.length} cap=${e.data.length}]' at 'data' failed to satisfy constraint: Member must have length less than or equal to ${maxBytes}`);
        }
      }
      const throttle = core.limits.enabled;
      const onDemand = s.mode === 'ON_DEMAND';
      // Per throttled shard of an on-demand stream: the lowest and highest hash key it was asked to take.
      const spread = new Map<number, [string, string]>();
      // Records bound for one shard become one chunk (chunks.ts), written once.
      const groups = new Map<number, { sh: ShardMeta; c: ShardCounter; first: number; recs: ChunkRecord[]; slots: number[] }>();
      const shards = new Array<ShardMeta>(entries.length);
      const runsOut: SeqRun[] = [];
      let writtenCount = 0;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as Entry;
        const sh = core.shardFor(s, e.hash);
        shards[i] = sh;
        if (throttle && !core.limits.tryWrite(`${s.id}/${sh.ix}`, e.bytes)) {
          if (onDemand) {
            const r = spread.get(sh.ix);
            spread.set(sh.ix, r ? [e.hash < r[0] ? e.hash : r[0], e.hash > r[1] ? e.hash : r[1]] : [e.hash, e.hash]);
          }
          continue;
        }
        let g = groups.get(sh.ix);
        if (!g) {
          const c = (cacheOn ? counters.get(counterKey(s.id, sh.ix)) : undefined) ?? (await counterOf(tx, s.id, sh.ix));
          g = { sh, c, first: c.next, recs: [], slots: [] };
          groups.set(sh.ix, g);
        }
        g.recs.push(e); // an Entry is a ChunkRecord: no copy per record
        g.slots.push(i);
      }
      // On-demand scaling: a shard past its limit splits — when the keys it refused spread over both halves.
      for (const [ix, [lo, hi]] of spread) {
        const sh = s.shards.find((x) => x.ix === ix) as ShardMeta;
        const mid = hexOfHashKey((BigInt(`0x${sh.start}`) + BigInt(`0x${sh.end}`) + 1n) / 2n);
        if (lo < mid && hi >= mid) hot.add(ix);
      }
      for (const g of groups.values()) {
        const arrival = now > g.c.lastMs ? now : g.c.lastMs;
        const secs = Math.floor(arrival / 1000);
        const chunk = encodeChunk(g.recs, arrival, key);
        // A large chunk goes to the log (synced before this transaction commits) and the row points to it.
        await tx.put(recordNs(s.id, g.sh.ix), recordKey(g.first), log && chunk.length > INLINE_MAX_BYTES ? logChunk(log, s.id, chunk, g.recs.length, arrival) : chunk);
        runsOut.push({ first: { shardCreatedSecs: g.sh.createdSecs, shardIx: g.sh.ix, index: BigInt(g.first), arrivalSecs: secs }, slots: g.slots, shardId: shardIdOf(g.sh.ix) });
        writtenCount += g.slots.length;
        const next: ShardCounter = { next: g.first + g.recs.length, lastMs: arrival };
        const ck = counterKey(s.id, g.sh.ix);
        await tx.put(NS_SEQ, ck, next);
        written.push([ck, next]);
        touched.add(g.sh.ix);
      }
      // Cached while the transaction is still open: the next put (next in line, maybe in the same group) must see it.
      if (cacheOn) for (const [ck, c] of written) counters.set(ck, c);
      return { shards, runs: runsOut, written: writtenCount, encrypted: key !== undefined };
    }
  }

  /** A dry run checks what the real call would check, then stops. */
  async function dryRun(name: string): Promise<never> {
    const s = await core.store.read((tx) => tx.get<StreamMeta>('kinesis:stream', name));
    if (!s || (s.status !== 'ACTIVE' && s.status !== 'UPDATING')) throw streamNotFound(name, acct);
    throw dryRunSucceeded();
  }

  return {
    async PutRecord(input: PutRecordInput, ctx: RequestContext): Promise<PutRecordOutput> {
      check(input, PUT_RECORD_RULES);
      const name = core.streamName(input, ctx);
      const e = entryOf(input.Data as Uint8Array, input.PartitionKey as string, input.ExplicitHashKey);
      if (input.DryRun === true) await dryRun(name);
      const r = await put(name, [e], ctx);
      const ix = (r.shards[0] as ShardMeta).ix;
      const seq = seqStrings(r)[0];
      const encrypted = r.encrypted;
      if (seq === undefined) throw throughputExceeded(shardIdOf(ix), name, acct);
      return { ShardId: shardIdOf(ix), SequenceNumber: seq, EncryptionType: encrypted ? 'KMS' : 'NONE' };
    },

    async PutRecords(input: PutRecordsInput, ctx: RequestContext): Promise<PutRecordsOutput> {
      check(input, plainRecords(input.Records) ? STREAM_REF : PUT_RECORDS_RULES);
      const name = core.streamName(input, ctx);
      const records = input.Records as NonNullable<PutRecordsInput['Records']>;
      let total = 0;
      const entries = records.map((r) => {
        const e = entryOf(r.Data as Uint8Array, r.PartitionKey as string, r.ExplicitHashKey);
        total += e.bytes;
        return e;
      });
      if (total > MAX_REQUEST_BYTES) throw kinesisError('InvalidArgumentException', `Records size exceeds 10 MB limit`);
      if (input.DryRun === true) await dryRun(name);
      const r = await put(name, entries, ctx);
      /** The per-record results, made only when asked for (the JSON answer is rendered without them). */
      const entriesOut = (): PutRecordsResultEntry[] => {
        const seqs = seqStrings(r);
        // One ShardId string per shard, not per record.
        const ids = new Map<number, string>();
        const out: PutRecordsResultEntry[] = new Array<PutRecordsResultEntry>(seqs.length);
        for (let i = 0; i < seqs.length; i++) {
          const ix = (r.shards[i] as ShardMeta).ix;
          let id = ids.get(ix);
          if (id === undefined) ids.set(ix, (id = shardIdOf(ix)));
          const seq = seqs[i];
          out[i] = seq === undefined ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: `Rate exceeded for shard ${id} in stream ${name} under account ${acct}.` } : { SequenceNumber: seq, ShardId: id };
        }
        return out;
      };
      return putRecordsAnswer(entriesOut, r.shards.length - r.written, r.encrypted ? 'KMS' : 'NONE', r.runs, r.shards.length);
    },

    async GetRecords(input: GetRecordsInput, ctx: RequestContext): Promise<GetRecordsOutput> {
      check(input, [{ field: 'ShardIterator', notNull: true, lenMin: 1, lenMax: 512 }, { field: 'Limit', min: 1, max: 10000 }, ...STREAM_REF.slice(1)]);
      const it = decodeIterator(core.iteratorKey, input.ShardIterator as string);
      if (!it) throw kinesisError('InvalidArgumentException', 'Invalid ShardIterator.');
      if (input.StreamARN !== undefined && core.streamName({ StreamARN: input.StreamARN }, ctx) !== it.stream) {
        throw kinesisError('InvalidArgumentException', `StreamARN ${input.StreamARN} does not match the stream of the ShardIterator.`);
      }
      const now = core.clock.nowMs();
      if (now - it.createdMs > ITERATOR_TTL_MS) {
        throw kinesisError(
          'ExpiredIteratorException',
          `Iterator expired. The iterator was created at time ${amzDate(it.createdMs)} while right now it is ${amzDate(now)} which is further in the future than the tolerated delay of ${ITERATOR_TTL_MS} milliseconds.`,
        );
      }
      const batch = await core.store.read(async (tx) => {
        const s = await tx.get<StreamMeta>('kinesis:stream', it.stream);
        if (!s || s.id !== it.streamId || s.status === 'DELETING' || s.status === 'CREATING') throw streamNotFound(it.stream, acct);
        const sh = s.shards.find((x) => x.ix === it.shardIx);
        if (!sh) throw kinesisError('ResourceNotFoundException', `Shard ${shardIdOf(it.shardIx)} in stream ${s.name} under account ${acct} does not exist`);
        if (!core.limits.tryRead(`${s.id}/${sh.ix}`)) throw throughputExceeded(shardIdOf(sh.ix), s.name, acct);
        return readBatch(core, tx, s, sh, it.pos, input.Limit ?? 10000, MAX_GET_BYTES, now);
      });
      if (input.DryRun === true) throw dryRunSucceeded();
      core.limits.readDone(`${it.streamId}/${it.shardIx}`, batch.bytes);
      const out: GetRecordsOutput = { Records: await batch.records(ctx), MillisBehindLatest: batch.behindMs };
      if (batch.childShards) out.ChildShards = batch.childShards;
      else out.NextShardIterator = encodeIterator(core.iteratorKey, { ...it, pos: batch.next, createdMs: now });
      return out;
    },
  };
}

export interface Batch {
  /** Decrypts (when needed, as the caller) and shapes the records. */
  records(ctx: RequestContext): Promise<_Record[]>;
  count: number;
  bytes: number;
  next: number;
  behindMs: number;
  /** Set when the reader reached the end of a closed shard. */
  childShards?: ChildShard[];
  lastSeq?: string;
}

interface Slice {
  chunk: Uint8Array;
  h: ChunkHeader;
  first: number;
  from: number;
  to: number;
}

/**
 * Up to `limit` records (and about `maxBytes`) from `pos` on, skipping what
 * the retention period has expired but the trimmer not yet removed. Starts
 * in the chunk holding `pos` (the last key at or before it) and may stop in
 * the middle of one.
 */
export async function readBatch(core: KinesisCore, tx: ReadTx, s: StreamMeta, sh: ShardMeta, pos: number, limit: number, maxBytes: number, now: number): Promise<Batch> {
  const ns = recordNs(s.id, sh.ix);
  const horizon = now - s.retentionHours * 3_600_000;
  const slices: Slice[] = [];
  let count = 0;
  let bytes = 0;
  let next = pos;
  /**
   * Takes what it can of one row's chunk; false when the batch is full. A
   * chunk in the log is read here, in the turn its row was scanned.
   */
  const take = (key: string, row: ChunkRow): boolean => {
    const info = rowInfo(row);
    const first = indexOfRecordKey(key);
    if (first + info.count <= next) return true;
    if (info.arrivalMs < horizon) {
      next = first + info.count;
      return true;
    }
    const from = Math.max(0, next - first);
    let to = Math.min(info.count, from + (limit - count));
    const per = info.bodyBytes / info.count;
    if (count > 0 && bytes + per * (to - from) > maxBytes) to = from + Math.max(0, Math.floor((maxBytes - bytes) / per));
    if (to <= from) return false;
    const chunk = chunkOf(row, core.streamLog, s.id);
    slices.push({ chunk, h: chunkHeader(chunk), first, from, to });
    count += to - from;
    bytes += per * (to - from);
    next = first + to;
    return count < limit && bytes < maxBytes && to === info.count;
  };
  const [prev] = await tx.scan<ChunkRow>(ns, { end: recordKey(pos + 1), reverse: true, limit: 1 });
  let more = true;
  let lastKey = prev?.key;
  if (prev) more = take(prev.key, prev.value);
  while (more) {
    const rows = await tx.scan<ChunkRow>(ns, lastKey !== undefined ? { startAfter: lastKey, limit: 16 } : { start: recordKey(pos), limit: 16 });
    for (const r of rows) {
      lastKey = r.key;
      more = take(r.key, r.value);
      if (!more) break;
    }
    if (rows.length < 16) break;
  }
  const c = await counterOf(tx, s.id, sh.ix);
  const end = sh.endIndex ?? c.next;
  const last = slices[slices.length - 1];
  const seqOf = (index: number, arrivalMs: number) => formatSeq({ shardCreatedSecs: sh.createdSecs, shardIx: sh.ix, index: BigInt(index), arrivalSecs: Math.floor(arrivalMs / 1000) });
  const batch: Batch = {
    count,
    bytes: Math.round(bytes),
    next,
    behindMs: next >= end || !last ? 0 : Math.max(0, now - last.h.arrivalMs),
    records: async (ctx) => {
      const refs = slices.map((x) => x.h.ref);
      const keys = core.crypto && refs.some((r) => r !== undefined) ? await core.crypto.keysFor(s, refs, ctx) : undefined;
      const out: _Record[] = [];
      for (const sl of slices) {
        const recs = chunkRecords(sl.chunk, sl.h, sl.h.ref !== undefined ? keys?.get(sl.h.ref) : undefined);
        const at = new Date(sl.h.arrivalMs);
        for (let i = sl.from; i < sl.to; i++) {
          const r = recs[i] as ChunkRecord;
          const rec: _Record = { SequenceNumber: seqOf(sl.first + i, sl.h.arrivalMs), ApproximateArrivalTimestamp: at, Data: r.data, PartitionKey: r.pk };
          if (sl.h.ref !== undefined) rec.EncryptionType = 'KMS';
          out.push(rec);
        }
      }
      return out;
    },
  };
  if (last) batch.lastSeq = seqOf(last.first + last.to - 1, last.h.arrivalMs);
  if (sh.endIndex !== undefined && next >= sh.endIndex) {
    batch.childShards = s.shards
      .filter((x) => x.parent === sh.ix || x.adjacentParent === sh.ix)
      .map((x) => {
        const d = describeShard(x);
        return { ShardId: d.ShardId, ParentShards: [d.ParentShardId, d.AdjacentParentShardId].filter((p): p is string => p !== undefined), HashKeyRange: d.HashKeyRange };
      });
  }
  return batch;
}

/** AWS's timestamp form in iterator messages: "Thu Jan 01 00:00:00 UTC 2025". */
function amzDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  return `${day} ${mon} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}
