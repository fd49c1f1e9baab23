// Repeatable hot-path measurements for profiling: starts hanul (optionally
// under `node --cpu-prof` or `valgrind --tool=callgrind`), sends a FIXED number
// of requests per scenario (bench/lib/drive.ts) and prints server CPU µs per
// request from /proc — and, under callgrind, instructions per request, which
// do not move with the machine's load.
// Run: npm run build && node dist/bench/edge/profile.js [head,put,get,bare] [requests=20000] [plain|cpu-prof|callgrind]
// `bare`: the HeadBucket request against the bare Node http server answering hanul's bytes
// (bench/lib/bare-server.ts, plain mode only), for the ratio of CPU per request on the same driver.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TEST_KEY } from '../../test/support/hanul.js';
import { drive, rawRequest, type RawRequest } from '../lib/drive.js';
import { cpuSeconds, startBareServer } from '../lib/processes.js';
import { signedHeaders } from '../lib/sign.js';

const scenarios = (process.argv[2] ?? 'head,put,get').split(',');
const total = Number(process.argv[3] ?? 20_000);
const mode = process.argv[4] ?? 'plain';
const connections = 32;
const run = promisify(execFile);
// Extra flags for hanul's node (e.g. PROFILE_NODE_FLAGS='--trace-deopt' or '--perf-basic-prof' for `perf record -p`).
const nodeFlags = (process.env['PROFILE_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');

// PROFILE_CLI=<another build's dist/src/cli.js>: profile that build with this driver (A/B against a baseline).
const CLI = process.env['PROFILE_CLI'] ?? fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const dataDir = await mkdtemp(join(tmpdir(), 'hanul-profile-'));
const profDir = join(process.cwd(), '.build', 'profiles');
const cmd =
  mode === 'callgrind'
    ? ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${profDir}/callgrind.%p`, process.execPath, '--perf-basic-prof', CLI, 'start']
    : [process.execPath, ...nodeFlags, ...(mode === 'cpu-prof' ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), CLI, 'start'];
const child = spawn(cmd[0]!, cmd.slice(1), {
  env: { ...process.env, HANUL_PORT: '0', HANUL_DATA_DIR: dataDir, HANUL_ACCESS_KEY_ID: TEST_KEY.accessKeyId, HANUL_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey, HANUL_LOG_LEVEL: 'silent' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
// PROFILE_SERVER_OUT=file: hanul's stdout (e.g. --trace-deopt output) goes there.
const serverOut = process.env['PROFILE_SERVER_OUT'] ? createWriteStream(process.env['PROFILE_SERVER_OUT']) : undefined;
const endpoint = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    serverOut?.write(d);
    if (out.length > 65536) return;
    out += d.toString();
    const m = /hanul (https?:\/\/[^\s]+)/.exec(out);
    if (m?.[1]) resolve(m[1]);
  });
  child.once('exit', (c) => reject(new Error(`hanul exited ${c}: ${out}`)));
});
const url = new URL(endpoint);
const pid = child.pid!;

async function signed(method: string, path: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return signedHeaders({ url: `${endpoint}${path}`, method, service: 's3', region: 'us-east-1', credentials: TEST_KEY, headers: extra });
}

const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: TEST_KEY });
await s3.send(new CreateBucketCommand({ Bucket: 'prof' }));
s3.destroy();
const body = randomBytes(4096);
const keys = 512;
const build: Record<string, () => Promise<RawRequest[]>> = {
  head: async () => [rawRequest('HEAD', '/prof', url.host, await signed('HEAD', '/prof'))],
  bare: async () => [rawRequest('HEAD', '/prof', url.host, await signed('HEAD', '/prof'))],
  put: async () => Promise.all(Array.from({ length: keys }, async (_, i) => rawRequest('PUT', `/prof/k${i}`, url.host, await signed('PUT', `/prof/k${i}`, { 'content-length': '4096' }), body))),
  get: async () => Promise.all(Array.from({ length: keys }, async (_, i) => rawRequest('GET', `/prof/k${i}`, url.host, await signed('GET', `/prof/k${i}`)))),
};

const callgrind = async (...args: string[]): Promise<void> => void (await run('callgrind_control', [...args, String(pid)]));
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${total} requests per scenario, ${connections} connections, mode ${mode}`);
let bare: Awaited<ReturnType<typeof startBareServer>> | undefined;
for (const name of scenarios) {
  const reqs = await build[name]!();
  if (name === 'bare') {
    // The bare server answers with hanul's HeadBucket bytes (less Date/Connection), as bench/edge/run.js.
    const probe = await fetch(`${endpoint}/prof`, { method: 'HEAD', headers: Object.fromEntries(Object.entries(await signed('HEAD', '/prof')).filter(([k]) => k !== 'host')) });
    const same: Record<string, string> = {};
    probe.headers.forEach((v, k) => {
      if (k !== 'date' && k !== 'connection' && k !== 'keep-alive') same[k] = v;
    });
    bare = await startBareServer({ status: probe.status, headers: same });
  }
  const port = bare && name === 'bare' ? bare.port : Number(url.port);
  const target = bare && name === 'bare' ? (bare.child.pid as number) : pid;
  // Warm-up (JIT, caches), not measured.
  await drive(port, reqs, Math.min(total, mode === 'callgrind' ? 500 : 3000), connections);
  if (mode === 'callgrind') {
    await callgrind('-z');
    await callgrind('-i', 'on');
  }
  const cpu0 = cpuSeconds(target);
  const t0 = performance.now();
  const statuses = await drive(port, reqs, total, connections);
  const secs = (performance.now() - t0) / 1e3;
  const cpu = cpuSeconds(target) - cpu0;
  let line = `${name}: ${((cpu * 1e6) / total).toFixed(1)} µs CPU/req, ${(total / secs).toFixed(0)} req/s, statuses ${JSON.stringify(Object.fromEntries(statuses))}`;
  if (mode === 'callgrind') {
    await callgrind('-i', 'off');
    // The dump's "summary:" line counts the instructions since the zeroing above.
    await callgrind('-d', name);
    const files = (await readdir(profDir)).filter((f) => f.startsWith(`callgrind.${pid}`));
    const last = files.sort().at(-1);
    const text = last ? readFileSync(join(profDir, last), 'utf8') : '';
    const m = /^totals: (\d+)/m.exec(text);
    if (m) line += `, ${(Number(m[1]) / total).toFixed(0)} instructions/req (${last})`;
  }
  console.log(line);
}
bare?.stop();
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await rm(dataDir, { recursive: true, force: true });
