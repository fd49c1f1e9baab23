import { randomUUID } from 'node:crypto';
import { nativeGcm, nativeGcmError, useNativeGcm } from '../crypto/aes-gcm.js';
import { readFile } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import { indexServices } from '../aws/routing.js';
import type { ServiceDefinition, ServiceFactory } from '../aws/service.js';
import type { CredentialLookup } from '../aws/sigv4/index.js';
import type { Config } from '../config.js';
import { createIamAuthorizer } from '../iam/authorize.js';
import { iamCredentialLookup } from '../iam/runtime.js';
import { loadRootKey, rootPrincipal, type RootKey } from '../iam/root-key.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { openEmbeddedStores } from '../storage/embedded.js';
import type { Stores } from '../storage/ports.js';
import { SERVICES } from '../services/registry.js';
import { createAdmin } from './admin.js';
import { createAuditHub } from './audit.js';
import type { PeerServices, RequestContext, ServiceDeps } from './context.js';
import { isAwsError, notImplemented } from '../aws/errors.js';
import { listen, type Listener } from './listener.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createPipeline, type Authorizer } from './pipeline.js';
import { createProtection, registerProtection } from './shield/protection.js';
import { VERSION } from './version.js';
import { BlobSweeper } from '../storage/blob-sweep.js';

export interface App {
  listener: Listener;
  /** HANUL_WEBSITE_PORT's listener (S3 website endpoint only), when configured. */
  websiteListener?: Listener;
  endpoint: string;
  rootKey: RootKey;
  config: Config;
  clock: Clock;
  stores: Stores;
  metrics: Metrics;
  services: readonly ServiceDefinition[];
  /** Graceful: stop accepting, finish in-flight requests (bounded), stop workers, close stores. */
  close(): Promise<void>;
}

export interface AppOptions {
  clock?: Clock;
  log?: Logger;
  services?: readonly ServiceFactory[];
  /** Default: the IAM policy engine (src/iam/authorize.ts). */
  authorize?: Authorizer;
  /** Credential sources consulted after the root key. Default: IAM users' access keys and STS sessions. */
  credentials?: (deps: ServiceDeps) => CredentialLookup;
}

