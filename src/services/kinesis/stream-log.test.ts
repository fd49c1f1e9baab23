import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { GetRecordsOutput, PutRecordsOutput } from '@aws-sdk/client-kinesis';
import { laneOf, type ChunkRow } from './chunks.js';
import { NS_STREAM, recordNs, type StreamMeta } from './model.js';
import { activeStream, kit, type Kit } from './test-kit.js';

const SHARD = 'shardId-000000000000';

async function readAll(k: Kit, stream: string, type = 'TRIM_HORIZON', extra: object = {}): Promise<string[]> {
  const { ShardIterator } = await k.call<{ ShardIterator: string }>('GetShardIterator', { StreamName: stream, ShardId: SHARD, ShardIteratorType: type, ...extra });
  const out: string[] = [];
  let cur: string | undefined = ShardIterator;
  for (let i = 0; cur && i < 100; i++) {
    const r: GetRecordsOutput = await k.call('GetRecords', { ShardIterator: cur, Limit: 7 });
    if ((r.Records ?? []).length === 0) break;
    out.push(...(r.Records ?? []).map((x) => Buffer.from(x.Data as Uint8Array).toString()));
    cur = r.NextShardIterator;
  }
  return out;
}

async function put(k: Kit, stream: string, prefix: string, n: number): Promise<string[]> {
  // Over 4 KiB per call: a chunk that size goes to the log (smaller ones stay in their rows).
  const texts = Array.from({ length: n }, (_, i) => `${prefix}-${i}-${'x'.repeat(1200 + i * 10)}`);
  const r = await k.call<PutRecordsOutput>('PutRecords', { StreamName: stream, Records: texts.map((t) => ({ PartitionKey: t.slice(0, 8), Data: new Uint8Array(Buffer.from(t)) })) });
  assert.equal(r.FailedRecordCount, 0);
  return texts;
}

async function streamId(k: Kit, name: string): Promise<string> {
  return k.store.read(async (tx) => ((await tx.get<StreamMeta>(NS_STREAM, name)) as StreamMeta).id);
}

async function rowKinds(k: Kit, name: string): Promise<string[]> {
  const id = await streamId(k, name);
  const rows = await k.store.read((tx) => tx.scan<ChunkRow>(recordNs(id, 0)));
  return rows.map((r) => (r.value instanceof Uint8Array ? 'inline' : 'log'));
}

describe('kinesis records in the stream log', () => {
  it('reads rows an older build wrote inline next to rows that point into the log, across restarts', async () => {
    let k = await kit({}, undefined, undefined, { inline: true });
    try {
      await activeStream(k, 'mixed', 1);
      const old = [...(await put(k, 'mixed', 'old', 5)), ...(await put(k, 'mixed', 'old2', 4))];
      const cut = k.clock.nowMs() + 1;
      k = await k.restart({ inline: false });
      k.clock.advance(5);
      const fresh = [...(await put(k, 'mixed', 'new', 6)), ...(await put(k, 'mixed', 'new2', 4))];
      assert.deepEqual(await rowKinds(k, 'mixed'), ['inline', 'inline', 'log', 'log']);
      assert.deepEqual(await readAll(k, 'mixed'), [...old, ...fresh]);
      assert.deepEqual(await readAll(k, 'mixed', 'AT_TIMESTAMP', { Timestamp: new Date(cut) }), fresh, 'a timestamp finds the first log row');
      // A lone small record stays in its row, with a log or without.
      const small = 'small';
      await k.call('PutRecord', { StreamName: 'mixed', PartitionKey: 'p', Data: new Uint8Array(Buffer.from(small)) });
      fresh.push(small);
      assert.deepEqual(await rowKinds(k, 'mixed'), ['inline', 'inline', 'log', 'log', 'inline']);
      k = await k.restart();
      assert.deepEqual(await readAll(k, 'mixed'), [...old, ...fresh], 'after a restart');
      // A sweep keeps the lane: its rows still point into it.
      await k.lifecycle.sweepLog();
      await k.lifecycle.sweepLog();
      assert.deepEqual(await readAll(k, 'mixed'), [...old, ...fresh]);
    } finally {
      await k.close();
    }
  });

  it('frees a deleted stream’s segments, and those of records past retention; the other stream keeps its own', async () => {
    const k = await kit();
    try {
      await activeStream(k, 'gone', 1);
      await activeStream(k, 'kept', 1);
      await put(k, 'gone', 'g', 20);
      const keptRecs = await put(k, 'kept', 'k', 10);
      const goneId = await streamId(k, 'gone');
      const keptId = await streamId(k, 'kept');
      const log = k.streamLog;
      assert.ok(log);
      const lanes = () => new Set(log.list().map((s) => s.lane));
      // Another owner's lane, which Kinesis's sweep must leave alone.
      const other = log.append('other-owner', Buffer.from('not kinesis'));
      log.sync();
      assert.deepEqual(lanes(), new Set([laneOf(goneId), laneOf(keptId), 'other-owner']));
      const laneDir = join(k.dir, 'streams', laneOf(goneId));
      assert.ok(existsSync(laneDir));

      await k.call('DeleteStream', { StreamName: 'gone' });
      await k.lifecycle.idle();
      assert.equal((await k.lifecycle.sweepLog())?.deleted, 0, 'first sweep only notes the free segment');
      assert.equal((await k.lifecycle.sweepLog())?.deleted, 1);
      assert.deepEqual(lanes(), new Set([laneOf(keptId), 'other-owner']));
      assert.ok(!existsSync(laneDir), 'the lane’s directory is gone');
      assert.deepEqual(await readAll(k, 'kept'), keptRecs);

      // Retention: once every record of 'kept' expired and was trimmed, its segment goes too; new puts start a new one.
      k.clock.advance(25 * 3_600_000);
      await k.lifecycle.trim();
      await k.lifecycle.sweepLog();
      await k.lifecycle.sweepLog();
      assert.deepEqual(lanes(), new Set(['other-owner']));
      assert.equal(Buffer.from(log.read('other-owner', other)).toString(), 'not kinesis');
      const later = await put(k, 'kept', 'later', 4);
      assert.deepEqual(await readAll(k, 'kept'), later);
      assert.deepEqual(lanes(), new Set([laneOf(keptId), 'other-owner']), 'a new segment for new puts');
    } finally {
      await k.close();
    }
  });
});
