/**
 * For unit tests: IAM and STS on a real SQLite store in a temp dir, calls
 * made as a given principal through the real authorizer, then the handler.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ServiceDefinition } from '../../aws/service.js';
import { parseConfig } from '../../config.js';
import { createIamAuthorizer } from '../../iam/authorize.js';
import { rootPrincipal } from '../../iam/root-key.js';
import { iamRuntime, type IamRuntime } from '../../iam/runtime.js';
import { manualClock, type Clock } from '../../lib/clock.js';
import type { Principal, RequestContext, ServiceDeps } from '../../server/context.js';
import { openSqliteMetadataStore } from '../../storage/sqlite/metadata-store.js';
import type { MetadataStore, Stores } from '../../storage/ports.js';
import { createStsService } from '../sts/index.js';
import { createIamService } from './index.js';

export const ACCOUNT = '000000000000';

export interface IamKit {
  iam: ServiceDefinition;
  sts: ServiceDefinition;
  rt: IamRuntime;
  clock: Clock;
  store: MetadataStore;
  dir: string;
  root: Principal;
  /** Authorizes as `as` (default root), then runs the handler. */
  call<O = Record<string, any>>(service: 'iam' | 'sts' | ServiceDefinition, op: string, input: object, as?: Principal, extra?: Partial<RequestContext>): Promise<O>;
  /** The principal an access key (AKIA… or ASIA…) authenticates as. */
  as(accessKeyId: string): Promise<Principal>;
  restart(): Promise<IamKit>;
  close(): Promise<void>;
}

export async function iamKit(reuse?: { dir: string; clock: Clock }): Promise<IamKit> {
  const dir = reuse?.dir ?? (await mkdtemp(join(tmpdir(), 'hanul-iam-')));
  const store = await openSqliteMetadataStore(join(dir, 'meta.sqlite'));
  const clock = reuse?.clock ?? manualClock(Date.UTC(2025, 0, 1));
  const config = parseConfig({ HANUL_DATA_DIR: dir });
  const log = pino({ level: 'silent' });
  const deps: ServiceDeps = { config, clock, stores: { metadata: store } as unknown as Stores, log, audit: { record: () => undefined } };
  const iam = await createIamService(deps);
  const sts = await createStsService(deps);
  const rt = await iamRuntime(deps);
  const authorize = createIamAuthorizer();
  const root = rootPrincipal(ACCOUNT, 'AKIAROOTROOTROOTROOT');
  const kit: IamKit = {
    iam,
    sts,
    rt,
    clock,
    store,
    dir,
    root,
    async call<O>(service: 'iam' | 'sts' | ServiceDefinition, op: string, input: object, as: Principal = root, extra: Partial<RequestContext> = {}): Promise<O> {
      const svc = service === 'iam' ? iam : service === 'sts' ? sts : service;
      const spec = svc.operations[op];
      if (!spec) throw new Error(`no operation ${op}`);
      const ctx: RequestContext = {
        ...deps,
        requestId: 'test',
        principal: as,
        region: config.region,
        accountId: ACCOUNT,
        signal: new AbortController().signal,
        sourceIp: '127.0.0.1',
        secure: false,
        userAgent: 'test',
        service: svc.name,
        operation: op,
        ...extra,
      };
      await authorize(ctx, svc, op, input);
      return (await spec.handler(input, ctx)) as O;
    },
    async as(accessKeyId: string): Promise<Principal> {
      const rec = await rt.credential(accessKeyId);
      if (!rec) throw new Error(`no credential ${accessKeyId}`);
      if (rec.expiresAt && rec.expiresAt.getTime() <= clock.nowMs()) throw new Error('ExpiredToken');
      return rec.principal;
    },
    async restart() {
      await store.close();
      return iamKit({ dir, clock });
    },
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return kit;
}

export const policy = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });
