/**
 * Firehose benchmark: hanul as a child process (durable storage), driven by
 * @aws-sdk/client-firehose.
 *
 *   1. ingest: PutRecordBatch of 500 × 1 KiB JSON records, C calls in flight,
 *      into a GZIP S3 destination — MB/s, records/s, server CPU, peak RSS.
 *      The SDK's own cost (JSON + base64 + SigV4 hashing of 700 KB bodies)
 *      caps one Node client near the server's speed, so the run is made
 *      twice: through the SDK, and as raw HTTP with pre-signed requests
 *      (signatures stay valid 15 minutes; Firehose does not deduplicate).
 *   2. latency: one small record every 50 ms into a stream with a 1 s
 *      buffer interval; a poller lists the bucket and reads new objects —
 *      put → object visible, p50/p99
 *
 * Usage: node .build/firehose/bench/firehose/run.js [records] [concurrency]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as f from '@aws-sdk/client-firehose';
import * as s3 from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createDeliveryRole } from '../../test/e2e/firehose/helpers.js';
import { spawnHanul, TEST_KEY } from '../../test/support/hanul.js';
import { cpuSeconds } from '../lib/processes.js';
import { rawBatchSender } from './raw-batch.js';

const args = process.argv.slice(2);
const RECORDS = Number(args[0] ?? 200_000);
const CONCURRENCY = Number(args[1] ?? 8);
const BATCH = 500;
const ROLE = 'arn:aws:iam::000000000000:role/bench';

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hanul-bench-firehose-'));
  const server = await spawnHanul({ dataDir: dir, env: { HANUL_SHIELD: 'off', HANUL_FIREHOSE_LIMITS: 'off' } });
  const pid = server.child.pid as number;
  const base = { endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_KEY, maxAttempts: 1, requestHandler: new NodeHttpHandler({ httpAgent: { maxSockets: CONCURRENCY * 2, keepAlive: true } }) };
  const fh = new f.FirehoseClient(base);
  const c3 = new s3.S3Client({ ...base, forcePathStyle: true });
  try {
    await c3.send(new s3.CreateBucketCommand({ Bucket: 'bench' }));
    await createDeliveryRole({ endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_KEY }, 'bench');
    const create = async (name: string, prefix: string, hints: f.BufferingHints) => {
      await fh.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: name, ExtendedS3DestinationConfiguration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::bench', Prefix: prefix, CompressionFormat: 'GZIP', BufferingHints: hints } }));
      for (;;) {
        const d = await fh.send(new f.DescribeDeliveryStreamCommand({ DeliveryStreamName: name }));
        if (d.DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE') return;
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // 1. ingest
    await create('ingest', 'ingest/', { SizeInMBs: 64, IntervalInSeconds: 60 });
    await create('raw', 'raw/', { SizeInMBs: 64, IntervalInSeconds: 60 });
    const pad = 'x'.repeat(1024);
    const record = (i: number) => {
      const head = `{"id":${i},"service":"bench","level":"info","msg":"`;
      return Buffer.from(`${head}${pad.slice(0, 1024 - head.length - 3)}"}\n`);
    };
    let next = 0;
    let peakRss = rssMiB(pid);
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(pid))), 100);
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    let failed = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < RECORDS) {
        const start = next;
        next += BATCH;
        const batch = Array.from({ length: Math.min(BATCH, RECORDS - start) }, (_, j) => ({ Data: record(start + j) }));
        const r = await fh.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'ingest', Records: batch }));
        failed += r.FailedPutCount ?? 0;
      }
    }));
    const secs = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    const mb = (RECORDS * 1024) / 1e6;
    console.log(`ingest (SDK client): ${RECORDS} records × 1 KiB in ${secs.toFixed(2)} s = ${(mb / secs).toFixed(1)} MB/s, ${Math.round(RECORDS / secs)} records/s, failed ${failed}, server CPU ${cpu.toFixed(2)} s, peak RSS ${peakRss.toFixed(0)} MiB`);
    const raw = await rawIngest(server.endpoint, pid, Array.from({ length: BATCH }, (_, j) => record(j)));
    console.log(`ingest (pre-signed raw HTTP): ${RECORDS} records in ${raw.secs.toFixed(2)} s = ${(mb / raw.secs).toFixed(1)} MB/s, ${Math.round(RECORDS / raw.secs)} records/s, server CPU ${raw.cpu.toFixed(2)} s (${(mb / raw.cpu).toFixed(1)} MB per server CPU second)`);
    peakRss = Math.max(peakRss, rssMiB(pid));
    // Wait for the ingest buffer to drain (64 MB objects) before measuring latency.
    const tDrain = performance.now();
    for (;;) {
      const l = await c3.send(new s3.ListObjectsV2Command({ Bucket: 'bench' }));
      const total = (l.Contents ?? []).length;
      if (total >= 2 * Math.floor((RECORDS * 1024) / (64 * 1024 * 1024))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(`ingest: size-triggered objects visible ${((performance.now() - tDrain) / 1000).toFixed(2)} s after the last put; peak RSS ${Math.max(peakRss, rssMiB(pid)).toFixed(0)} MiB`);
    clearInterval(rssTimer);

    // 2. latency with a 1 s interval
    await create('latency', 'latency/', { SizeInMBs: 1, IntervalInSeconds: 1 });
    const putAt = new Map<number, number>();
    const seenKeys = new Set<string>();
    const latencies: number[] = [];
    const N = 200;
    let done = false;
    const poller = (async () => {
      while (!done) {
        const l = await c3.send(new s3.ListObjectsV2Command({ Bucket: 'bench', Prefix: 'latency/' }));
        const now = performance.now();
        for (const o of l.Contents ?? []) {
          if (seenKeys.has(o.Key as string)) continue;
          seenKeys.add(o.Key as string);
          const g = await c3.send(new s3.GetObjectCommand({ Bucket: 'bench', Key: o.Key }));
          const text = gunzipSync(Buffer.from(await (g.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())).toString();
          for (const line of text.split('\n')) if (line) latencies.push(now - (putAt.get(Number(line)) ?? now));
        }
        if (latencies.length >= N) done = true;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    for (let i = 0; i < N; i++) {
      putAt.set(i, performance.now());
      await fh.send(new f.PutRecordCommand({ DeliveryStreamName: 'latency', Record: { Data: Buffer.from(`${i}\n`) } }));
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.race([poller, new Promise((r) => setTimeout(r, 20_000))]);
    done = true;
    console.log(`latency (1 s interval, put → object listed): n=${latencies.length} p50 ${(pct(latencies, 50) / 1000).toFixed(3)} s, p99 ${(pct(latencies, 99) / 1000).toFixed(3)} s, max ${(Math.max(...latencies) / 1000).toFixed(3)} s`);
  } finally {
    await server.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

/** PutRecordBatch bodies signed once and sent again and again: measures the server, not the client. */
async function rawIngest(endpoint: string, pid: number, records: Buffer[]): Promise<{ secs: number; cpu: number }> {
  const sender = await rawBatchSender(endpoint, 'raw', records, CONCURRENCY);
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await sender.run(Math.ceil(RECORDS / BATCH));
  const secs = (performance.now() - t0) / 1000;
  sender.close();
  return { secs, cpu: cpuSeconds(pid) - cpu0 };
}

void main();
