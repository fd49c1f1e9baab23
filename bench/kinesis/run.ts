/**
 * Kinesis benchmark: hanul and kinesalite side by side, in one run, each as
 * its own child process, driven by the same client.
 *
 *   1. write: 4 shards, 1 KiB records, PutRecords batches of 500, C in flight
 *   2. read:  everything back with GetRecords (Limit 10,000), shard by shard
 *   3. trickle: one record every 20 ms, read by a GetRecords poller
 *      (put → get latency), and — hanul only, kinesalite has no enhanced
 *      fan-out — by a SubscribeToShard consumer (put → push latency)
 *
 * Reports records/s, MiB/s, latency p50/p99 and server CPU seconds per
 * 100,000 records (from /proc/<pid>/stat). hanul runs with
 * HANUL_KINESIS_LIMITS=off (the per-shard limits would cap it at 4 MiB/s) and
 * durable storage (every acknowledged put fsync'd); kinesalite keeps its data
 * in memory. Usage: node dist/bench/kinesis/run.js [records] [concurrency]
 * [--only=hanul|kinesalite] [--write-only] [--callgrind]. --callgrind runs
 * hanul under valgrind and prints the instructions per record of the write
 * phase (after 20 unmeasured warm-up calls; implies --write-only, hanul
 * only): a figure the machine's load does not move.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k from '@aws-sdk/client-kinesis';
import { readFileSync } from 'node:fs';
import { cpuSeconds } from '../lib/processes.js';
import { launchOf } from '../../test/support/hanul.js';

/** User and system CPU seconds of a process so far (from /proc), apart: on a loaded VM the system share (syscalls, page faults) moves most. */
function cpuSplit(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100 };
}

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const CALLGRIND = process.argv.includes('--callgrind');
const ONLY = CALLGRIND ? 'hanul' : process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const WRITE_ONLY = CALLGRIND || process.argv.includes('--write-only');
/** Where --callgrind leaves its profiles (callgrind_annotate reads them). */
const PROF_DIR = join(process.cwd(), '.build', 'profiles');
const RECORDS = Number(args[0] ?? 200_000);
const CONCURRENCY = Number(args[1] ?? 8);
const BATCH = 500;
const RECORD_BYTES = 1024;
const TRICKLE = 200;
const CREDS = { accessKeyId: 'AKIAHANULBENCH000000', secretAccessKey: 'hanul-bench-secret-key-000000000000000000' };
const REGION = 'us-east-1';

interface Server {
  name: string;
  endpoint: string;
  pid: number;
  child: ChildProcess;
  h2: boolean;
}

const callgrind = async (s: Server, ...args: string[]): Promise<void> => void (await promisify(execFile)('callgrind_control', [...args, String(s.pid)]));

function waitForLine(child: ChildProcess, re: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = re.exec(out);
      if (m) resolve(m);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (c) => reject(new Error(`${what} exited ${c}: ${out}`)));
  });
}

