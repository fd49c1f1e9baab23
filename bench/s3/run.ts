// bench/s3: hanul's S3 against s3rver (npm) and, as the physical limit, a bare
// Node http server streaming files from the same disk — all in one run.
//   - 4 KiB PUT and GET, 32 keep-alive connections (wrk replaying one SigV4
//     header signature; PUT signs UNSIGNED-PAYLOAD): ops/s
//   - 64 MiB PUT and GET: MB/s (best of 3)
//   - ListObjectsV2 of 1,000 keys from a 100,000-key bucket (wrk): lists/s
//   - hanul's RSS (sampled from /proc) while 2 GiB goes up by one streamed PUT
//     and by a lib-storage multipart Upload
// Run: npm run build && node dist/bench/s3/run.js [seconds-per-wrk-run]
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { spawnHanul, TEST_KEY } from '../../test/support/hanul.js';
import { cpuSeconds } from '../lib/processes.js';
import { signedHeaders } from '../lib/sign.js';
import { haveWrk, wrk } from '../lib/wrk.js';

const seconds = Number(process.argv[2] ?? 8);
const KEYS = Number(process.argv[3] ?? 100_000);
const FILL_BUDGET_MS = 90_000;
// BENCH_S3_LARGE=1: only the 64 MiB and 2 GiB parts, 5 rounds of 64 MiB (the large-object path).
const LARGE_ONLY = process.env['BENCH_S3_LARGE'] === '1';
const ROUNDS = LARGE_ONLY ? 5 : 3;
const progress = (msg: string): void => void process.stderr.write(`[bench/s3 ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const MiB = 1024 * 1024;

interface Target {
  name: string;
  endpoint: string;
  creds: { accessKeyId: string; secretAccessKey: string };
  pid: number;
  signed: boolean;
}

if (!(await haveWrk())) {
  console.error('bench/s3 needs wrk (apt-get install wrk)');
  process.exit(1);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitUp(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function headersFor(t: Target, method: string, path: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  if (!t.signed) return { ...extra };
  const h = await signedHeaders({ url: `${t.endpoint}${path}`, method, service: 's3', region: 'us-east-1', credentials: t.creds, headers: extra });
  delete h['host'];
  return h;
}

/** Server CPU (user + system, from /proc) per operation during one wrk run: steadier than ops/s on a shared machine. */
const cpuPerOp: Record<string, number> = {};
async function measured(t: Target, label: string, opts: Parameters<typeof wrk>[0]): Promise<Awaited<ReturnType<typeof wrk>>> {
  const cpu0 = cpuSeconds(t.pid);
  const r = await wrk(opts);
  if (r.requestsPerSec > 0) cpuPerOp[`${t.name}:${label}`] = ((cpuSeconds(t.pid) - cpu0) * 1e6) / (r.requestsPerSec * seconds);
  return r;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One request with a body from a buffer or a stream; resolves with status and the body's length. */
function send(t: Target, method: string, path: string, headers: Record<string, string>, body?: Buffer | Readable): Promise<{ status: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${t.endpoint}${path}`, { method, headers, agent }, (res) => {
      let bytes = 0;
      let text = '';
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        if (text.length < 2000) text += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

async function ok(p: Promise<{ status: number; text: string }>, what: string): Promise<void> {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
}

async function putBuffer(t: Target, path: string, body: Buffer): Promise<void> {
  const h = await headersFor(t, 'PUT', path, { 'content-length': String(body.length) });
  await ok(send(t, 'PUT', path, h, body), `PUT ${path}`);
}

/** Fills a bucket with empty objects, 64 at a time, within a time budget; returns how many went in and how long it took. */
async function fill(t: Target, bucket: string, n: number): Promise<{ keys: number; ms: number }> {
  const t0 = Date.now();
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < n && Date.now() - t0 < FILL_BUDGET_MS) {
      const i = next++;
      await putBuffer(t, `/${bucket}/k/${String(i).padStart(6, '0')}`, Buffer.alloc(0));
      done++;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return { keys: done, ms: Date.now() - t0 };
}

async function bigPut(t: Target, path: string, file: string): Promise<number> {
  const body = readFileSync(file);
  const h = await headersFor(t, 'PUT', path, { 'content-length': String(body.length) });
  const t0 = process.hrtime.bigint();
  await ok(send(t, 'PUT', path, h, body), `PUT ${path}`);
  return body.length / MiB / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function bigGet(t: Target, path: string, size: number): Promise<number> {
  const h = await headersFor(t, 'GET', path);
  const t0 = process.hrtime.bigint();
  const r = await send(t, 'GET', path, h);
  if (r.status !== 200 || r.bytes !== size) throw new Error(`GET ${path}: ${r.status}, ${r.bytes} bytes`);
  return size / MiB / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** VmRSS and its parts (MB): anonymous memory (heap, buffers) and mapped files (SQLite's mmap, code). */
function rssParts(pid: number): { total: number; anon: number; file: number } {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(st)?.[1] ?? NaN) / 1024;
  return { total: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** Runs `fn` while sampling the RSS of `pid` every 50 ms; returns the peak (and its parts then), the RSS before, and the seconds taken. */
async function sampled(pid: number, fn: () => Promise<void>): Promise<{ peakMb: number; at: { anon: number; file: number }; beforeMb: number; s: number }> {
  const before = rssParts(pid);
  let peak = before;
  const sample = (): void => {
    const now = rssParts(pid);
    if (now.total > peak.total) peak = now;
  };
  const timer = setInterval(sample, 50);
  const t0 = Date.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  sample();
  return { peakMb: peak.total, at: { anon: peak.anon, file: peak.file }, beforeMb: before.total, s: (Date.now() - t0) / 1000 };
}

function generated(total: number, chunk: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, total - sent));
    })(),
  );
}

const load0 = loadavg();
const dir = await mkdtemp(join(tmpdir(), 'hanul-bench-s3-'));
const children: ChildProcess[] = [];
const hanul = await spawnHanul({ dataDir: join(dir, 'hanul'), env: { HANUL_LOG_LEVEL: 'silent' } });
try {
  const s3rverPort = await freePort();
  const s3rverBin = join(dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin', 's3rver.js');
  await (await import('node:fs/promises')).mkdir(join(dir, 's3rver'));
  // s3rver encrypts its continuation tokens with DES, which OpenSSL 3 only has in its legacy provider: without it every truncated listing is a 500.
  const s3rver = spawn(process.execPath, ['--openssl-legacy-provider', s3rverBin, '-d', join(dir, 's3rver'), '-a', '127.0.0.1', '-p', String(s3rverPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  // s3rver logs every request: keep only the tail, to say why it failed if it does.
  let s3rverLog = '';
  const keep = (d: Buffer): void => void (s3rverLog = (s3rverLog + d.toString()).slice(-20_000));
  s3rver.stdout?.on('data', keep);
  s3rver.stderr?.on('data', keep);
  children.push(s3rver);
  await (await import('node:fs/promises')).mkdir(join(dir, 'bare'));
  const bare = spawn(process.execPath, [fileURLToPath(new URL('./bare-file-server.js', import.meta.url)), join(dir, 'bare')], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(bare);
  const barePort = await new Promise<number>((resolve) => {
    let out = '';
    bare.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  await waitUp(`http://127.0.0.1:${s3rverPort}/`);

  const targets: Target[] = [
    { name: 'hanul', endpoint: hanul.endpoint, creds: TEST_KEY, pid: hanul.child.pid as number, signed: true },
    { name: 's3rver', endpoint: `http://127.0.0.1:${s3rverPort}`, creds: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, pid: s3rver.pid as number, signed: true },
    { name: 'bare node http (same disk)', endpoint: `http://127.0.0.1:${barePort}`, creds: TEST_KEY, pid: bare.pid as number, signed: false },
  ];
  const [th, ts, tb] = targets as [Target, Target, Target];
  for (const t of [th, ts]) for (const b of ['small', 'big', 'list', 'list10k']) await ok(send(t, 'PUT', `/${b}`, await headersFor(t, 'PUT', `/${b}`)), `CreateBucket ${t.name}`);

  const rows: string[] = [];
  const res: Record<string, Record<string, number>> = { hanul: {}, s3rver: {}, bare: {} };
  const key = (t: Target): string => (t === th ? 'hanul' : t === ts ? 's3rver' : 'bare');

  // 4 KiB PUT and GET over 512 distinct keys (32 writers on one key would
  // measure per-key write ordering, not throughput): wrk cycles through
  // requests signed in advance.
  const small = 'x'.repeat(4096);
  const rotation = async (t: Target, method: string): Promise<string> => {
    const reqs: string[] = [];
    for (let i = 0; i < 512; i++) {
      const path = t === tb ? `/small-${i}` : `/small/obj-${i}`;
      const extra = method === 'PUT' ? { 'content-type': 'application/octet-stream', 'content-length': '4096' } : {};
      const h = await headersFor(t, method, path, extra);
      const head = Object.entries({ host: new URL(t.endpoint).host, ...h }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      reqs.push(`${method} ${path} HTTP/1.1\r\n${head}\r\n${method === 'PUT' ? small : ''}`);
    }
    return `local reqs = {${reqs.map((r) => JSON.stringify(r)).join(',\n')}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  if i > #reqs then i = 1 end\n  return reqs[i]\nend\n`;
  };
  for (const t of LARGE_ONLY ? [] : targets) {
    const url = `${t.endpoint}/`;
    const put = await measured(t, 'put4k', { url, script: await rotation(t, 'PUT'), connections: 32, seconds });
    const get = await measured(t, 'get4k', { url, script: await rotation(t, 'GET'), connections: 32, seconds });
    res[key(t)]!['put4k'] = put.requestsPerSec;
    res[key(t)]!['get4k'] = get.requestsPerSec;
    const cpu = (l: string): string => `${cpuPerOp[`${t.name}:${l}`]?.toFixed(0) ?? '—'} µs CPU/op`;
    progress(`${t.name} 4 KiB: PUT ${put.requestsPerSec.toFixed(0)}/s (${cpu('put4k')}) GET ${get.requestsPerSec.toFixed(0)}/s (${cpu('get4k')})`);
    if (put.non2xx + put.errors + get.non2xx + get.errors > 0) console.error(`${t.name}: 4 KiB non-2xx/errors PUT ${put.non2xx}/${put.errors} GET ${get.non2xx}/${get.errors}`);
  }

  // 64 MiB PUT and GET, best of 3.
  const bigFile = join(dir, 'big.bin');
  await writeFile(bigFile, randomBytes(64 * MiB));
  for (const t of targets) {
    const path = t === tb ? '/big-obj' : '/big/obj';
    let put = 0;
    let get = 0;
    // Server CPU per MB moved (user + system from /proc): steadier than MB/s on a shared machine.
    let cpu0 = cpuSeconds(t.pid);
    for (let i = 0; i < ROUNDS; i++) put = Math.max(put, await bigPut(t, path, bigFile));
    cpuPerOp[`${t.name}:put64m`] = ((cpuSeconds(t.pid) - cpu0) * 1e3) / (ROUNDS * 64);
    cpu0 = cpuSeconds(t.pid);
    for (let i = 0; i < ROUNDS; i++) get = Math.max(get, await bigGet(t, path, 64 * MiB));
    cpuPerOp[`${t.name}:get64m`] = ((cpuSeconds(t.pid) - cpu0) * 1e3) / (ROUNDS * 64);
    res[key(t)]!['put64m'] = put;
    res[key(t)]!['get64m'] = get;
    progress(`${t.name} 64 MiB: PUT ${put.toFixed(0)} MB/s (${cpuPerOp[`${t.name}:put64m`]?.toFixed(2)} ms CPU/MB) GET ${get.toFixed(0)} MB/s (${cpuPerOp[`${t.name}:get64m`]?.toFixed(2)} ms CPU/MB)`);
  }

  // LIST 1,000 keys from a bucket of KEYS empty objects.
  const filled: Record<string, { keys: number; ms: number }> = {};
  const listFailed: Record<string, string> = {};
  const listMs: Record<string, number> = {};
  for (const t of LARGE_ONLY ? [] : [th, ts]) {
    filled[t.name] = await fill(t, 'list', KEYS);
    progress(`${t.name}: ${filled[t.name]?.keys} keys in ${filled[t.name]?.ms} ms`);
    // The first page (s3rver answers 500 to start-after).
    const path = '/list?list-type=2&max-keys=1000&prefix=k%2F';
    const h = await headersFor(t, 'GET', path);
    const p0 = Date.now();
    const probe = await send(t, 'GET', path, h);
    listMs[t.name] = Date.now() - p0;
    progress(`${t.name}: one LIST alone took ${listMs[t.name]} ms`);
    if (probe.status !== 200 || (probe.text.match(/<Key>/g) ?? []).length === 0) {
      const why = /error[^\n]*/i.exec(s3rverLog.slice(-5000).replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), ''))?.[0] ?? '';
      progress(`${t.name} LIST: ${probe.status} ${probe.text.slice(0, 200)} ${t === ts ? why : ''}`);
      listFailed[t.name] = `${probe.status} ${/<Code>(\w+)/.exec(probe.text)?.[1] ?? ''}`;
      // A smaller bucket so s3rver still has a figure.
      const small10k = await fill(t, 'list10k', 10_000);
      progress(`${t.name}: ${small10k.keys} keys in ${small10k.ms} ms (list10k)`);
      const p10 = '/list10k?list-type=2&max-keys=1000&prefix=k%2F';
      const h10 = await headersFor(t, 'GET', p10);
      const r10 = await measured(t, 'list10k', { url: `${t.endpoint}${p10}`, headers: h10, connections: 32, seconds });
      res[key(t)]!['list10k'] = r10.requestsPerSec;
      progress(`${t.name} LIST (10,000 keys): ${r10.requestsPerSec.toFixed(1)}/s, non-2xx ${r10.non2xx}, errors ${r10.errors}`);
      continue;
    }
    const r = await measured(t, 'list', { url: `${t.endpoint}${path}`, headers: h, connections: 32, seconds });
    res[key(t)]!['list'] = r.requestsPerSec;
    progress(`${t.name} LIST: ${r.requestsPerSec.toFixed(1)}/s, non-2xx ${r.non2xx}, errors ${r.errors}`);
  }

  // Memory while 2 GiB goes up, by one streamed PUT and by lib-storage multipart.
  const GiB2 = 2 * 1024 * MiB;
  const chunk = randomBytes(MiB);
  const single = await sampled(th.pid, async () => {
    const h = await headersFor(th, 'PUT', '/big/two-gib', { 'content-length': String(GiB2) });
    await ok(send(th, 'PUT', '/big/two-gib', h, generated(GiB2, chunk)), '2 GiB PUT');
  });
  await ok(send(th, 'DELETE', '/big/two-gib', await headersFor(th, 'DELETE', '/big/two-gib')), 'DELETE 2 GiB');
  const s3 = new S3Client({ endpoint: th.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: TEST_KEY });
  progress(`2 GiB single PUT: peak RSS ${single.peakMb.toFixed(0)} MB`);
  const multi = await sampled(th.pid, async () => {
    await new Upload({ client: s3, params: { Bucket: 'big', Key: 'two-gib-mpu', Body: generated(GiB2, chunk) }, partSize: 16 * MiB, queueSize: 4 }).done();
  });
  s3.destroy();

  const f = (n: number | undefined, d = 0): string => (n === undefined ? '—' : n.toFixed(d));
  const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? `${(a / b).toFixed(1)}×` : '—');
  const pct = (a: number | undefined, b: number | undefined): string => (a && b ? `${((a / b) * 100).toFixed(0)}%` : '—');
  const h = res['hanul']!;
  const s = res['s3rver']!;
  const b = res['bare']!;
  rows.push(`| 4 KiB PUT, 32 conns (ops/s) | ${f(h['put4k'])} | ${f(s['put4k'])} | ${f(b['put4k'])} | ${ratio(h['put4k'], s['put4k'])} (≥ 5×) | ${pct(h['put4k'], b['put4k'])} |`);
  rows.push(`| 4 KiB GET, 32 conns (ops/s) | ${f(h['get4k'])} | ${f(s['get4k'])} | ${f(b['get4k'])} | ${ratio(h['get4k'], s['get4k'])} (≥ 5×) | ${pct(h['get4k'], b['get4k'])} |`);
  rows.push(`| 64 MiB PUT (MB/s, best of ${ROUNDS}) | ${f(h['put64m'])} | ${f(s['put64m'])} | ${f(b['put64m'])} | ${ratio(h['put64m'], s['put64m'])} | ${pct(h['put64m'], b['put64m'])} |`);
  rows.push(`| 64 MiB GET (MB/s, best of ${ROUNDS}) | ${f(h['get64m'])} | ${f(s['get64m'])} | ${f(b['get64m'])} | ${ratio(h['get64m'], s['get64m'])} | ${pct(h['get64m'], b['get64m'])} (≥ 70%) |`);
  rows.push(`| LIST 1,000 of ${filled['hanul']?.keys} / ${filled['s3rver']?.keys} keys, 32 conns (lists/s) | ${f(h['list'], 1)} | ${listFailed['s3rver'] ? `fails: ${listFailed['s3rver']}` : f(s['list'], 1)} | — | ${ratio(h['list'], s['list'])} (≥ 10×) | — |`);
  if (s['list10k'] !== undefined) rows.push(`| LIST 1,000 of 10,000 keys (s3rver) vs 100,000 (hanul), 32 conns (lists/s) | ${f(h['list'], 1)} | ${f(s['list10k'], 1)} | — | ${ratio(h['list'], s['list10k'])} | — |`);
  console.log(`\nbench/s3 — ${seconds}s per wrk run; load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  console.log('| | hanul | s3rver | bare node http | hanul / s3rver | hanul / bare |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  const c = (n: string, l: string): string => (cpuPerOp[`${n}:${l}`] === undefined ? '—' : cpuPerOp[`${n}:${l}`]!.toFixed(0));
  console.log('\nserver CPU per operation (µs, user + system from /proc):\n');
  console.log('| | hanul | s3rver | bare node http |');
  console.log('|---|---|---|---|');
  for (const [l, what] of [['put4k', '4 KiB PUT'], ['get4k', '4 KiB GET'], ['list', 'LIST 1,000 of 100,000'], ['list10k', 'LIST 1,000 of 10,000']] as const) console.log(`| ${what} | ${c('hanul', l)} | ${c('s3rver', l)} | ${c('bare node http (same disk)', l)} |`);
  const m = (n: string, l: string): string => (cpuPerOp[`${n}:${l}`] === undefined ? '—' : cpuPerOp[`${n}:${l}`]!.toFixed(2));
  for (const [l, what] of [['put64m', '64 MiB PUT, ms per MB'], ['get64m', '64 MiB GET, ms per MB']] as const) console.log(`| ${what} | ${m('hanul', l)} | ${m('s3rver', l)} | ${m('bare node http (same disk)', l)} |`);
  console.log(`\none LIST of 1,000 keys on an idle server: hanul ${listMs['hanul']} ms, s3rver ${listMs['s3rver']} ms (${((listMs['s3rver'] ?? 0) / (listMs['hanul'] ?? 1)).toFixed(0)}×)`);
  console.log(`\nbucket fill (64 parallel PUTs of empty objects): hanul ${filled['hanul']?.keys} keys in ${((filled['hanul']?.ms ?? 0) / 1000).toFixed(1)} s, s3rver ${filled['s3rver']?.keys} keys in ${((filled['s3rver']?.ms ?? 0) / 1000).toFixed(1)} s (budget ${FILL_BUDGET_MS / 1000} s each)`);
  console.log(`hanul peak RSS during 2 GiB single streamed PUT: ${single.peakMb.toFixed(0)} MB (${(2048 / single.s).toFixed(0)} MB/s); during 2 GiB lib-storage multipart (16 MiB parts, 4 at a time): ${multi.peakMb.toFixed(0)} MB (${(2048 / multi.s).toFixed(0)} MB/s); target < 300 MB`);
  const parts = (r: typeof single): string => `before ${r.beforeMb.toFixed(0)} MB; at the peak anonymous ${r.at.anon.toFixed(0)} MB, mapped files ${r.at.file.toFixed(0)} MB`;
  console.log(`  RSS parts — single PUT: ${parts(single)}; multipart: ${parts(multi)}`);
} finally {
  agent.destroy();
  for (const c of children) c.kill('SIGTERM');
  await hanul.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
