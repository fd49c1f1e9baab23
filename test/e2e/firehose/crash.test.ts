/**
 * Durability: every record PutRecordBatch acknowledged reaches S3 at least
 * once although the server is SIGKILLed mid-stream — records are committed
 * to the buffer before the call answers, and the restarted server delivers
 * what was still buffered.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as f from '@aws-sdk/client-firehose';
import * as s3 from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { TEST_KEY, spawnHanul, waitFor, type SpawnedServer } from '../../support/hanul.js';
import { createDeliveryRole, listKeys, readObject, s3Dest } from './helpers.js';

function clients(endpoint: string) {
  const base = { endpoint, region: 'us-east-1', credentials: TEST_KEY, maxAttempts: 1, requestHandler: new NodeHttpHandler() };
  return { fh: new f.FirehoseClient(base), s3: new s3.S3Client({ ...base, forcePathStyle: true }) };
}

describe('Firehose durability across kill -9', () => {
  let dir = '';
  let server: SpawnedServer | undefined;
  after(async () => {
    await server?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('delivers each of 100,000 numbered records at least once across two SIGKILLs and restarts', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hanul-firehose-crash-'));
    server = await spawnHanul({ dataDir: dir });
    let c = clients(server.endpoint);
    await createDeliveryRole({ endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_KEY });
    await c.s3.send(new s3.CreateBucketCommand({ Bucket: 'crash' }));
    // A long interval: most records are still buffered when the server dies.
    await c.fh.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'crash', ExtendedS3DestinationConfiguration: s3Dest('crash', { CompressionFormat: 'GZIP', BufferingHints: { IntervalInSeconds: 2, SizeInMBs: 1 } }) }));
    await waitFor(async () => (await c.fh.send(new f.DescribeDeliveryStreamCommand({ DeliveryStreamName: 'crash' }))).DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE');

    // 100,000 numbered records in batches of 500; the server is SIGKILLed twice mid-way and
    // restarted; a batch that got no answer is sent again (at least once, never lost).
    const TOTAL = 100_000;
    const BATCH = 500;
    const pending = Array.from({ length: TOTAL / BATCH }, (_, b) => b);
    let acked = 0;
    const produce = async (untilAcked: number): Promise<void> => {
      const worker = async () => {
        while (acked < untilAcked) {
          const b = pending.shift();
          if (b === undefined) return;
          const nums = Array.from({ length: BATCH }, (_, i) => b * BATCH + i);
          try {
            const r = await c.fh.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'crash', Records: nums.map((x) => ({ Data: Buffer.from(`${x}\n`) })) }));
            if (r.FailedPutCount !== 0) throw new Error('partial failure');
            acked++;
          } catch {
            pending.push(b);
            return;
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, () => worker()));
    };
    for (const killAt of [70, 140]) {
      await produce(killAt);
      await server.kill('SIGKILL');
      server = await spawnHanul({ dataDir: dir });
      c = clients(server.endpoint);
    }
    while (pending.length > 0) await produce(TOTAL / BATCH);
    assert.equal(acked, TOTAL / BATCH);
    const seen = await waitFor(async () => {
      const got = new Set<number>();
      for (const k of await listKeys(c.s3, 'crash')) for (const line of (await readObject(c.s3, 'crash', k)).toString().split('\n')) if (line) got.add(Number(line));
      return got.size >= TOTAL ? got : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, what: 'every one of the 100,000 numbers in S3' });
    for (let x = 0; x < TOTAL; x++) assert.ok(seen.has(x), `record ${x} lost`);
  });
});
