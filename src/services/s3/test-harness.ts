/**
 * Test support: the S3 service on real embedded stores in a temp dir, driven
 * by a real S3Client through the SDK loopback (codec decode → handler →
 * codec encode, no network, no SigV4). For domain tests that need no HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { AwsError } from '../../aws/errors.js';
import { header } from '../../aws/http.js';
import { restXmlCodec } from '../../aws/protocols/rest-xml.js';
import { loopbackClientConfig } from '../../aws/protocols/sdk-loopback.js';
import type { ServiceDefinition } from '../../aws/service.js';
import { parseConfig } from '../../config.js';
import { manualClock, type Clock } from '../../lib/clock.js';
import type { PeerServices, RequestContext, ServiceDeps } from '../../server/context.js';
import { openEmbeddedStores } from '../../storage/embedded.js';
import type { Stores } from '../../storage/ports.js';
import { createS3Service } from './index.js';

export interface S3Harness {
  client: S3Client;
  service: ServiceDefinition;
  clock: Clock;
  stores: Stores;
  dir: string;
  ctx(): RequestContext;
  close(): Promise<void>;
}

/** `peers`: other services S3 calls in-process (a stand-in KMS for SSE-KMS tests). */
export async function startS3Harness(opts: { region?: string; peers?: PeerServices } = {}): Promise<S3Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'hanul-s3-'));
  const stores = await openEmbeddedStores(dir);
  const clock = manualClock(Date.UTC(2025, 5, 1, 12, 0, 0));
  const config = parseConfig({ HANUL_DATA_DIR: dir, HANUL_LOG_LEVEL: 'silent' });
  const log = pino({ level: 'silent' });
  const deps: ServiceDeps = { config, clock, stores, log, audit: { record() {} }, ...(opts.peers ? { peers: opts.peers } : {}) };
  const service = await createS3Service(deps);
  const region = opts.region ?? 'us-east-1';
  let n = 0;
  const ctx = (): RequestContext => ({
    ...deps,
    requestId: `REQ${++n}`,
    principal: { type: 'root', arn: `arn:aws:iam::${config.accountId}:root`, accountId: config.accountId, userId: config.accountId },
    region,
    accountId: config.accountId,
    signal: new AbortController().signal,
    sourceIp: '127.0.0.1',
    secure: false,
    userAgent: 'test',
    service: 's3',
    operation: 'Unknown',
  });
  const client = new S3Client({
    ...loopbackClientConfig(async (req) => {
      const c = ctx();
      const enc = { requestId: c.requestId, hostId: 'HOST', requestContentType: header(req, 'content-type') };
      try {
        const raw = service.rawHandler ? await service.rawHandler(req, c) : undefined;
        if (raw) return raw;
        const decoded = await restXmlCodec.decode(req, service);
        const spec = service.operations[decoded.operation];
        if (!spec) throw new AwsError('NotImplemented', 501, `${decoded.operation} is not implemented`);
        const out: unknown = await spec.handler(decoded.input, { ...c, operation: decoded.operation });
        return restXmlCodec.encode(out, decoded.operation, service, enc);
      } catch (e) {
        if (e instanceof AwsError) return restXmlCodec.encodeError(e, service, enc);
        throw e;
      }
    }),
    region,
    forcePathStyle: true,
  });
  return {
    client,
    service,
    clock,
    stores,
    dir,
    ctx,
    async close() {
      client.destroy();
      await service.stop?.();
      await stores.metadata.close();
      await stores.blobs.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The error an SDK call rejected with: its name (S3 code) and HTTP status. */
export async function s3Failure(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; error: Error & Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } } & Record<string, unknown>;
    return { name: err.name, status: err.$metadata?.httpStatusCode, error: err };
  }
  throw new Error('expected the call to fail');
}
