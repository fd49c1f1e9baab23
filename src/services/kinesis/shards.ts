/**
 * Shards: how they are shown, listed, split, merged and rescaled. A reshard
 * is asked for (the stream goes UPDATING) and applied when the update ends
 * (lifecycle.ts calls apply*), all in one transaction: the parents close at
 * their current record counter, children open covering exactly the parents'
 * hash range, so the open ranges always tile 0 … 2^128-1 with no gap.
 */
import type {
  ListShardsInput,
  ListShardsOutput,
  MergeShardsInput,
  Shard,
  SplitShardInput,
  UpdateShardCountInput,
  UpdateShardCountOutput,
} from '@aws-sdk/client-kinesis';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx, WriteTx } from '../../storage/ports.js';
import type { KinesisCore } from './core.js';
import { kinesisError, shardNotFound, streamNotActive } from './errors.js';
import { NS_SEQ, NS_STREAM, counterKey, openShards, type ShardCounter, type ShardMeta, type StreamMeta } from './model.js';
import {
  MAX_SEQ_INDEX,
  bigintOfHashHex,
  decimalOfHashHex,
  evenSplitStart,
  formatSeq,
  hexOfHashKey,
  shardIdOf,
  shardIxOf,
} from './seq.js';
import { unsealJson, sealJson } from './tokens.js';
import { HashKeyRule, STREAM_REF, ShardIdRule, check } from './validate.js';

const secs = (ms: number) => Math.floor(ms / 1000);

export function startingSeq(sh: ShardMeta): string {
  return formatSeq({ shardCreatedSecs: sh.createdSecs, shardIx: sh.ix, index: 0n, arrivalSecs: sh.createdSecs });
}

export function describeShard(sh: ShardMeta): Shard {
  const out: Shard = {
    ShardId: shardIdOf(sh.ix),
    HashKeyRange: { StartingHashKey: decimalOfHashHex(sh.start), EndingHashKey: decimalOfHashHex(sh.end) },
    SequenceNumberRange: { StartingSequenceNumber: startingSeq(sh) },
  };
  if (sh.parent !== undefined) out.ParentShardId = shardIdOf(sh.parent);
  if (sh.adjacentParent !== undefined) out.AdjacentParentShardId = shardIdOf(sh.adjacentParent);
  if (sh.closedMs !== undefined && out.SequenceNumberRange) {
    out.SequenceNumberRange.EndingSequenceNumber = formatSeq({ shardCreatedSecs: sh.createdSecs, shardIx: sh.ix, index: MAX_SEQ_INDEX, arrivalSecs: secs(sh.closedMs) });
  }
  return out;
}

/** Every open shard of every stream: the account's shard count against its limit. */
export async function openShardTotal(tx: ReadTx): Promise<number> {
  let n = 0;
  for (const { value } of await tx.scan<StreamMeta>(NS_STREAM)) n += openShards(value).length;
  return n;
}

export function shardLimitError(core: KinesisCore, current: number, extra: number) {
  return kinesisError(
    'LimitExceededException',
    `This request would exceed the shard limit for the account ${core.account} in ${core.region}. Current shard count for the account: ${current}. Limit: ${core.opts.shardLimit}. Number of additional shards that would have resulted from this request: ${extra}. Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.`,
  );
}

export function newShard(stream: StreamMeta, start: string, end: string, nowMs: number, parents: ShardMeta[] = []): ShardMeta {
  // Later than every parent's creation second: children's sequence numbers sort after the parents'.
  const createdSecs = Math.max(secs(nowMs), ...parents.map((p) => p.createdSecs + 1));
  const sh: ShardMeta = { ix: stream.nextShardIx++, start, end, createdSecs, openedMs: nowMs };
  if (parents[0]) sh.parent = parents[0].ix;
  if (parents[1]) sh.adjacentParent = parents[1].ix;
  stream.shards.push(sh);
  return sh;
}

async function closeShard(tx: WriteTx, stream: StreamMeta, sh: ShardMeta, nowMs: number): Promise<void> {
  const c = await tx.get<ShardCounter>(NS_SEQ, counterKey(stream.id, sh.ix));
  sh.closedMs = nowMs;
  sh.endIndex = c?.next ?? 1;
}

