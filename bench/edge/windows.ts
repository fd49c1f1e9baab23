// Diagnostic: one hanul process, HeadBucket under wrk in consecutive windows,
// server CPU µs/request per window (does a process's cost change over its life?).
// Run: node dist/bench/edge/windows.js [windows=6] [seconds=3]
// HANUL_CLI=<another build's dist/src/cli.js> runs that build; NODE_FLAGS are added to hanul's node.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_KEY } from '../../test/support/hanul.js';
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSeconds } from '../lib/processes.js';

/** CPU seconds of the main thread (tid = pid). */
function mainSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
void readdirSync;
import { signedHeaders } from '../lib/sign.js';
import { wrk } from '../lib/wrk.js';

const windows = Number(process.argv[2] ?? 6);
const seconds = Number(process.argv[3] ?? 3);
const CLI = process.env['HANUL_CLI'] ?? fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const flags = (process.env['NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
const dataDir = await mkdtemp(join(tmpdir(), 'hanul-windows-'));
const child = spawn(process.execPath, [...flags, CLI, 'start'], {
  env: { ...process.env, HANUL_PORT: '0', HANUL_DATA_DIR: dataDir, HANUL_ACCESS_KEY_ID: TEST_KEY.accessKeyId, HANUL_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey, HANUL_LOG_LEVEL: process.env['HANUL_LOG_LEVEL'] ?? 'silent' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const endpoint = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    if (process.env['SERVER_OUT']) process.stderr.write(d);
    out += d.toString();
    const m = /hanul (https?:\/\/[^\s]+)/.exec(out);
    if (m?.[1]) resolve(m[1]);
  });
  child.once('exit', (c) => reject(new Error(`hanul exited ${c}`)));
});
const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: TEST_KEY });
await s3.send(new CreateBucketCommand({ Bucket: 'bench-edge' }));
s3.destroy();
const url = `${endpoint}/bench-edge`;
const headers = await signedHeaders({ url, method: 'HEAD', service: 's3', region: 'us-east-1', credentials: TEST_KEY });
delete headers['host'];
const pid = child.pid!;
// HANUL_CPU=n pins hanul (all its threads) to one CPU; run this script under `taskset -c m` to pin wrk.
if (process.env['HANUL_CPU'] !== undefined) {
  const { execFileSync } = await import('node:child_process');
  execFileSync('taskset', ['-a', '-cp', process.env['HANUL_CPU'], String(pid)], { stdio: 'ignore' });
}
const out: string[] = [];
for (let i = 0; i < windows; i++) {
  const c0 = cpuSeconds(pid);
  const m0 = mainSeconds(pid);
  const r = await wrk({ url, method: 'HEAD', headers, connections: 32, seconds });
  const us = ((cpuSeconds(pid) - c0) * 1e6) / (r.requestsPerSec * seconds);
  const main = ((mainSeconds(pid) - m0) * 1e6) / (r.requestsPerSec * seconds);
  out.push(`${us.toFixed(0)}(main ${main.toFixed(0)})`);
  console.log(`window ${i}: ${us.toFixed(1)} µs/req, ${r.requestsPerSec.toFixed(0)} req/s, non2xx ${r.non2xx + r.errors}, load ${loadavg()[0]!.toFixed(1)}`);
}
console.log(`µs/req by window: ${out.join(' ')}`);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await rm(dataDir, { recursive: true, force: true });
