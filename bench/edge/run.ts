// bench/edge: authenticated no-op requests/s (S3 HeadBucket, SigV4-verified
// in full on every request) at 32 keep-alive connections, against a bare Node
// http server returning the same bytes, side by side in one run. Each server
// gets an unmeasured 2 s warm-up first.
// Run: npm run build && node dist/bench/edge/run.js [seconds]
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnHanul, TEST_KEY } from '../../test/support/hanul.js';
import { cpuSeconds, startBareServer } from '../lib/processes.js';
import { signedHeaders } from '../lib/sign.js';
import { haveWrk, wrk } from '../lib/wrk.js';

const seconds = Number(process.argv[2] ?? 10);
const connections = 32;

if (!(await haveWrk())) {
  console.error('bench/edge needs wrk (apt-get install wrk)');
  process.exit(1);
}
const dataDir = await mkdtemp(join(tmpdir(), 'hanul-bench-edge-'));
const hanul = await spawnHanul({ dataDir, env: { HANUL_LOG_LEVEL: 'silent' } });
try {
  const s3 = new S3Client({ endpoint: hanul.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: TEST_KEY });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench-edge' }));
  s3.destroy();
  const url = `${hanul.endpoint}/bench-edge`;
  const headers = await signedHeaders({ url, method: 'HEAD', service: 's3', region: 'us-east-1', credentials: TEST_KEY });
  delete headers['host'];
  const probe = await fetch(url, { method: 'HEAD', headers });
  if (probe.status !== 200) throw new Error(`HeadBucket answered ${probe.status}`);
  const same: Record<string, string> = {};
  probe.headers.forEach((v, k) => {
    if (k !== 'date' && k !== 'connection' && k !== 'keep-alive') same[k] = v;
  });
  const bare = await startBareServer({ status: probe.status, headers: same });
  try {
    const base = { method: 'HEAD', headers, connections, seconds };
    // CPU per request (from /proc) is the steadier figure on a shared machine; req/s moves with load.
    const measured = async (pid: number, u: string) => {
      const cpu0 = cpuSeconds(pid);
      const r = await wrk({ ...base, url: u });
      const usPerReq = ((cpuSeconds(pid) - cpu0) * 1e6) / (r.requestsPerSec * seconds);
      return { ...r, usPerReq };
    };
    const bareUrl = `http://127.0.0.1:${bare.port}/bench-edge`;
    // Both servers are warmed up first (unmeasured): a fresh process spends its first seconds
    // compiling (TurboFan on V8's helper threads) and growing its heap — ~50% more CPU per
    // request in hanul's first 3 s — and the bench measures steady state, for both alike.
    const warmSeconds = Math.min(2, seconds);
    await wrk({ ...base, seconds: warmSeconds, url: bareUrl });
    await wrk({ ...base, seconds: warmSeconds, url });
    const bareRes = await measured(bare.child.pid as number, bareUrl);
    const hanulRes = await measured(hanul.child.pid as number, url);
    const ratio = hanulRes.requestsPerSec / bareRes.requestsPerSec;
    const row = (name: string, r: typeof bareRes) => `| ${name} | ${r.requestsPerSec.toFixed(0)} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} | ${r.usPerReq.toFixed(1)} | ${r.non2xx + r.errors} |`;
    console.log(`\nbench/edge — HeadBucket, SigV4 verified per request, ${connections} keep-alive connections, ${seconds}s each (wrk)\n`);
    console.log('| server | req/s | p50 ms | p99 ms | server CPU µs/req | non-2xx/errors |');
    console.log('|---|---|---|---|---|---|');
    console.log(row('bare node http (same bytes)', bareRes));
    console.log(row('hanul', hanulRes));
    console.log(`\nhanul / bare = ${(ratio * 100).toFixed(1)}% by req/s (target ≥ 60%); by server CPU per request ${((bareRes.usPerReq / hanulRes.usPerReq) * 100).toFixed(1)}%`);
  } finally {
    bare.stop();
  }
} finally {
  await hanul.kill('SIGTERM');
  await rm(dataDir, { recursive: true, force: true });
}