export async function applySplit(tx: WriteTx, stream: StreamMeta, shardIx: number, newStart: string, nowMs: number): Promise<void> {
  const parent = stream.shards.find((s) => s.ix === shardIx && s.closedMs === undefined);
  if (!parent || !(newStart > parent.start && newStart <= parent.end)) return;
  await closeShard(tx, stream, parent, nowMs);
  const leftEnd = hexOfHashKey(bigintOfHashHex(newStart) - 1n);
  newShard(stream, parent.start, leftEnd, nowMs, [parent]);
  newShard(stream, newStart, parent.end, nowMs, [parent]);
  stream.version++;
}

export async function applyMerge(tx: WriteTx, stream: StreamMeta, shardIx: number, adjacentIx: number, nowMs: number): Promise<void> {
  const a = stream.shards.find((s) => s.ix === shardIx && s.closedMs === undefined);
  const b = stream.shards.find((s) => s.ix === adjacentIx && s.closedMs === undefined);
  if (!a || !b || !adjacent(a, b)) return;
  await closeShard(tx, stream, a, nowMs);
  await closeShard(tx, stream, b, nowMs);
  newShard(stream, a.start < b.start ? a.start : b.start, a.end > b.end ? a.end : b.end, nowMs, [a, b]);
  stream.version++;
}

/**
 * UNIFORM_SCALING as AWS does it, by splits and merges (so lineage stays
 * two-parent): first split wherever a target boundary falls inside a shard,
 * then merge the pieces inside each target range pairwise. Short-lived
 * intermediate shards appear, closed, just as AWS's do.
 */
export async function applyScale(tx: WriteTx, stream: StreamMeta, target: number, nowMs: number): Promise<void> {
  const bounds: string[] = [];
  for (let j = 1; j < target; j++) bounds.push(hexOfHashKey(evenSplitStart(j, target)));
  for (const b of bounds) {
    const s = openShards(stream).find((sh) => sh.start < b && b <= sh.end);
    if (s) await applySplit(tx, stream, s.ix, b, nowMs);
  }
  const edges = ['0'.repeat(32), ...bounds];
  for (let j = 0; j < edges.length; j++) {
    const lo = edges[j] as string;
    const hi = edges[j + 1];
    for (;;) {
      const inside = openShards(stream)
        .filter((sh) => sh.start >= lo && (hi === undefined || sh.start < hi))
        .sort((x, y) => (x.start < y.start ? -1 : 1));
      if (inside.length < 2) break;
      await applyMerge(tx, stream, (inside[0] as ShardMeta).ix, (inside[1] as ShardMeta).ix, nowMs);
    }
  }
}

function adjacent(a: ShardMeta, b: ShardMeta): boolean {
  const ea = bigintOfHashHex(a.end);
  const eb = bigintOfHashHex(b.end);
  return ea + 1n === bigintOfHashHex(b.start) || eb + 1n === bigintOfHashHex(a.start);
}

function findShard(core: KinesisCore, stream: StreamMeta, shardId: string): ShardMeta {
  const ix = shardIxOf(shardId);
  const sh = ix === undefined ? undefined : stream.shards.find((s) => s.ix === ix);
  if (!sh) throw shardNotFound(shardId, stream.name, core.account);
  return sh;
}

/** Marks the stream UPDATING with the change to apply when the update ends. */
export function beginUpdate(core: KinesisCore, stream: StreamMeta, pending: StreamMeta['pending']): void {
  stream.status = 'UPDATING';
  if (pending) stream.pending = pending;
  stream.dueMs = core.clock.nowMs() + core.opts.stateDelayMs;
}

