/**
 * Durability: every record acknowledged with a sequence number survives
 * kill -9 — the server runs as a child process, takes puts under load, is
 * SIGKILLed mid-stream, restarts on the same data dir, and every
 * acknowledged record reads back, in sequence order, exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as k from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { TEST_KEY, spawnHanul, type SpawnedServer } from '../../support/hanul.js';

function client(endpoint: string): k.KinesisClient {
  return new k.KinesisClient({ endpoint, region: 'us-east-1', credentials: TEST_KEY, maxAttempts: 1, requestHandler: new NodeHttpHandler() });
}

describe('Kinesis durability across kill -9', () => {
  let dir = '';
  let server: SpawnedServer | undefined;
  after(async () => {
    await server?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads back every acknowledged record, in order, after SIGKILL and restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hanul-kinesis-crash-'));
    const env = { HANUL_KINESIS_LIMITS: 'off', HANUL_KINESIS_STATE_DELAY_MS: '50' };
    server = await spawnHanul({ dataDir: dir, env });
    let c = client(server.endpoint);
    await c.send(new k.CreateStreamCommand({ StreamName: 'durable', ShardCount: 4 }));
    await k.waitUntilStreamExists({ client: c, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: 'durable' });

    const acked = new Map<string, { shard: string; seq: string }>();
    let stop = false;
    let n = 0;
    const producer = async (id: number) => {
      while (!stop) {
        const batch = Array.from({ length: 50 }, () => {
          const payload = `p${id}-${n++}`;
          // ~500 B each: a put's chunk per shard is several KiB, so it goes to the stream log.
          return { PartitionKey: payload, Data: new Uint8Array(Buffer.from(payload.padEnd(500, '.'))) };
        });
        try {
          const r = await c.send(new k.PutRecordsCommand({ StreamName: 'durable', Records: batch }));
          r.Records?.forEach((e, i) => {
            if (e.SequenceNumber) acked.set(batch[i]?.PartitionKey as string, { shard: e.ShardId as string, seq: e.SequenceNumber });
          });
        } catch {
          return; // the server died mid-request: this batch was never acknowledged
        }
      }
    };
    const producers = Array.from({ length: 6 }, (_, i) => producer(i));
    const until = Date.now() + 10_000;
    while (acked.size < 3000 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await server.kill('SIGKILL');
    stop = true;
    await Promise.all(producers);
    c.destroy();
    assert.ok(acked.size >= 1000, `only ${acked.size} records acknowledged before the kill`);

    server = await spawnHanul({ dataDir: dir, env });
    c = client(server.endpoint);
    const found = new Map<string, string>();
    const shards = (await c.send(new k.ListShardsCommand({ StreamName: 'durable' }))).Shards ?? [];
    for (const s of shards) {
      let it = (await c.send(new k.GetShardIteratorCommand({ StreamName: 'durable', ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      let prev = '';
      while (it) {
        const r = await c.send(new k.GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
        for (const rec of r.Records ?? []) {
          const seq = rec.SequenceNumber as string;
          assert.ok(seq > prev, 'sequence numbers strictly increase within a shard');
          prev = seq;
          const payload = Buffer.from(rec.Data as Uint8Array).toString();
          assert.equal(payload, (rec.PartitionKey as string).padEnd(500, '.'));
          assert.ok(!found.has(rec.PartitionKey as string), `duplicate ${rec.PartitionKey}`);
          found.set(rec.PartitionKey as string, seq);
        }
        if ((r.Records ?? []).length === 0) break;
        it = r.NextShardIterator;
      }
    }
    assert.ok((await readdir(join(dir, 'streams'))).length > 0, 'the records went to the stream log');
    for (const [payload, a] of acked) assert.equal(found.get(payload), a.seq, `acknowledged record ${payload} (${a.shard}) lost or renumbered`);
    // New puts after the restart keep increasing.
    const after = await c.send(new k.PutRecordCommand({ StreamName: 'durable', PartitionKey: 'p0-0', Data: new Uint8Array([1]) }));
    const before = [...acked.values()].filter((a) => a.shard === after.ShardId).map((a) => a.seq).sort().pop() ?? '';
    assert.ok((after.SequenceNumber as string) > before);
    c.destroy();
  });
});
