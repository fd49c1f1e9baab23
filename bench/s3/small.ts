// bench/s3/small: only the 4 KiB PUT and GET phases of bench/s3/run.ts (32
// connections, wrk replaying 512 pre-signed requests), run against two hanul
// builds A and B interleaved (A,B,A,B,…): server CPU µs/op from /proc. For
// iterating on the small-object path; run.ts stays the figure of record.
// Run: node dist/bench/s3/small.js <dist-of-A> <dist-of-B> [pairs] [seconds]
//   e.g. node dist/bench/s3/small.js dist ../s3small-base/dist 3 6
// BENCH_CPU_PROF=<dir>: start A with --cpu-prof into <dir>.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchOf, TEST_KEY } from '../../test/support/hanul.js';
import { cpuSeconds } from '../lib/processes.js';
import { signedHeaders } from '../lib/sign.js';
import { wrk } from '../lib/wrk.js';

const [distA = 'dist', distB = 'dist', pairsArg = '3', secondsArg = '6'] = process.argv.slice(2);
const pairs = Number(pairsArg);
const seconds = Number(secondsArg);
const prof = process.env['BENCH_CPU_PROF'];
// BENCH_PHASES=put|get: measure only one of the two (both are still warmed up).
const phases = (process.env['BENCH_PHASES'] ?? 'put,get').split(',');

interface Server {
  child: ChildProcess;
  endpoint: string;
  pid: number;
}

async function start(dist: string, dataDir: string, profile: boolean): Promise<Server> {
  const args = profile && prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  // BENCH_A_FLAGS: more node flags for A (e.g. --perf-basic-prof, for perf to name JS frames).
  if (profile && process.env['BENCH_A_FLAGS']) args.push(...(process.env['BENCH_A_FLAGS']).split(' '));
  // Each build starts as its `hanul` bin does (its shebang's env and node flags).
  const cli = resolve(dist, 'src/cli.js');
  const launch = launchOf(cli);
  const child = spawn(process.execPath, [...launch.nodeArgs, ...args, cli, 'start'], {
    env: { ...process.env, ...launch.env, HANUL_PORT: '0', HANUL_DATA_DIR: dataDir, HANUL_ACCESS_KEY_ID: TEST_KEY.accessKeyId, HANUL_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey, HANUL_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const endpoint = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`hanul (${dist}) did not start: ${out}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /hanul (https?:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
  });
  return { child, endpoint, pid: child.pid as number };
}

async function headers(endpoint: string, method: string, path: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const h = await signedHeaders({ url: `${endpoint}${path}`, method, service: 's3', region: 'us-east-1', credentials: TEST_KEY, headers: extra });
  delete h['host'];
  return h;
}

const small = 'x'.repeat(4096);
async function rotation(endpoint: string, method: string): Promise<string> {
  const reqs: string[] = [];
  for (let i = 0; i < 512; i++) {
    const path = `/small/obj-${i}`;
    const extra: Record<string, string> = method === 'PUT' ? { 'content-type': 'application/octet-stream', 'content-length': '4096' } : {};
    const h = await headers(endpoint, method, path, extra);
    h['host'] = new URL(endpoint).host;
    const head = Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    reqs.push(`${method} ${path} HTTP/1.1\r\n${head}\r\n${method === 'PUT' ? small : ''}`);
  }
  return `local reqs = {${reqs.map((r) => JSON.stringify(r)).join(',\n')}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  if i > #reqs then i = 1 end\n  return reqs[i]\nend\n`;
}

/** CPU seconds of this process's reaped children (wrk), from /proc (cutime + cstime). */
function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

async function phase(s: Server, script: string): Promise<{ rps: number; cpuUs: number; wrkUs: number; bad: number }> {
  const c0 = cpuSeconds(s.pid);
  const w0 = childCpuSeconds();
  const r = await wrk({ url: `${s.endpoint}/`, script, connections: 32, seconds });
  const cpu = cpuSeconds(s.pid) - c0;
  const ops = r.requestsPerSec * seconds;
  return { rps: r.requestsPerSec, cpuUs: (cpu * 1e6) / ops, wrkUs: ((childCpuSeconds() - w0) * 1e6) / ops, bad: r.non2xx + r.errors };
}

const dir = await mkdtemp(join(tmpdir(), 'hanul-bench-s3small-'));
const servers: Record<'A' | 'B', Server> = {
  A: await start(distA, join(dir, 'a'), true),
  B: await start(distB, join(dir, 'b'), false),
};
try {
  const scripts: Record<string, { put: string; get: string }> = {};
  for (const [name, s] of Object.entries(servers)) {
    const h = await headers(s.endpoint, 'PUT', '/small');
    const r = await fetch(`${s.endpoint}/small`, { method: 'PUT', headers: h });
    if (r.status !== 200) throw new Error(`CreateBucket ${name}: ${r.status} ${await r.text()}`);
    scripts[name] = { put: await rotation(s.endpoint, 'PUT'), get: await rotation(s.endpoint, 'GET') };
    console.error(`${name}: pid ${s.pid}`);
    // Warm-up: every key exists before the first measured GET, and both JITs are warm.
    await phase(s, scripts[name].put);
    await phase(s, scripts[name].get);
  }
  console.log(`load ${loadavg().map((l) => l.toFixed(2)).join(' ')} · ${new Date().toISOString()} · ${seconds}s per phase`);
  const sum: Record<string, number[]> = { 'A put': [], 'B put': [], 'A get': [], 'B get': [] };
  for (let i = 0; i < pairs; i++) {
    const line: string[] = [`pair ${i + 1}:`];
    // Who goes first alternates, so neither build always follows the other's GET run.
    for (const name of i % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
      const s = servers[name];
      const sc = scripts[name] as { put: string; get: string };
      const skipped = { rps: NaN, cpuUs: NaN, wrkUs: NaN, bad: 0 };
      const put = phases.includes('put') ? await phase(s, sc.put) : skipped;
      const get = phases.includes('get') ? await phase(s, sc.get) : skipped;
      sum[`${name} put`]?.push(put.cpuUs);
      sum[`${name} get`]?.push(get.cpuUs);
      line.push(`${name} PUT ${put.rps.toFixed(0)}/s ${put.cpuUs.toFixed(0)} µs (wrk ${put.wrkUs.toFixed(0)}), GET ${get.rps.toFixed(0)}/s ${get.cpuUs.toFixed(0)} µs (wrk ${get.wrkUs.toFixed(0)})${put.bad + get.bad > 0 ? ` (non-2xx/errors ${put.bad}/${get.bad})` : ''}`);
    }
    console.log(line.join(' | '));
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  for (const k of Object.keys(sum)) console.log(`median ${k}: ${med(sum[k] as number[]).toFixed(0)} µs/op`);
  console.log(`load ${loadavg().map((l) => l.toFixed(2)).join(' ')} · ${new Date().toISOString()}`);
} finally {
  for (const s of Object.values(servers)) {
    s.child.kill('SIGTERM');
    await new Promise((r) => (s.child.exitCode === null ? s.child.once('exit', r) : r(null)));
  }
  await rm(dir, { recursive: true, force: true });
}