export function shardHandlers(core: KinesisCore) {
  return {
    async SplitShard(input: SplitShardInput, ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [ShardIdRule('ShardToSplit'), HashKeyRule('NewStartingHashKey'), ...STREAM_REF]);
      const name = core.streamName(input, ctx);
      const key = BigInt(input.NewStartingHashKey as string);
      await core.store.write(async (tx) => {
        const s = await core.getStream(tx, name);
        if (s.status !== 'ACTIVE') throw streamNotActive(name, core.account, s.status);
        const sh = findShard(core, s, input.ShardToSplit as string);
        if (sh.closedMs !== undefined) {
          throw kinesisError('InvalidArgumentException', `Shard ${shardIdOf(sh.ix)} in stream ${name} under account ${core.account} has already been merged or split, and thus is not eligible for splitting.`);
        }
        const start = bigintOfHashHex(sh.start);
        const end = bigintOfHashHex(sh.end);
        if (key <= start || key > end) {
          throw kinesisError(
            'InvalidArgumentException',
            `NewStartingHashKey ${input.NewStartingHashKey} used in SplitShard() on shard ${shardIdOf(sh.ix)} in stream ${name} under account ${core.account} is not both greater than the shard's StartingHashKey ${start} and less than or equal to the shard's EndingHashKey ${end}.`,
          );
        }
        const total = await openShardTotal(tx);
        if (total + 1 > core.opts.shardLimit) throw shardLimitError(core, total, 1);
        beginUpdate(core, s, { kind: 'split', shard: sh.ix, newStart: hexOfHashKey(key) });
        await tx.put(NS_STREAM, name, s);
      });
      core.schedule(name);
      return {};
    },

    async MergeShards(input: MergeShardsInput, ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [ShardIdRule('ShardToMerge'), ShardIdRule('AdjacentShardToMerge'), ...STREAM_REF]);
      const name = core.streamName(input, ctx);
      await core.store.write(async (tx) => {
        const s = await core.getStream(tx, name);
        if (s.status !== 'ACTIVE') throw streamNotActive(name, core.account, s.status);
        const a = findShard(core, s, input.ShardToMerge as string);
        const b = findShard(core, s, input.AdjacentShardToMerge as string);
        for (const sh of [a, b]) {
          if (sh.closedMs !== undefined) {
            throw kinesisError('InvalidArgumentException', `Shard ${shardIdOf(sh.ix)} in stream ${name} under account ${core.account} has already been merged or split, and thus is not eligible for merging.`);
          }
        }
        if (a.ix === b.ix || !adjacent(a, b)) {
          throw kinesisError('InvalidArgumentException', `Shards ${shardIdOf(a.ix)} and ${shardIdOf(b.ix)} in stream ${name} under account ${core.account} are not an adjacent pair of shards eligible for merging`);
        }
        beginUpdate(core, s, { kind: 'merge', shard: a.ix, adjacent: b.ix });
        await tx.put(NS_STREAM, name, s);
      });
      core.schedule(name);
      return {};
    },

    async UpdateShardCount(input: UpdateShardCountInput, ctx: RequestContext): Promise<UpdateShardCountOutput> {
      check(input, [
        { field: 'TargetShardCount', notNull: true, min: 1, max: 100000 },
        { field: 'ScalingType', notNull: true, enum: ['UNIFORM_SCALING'] },
        ...STREAM_REF,
      ]);
      const name = core.streamName(input, ctx);
      const target = input.TargetShardCount as number;
      const out = await core.store.write(async (tx) => {
        const s = await core.getStream(tx, name);
        if (s.status !== 'ACTIVE') throw streamNotActive(name, core.account, s.status);
        if (s.mode === 'ON_DEMAND') {
          throw kinesisError('ValidationException', `UpdateShardCount is not supported for stream ${name} under account ${core.account} in ON_DEMAND mode.`);
        }
        const current = openShards(s).length;
        if (target > current * 2) {
          throw kinesisError('InvalidArgumentException', `UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: ${current} Target shard count: ${target}`);
        }
        if (target * 2 < current) {
          throw kinesisError('InvalidArgumentException', `UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: ${current} Target shard count: ${target}`);
        }
        const total = await openShardTotal(tx);
        if (target > current && total + (target - current) > core.opts.shardLimit) throw shardLimitError(core, total, target - current);
        beginUpdate(core, s, { kind: 'scale', target });
        await tx.put(NS_STREAM, name, s);
        return { StreamName: name, StreamARN: s.arn, CurrentShardCount: current, TargetShardCount: target };
      });
      core.schedule(name);
      return out;
    },

    async ListShards(input: ListShardsInput, ctx: RequestContext): Promise<ListShardsOutput> {
      check(input, [
        ...STREAM_REF,
        { field: 'NextToken', lenMin: 1, lenMax: 1048576 },
        ShardIdRule('ExclusiveStartShardId', false),
        { field: 'MaxResults', min: 1, max: 10000 },
        { field: 'ShardFilter', kind: 'struct', children: [{ field: 'Type', notNull: true, enum: ['AFTER_SHARD_ID', 'AT_TRIM_HORIZON', 'FROM_TRIM_HORIZON', 'AT_LATEST', 'AT_TIMESTAMP', 'FROM_TIMESTAMP'] }, ShardIdRule('ShardId', false)] },
      ]);
      const now = core.clock.nowMs();
      let name: string;
      let after = -1;
      let filter = input.ShardFilter;
      let max = input.MaxResults ?? 1000;
      if (input.NextToken !== undefined) {
        if (input.StreamName !== undefined || input.StreamARN !== undefined) {
          throw kinesisError('InvalidArgumentException', 'NextToken and StreamName cannot be provided together.');
        }
        const t = unsealJson<{ s: string; a: number; f?: { Type: string; ShardId?: string; Timestamp?: number } }>(core.iteratorKey, input.NextToken, now, 300_000);
        if (!t.ok) {
          if (t.expired) throw kinesisError('ExpiredNextTokenException', 'The nextToken has expired.');
          throw kinesisError('InvalidArgumentException', 'Invalid ShardIterator NextToken: it was not issued by this service.');
        }
        name = t.value.s;
        after = t.value.a;
        const f = t.value.f;
        filter = f ? { Type: f.Type as 'AT_LATEST', ...(f.ShardId ? { ShardId: f.ShardId } : {}), ...(f.Timestamp !== undefined ? { Timestamp: new Date(f.Timestamp) } : {}) } : undefined;
      } else {
        name = core.streamName(input, ctx);
        if (input.ExclusiveStartShardId !== undefined) after = shardIxOf(input.ExclusiveStartShardId) ?? -1;
      }
      if (filter) after = Math.max(after, filterAfter(filter));
      max = Math.min(max, 10000);
      const s = await core.store.read((tx) => core.getStream(tx, name));
      if (s.status === 'CREATING' || s.status === 'DELETING') throw streamNotActive(name, core.account, s.status);
      const selected = selectShards(s, filter, now).filter((sh) => sh.ix > after).sort((a, b) => a.ix - b.ix);
      const page = selected.slice(0, max);
      const out: ListShardsOutput = { Shards: page.map(describeShard) };
      if (selected.length > page.length) {
        const last = page[page.length - 1] as ShardMeta;
        out.NextToken = sealJson(core.iteratorKey, { s: name, a: last.ix, ...(filter ? { f: { Type: filter.Type, ShardId: filter.ShardId, Timestamp: filter.Timestamp?.getTime() } } : {}) }, now);
      }
      return out;
    },
  };
}

