/**
 * Enhanced fan-out: SubscribeToShardCommand of the JS SDK v3 over HTTP/2,
 * with records pushed as they are put.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k from '@aws-sdk/client-kinesis';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { kinesisClient } from './helpers.js';

const enc = (s: string) => new Uint8Array(Buffer.from(s));
const dec = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString();

describe('SubscribeToShard through the JS SDK v3', () => {
  let server: TestServer;
  let client: k.KinesisClient;
  let streamArn: string;
  let consumerArn: string;
  before(async () => {
    server = await startHanul({ env: { HANUL_KINESIS_STATE_DELAY_MS: '100' } });
    // The SDK's default, HTTP/2, signing ':authority'.
    client = kinesisClient(server, 'HTTP/2');
    await client.send(new k.CreateStreamCommand({ StreamName: 'fan', ShardCount: 1 }));
    await k.waitUntilStreamExists({ client, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: 'fan' });
    streamArn = (await client.send(new k.DescribeStreamSummaryCommand({ StreamName: 'fan' }))).StreamDescriptionSummary?.StreamARN as string;
    const reg = await client.send(new k.RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'reader' }));
    consumerArn = reg.Consumer?.ConsumerARN as string;
    await waitFor(async () => (await client.send(new k.DescribeStreamConsumerCommand({ ConsumerARN: consumerArn }))).ConsumerDescription?.ConsumerStatus === 'ACTIVE');
  });
  after(async () => {
    client.destroy();
    await server.stop();
  });

  it('pushes old and new records as they arrive; a second subscription within 5 s is refused', async () => {
    await client.send(new k.PutRecordCommand({ StreamName: 'fan', PartitionKey: 'a', Data: enc('before') }));
    const abort = new AbortController();
    const sub = await client.send(new k.SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'TRIM_HORIZON' } }), { abortSignal: abort.signal });
    await assert.rejects(
      client.send(new k.SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'LATEST' } })),
      (e: Error) => e.name === 'ResourceInUseException',
    );
    const got: string[] = [];
    const latencies: number[] = [];
    let sentAt = 0;
    let continuation = '';
    const iter = (sub.EventStream as AsyncIterable<k.SubscribeToShardEventStream>)[Symbol.asyncIterator]();
    const deadline = Date.now() + 15_000;
    while (got.length < 6 && Date.now() < deadline) {
      const { value, done } = await iter.next();
      if (done) break;
      const ev = value.SubscribeToShardEvent;
      if (!ev) continue;
      assert.equal(typeof ev.MillisBehindLatest, 'number');
      continuation = ev.ContinuationSequenceNumber ?? continuation;
      for (const r of ev.Records ?? []) {
        got.push(dec(r.Data));
        if (sentAt) latencies.push(Date.now() - sentAt);
      }
      if (got.length >= 1 && got.length < 6) {
        sentAt = Date.now();
        await client.send(new k.PutRecordCommand({ StreamName: 'fan', PartitionKey: 'a', Data: enc(`live${got.length}`) }));
      }
    }
    abort.abort();
    assert.deepEqual(got, ['before', 'live1', 'live2', 'live3', 'live4', 'live5']);
    assert.match(continuation, /^\d{56}$/);
    // Pushed on commit, not on a polling timer: far below the 5 s heartbeat.
    assert.ok(Math.max(...latencies) < 1000, `delivery latencies ${latencies.join(',')} ms`);
  });

  it('ends at a closed shard with ChildShards, and resumes from a ContinuationSequenceNumber', async () => {
    const first = await client.send(new k.PutRecordCommand({ StreamName: 'fan', PartitionKey: 'a', Data: enc('x1') }));
    await client.send(new k.SplitShardCommand({ StreamName: 'fan', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '170141183460469231731687303715884105728' }));
    await k.waitUntilStreamExists({ client, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: 'fan' });
    // The takeover rule: the first test's subscription started more than 5 s ago or ended; wait if needed.
    const sub = await waitFor(
      async () => {
        try {
          return await client.send(new k.SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: first.SequenceNumber } }));
        } catch (e) {
          if ((e as Error).name === 'ResourceInUseException') return undefined;
          throw e;
        }
      },
      { timeoutMs: 10_000, intervalMs: 250, what: 'subscription' },
    );
    const seen: string[] = [];
    let children: string[] = [];
    for await (const ev of sub.EventStream as AsyncIterable<k.SubscribeToShardEventStream>) {
      const e = ev.SubscribeToShardEvent;
      if (!e) continue;
      seen.push(...(e.Records ?? []).map((r) => dec(r.Data)));
      if (e.ChildShards?.length) {
        children = e.ChildShards.map((c) => c.ShardId as string);
        assert.equal(e.ContinuationSequenceNumber, undefined);
        break;
      }
    }
    assert.deepEqual(seen, ['x1']);
    assert.deepEqual(children, ['shardId-000000000001', 'shardId-000000000002']);
  });

  it('refuses an unknown consumer and an inactive one', async () => {
    await assert.rejects(
      client.send(new k.SubscribeToShardCommand({ ConsumerARN: `${streamArn}/consumer/ghost:1`, ShardId: 'shardId-000000000001', StartingPosition: { Type: 'LATEST' } })),
      (e: Error) => e.name === 'ResourceNotFoundException',
    );
    await assert.rejects(
      client.send(new k.SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: 'shardId-000000000099', StartingPosition: { Type: 'LATEST' } })),
      (e: Error) => e.name === 'ResourceNotFoundException',
    );
  });
});
