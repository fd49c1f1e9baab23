import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { KMSClient } from '@aws-sdk/client-kms';
import { pino } from 'pino';
import { isAwsError } from '../../../src/aws/errors.js';
import { header } from '../../../src/aws/http.js';
import { codecFor } from '../../../src/aws/protocols/index.js';
import { loopbackClientConfig } from '../../../src/aws/protocols/sdk-loopback.js';
import type { ServiceDefinition } from '../../../src/aws/service.js';
import { parseConfig } from '../../../src/config.js';
import { rootPrincipal } from '../../../src/iam/root-key.js';
import { systemClock, type Clock } from '../../../src/lib/clock.js';
import type { AuditRecord, AuditSink, Principal, RequestContext, ServiceDeps } from '../../../src/server/context.js';
import { createCloudTrailService } from '../../../src/services/cloudtrail/index.js';
import type { TrailRecorder } from '../../../src/services/cloudtrail/sink.js';
import { createKmsService, type KmsOptions } from '../../../src/services/kms/index.js';
import { openEmbeddedStores } from '../../../src/storage/embedded.js';

/**
 * KMS driven by the real @aws-sdk/client-kms through hanul's own JSON codec
 * (the SDK's serializer → codec.decode → handler → codec.encode → the SDK's
 * deserializer), on real storage in a temp data dir. Everything but the
 * socket and SigV4: the server e2e tests (server.test.ts) cover those.
 */
export interface KmsFixture {
  kms: KMSClient;
  kmsIn(region: string): KMSClient;
  /** A client that calls as another principal. */
  kmsAs(principal: Principal): KMSClient;
  cloudtrail: CloudTrailClient;
  trail: TrailRecorder;
  clock: Clock;
  dataDir: string;
  service: ServiceDefinition;
  audits: AuditRecord[];
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startKms(opts: { dataDir?: string; env?: Record<string, string>; kms?: KmsOptions; audit?: AuditSink } = {}): Promise<KmsFixture> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'hanul-kms-')));
  const config = parseConfig({ HANUL_DATA_DIR: dataDir, HANUL_LOG_LEVEL: 'silent', ...opts.env });
  const stores = await openEmbeddedStores(dataDir);
  const clock = systemClock();
  const audits: AuditRecord[] = [];
  // CloudTrail's sink exists only once its service does; the KMS service is built first.
  const sinks: { trail?: AuditSink } = {};
  const audit: AuditSink = {
    record(r) {
      audits.push(r);
      sinks.trail?.record(r);
      opts.audit?.record(r);
    },
  };
  const deps: ServiceDeps = { config, clock, stores, log: pino({ level: 'silent' }), audit };
  const service = await createKmsService(deps, opts.kms);
  const ct = createCloudTrailService(deps);
  sinks.trail = ct.recorder;
  await service.start?.();
  const codec = codecFor(service.protocol);
  const root = rootPrincipal(config.accountId, 'AKIAHANULTESTROOT000');
  const clients: KMSClient[] = [];
  let n = 0;
  const responder = (svc: ServiceDefinition, region: string, principal: Principal) =>
      loopbackClientConfig(async (req) => {
        const requestId = `req-${++n}`;
        const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(header(req, 'authorization') ?? '');
        const ctx: RequestContext = {
          ...deps, requestId, principal, region: scope?.[1] ?? region, accountId: config.accountId, signal: new AbortController().signal,
          sourceIp: '127.0.0.1', secure: false, userAgent: header(req, 'user-agent') ?? '', service: svc.name, operation: 'Unknown',
        };
        const ectx = { requestId, requestContentType: header(req, 'content-type') };
        let input: unknown;
        const spec = () => svc.operations[ctx.operation];
        const shaping = (): Pick<AuditRecord, 'eventSource' | 'audit'> => {
          const a = spec()?.audit;
          return { ...(svc.eventSource ? { eventSource: svc.eventSource } : {}), ...(a ? { audit: a } : {}) };
        };
        try {
          const decoded = await codec.decode(req, svc);
          ctx.operation = decoded.operation;
          input = decoded.input;
          const op = spec();
          if (!op) throw new Error(`no operation ${decoded.operation}`);
          const output: unknown = await op.handler(decoded.input, ctx);
          const res = codec.encode(output, decoded.operation, svc, ectx);
          if (svc.audited) audit.record({ ctx, input, output, status: res.status, ...shaping() });
          return res;
        } catch (e) {
          if (!isAwsError(e)) throw e;
          const res = codec.encodeError(e, svc, ectx);
          if (svc.audited) audit.record({ ctx, input, status: res.status, error: { code: e.code, message: e.message }, ...shaping() });
          return res;
        }
      });
  const client = (region: string, principal: Principal) => {
    const c = new KMSClient({ ...responder(service, region, principal), region });
    clients.push(c);
    return c;
  };
  const cloudtrail = new CloudTrailClient({ ...responder(ct, config.region, root), region: config.region });
  return {
    kms: client(config.region, root),
    kmsIn: (region) => client(region, root),
    kmsAs: (p) => client(config.region, p),
    cloudtrail,
    trail: ct.recorder,
    clock,
    dataDir,
    service,
    audits,
    async stop(o = {}) {
      for (const c of clients) c.destroy();
      cloudtrail.destroy();
      await service.stop?.();
      await ct.stop?.();
      await stores.metadata.close();
      await stores.blobs.close();
      if (!o.keepData && opts.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The AWS error a promise rejects with: name (= __type), message, HTTP status. */
export async function awsError(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}
