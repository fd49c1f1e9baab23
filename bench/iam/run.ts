// bench/iam: what authorization costs on the authenticated no-op path.
// S3 HeadBucket (SigV4 verified, policies evaluated) at 32 keep-alive
// connections: the root user (no identity policies to evaluate) vs an IAM
// user holding 10 managed policies of 20 statements each, side by side.
// Run: npm run build && node dist/bench/iam/run.js [seconds]
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnHanul, TEST_KEY } from '../../test/support/hanul.js';
import { signedHeaders } from '../lib/sign.js';
import { haveWrk, wrk } from '../lib/wrk.js';

const seconds = Number(process.argv[2] ?? 10);
const connections = 32;
const BUCKET = 'bench-iam';

/** Ten policies of twenty statements: realistic noise, with the one that allows HeadBucket last. */
function policies(): string[] {
  return Array.from({ length: 10 }, (_, p) => {
    const statements: object[] = Array.from({ length: 20 }, (_, i) => ({
      Sid: `P${p}S${i}`,
      Effect: 'Allow',
      Action: [`s3:Get${p}${i}*`, `kinesis:Describe${i}*`, 'kms:Decrypt'],
      Resource: [`arn:aws:s3:::bucket-${p}-${i}/*`, `arn:aws:kinesis:*:*:stream/s-${p}-${i}`],
      ...(i % 4 === 0 ? { Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } } } : {}),
    }));
    if (p === 9) statements[19] = { Sid: 'AllowHead', Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}`, Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } };
    return JSON.stringify({ Version: '2012-10-17', Statement: statements });
  });
}

/** A process's user+system CPU time in ms, from /proc (Linux). */
async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the command name), in clock ticks.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

if (!(await haveWrk())) {
  console.error('bench/iam needs wrk (apt-get install wrk)');
  process.exit(1);
}
const dataDir = await mkdtemp(join(tmpdir(), 'hanul-bench-iam-'));
const hanul = await spawnHanul({ dataDir, env: { HANUL_LOG_LEVEL: 'silent' } });
try {
  const cfg = { endpoint: hanul.endpoint, region: 'us-east-1', credentials: TEST_KEY };
  const s3 = new S3Client({ ...cfg, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  s3.destroy();
  const iam = new IAMClient(cfg);
  await iam.send(new CreateUserCommand({ UserName: 'bench' }));
  for (const [i, doc] of policies().entries()) {
    const p = await iam.send(new CreatePolicyCommand({ PolicyName: `bench-${i}`, PolicyDocument: doc }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'bench', PolicyArn: p.Policy?.Arn }));
  }
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'bench' }))).AccessKey;
  iam.destroy();
  if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error('no access key');
  const user = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };

  const url = `${hanul.endpoint}/${BUCKET}`;
  const headersFor = async (credentials: { accessKeyId: string; secretAccessKey: string }) => {
    const h = await signedHeaders({ url, method: 'HEAD', service: 's3', region: 'us-east-1', credentials });
    delete h['host'];
    const probe = await fetch(url, { method: 'HEAD', headers: h });
    if (probe.status !== 200) throw new Error(`HeadBucket as ${credentials.accessKeyId} answered ${probe.status}`);
    return h;
  };
  const rootHeaders = await headersFor(TEST_KEY);
  const userHeaders = await headersFor(user);
  const base = { method: 'HEAD', url, connections, seconds };
  // Warm both paths (JIT, caches) before measuring.
  await wrk({ ...base, headers: rootHeaders, seconds: 2 });
  await wrk({ ...base, headers: userHeaders, seconds: 2 });
  // Alternating rounds, median of each: on a shared machine, load drifts between runs.
  const rounds = 3;
  const rootRuns: Awaited<ReturnType<typeof wrk>>[] = [];
  const userRuns: Awaited<ReturnType<typeof wrk>>[] = [];
  // Server CPU per request as well: less at the mercy of other load than req/s.
  const cpu = { root: [] as number[], user: [] as number[] };
  const measured = async (which: 'root' | 'user', headers: Record<string, string>) => {
    const before = await cpuMs(hanul.child.pid);
    const r = await wrk({ ...base, headers });
    const used = (await cpuMs(hanul.child.pid)) - before;
    cpu[which].push((used * 1000) / (r.requestsPerSec * seconds));
    return r;
  };
  for (let i = 0; i < rounds; i++) {
    rootRuns.push(await measured('root', rootHeaders));
    userRuns.push(await measured('user', userHeaders));
  }
  const median = (runs: typeof rootRuns) => [...runs].sort((a, b) => a.requestsPerSec - b.requestsPerSec)[Math.floor(runs.length / 2)] as (typeof runs)[number];
  const rootRes = median(rootRuns);
  const userRes = median(userRuns);
  console.log(`rounds (req/s): root ${rootRuns.map((r) => r.requestsPerSec.toFixed(0)).join(', ')}; user ${userRuns.map((r) => r.requestsPerSec.toFixed(0)).join(', ')}`);
  const row = (name: string, r: typeof rootRes) => `| ${name} | ${r.requestsPerSec.toFixed(0)} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} | ${r.non2xx + r.errors} |`;
  console.log(`\nbench/iam — HeadBucket, ${connections} keep-alive connections, ${rounds} alternating rounds of ${seconds}s, medians (wrk)\n`);
  console.log('| caller | req/s | p50 ms | p99 ms | non-2xx/errors |');
  console.log('|---|---|---|---|---|');
  console.log(row('root (no identity policies)', rootRes));
  console.log(row('IAM user, 10 policies × 20 statements', userRes));
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  console.log(`server CPU per request (rounds): root ${cpu.root.map((x) => x.toFixed(0)).join(", ")}; user ${cpu.user.map((x) => x.toFixed(0)).join(", ")}`);
  console.log(`server CPU per request (median): root ${med(cpu.root).toFixed(1)} µs, user ${med(cpu.user).toFixed(1)} µs → +${((med(cpu.user) / med(cpu.root) - 1) * 100).toFixed(1)}%`);
  const cost = 1 - userRes.requestsPerSec / rootRes.requestsPerSec;
  console.log(`\nuser / root = ${((userRes.requestsPerSec / rootRes.requestsPerSec) * 100).toFixed(1)}%  → authorization costs ${(cost * 100).toFixed(1)}% (target < 10%)`);
} finally {
  await hanul.kill('SIGTERM');
  await rm(dataDir, { recursive: true, force: true });
}
