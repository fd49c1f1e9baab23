// Repeatable Firehose ingest measurement for profiling and A/B: starts hanul
// (optionally under `node --cpu-prof`), sends a FIXED number of pre-signed
// PutRecordBatch calls (500 × 1 KiB JSON records each) to a GZIP S3
// destination, waits until everything is delivered, and prints the server's
// CPU per MB from /proc — ingest alone and ingest + delivery (gzip, S3 put).
// Run: node dist/bench/firehose/profile.js [records=100000] [concurrency=8] [plain|cpu-prof|perf] [path/to/cli.js|-] [bench|logs]
// A cli.js path runs another build's server with this driver (interleaved A/B).
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as f from '@aws-sdk/client-firehose';
import * as s3 from '@aws-sdk/client-s3';
import { createDeliveryRole } from '../../test/e2e/firehose/helpers.js';
import { TEST_KEY } from '../../test/support/hanul.js';
import { cpuSeconds, peakRssMb } from '../lib/processes.js';
import { rawBatchSender } from './raw-batch.js';

const RECORDS = Number(process.argv[2] ?? 100_000);
const CONCURRENCY = Number(process.argv[3] ?? 8);
const mode = process.argv[4] ?? 'plain';
const CLI = process.argv[5] && process.argv[5] !== '-' ? resolve(process.argv[5]) : fileURLToPath(new URL('../../src/cli.js', import.meta.url));
/** `bench`: run.ts's records (a JSON head and 'x' padding: gzip shrinks them ~100×); `logs`: varied JSON log lines (~4.5× at gzip level 1). */
const DATA = process.argv[6] ?? 'bench';
const BATCH = 500;
const SIZE_MB = 64;

const dataDir = await mkdtemp(join(tmpdir(), 'hanul-fh-profile-'));
const profDir = join(process.cwd(), '.build', 'profiles');
const child = spawn(process.execPath, [...(mode === 'cpu-prof' ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : mode === 'perf' ? ['--perf-basic-prof'] : []), CLI, 'start'], {
  env: { ...process.env, HANUL_PORT: '0', HANUL_DATA_DIR: dataDir, HANUL_ACCESS_KEY_ID: TEST_KEY.accessKeyId, HANUL_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey, HANUL_LOG_LEVEL: 'silent', HANUL_SHIELD: 'off', HANUL_FIREHOSE_LIMITS: 'off' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const endpoint = await new Promise<string>((res, rej) => {
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /hanul (https?:\/\/[^\s]+)/.exec(out);
    if (m?.[1]) res(m[1]);
  });
  child.once('exit', (c) => rej(new Error(`hanul exited ${c}: ${out}`)));
});
const pid = child.pid as number;
const cfg = { endpoint, region: 'us-east-1', credentials: TEST_KEY };
const fh = new f.FirehoseClient(cfg);
const c3 = new s3.S3Client({ ...cfg, forcePathStyle: true });

try {
  await c3.send(new s3.CreateBucketCommand({ Bucket: 'bench' }));
  await createDeliveryRole(cfg, 'bench');
  await fh.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'raw', ExtendedS3DestinationConfiguration: { RoleARN: 'arn:aws:iam::000000000000:role/bench', BucketARN: 'arn:aws:s3:::bench', Prefix: 'raw/', CompressionFormat: 'GZIP', BufferingHints: { SizeInMBs: SIZE_MB, IntervalInSeconds: 1 } } }));
  for (;;) {
    const d = await fh.send(new f.DescribeDeliveryStreamCommand({ DeliveryStreamName: 'raw' }));
    if (d.DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const pad = 'x'.repeat(1024);
  const words = ['GET', 'POST', '/api/v1/users', '/health', '200', '404', '500', 'request', 'completed', 'user', 'session', 'timeout', 'db', 'query', 'cache', 'miss', 'hit'];
  const records = Array.from({ length: BATCH }, (_, i) => {
    if (DATA === 'logs') {
      let line = `{"ts":"2026-11-28T23:${String(i % 60).padStart(2, '0')}:00.${i}Z","id":"${randomBytes(8).toString('hex')}","level":"info","msg":"`;
      while (line.length < 1021) line += `${words[randomInt(words.length)]} `;
      return Buffer.from(`${line.slice(0, 1021)}"}\n`);
    }
    const head = `{"id":${i},"service":"bench","level":"info","msg":"`;
    return Buffer.from(`${head}${pad.slice(0, 1024 - head.length - 3)}"}\n`);
  });
  const sender = await rawBatchSender(endpoint, 'raw', records, CONCURRENCY);
  const run = (calls: number): Promise<void> => sender.run(calls);
  /** Polls /metrics until `records` records of the stream are delivered (objects committed in S3). */
  const delivered = async (records: number): Promise<void> => {
    for (;;) {
      const text = await fetch(`${endpoint}/metrics`).then((x) => x.text());
      const m = /hanul_firehose_records_delivered_total\{stream="raw"\} (\d+)/.exec(text);
      if (m && Number(m[1]) >= records) return;
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  // Warm-up (JIT), delivered before measuring.
  await run(20);
  await delivered(20 * BATCH);
  const calls = Math.ceil(RECORDS / BATCH);
  const mb = (calls * BATCH * 1024) / 1e6;
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${calls * BATCH} records, ${CONCURRENCY} in flight, mode ${mode}, data ${DATA}, server ${CLI}`);
  // perf: samples of the server's every thread (zlib and crypto in the threadpool, SQLite, the kernel) during the measured part.
  const perf = mode === 'perf' ? spawn('perf', ['record', '-F', '499', '-g', '-p', String(pid), '-o', join(profDir, 'perf.data')], { stdio: 'ignore' }) : undefined;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await run(calls);
  const secs = (performance.now() - t0) / 1000;
  const cpuIngest = cpuSeconds(pid) - cpu0;
  await delivered((20 + calls) * BATCH);
  const cpuAll = cpuSeconds(pid) - cpu0;
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  console.log(`ingest ${(mb / secs).toFixed(1)} MB/s; server CPU ${((cpuIngest * 1000) / mb).toFixed(2)} ms/MB during ingest, ${((cpuAll * 1000) / mb).toFixed(2)} ms/MB ingest + delivery; peak RSS ${peakRssMb(pid).toFixed(0)} MB`);
  sender.close();
} finally {
  fh.destroy();
  c3.destroy();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await rm(dataDir, { recursive: true, force: true });
}