function filterAfter(f: NonNullable<ListShardsInput['ShardFilter']>): number {
  if (f.Type !== 'AFTER_SHARD_ID') return -1;
  if (f.ShardId === undefined) throw kinesisError('InvalidArgumentException', 'ShardId must be specified for ShardFilter type AFTER_SHARD_ID.');
  return shardIxOf(f.ShardId) ?? -1;
}

/** The shards a ShardFilter asks for (AWS's meaning of each type). */
function selectShards(s: StreamMeta, f: ListShardsInput['ShardFilter'], now: number): ShardMeta[] {
  const present = new Set(s.shards.map((sh) => sh.ix));
  const atHorizon = (sh: ShardMeta) => (sh.parent === undefined || !present.has(sh.parent)) && (sh.adjacentParent === undefined || !present.has(sh.adjacentParent));
  if (!f) return s.shards;
  const ts = f.Timestamp?.getTime();
  switch (f.Type) {
    case 'AT_LATEST':
      return openShards(s);
    case 'AT_TRIM_HORIZON':
      return s.shards.filter(atHorizon);
    case 'AT_TIMESTAMP':
    case 'FROM_TIMESTAMP': {
      if (ts === undefined) throw kinesisError('InvalidArgumentException', `Timestamp must be specified for ShardFilter type ${f.Type}.`);
      if (ts > now) throw kinesisError('InvalidArgumentException', 'The timestamp parameter cannot be greater than the current time.');
      const horizon = now - s.retentionHours * 3_600_000;
      if (ts <= Math.max(horizon, s.createdMs)) return f.Type === 'AT_TIMESTAMP' ? s.shards.filter(atHorizon) : s.shards;
      return s.shards.filter((sh) => (f.Type === 'AT_TIMESTAMP' ? sh.openedMs <= ts : true) && (sh.closedMs === undefined || sh.closedMs > ts));
    }
    case 'AFTER_SHARD_ID':
    case 'FROM_TRIM_HORIZON':
    case undefined:
      return s.shards;
  }
}
