/**
 * For unit tests: a Kinesis service on a real SQLite store in a temp dir,
 * handlers called directly with a hand-made context.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../config.js';
import { manualClock, type Clock } from '../../lib/clock.js';
import type { RequestContext, ServiceDeps } from '../../server/context.js';
import { openFsStreamLog } from '../../storage/fs/stream-log.js';
import { openSqliteMetadataStore } from '../../storage/sqlite/metadata-store.js';
import type { MetadataStore, Stores, StreamLog } from '../../storage/ports.js';
import type { KinesisOptions } from './core.js';
import type { StreamKms } from './encryption.js';
import { buildKinesis, type KinesisService } from './index.js';

export interface Kit extends KinesisService {
  clock: Clock;
  ctx: RequestContext;
  store: MetadataStore;
  /** Absent when the kit keeps record chunks inline (as builds before the log did). */
  streamLog: StreamLog | undefined;
  dir: string;
  call<O = Record<string, unknown>>(op: string, input: object): Promise<O>;
  /** Restarts the service on the same store (a process restart, minus the fsyncs); `inline` as for kit(). */
  restart(storage?: { inline?: boolean }): Promise<Kit>;
  close(): Promise<void>;
}

/** `inline`: no stream log, record chunks inside their rows (a store without a log, or an older build). */
export async function kit(opts: Partial<KinesisOptions> = {}, kms?: StreamKms, reuse?: { dir: string; clock: Clock }, storage: { inline?: boolean } = {}): Promise<Kit> {
  const dir = reuse?.dir ?? (await mkdtemp(join(tmpdir(), 'hanul-kinesis-')));
  const streamLog = storage.inline === true ? undefined : await openFsStreamLog(join(dir, 'streams'));
  const store = await openSqliteMetadataStore(join(dir, 'meta.sqlite'), streamLog ? { beforeCommit: () => streamLog.sync() } : {});
  const clock = reuse?.clock ?? manualClock(Date.UTC(2025, 0, 1));
  const config = parseConfig({ HANUL_DATA_DIR: dir });
  const log = pino({ level: 'silent' });
  const deps: ServiceDeps = { config, clock, stores: { metadata: store, ...(streamLog ? { streamLog } : {}) } as unknown as Stores, log, audit: { record: () => undefined } };
  const k = await buildKinesis(deps, { stateDelayMs: 0, trimIntervalMs: 3_600_000, limits: false, ...opts }, kms);
  await k.service.start?.();
  const ctx: RequestContext = {
    ...deps,
    requestId: 'test',
    principal: { type: 'root', arn: 'arn:aws:iam::000000000000:root', accountId: '000000000000', userId: '000000000000' },
    region: config.region,
    accountId: config.accountId,
    signal: new AbortController().signal,
    sourceIp: '127.0.0.1',
    secure: false,
    userAgent: 'test',
    service: 'kinesis',
    operation: 'test',
  };
  const self: Kit = {
    ...k,
    clock,
    ctx,
    store,
    streamLog,
    dir,
    async call<O>(op: string, input: object): Promise<O> {
      const spec = k.service.operations[op];
      if (!spec) throw new Error(`no operation ${op}`);
      return (await spec.handler(input, { ...ctx, operation: op })) as O;
    },
    async restart(next = storage) {
      await k.service.stop?.();
      await store.close();
      await streamLog?.close();
      return kit(opts, kms, { dir, clock }, next);
    },
    async close() {
      await k.service.stop?.();
      await store.close();
      await streamLog?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/** Creates a stream and waits for it to be ACTIVE. */
export async function activeStream(k: Kit, name: string, shards: number | undefined = 1, extra: object = {}): Promise<void> {
  await k.call('CreateStream', { StreamName: name, ...(shards !== undefined ? { ShardCount: shards } : {}), ...extra });
  await k.lifecycle.idle();
}

export async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<Error & { code: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { code: string };
    if (err.code !== code) throw new Error(`expected ${code}, got ${err.code ?? String(e)}: ${err.message}`);
    if (message && !message.test(err.message)) throw new Error(`message ${JSON.stringify(err.message)} does not match ${String(message)}`);
    return err;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}