/** Builds and starts hanul from a config: storage → services → pipeline → listener. */
export async function startApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const startedAt = Date.now();
  const log = opts.log ?? pino({ level: config.logLevel, base: null });
  useNativeGcm(config.nativeGcm);
  if (config.nativeGcm && nativeGcm() === undefined) log.info(`AES-GCM by node:crypto: the native addon ${nativeGcmError ?? 'is off'}`);
  const clock = opts.clock ?? systemClock();
  const rootKey = await loadRootKey(config);
  const stores = await openEmbeddedStores(config.dataDir);
  const metrics = createMetrics();
  const audit = createAuditHub();
  const peerIndex = new Map<string, ServiceDefinition>();
  const peers: PeerServices = {
    async resourcePolicy(service, resourceArn, ctx) {
      return peerIndex.get(service)?.resourcePolicy?.(resourceArn, ctx);
    },
    async call<O>(service: string, operation: string, input: unknown, ctx: RequestContext): Promise<O> {
      const callee = peerIndex.get(service);
      const spec = callee?.operations[operation];
      if (!callee || !spec) throw notImplemented(service, operation);
      if (!callee.audited || spec.audit?.dataEvent === true) return (await spec.handler(input, { ...ctx, signal: ctx.signal, service, operation })) as O;
      // AWS records a service's calls on the caller's behalf (Kinesis → KMS GenerateDataKey) as the
      // caller's, invoked by the service, with a request id of their own. The handler and the record
      // share one ctx: audit shapers may read what the handler noted on it (KMS's key resources).
      // `signal` is a getter of the pipeline's context, which a spread does not copy.
      const auditCtx: RequestContext = { ...ctx, signal: ctx.signal, service, operation, requestId: randomUUID() };
      const caller = peerIndex.get(ctx.service);
      const invokedBy = caller?.eventSource ?? `${ctx.service}.amazonaws.com`;
      const shaping = { ...(callee.eventSource !== undefined ? { eventSource: callee.eventSource } : {}), ...(spec.audit ? { audit: spec.audit } : {}), invokedBy };
      try {
        const output = await spec.handler(input, auditCtx);
        audit.record({ ctx: auditCtx, input, output, status: 200, ...shaping });
        return output as O;
      } catch (e) {
        audit.record({ ctx: auditCtx, input, status: isAwsError(e) ? e.status : 500, error: isAwsError(e) ? { code: e.code, message: e.message } : { code: 'InternalFailure', message: '' }, ...shaping });
        throw e;
      }
    },
  };
  const protection = config.shield ? createProtection(config, metrics.registry) : undefined;
  if (protection) registerProtection(config, protection);
  const deps: ServiceDeps = { config, clock, stores, log, audit, peers, metrics };
  const services: ServiceDefinition[] = [];
  for (const make of opts.services ?? SERVICES) services.push(await make(deps));
  for (const s of services) peerIndex.set(s.name, s);
  for (const s of services) if (s.auditSink) audit.attach(s.auditSink);
  const index = indexServices(services);

  const root = rootPrincipal(config.accountId, rootKey.accessKeyId);
  const extra = (opts.credentials ?? iamCredentialLookup)(deps);
  // The root key's record is one object, answered at once (no promise): a request signed with it is
  // verified without waiting a microtask turn for the lookup.
  const rootRecord = Object.freeze({ secretAccessKey: rootKey.secretAccessKey, principal: root });
  // Services that issue their own temporary credentials (S3 Express sessions) answer for their prefix.
  const issued = services.flatMap((s) => (s.credentials ? [s.credentials] : []));
  const credentials: CredentialLookup = (accessKeyId) => {
    if (accessKeyId === rootKey.accessKeyId) return rootRecord;
    for (const c of issued) if (accessKeyId.startsWith(c.prefix)) return c.lookup(accessKeyId);
    return extra(accessKeyId);
  };

  const shutdown = new AbortController();
  const pipelineDeps = {
    ...deps,
    services: index,
    credentials,
    metrics,
    authorize: opts.authorize ?? createIamAuthorizer(),
    admin: createAdmin({ config, clock, services: index, metrics, version: VERSION, startedAt }),
    shutdown: shutdown.signal,
    protection,
  };
  const handle = createPipeline(pipelineDeps);
  for (const s of services) await s.start?.();
  const sweeper = startOrphanSweep(config, stores, services, log);

  const tls = config.tlsCert !== undefined && config.tlsKey !== undefined ? { cert: await readFile(config.tlsCert), key: await readFile(config.tlsKey) } : undefined;
  const listener = await listen({ host: config.host, port: config.port, tls, maxHeaderSize: 16 * 1024, gate: protection }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error({ err: e }, 'pipeline failed');
      res.destroy();
    });
  });
  const websiteListener = config.websitePort === undefined ? undefined : await listenWebsite(config, createPipeline({ ...pipelineDeps, website: true }), tls, protection, log);
  const hostForUrl = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    listener,
    ...(websiteListener ? { websiteListener } : {}),
    endpoint: `${tls ? 'https' : 'http'}://${hostForUrl}:${listener.port}`,
    rootKey,
    config,
    clock,
    stores,
    metrics,
    services,
    close() {
      closing ??= (async () => {
        await Promise.all([listener.close(config.shutdownGraceMs), websiteListener?.close(config.shutdownGraceMs)]);
        shutdown.abort();
        protection?.close();
        await sweeper?.stop();
        for (const s of services) await s.stop?.();
        await stores.metadata.close();
        await stores.streamLog?.close();
        await stores.blobs.close();
      })();
      return closing;
    },
  };
}

/** The orphan blob sweep over every service's blob references (storage/blob-sweep.ts). */
function startOrphanSweep(config: Config, stores: Stores, services: readonly ServiceDefinition[], log: Logger): BlobSweeper | undefined {
  if (config.orphanSweepSeconds === 0) return undefined;
  const referrers = services.flatMap((s) => (s.blobRefs !== undefined ? [s.blobRefs] : []));
  const users = services.filter((s) => s.blobInUse !== undefined);
  const sweeper = new BlobSweeper(
    {
      blobs: stores.blobs,
      meta: stores.metadata,
      referrers,
      graceMs: config.orphanSweepSeconds * 1000,
      inUse: (id) => users.some((s) => s.blobInUse?.(id) === true),
    },
    config.orphanSweepSeconds * 1000,
    log,
  );
  sweeper.start();
  return sweeper;
}

/** HANUL_WEBSITE_PORT: the same pipeline, every request marked for S3's website endpoint. */
function listenWebsite(config: Config, handle: ReturnType<typeof createPipeline>, tls: { cert: Buffer; key: Buffer } | undefined, gate: Parameters<typeof listen>[0]['gate'], log: Logger): Promise<Listener> {
  return listen({ host: config.host, port: config.websitePort ?? 0, tls, maxHeaderSize: 16 * 1024, gate }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error({ err: e }, 'pipeline failed');
      res.destroy();
    });
  });
}
