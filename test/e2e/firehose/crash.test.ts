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
import { listKeys, readObject, s3Dest } from './helpers.js';

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

  it('delivers every acknowledged record at least once after SIGKILL and restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hanul-firehose-crash-'));
    server = await spawnHanul({ dataDir: dir });
    let c = clients(server.endpoint);
    await c.s3.send(new s3.CreateBucketCommand({ Bucket: 'crash' }));
    // A long interval: most records are still buffered when the server dies.
    await c.fh.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'crash', ExtendedS3DestinationConfiguration: s3Dest('crash', { CompressionFormat: 'GZIP', BufferingHints: { IntervalInSeconds: 2, SizeInMBs: 1 } }) }));
    await waitFor(async () => (await c.fh.send(new f.DescribeDeliveryStreamCommand({ DeliveryStreamName: 'crash' }))).DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE');

    const acked = new Set<number>();
    let n = 0;
    let stop = false;
    const producer = async () => {
      while (!stop) {
        const nums = Array.from({ length: 100 }, () => n++);
        try {
          const r = await c.fh.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'crash', Records: nums.map((x) => ({ Data: Buffer.from(`${x}\n`) })) }));
          r.RequestResponses?.forEach((e, i) => e.RecordId && !e.ErrorCode && acked.add(nums[i] as number));
        } catch {
          return;
        }
      }
    };
    const producers = Array.from({ length: 4 }, () => producer());
    const until = Date.now() + 15_000;
    while (acked.size < 2000 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    await server.kill('SIGKILL');
    stop = true;
    await Promise.all(producers);
    assert.ok(acked.size >= 1000, `only ${acked.size} records acknowledged before the kill`);

    server = await spawnHanul({ dataDir: dir });
    c = clients(server.endpoint);
    const seen = await waitFor(async () => {
      const got = new Set<number>();
      for (const k of await listKeys(c.s3, 'crash')) for (const line of (await readObject(c.s3, 'crash', k)).toString().split('\n')) if (line) got.add(Number(line));
      return [...acked].every((x) => got.has(x)) ? got : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'every acknowledged record in S3' });
    assert.ok(seen.size >= acked.size);
  });
});
