// bench/kms/handlers: CPU per call of the KMS handlers alone (no HTTP, no
// SigV4, no codec) and of building + storing its CloudTrail event, on real
// storage — the part of a request's cost that is KMS's own.
// Run: npm run build && node dist/bench/kms/handlers.js [iterations]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.js';
import { rootPrincipal } from '../../src/iam/root-key.js';
import { systemClock } from '../../src/lib/clock.js';
import type { AuditRecord, RequestContext, ServiceDeps } from '../../src/server/context.js';
import { createCloudTrailService } from '../../src/services/cloudtrail/index.js';
import { createKmsService } from '../../src/services/kms/index.js';
import { openEmbeddedStores } from '../../src/storage/embedded.js';

const n = Number(process.argv[2] ?? 20000);
const dataDir = await mkdtemp(join(tmpdir(), 'hanul-bench-kmsh-'));
const config = parseConfig({ HANUL_DATA_DIR: dataDir, HANUL_LOG_LEVEL: 'silent' });
const stores = await openEmbeddedStores(dataDir);
const deps: ServiceDeps = { config, clock: systemClock(), stores, log: pino({ level: 'silent' }), audit: { record() {} } };
const kms = await createKmsService(deps);
const ct = createCloudTrailService(deps);
let seq = 0;
const ctx = (operation: string): RequestContext => ({
  ...deps, requestId: `r-${++seq}`, principal: rootPrincipal(config.accountId, 'AKIABENCH'), region: config.region, accountId: config.accountId,
  signal: new AbortController().signal, sourceIp: '127.0.0.1', secure: false, userAgent: 'bench', service: 'kms', operation,
});
const call = (op: string, input: object) => (kms.operations[op] as { handler(i: unknown, c: RequestContext): Promise<any> }).handler(input, ctx(op));
try {
  const keyId = ((await call('CreateKey', {})) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
  const plaintext = new Uint8Array(1024).fill(7);
  const blob = ((await call('Encrypt', { KeyId: keyId, Plaintext: plaintext })) as { CiphertextBlob: Uint8Array }).CiphertextBlob;
  const cases: [string, string, object][] = [
    ['GenerateRandom 1 B', 'GenerateRandom', { NumberOfBytes: 1 }],
    ['Encrypt 1 KiB', 'Encrypt', { KeyId: keyId, Plaintext: plaintext }],
    ['Decrypt 1 KiB', 'Decrypt', { CiphertextBlob: blob }],
    ['GenerateDataKey AES_256', 'GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256' }],
  ];
  console.log(`\nbench/kms/handlers — ${n} calls each, one core, no HTTP/SigV4/codec\n`);
  console.log('| operation | handler µs/call | + CloudTrail event µs/call |');
  console.log('|---|---|---|');
  for (const [name, op, input] of cases) {
    for (let i = 0; i < 2000; i++) await call(op, input);
    let t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await call(op, input);
    let d = process.cpuUsage(t0);
    const handlerUs = (d.user + d.system) / n;
    const spec = kms.operations[op];
    t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const c = ctx(op);
      const output: unknown = await call(op, input);
      const rec: AuditRecord = { ctx: c, input, output, status: 200, eventSource: 'kms.amazonaws.com', ...(spec?.audit ? { audit: spec.audit } : {}) };
      ct.recorder.record(rec);
      if (i % 500 === 0) await ct.recorder.flush();
    }
    await ct.recorder.flush();
    d = process.cpuUsage(t0);
    console.log(`| ${name} | ${handlerUs.toFixed(1)} | ${((d.user + d.system) / n).toFixed(1)} |`);
  }
} finally {
  await kms.stop?.();
  await ct.stop?.();
  await stores.metadata.close();
  await stores.blobs.close();
  await rm(dataDir, { recursive: true, force: true });
}
