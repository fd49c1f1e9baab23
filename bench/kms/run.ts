// bench/kms: what KMS cryptography and storage cost on the request path.
// Encrypt and Decrypt of 1 KiB and GenerateDataKey (AES_256) against one
// symmetric key, at 32 keep-alive connections with SigV4 (every request
// verified in full), side by side with an authenticated no-op
// (GenerateRandom of 1 byte: SigV4, JSON codec, pipeline, CloudTrail record,
// but no key and no storage read). Every call is audited, as in production.
// With SoftHSM2 installed, also Encrypt/Decrypt 1 KiB under a key of a custom
// key store (AWS_CLOUDHSM on a SoftHSM2 token in a temp dir: AES-GCM in the token).
// Run: npm run build && node dist/bench/kms/run.js [seconds]
import { ConnectCustomKeyStoreCommand, CreateCustomKeyStoreCommand, CreateKeyCommand, DescribeCustomKeyStoresCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnHanul, TEST_KEY, waitFor } from '../../test/support/hanul.js';
import { cpuSeconds } from '../lib/processes.js';
import { signedHeaders } from '../lib/sign.js';
import { haveWrk, wrk, type WrkResult } from '../lib/wrk.js';

const seconds = Number(process.argv[2] ?? 10);
const connections = 32;

if (!(await haveWrk())) {
  console.error('bench/kms needs wrk (apt-get install wrk)');
  process.exit(1);
}
const dataDir = await mkdtemp(join(tmpdir(), 'hanul-bench-kms-'));
const softhsm = '/usr/lib/softhsm/libsofthsm2.so';
const withHsm = existsSync(softhsm);
const env: Record<string, string> = { HANUL_LOG_LEVEL: 'silent' };
if (withHsm) {
  // A token of our own, in the bench's temp dir (removed with it).
  const conf = join(dataDir, 'softhsm2.conf');
  await mkdir(join(dataDir, 'tokens'));
  await writeFile(conf, `directories.tokendir = ${join(dataDir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  await promisify(execFile)('softhsm2-util', ['--init-token', '--free', '--label', 'cluster-benchhsm01', '--pin', 'bench-pin', '--so-pin', 'bench-so-pin'], { env: { ...process.env, SOFTHSM2_CONF: conf } });
  env['SOFTHSM2_CONF'] = conf;
}
const hanul = await spawnHanul({ dataDir: join(dataDir, 'data'), env });
try {
  const kms = new KMSClient({ endpoint: hanul.endpoint, region: 'us-east-1', credentials: TEST_KEY });
  const keyId = (await kms.send(new CreateKeyCommand({ Description: 'bench' }))).KeyMetadata?.KeyId as string;
  const plaintext = new Uint8Array(1024).fill(7);
  const blob = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }))).CiphertextBlob as Uint8Array;
  let hsm: { keyId: string; blob: Uint8Array } | undefined;
  if (withHsm) {
    const { CustomKeyStoreId: id } = await kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'bench', CloudHsmClusterId: 'cluster-benchhsm01', KeyStorePassword: 'bench-pin', TrustAnchorCertificate: 'bench' }));
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await waitFor(async () => (await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores?.[0]?.ConnectionState === 'CONNECTED');
    const hsmKey = (await kms.send(new CreateKeyCommand({ CustomKeyStoreId: id, Origin: 'AWS_CLOUDHSM' }))).KeyMetadata?.KeyId as string;
    hsm = { keyId: hsmKey, blob: (await kms.send(new EncryptCommand({ KeyId: hsmKey, Plaintext: plaintext }))).CiphertextBlob as Uint8Array };
  }
  kms.destroy();

  const url = `${hanul.endpoint}/`;
  const call = async (op: string, input: object) => {
    const body = JSON.stringify(input);
    const headers = await signedHeaders({
      url, method: 'POST', service: 'kms', region: 'us-east-1', credentials: TEST_KEY, body,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${op}` },
    });
    delete headers['host'];
    const probe = await fetch(url, { method: 'POST', headers, body });
    if (probe.status !== 200) throw new Error(`${op} answered ${probe.status}: ${await probe.text()}`);
    return { method: 'POST', url, headers, body, connections, seconds };
  };
  const cases: [string, Awaited<ReturnType<typeof call>>][] = [
    ['no-op (GenerateRandom 1 B)', await call('GenerateRandom', { NumberOfBytes: 1 })],
    ['Encrypt 1 KiB', await call('Encrypt', { KeyId: keyId, Plaintext: Buffer.from(plaintext).toString('base64') })],
    ['Decrypt 1 KiB', await call('Decrypt', { CiphertextBlob: Buffer.from(blob).toString('base64') })],
    ['GenerateDataKey AES_256', await call('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256' })],
  ];
  if (hsm) {
    cases.push(['Encrypt 1 KiB, SoftHSM2 key store', await call('Encrypt', { KeyId: hsm.keyId, Plaintext: Buffer.from(plaintext).toString('base64') })]);
    cases.push(['Decrypt 1 KiB, SoftHSM2 key store', await call('Decrypt', { CiphertextBlob: Buffer.from(hsm.blob).toString('base64') })]);
  }
  for (const [, c] of cases) await wrk({ ...c, seconds: 2 });
  const results: [string, WrkResult, number][] = [];
  for (const [name, c] of cases) {
    const cpu0 = cpuSeconds(hanul.child.pid as number);
    const r = await wrk(c);
    results.push([name, r, (cpuSeconds(hanul.child.pid as number) - cpu0) / seconds]);
  }
  const base = results[0]?.[1].requestsPerSec ?? 1;
  console.log(`\nbench/kms — ${connections} keep-alive connections, SigV4, ${seconds}s each (wrk), every call audited to CloudTrail\n`);
  console.log('| operation | ops/s | p50 ms | p99 ms | vs no-op | server CPU (cores) | non-2xx/errors |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, r, cpu] of results) {
    console.log(`| ${name} | ${r.requestsPerSec.toFixed(0)} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} | ${((r.requestsPerSec / base) * 100).toFixed(0)}% | ${cpu.toFixed(2)} | ${r.non2xx + r.errors} |`);
  }
  const sym = results.slice(1, 4).map(([, r]) => r.requestsPerSec);
  console.log(`\nsymmetric ops/s: min ${Math.min(...sym).toFixed(0)} (target ≥ 5000 on 2 cores)`);
} finally {
  await hanul.kill('SIGTERM');
  await rm(dataDir, { recursive: true, force: true });
}
