import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GetRecordsOutput, ListShardsOutput, PutRecordOutput, PutRecordsOutput, Shard } from '@aws-sdk/client-kinesis';
import { compareSeq, hashKeyOfPartitionKey } from './seq.js';
import { activeStream, kit, rejects, type Kit } from './test-kit.js';

const data = (s: string) => new Uint8Array(Buffer.from(s));

async function iterator(k: Kit, stream: string, shard: string, type = 'TRIM_HORIZON', extra: object = {}): Promise<string> {
  const r = await k.call<{ ShardIterator: string }>('GetShardIterator', { StreamName: stream, ShardId: shard, ShardIteratorType: type, ...extra });
  return r.ShardIterator;
}

async function readAll(k: Kit, it: string): Promise<GetRecordsOutput['Records']> {
  const out = [];
  let cur: string | undefined = it;
  for (let i = 0; cur && i < 100; i++) {
    const r: GetRecordsOutput = await k.call('GetRecords', { ShardIterator: cur });
    out.push(...(r.Records ?? []));
    if ((r.Records ?? []).length === 0) break;
    cur = r.NextShardIterator;
  }
  return out;
}

/** Open shards' hash ranges tile 0 … 2^128-1 with no gap or overlap. */
function assertTiles(shards: Shard[]): void {
  const open = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined).sort((a, b) => (BigInt(a.HashKeyRange?.StartingHashKey ?? 0) < BigInt(b.HashKeyRange?.StartingHashKey ?? 0) ? -1 : 1));
  let next = 0n;
  for (const s of open) {
    assert.equal(BigInt(s.HashKeyRange?.StartingHashKey as string), next, `gap or overlap before ${s.ShardId}`);
    next = BigInt(s.HashKeyRange?.EndingHashKey as string) + 1n;
  }
  assert.equal(next, 1n << 128n);
}