async function startHanul(dataDir: string): Promise<Server> {
  const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
  // HANUL_BENCH_NODE_ARGS: extra node flags for the server (e.g. --cpu-prof) when looking into a result.
  const nodeArgs = (process.env['HANUL_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const launch = launchOf(cli);
  const cmd = [process.execPath, ...launch.nodeArgs, ...nodeArgs, cli, 'start'];
  if (CALLGRIND) await mkdir(PROF_DIR, { recursive: true });
  const argv = CALLGRIND ? ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(PROF_DIR, 'callgrind.%p')}`, ...cmd] : cmd;
  const child = spawn(argv[0] as string, argv.slice(1), {
    env: {
      ...process.env,
      ...launch.env,
      HANUL_PORT: '0',
      HANUL_DATA_DIR: dataDir,
      HANUL_ACCESS_KEY_ID: CREDS.accessKeyId,
      HANUL_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      HANUL_LOG_LEVEL: 'silent',
      HANUL_KINESIS_LIMITS: 'off',
      HANUL_KINESIS_STATE_DELAY_MS: '50',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m = await waitForLine(child, /hanul (https?:\/\/[^\s]+)/, 'hanul');
  return { name: 'hanul', endpoint: m[1] as string, pid: child.pid as number, child, h2: true };
}

async function startKinesalite(): Promise<Server> {
  const require = createRequire(import.meta.url);
  const cli = join(require.resolve('kinesalite/package.json'), '..', 'cli.js');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [cli, '--port', String(port), '--createStreamMs', '50', '--deleteStreamMs', '50', '--updateStreamMs', '50', '--shardLimit', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(child, /Listening at/, 'kinesalite');
  return { name: 'kinesalite', endpoint: `http://127.0.0.1:${port}`, pid: child.pid as number, child, h2: false };
}

// A small SigV4 signer on node:crypto (the pure-JS SHA-256 would dominate the client's time).
function sha256hex(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}
function hmac(key: Buffer | string, s: string): Buffer {
  return createHmac('sha256', key).update(s).digest();
}
function sign(host: string, target: string, body: Buffer): Record<string, string> {
  const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = now.slice(0, 8);
  const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', host, 'x-amz-date': now, 'x-amz-target': target };
  const names = Object.keys(headers).sort();
  const canonical = ['POST', '/', '', ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), sha256hex(body)].join('\n');
  const scope = `${date}/${REGION}/kinesis/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', now, scope, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${CREDS.secretAccessKey}`, date), REGION), 'kinesis'), 'aws4_request');
  headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${hmac(key, toSign).toString('hex')}`;
  return headers;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

function call(s: Server, op: string, body: Buffer | object): Promise<Record<string, unknown>> {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const u = new URL(s.endpoint);
  const headers = sign(u.host, `Kinesis_20131202.${op}`, buf);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: 'POST', path: '/', headers: { ...headers, 'content-length': String(buf.length) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`${s.name} ${op} ${res.statusCode}: ${text.slice(0, 300)}`));
        else resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {});
      });
    });
    req.on('error', reject);
    req.end(buf);
  });
}

async function waitActive(s: Server, stream: string): Promise<void> {
  for (;;) {
    const d = (await call(s, 'DescribeStream', { StreamName: stream })) as { StreamDescription: { StreamStatus: string } };
    if (d.StreamDescription.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

interface Result {
  writeRps: number;
  writeMiBps: number;
  writeCpuPer100k: number;
  readRps: number;
  readMiBps: number;
  readCpuPer100k: number;
  putP50: number;
  putP99: number;
  pollP50: number;
  pollP99: number;
  pushP50?: number;
  pushP99?: number;
  ackPushP50?: number;
  ackPushP99?: number;
}

async function bench(s: Server): Promise<Result> {
  const stream = 'bench';
  await call(s, 'CreateStream', { StreamName: stream, ShardCount: 4 });
  await waitActive(s, stream);

  // Bodies built once (distinct partition keys spread records over the 4 shards).
  const payload = randomBytes(RECORD_BYTES).toString('base64');
  const bodies = Array.from({ length: 16 }, (_, b) =>
    Buffer.from(JSON.stringify({ StreamName: stream, Records: Array.from({ length: BATCH }, (_, i) => ({ PartitionKey: `pk-${b}-${i}`, Data: payload })) })),
  );
  const batches = Math.ceil(RECORDS / BATCH);
  let next = 0;
  let failed = 0;
  if (CALLGRIND) {
    // Warm-up (JIT, caches), not measured.
    for (let i = 0; i < 20; i++) await call(s, 'PutRecords', bodies[i % bodies.length] as Buffer);
    await callgrind(s, '-z');
    await callgrind(s, '-i', 'on');
  }
  const cpu0 = cpuSeconds(s.pid);
  const split0 = cpuSplit(s.pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < batches) {
        const i = next++;
        const r = await call(s, 'PutRecords', bodies[i % bodies.length] as Buffer);
        failed += (r['FailedRecordCount'] as number) ?? 0;
      }
    }),
  );
  const writeSecs = (performance.now() - t0) / 1000;
  const writeCpu = cpuSeconds(s.pid) - cpu0;
  const written = batches * BATCH;
  const split1 = cpuSplit(s.pid);
  console.error(`${s.name}: write CPU per 100k records: user ${(((split1.user - split0.user) / written) * 100_000).toFixed(2)} s, system ${(((split1.sys - split0.sys) / written) * 100_000).toFixed(2)} s`);
  if (failed > 0) throw new Error(`${s.name}: ${failed} records failed`);

  if (CALLGRIND) {
    await callgrind(s, '-i', 'off');
    // The dump's "totals:" line counts the instructions since the zeroing above.
    await callgrind(s, '-d', 'write');
    const dir = PROF_DIR;
    const files = (await readdir(dir)).filter((f) => f.startsWith(`callgrind.${s.pid}`)).sort();
    const m = /^totals: (\d+)/m.exec(files.length > 0 ? await readFile(join(dir, files[files.length - 1] as string), 'utf8') : '');
    console.log(`callgrind: ${m ? (Number(m[1]) / written).toFixed(0) : '?'} instructions per record (write phase, ${written} records; ${join(dir, files[files.length - 1] ?? '?')})`);
  }
  if (WRITE_ONLY) return { writeRps: written / writeSecs, writeMiBps: (written * RECORD_BYTES) / 1048576 / writeSecs, writeCpuPer100k: (writeCpu / written) * 100_000 } as Result;
  const cpu1 = cpuSeconds(s.pid);
  const t1 = performance.now();
  let read = 0;
  await Promise.all(
    [0, 1, 2, 3].map(async (shard) => {
      let it = (await call(s, 'GetShardIterator', { StreamName: stream, ShardId: `shardId-00000000000${shard}`, ShardIteratorType: 'TRIM_HORIZON' }))['ShardIterator'] as string | undefined;
      while (it) {
        const r = (await call(s, 'GetRecords', { ShardIterator: it, Limit: 10000 })) as { Records: unknown[]; NextShardIterator?: string };
        read += r.Records.length;
        if (r.Records.length === 0) break;
        it = r.NextShardIterator;
      }
    }),
  );
  const readSecs = (performance.now() - t1) / 1000;
  const readCpu = cpuSeconds(s.pid) - cpu1;
  if (read !== written) throw new Error(`${s.name}: wrote ${written}, read ${read}`);

  // Trickle: one record every 20 ms into one shard (explicit hash key 0), read first by a
  // back-to-back GetRecords poller, then (separately, so they do not compete) by SubscribeToShard.
  const putLat: number[] = [];
  const acked = new Map<string, number>();
  const trickle = async (tag: string, sent: Map<string, number>) => {
    for (let i = 0; i < TRICKLE; i++) {
      const id = `${tag}-${i}`;
      const t = performance.now();
      sent.set(id, t);
      await call(s, 'PutRecord', { StreamName: stream, PartitionKey: 'x', ExplicitHashKey: '0', Data: Buffer.from(id).toString('base64') });
      const now = performance.now();
      acked.set(id, now);
      putLat.push(now - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const polled = new Map<string, number>();
  const pollLat: number[] = [];
  let pollIt = (await call(s, 'GetShardIterator', { StreamName: stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' }))['ShardIterator'] as string;
  let done = false;
  const poller = (async () => {
    while (!done || pollLat.length < polled.size) {
      const r = (await call(s, 'GetRecords', { ShardIterator: pollIt })) as { Records: { Data: string }[]; NextShardIterator: string };
      const now = performance.now();
      for (const rec of r.Records) {
        const t = polled.get(Buffer.from(rec.Data, 'base64').toString());
        if (t !== undefined) pollLat.push(now - t);
      }
      pollIt = r.NextShardIterator;
    }
  })();
  await trickle('poll', polled);
  done = true;
  await poller;
  let pushLat: number[] | undefined;
  let afterAck: number[] | undefined;
  if (s.h2) {
    const pushed = new Map<string, number>();
    const push = await subscriber(s, stream, pushed).catch((e: unknown) => {
      console.error(`${s.name}: SubscribeToShard failed: ${String(e)}`);
      return undefined;
    });
    if (push) {
      await trickle('push', pushed);
      pushLat = await push.finish();
      // Arrival relative to the put's acknowledgment: negative when the push beat the HTTP response.
      afterAck = push.arrivals.map(([id, at]) => at - (acked.get(id) ?? at));
    }
  }

  const mib = (n: number) => (n * RECORD_BYTES) / (1024 * 1024);
  return {
    writeRps: written / writeSecs,
    writeMiBps: mib(written) / writeSecs,
    writeCpuPer100k: (writeCpu / written) * 100_000,
    readRps: read / readSecs,
    readMiBps: mib(read) / readSecs,
    readCpuPer100k: (readCpu / read) * 100_000,
    putP50: pct(putLat, 50),
    putP99: pct(putLat, 99),
    pollP50: pct(pollLat, 50),
    pollP99: pct(pollLat, 99),
    ...(pushLat ? { pushP50: pct(pushLat, 50), pushP99: pct(pushLat, 99) } : {}),
    ...(afterAck ? { ackPushP50: pct(afterAck, 50), ackPushP99: pct(afterAck, 99) } : {}),
  };
}

/** A SubscribeToShard consumer (the JS SDK over HTTP/2) noting when each trickle record arrives. */
async function subscriber(s: Server, stream: string, sent: Map<string, number>): Promise<{ finish(): Promise<number[]>; arrivals: [string, number][] }> {
  // The SDK's default, HTTP/2.
  const client = new k.KinesisClient({ endpoint: s.endpoint, region: REGION, credentials: CREDS });
  const arn = (await client.send(new k.DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamARN as string;
  const reg = await client.send(new k.RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'bench' }));
  for (;;) {
    const d = await client.send(new k.DescribeStreamConsumerCommand({ ConsumerARN: reg.Consumer?.ConsumerARN }));
    if (d.ConsumerDescription?.ConsumerStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const abort = new AbortController();
  const sub = await client.send(new k.SubscribeToShardCommand({ ConsumerARN: reg.Consumer?.ConsumerARN, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'LATEST' } }), { abortSignal: abort.signal });
  const lat: number[] = [];
  const arrivals: [string, number][] = [];
  const reading = (async () => {
    try {
      for await (const ev of sub.EventStream as AsyncIterable<k.SubscribeToShardEventStream>) {
        const now = performance.now();
        for (const r of ev.SubscribeToShardEvent?.Records ?? []) {
          const id = Buffer.from(r.Data as Uint8Array).toString();
          const t = sent.get(id);
          if (t !== undefined) {
            lat.push(now - t);
            arrivals.push([id, now]);
          }
        }
        if (lat.length >= TRICKLE) break;
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    }
  })();
  return {
    arrivals,
    async finish() {
      const deadline = Date.now() + 10_000;
      while (lat.length < TRICKLE && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      abort.abort();
      await reading.catch(() => undefined);
      client.destroy();
      return lat;
    },
  };
}

function row(label: string, h: number | undefined, kl: number | undefined, digits = 0, better: 'higher' | 'lower' = 'higher'): string {
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));
  const ratio = h !== undefined && kl !== undefined && h > 0 && kl > 0 ? (better === 'higher' ? h / kl : kl / h) : undefined;
  return `| ${label} | ${f(h)} | ${f(kl)} | ${ratio === undefined ? '' : `${ratio.toFixed(1)}×`} |`;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hanul-bench-kinesis-'));
  const results: Record<string, Result> = {};
  const servers = [
    { name: 'hanul', start: () => startHanul(dataDir) },
    { name: 'kinesalite', start: startKinesalite },
  ].filter((x) => ONLY === undefined || x.name === ONLY);
  for (const { start } of servers) {
    const s = await start();
    try {
      results[s.name] = await bench(s);
      console.error(`${s.name}: done`);
    } finally {
      s.child.kill('SIGTERM');
    }
  }
  await rm(dataDir, { recursive: true, force: true });
  agent.destroy();
  const h = results['hanul'] ?? ({} as Result);
  const kl = results['kinesalite'] ?? ({} as Result);
  console.log(`\nKinesis: ${RECORDS} records of ${RECORD_BYTES} B, 4 shards, PutRecords x${BATCH}, ${CONCURRENCY} in flight (HTTP/1.1 keep-alive client for both)\n`);
  console.log('| metric | hanul | kinesalite | hanul advantage |');
  console.log('|---|---:|---:|---:|');
  console.log(row('write records/s', h.writeRps, kl.writeRps));
  console.log(row('write MiB/s', h.writeMiBps, kl.writeMiBps, 1));
  console.log(row('write server CPU s / 100k records', h.writeCpuPer100k, kl.writeCpuPer100k, 2, 'lower'));
  console.log(row('read records/s', h.readRps, kl.readRps));
  console.log(row('read MiB/s', h.readMiBps, kl.readMiBps, 1));
  console.log(row('read server CPU s / 100k records', h.readCpuPer100k, kl.readCpuPer100k, 2, 'lower'));
  console.log(row('PutRecord acknowledged p50 ms', h.putP50, kl.putP50, 1, 'lower'));
  console.log(row('PutRecord acknowledged p99 ms', h.putP99, kl.putP99, 1, 'lower'));
  console.log(row('put → GetRecords (polling) p50 ms', h.pollP50, kl.pollP50, 1, 'lower'));
  console.log(row('put → GetRecords (polling) p99 ms', h.pollP99, kl.pollP99, 1, 'lower'));
  console.log(row('put → SubscribeToShard p50 ms', h.pushP50, undefined, 1, 'lower'));
  console.log(row('put → SubscribeToShard p99 ms', h.pushP99, undefined, 1, 'lower'));
  console.log(row('put acknowledged → SubscribeToShard p50 ms', h.ackPushP50, undefined, 1, 'lower'));
  console.log(row('put acknowledged → SubscribeToShard p99 ms', h.ackPushP99, undefined, 1, 'lower'));
  console.log('\nhanul acknowledges a put only after an fsync\'d commit; kinesalite keeps records in memory and has no SubscribeToShard.');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