describe('kinesis records', () => {
  let k: Kit;
  before(async () => {
    k = await kit();
  });
  after(async () => {
    await k.close();
  });

  it('puts and gets records in order, sequence numbers strictly increasing', async () => {
    await activeStream(k, 's1', 1);
    const seqs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await k.call<PutRecordOutput>('PutRecord', { StreamName: 's1', PartitionKey: `k${i}`, Data: data(`r${i}`) });
      assert.equal(r.ShardId, 'shardId-000000000000');
      seqs.push(r.SequenceNumber as string);
    }
    for (let i = 1; i < seqs.length; i++) assert.equal(compareSeq(seqs[i - 1] as string, seqs[i] as string), -1);
    const recs = await readAll(k, await iterator(k, 's1', 'shardId-000000000000'));
    assert.deepEqual(recs?.map((r) => Buffer.from(r.Data as Uint8Array).toString()), ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(recs?.map((r) => r.SequenceNumber), seqs);
    assert.equal(recs?.[0]?.PartitionKey, 'k0');

    const after2 = await iterator(k, 's1', 'shardId-000000000000', 'AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: seqs[2] });
    assert.deepEqual((await readAll(k, after2))?.map((r) => r.SequenceNumber), seqs.slice(3));
    const at2 = await iterator(k, 's1', 'shardId-000000000000', 'AT_SEQUENCE_NUMBER', { StartingSequenceNumber: seqs[2] });
    assert.deepEqual((await readAll(k, at2))?.map((r) => r.SequenceNumber), seqs.slice(2));

    const latest = await iterator(k, 's1', 'shardId-000000000000', 'LATEST');
    const empty: GetRecordsOutput = await k.call('GetRecords', { ShardIterator: latest });
    assert.equal(empty.Records?.length, 0);
    assert.equal(empty.MillisBehindLatest, 0);
    await k.call('PutRecord', { StreamName: 's1', PartitionKey: 'x', Data: data('new') });
    const fresh: GetRecordsOutput = await k.call('GetRecords', { ShardIterator: empty.NextShardIterator });
    assert.deepEqual(fresh.Records?.map((r) => Buffer.from(r.Data as Uint8Array).toString()), ['new']);
  });

  it('routes partition keys by MD5 to the shard whose range holds them', async () => {
    await activeStream(k, 's4', 4);
    const { Shards } = await k.call<ListShardsOutput>('ListShards', { StreamName: 's4' });
    const keys = Array.from({ length: 40 }, (_, i) => `pk-${i}`);
    const r = await k.call<PutRecordsOutput>('PutRecords', { StreamName: 's4', Records: keys.map((pk) => ({ PartitionKey: pk, Data: data(pk) })) });
    assert.equal(r.FailedRecordCount, 0);
    keys.forEach((pk, i) => {
      const h = BigInt(`0x${hashKeyOfPartitionKey(pk)}`);
      const want = Shards?.find((s) => BigInt(s.HashKeyRange?.StartingHashKey as string) <= h && h <= BigInt(s.HashKeyRange?.EndingHashKey as string));
      assert.equal(r.Records?.[i]?.ShardId, want?.ShardId, pk);
    });
    const explicit = await k.call<PutRecordOutput>('PutRecord', { StreamName: 's4', PartitionKey: 'z', ExplicitHashKey: '340282366920938463463374607431768211455', Data: data('x') });
    assert.equal(explicit.ShardId, 'shardId-000000000003');
    await rejects(k.call('PutRecord', { StreamName: 's4', PartitionKey: 'z', ExplicitHashKey: '340282366920938463463374607431768211456', Data: data('x') }), 'InvalidArgumentException', /ExplicitHashKey must be in the range/);
  });

  it('AT_TIMESTAMP finds the first record at or after the time', async () => {
    await activeStream(k, 'ts', 1);
    const t0 = k.clock.nowMs();
    await k.call('PutRecord', { StreamName: 'ts', PartitionKey: 'a', Data: data('early') });
    k.clock.advance(10_000);
    const t1 = k.clock.nowMs();
    await k.call('PutRecord', { StreamName: 'ts', PartitionKey: 'a', Data: data('late1') });
    await k.call('PutRecord', { StreamName: 'ts', PartitionKey: 'a', Data: data('late2') });
    const it = await iterator(k, 'ts', 'shardId-000000000000', 'AT_TIMESTAMP', { Timestamp: new Date(t1) });
    assert.deepEqual((await readAll(k, it))?.map((r) => Buffer.from(r.Data as Uint8Array).toString()), ['late1', 'late2']);
    const all = await iterator(k, 'ts', 'shardId-000000000000', 'AT_TIMESTAMP', { Timestamp: new Date(t0 - 1000) });
    assert.equal((await readAll(k, all))?.length, 3);
    await rejects(iterator(k, 'ts', 'shardId-000000000000', 'AT_TIMESTAMP', { Timestamp: new Date(k.clock.nowMs() + 60_000) }), 'InvalidArgumentException', /cannot be greater than the currentTimestampInMillis/);
  });

  it('iterators expire after 5 minutes and reject tampering', async () => {
    await activeStream(k, 'exp', 1);
    const it = await iterator(k, 'exp', 'shardId-000000000000');
    await rejects(k.call('GetRecords', { ShardIterator: `${it.slice(0, -4)}AAAA` }), 'InvalidArgumentException', /Invalid ShardIterator/);
    k.clock.advance(300_001);
    await rejects(k.call('GetRecords', { ShardIterator: it }), 'ExpiredIteratorException', /Iterator expired/);
  });

  it('errors: unknown stream, bad names, missing shard, too many records', async () => {
    await rejects(k.call('PutRecord', { StreamName: 'nope', PartitionKey: 'a', Data: data('x') }), 'ResourceNotFoundException', /^Stream nope under account 000000000000 not found\.$/);
    await rejects(k.call('CreateStream', { StreamName: 'bad name', ShardCount: 1 }), 'ValidationException', /at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern/);
    await rejects(k.call('GetShardIterator', { StreamName: 's1', ShardId: 'shardId-000000000009', ShardIteratorType: 'LATEST' }), 'ResourceNotFoundException', /does not exist/);
    const many = Array.from({ length: 501 }, () => ({ PartitionKey: 'a', Data: data('x') }));
    await rejects(k.call('PutRecords', { StreamName: 's1', Records: many }), 'ValidationException', /Member must have length less than or equal to 500/);
    await rejects(k.call('DescribeStream', {}), 'InvalidArgumentException', /StreamName or StreamARN/);
    await rejects(k.call('CreateStream', { StreamName: 's1', ShardCount: 1 }), 'ResourceInUseException', /already exists/);
  });

  it('DryRun checks the request and stops', async () => {
    await rejects(k.call('PutRecord', { StreamName: 's1', PartitionKey: 'a', Data: data('dry'), DryRun: true }), 'DryRunOperationException');
    await rejects(k.call('PutRecord', { StreamName: 'nope', PartitionKey: 'a', Data: data('dry'), DryRun: true }), 'ResourceNotFoundException');
    await rejects(k.call('GetShardIterator', { StreamName: 's1', ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST', DryRun: true }), 'DryRunOperationException');
    const recs = await readAll(k, await iterator(k, 's1', 'shardId-000000000000'));
    assert.ok(!recs?.some((r) => Buffer.from(r.Data as Uint8Array).toString() === 'dry'), 'nothing was written');
  });

  it('addresses streams by ARN', async () => {
    const arn = 'arn:aws:kinesis:us-east-1:000000000000:stream/s1';
    const r = await k.call<PutRecordOutput>('PutRecord', { StreamARN: arn, PartitionKey: 'a', Data: data('via-arn') });
    assert.match(r.SequenceNumber as string, /^\d{56}$/);
    await rejects(k.call('DescribeStreamSummary', { StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/none' }), 'ResourceNotFoundException');
  });
});

describe('kinesis resharding', () => {
  let k: Kit;
  before(async () => {
    k = await kit();
  });
  after(async () => {
    await k.close();
  });

  it('split and merge keep lineage and tile the hash space; readers get ChildShards at a closed shard end', async () => {
    await activeStream(k, 'rs', 2);
    await k.call('PutRecord', { StreamName: 'rs', PartitionKey: 'a', ExplicitHashKey: '5', Data: data('before') });
    const itParent = await iterator(k, 'rs', 'shardId-000000000000');
    await k.call('SplitShard', { StreamName: 'rs', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '85070591730234615865843651857942052864' });
    const during = await k.call<{ StreamDescription: { StreamStatus: string } }>('DescribeStream', { StreamName: 'rs' });
    assert.equal(during.StreamDescription.StreamStatus, 'UPDATING');
    await rejects(k.call('SplitShard', { StreamName: 'rs', ShardToSplit: 'shardId-000000000001', NewStartingHashKey: '200000000000000000000000000000000000000' }), 'ResourceInUseException', /not ACTIVE, instead in state UPDATING/);
    await k.lifecycle.idle();
    let shards = (await k.call<ListShardsOutput>('ListShards', { StreamName: 'rs' })).Shards as Shard[];
    assert.equal(shards.length, 4);
    assert.equal(shards[2]?.ParentShardId, 'shardId-000000000000');
    assert.equal(shards[3]?.ParentShardId, 'shardId-000000000000');
    assertTiles(shards);
    const after = await k.call<PutRecordOutput>('PutRecord', { StreamName: 'rs', PartitionKey: 'a', ExplicitHashKey: '5', Data: data('after') });
    assert.equal(after.ShardId, 'shardId-000000000002');

    const first: GetRecordsOutput = await k.call('GetRecords', { ShardIterator: itParent });
    assert.deepEqual(first.Records?.map((r) => Buffer.from(r.Data as Uint8Array).toString()), ['before']);
    assert.equal(first.NextShardIterator, undefined);
    assert.deepEqual(first.ChildShards?.map((c) => c.ShardId), ['shardId-000000000002', 'shardId-000000000003']);
    assert.ok(compareSeq(first.Records?.[0]?.SequenceNumber as string, after.SequenceNumber as string) < 0, 'child numbers sort after parent numbers');

    await k.call('MergeShards', { StreamName: 'rs', ShardToMerge: 'shardId-000000000002', AdjacentShardToMerge: 'shardId-000000000003' });
    await k.lifecycle.idle();
    shards = (await k.call<ListShardsOutput>('ListShards', { StreamName: 'rs' })).Shards as Shard[];
    const merged = shards.find((s) => s.ShardId === 'shardId-000000000004');
    assert.equal(merged?.ParentShardId, 'shardId-000000000002');
    assert.equal(merged?.AdjacentParentShardId, 'shardId-000000000003');
    assertTiles(shards);
    await rejects(k.call('MergeShards', { StreamName: 'rs', ShardToMerge: 'shardId-000000000001', AdjacentShardToMerge: 'shardId-000000000001' }), 'InvalidArgumentException', /not an adjacent pair/);
    const latest = (await k.call<ListShardsOutput>('ListShards', { StreamName: 'rs', ShardFilter: { Type: 'AT_LATEST' } })).Shards;
    assert.deepEqual(latest?.map((s) => s.ShardId), ['shardId-000000000001', 'shardId-000000000004']);
    const horizon = (await k.call<ListShardsOutput>('ListShards', { StreamName: 'rs', ShardFilter: { Type: 'AT_TRIM_HORIZON' } })).Shards;
    assert.deepEqual(horizon?.map((s) => s.ShardId), ['shardId-000000000000', 'shardId-000000000001']);
  });

  it('UpdateShardCount scales uniformly by splits and merges', async () => {
    await activeStream(k, 'sc', 3);
    for (const target of [5, 4, 8, 4]) {
      const r = await k.call<{ TargetShardCount: number }>('UpdateShardCount', { StreamName: 'sc', TargetShardCount: target, ScalingType: 'UNIFORM_SCALING' });
      assert.equal(r.TargetShardCount, target);
      await k.lifecycle.idle();
      const shards = (await k.call<ListShardsOutput>('ListShards', { StreamName: 'sc', MaxResults: 10000 })).Shards as Shard[];
      const open = shards.filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);
      assert.equal(open.length, target);
      assertTiles(shards);
      const width = (1n << 128n) / BigInt(target);
      for (const s of open) {
        const w = BigInt(s.HashKeyRange?.EndingHashKey as string) - BigInt(s.HashKeyRange?.StartingHashKey as string) + 1n;
        assert.ok(w >= width - 1n && w <= width + 1n, 'uniform');
      }
    }
    await rejects(k.call('UpdateShardCount', { StreamName: 'sc', TargetShardCount: 9, ScalingType: 'UNIFORM_SCALING' }), 'InvalidArgumentException', /double/);
  });

  it('ListShards pages with NextToken, which excludes StreamName', async () => {
    const p1 = await k.call<ListShardsOutput>('ListShards', { StreamName: 'sc', MaxResults: 3 });
    assert.equal(p1.Shards?.length, 3);
    assert.ok(p1.NextToken);
    await rejects(k.call('ListShards', { StreamName: 'sc', NextToken: p1.NextToken }), 'InvalidArgumentException', /cannot be provided together/);
    const p2 = await k.call<ListShardsOutput>('ListShards', { NextToken: p1.NextToken, MaxResults: 3 });
    assert.notEqual(p2.Shards?.[0]?.ShardId, p1.Shards?.[0]?.ShardId);
    k.clock.advance(300_001);
    await rejects(k.call('ListShards', { NextToken: p2.NextToken }), 'ExpiredNextTokenException');
  });
});

describe('kinesis limits and durability', () => {
  it('throttles writes past 1,000 records/s per shard, per record in PutRecords', async () => {
    const k = await kit({ limits: true });
    try {
      await activeStream(k, 'lim', 1);
      const batch = Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `p${i}`, Data: data('x') }));
      const a = await k.call<PutRecordsOutput>('PutRecords', { StreamName: 'lim', Records: batch });
      const b = await k.call<PutRecordsOutput>('PutRecords', { StreamName: 'lim', Records: batch });
      assert.equal(a.FailedRecordCount, 0);
      assert.equal(b.FailedRecordCount, 0);
      const c = await k.call<PutRecordsOutput>('PutRecords', { StreamName: 'lim', Records: batch.slice(0, 10) });
      assert.equal(c.FailedRecordCount, 10);
      assert.equal(c.Records?.[0]?.ErrorCode, 'ProvisionedThroughputExceededException');
      assert.match(c.Records?.[0]?.ErrorMessage as string, /^Rate exceeded for shard shardId-000000000000 in stream lim under account 000000000000\.$/);
      await rejects(k.call('PutRecord', { StreamName: 'lim', PartitionKey: 'a', Data: data('x') }), 'ProvisionedThroughputExceededException');
      k.clock.advance(1000);
      await k.call('PutRecord', { StreamName: 'lim', PartitionKey: 'a', Data: data('x') });
      const it = await iterator(k, 'lim', 'shardId-000000000000');
      for (let i = 0; i < 5; i++) await k.call('GetRecords', { ShardIterator: it, Limit: 1 });
      await rejects(k.call('GetRecords', { ShardIterator: it, Limit: 1 }), 'ProvisionedThroughputExceededException');
    } finally {
      await k.close();
    }
  });

  it('on-demand streams split a shard that runs past its limit when the refused keys spread over both halves', async () => {
    const k = await kit({ limits: true });
    try {
      await activeStream(k, 'od', undefined, { StreamModeDetails: { StreamMode: 'ON_DEMAND' } });
      const open = async () => (await k.call<ListShardsOutput>('ListShards', { StreamName: 'od', ShardFilter: { Type: 'AT_LATEST' } })).Shards?.length;
      assert.equal(await open(), 4);
      // One key: splitting cannot help it (AWS throttles a single hot key too).
      const single = Array.from({ length: 500 }, () => ({ PartitionKey: 'same', Data: data('x') }));
      let failed = 0;
      for (let i = 0; i < 3; i++) failed += (await k.call<PutRecordsOutput>('PutRecords', { StreamName: 'od', Records: single })).FailedRecordCount ?? 0;
      assert.equal(failed, 500);
      await k.lifecycle.idle();
      assert.equal(await open(), 4);
      // Many keys over shard 0's range: it splits, and the stream stays ACTIVE.
      const spread = Array.from({ length: 500 }, (_, i) => ({ PartitionKey: 'k', ExplicitHashKey: String(BigInt(i) * (1n << 117n)), Data: data('x') }));
      for (let i = 0; i < 3; i++) await k.call<PutRecordsOutput>('PutRecords', { StreamName: 'od', Records: spread });
      await k.lifecycle.idle();
      assert.equal(await open(), 5, 'the hot shard split');
      const s = await k.call<{ StreamDescriptionSummary: { StreamStatus: string } }>('DescribeStreamSummary', { StreamName: 'od' });
      assert.equal(s.StreamDescriptionSummary.StreamStatus, 'ACTIVE');
    } finally {
      await k.close();
    }
  });

  it('records, counters and pending reshards survive a restart', async () => {
    let k = await kit({ limits: false, stateDelayMs: 60_000 });
    try {
      await k.call('CreateStream', { StreamName: 'dur', ShardCount: 1 });
      await k.lifecycle.finishStream('dur');
      const s1 = await k.call<PutRecordOutput>('PutRecord', { StreamName: 'dur', PartitionKey: 'a', Data: data('one') });
      await k.call('SplitShard', { StreamName: 'dur', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '100' });
      k = await k.restart();
      const s2 = await k.call<PutRecordOutput>('PutRecord', { StreamName: 'dur', PartitionKey: 'a', ExplicitHashKey: '0', Data: data('two') });
      assert.equal(s2.ShardId, 'shardId-000000000000');
      assert.ok(compareSeq(s1.SequenceNumber as string, s2.SequenceNumber as string) < 0);
      const recs = await readAll(k, await iterator(k, 'dur', 'shardId-000000000000'));
      assert.deepEqual(recs?.map((r) => Buffer.from(r.Data as Uint8Array).toString()), ['one', 'two']);
      assert.equal((await k.call<{ StreamDescription: { StreamStatus: string } }>('DescribeStream', { StreamName: 'dur' })).StreamDescription.StreamStatus, 'UPDATING');
      await k.lifecycle.finishStream('dur');
      const shards = (await k.call<ListShardsOutput>('ListShards', { StreamName: 'dur' })).Shards;
      assert.equal(shards?.length, 3);
    } finally {
      await k.close();
    }
  });

  it('retention: expired records are skipped, then trimmed, and closed shards drop off', async () => {
    const k = await kit({ limits: false });
    try {
      await activeStream(k, 'ret', 1);
      await k.call('PutRecord', { StreamName: 'ret', PartitionKey: 'a', Data: data('old') });
      k.clock.advance(23 * 3_600_000);
      await k.call('PutRecord', { StreamName: 'ret', PartitionKey: 'a', Data: data('new') });
      k.clock.advance(2 * 3_600_000);
      const recs = await readAll(k, await iterator(k, 'ret', 'shardId-000000000000'));
      assert.deepEqual(recs?.map((r) => Buffer.from(r.Data as Uint8Array).toString()), ['new']);
      assert.equal(await k.lifecycle.trim(), 1);
      await rejects(k.call('IncreaseStreamRetentionPeriod', { StreamName: 'ret', RetentionPeriodHours: 12 }), 'InvalidArgumentException', /Minimum allowed retention period is 24 hours/);
      await k.call('IncreaseStreamRetentionPeriod', { StreamName: 'ret', RetentionPeriodHours: 48 });
      await rejects(k.call('DecreaseStreamRetentionPeriod', { StreamName: 'ret', RetentionPeriodHours: 72 }), 'InvalidArgumentException', /can not be longer than existing retention period/);
    } finally {
      await k.close();
    }
  });
});
