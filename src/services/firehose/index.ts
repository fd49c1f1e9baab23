import * as sdk from '@aws-sdk/client-firehose';
import type { OperationSpec, ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';
import { FirehoseCore, type FirehoseOptions } from './core.js';
import { Flusher } from './delivery.js';
import { StreamEncryption } from './encryption.js';
import { KinesisSource } from './kinesis-source.js';
import { stopJq } from './jq.js';
import { stopFunctions } from './lambda.js';
import { firehoseMetrics } from './metrics.js';
import { NS_SOURCE, NS_STREAM, type DeliveryStreamMeta } from './model.js';
import { recordHandlers } from './records.js';
import { finishDelete, streamHandlers } from './streams.js';
import { tagHandlers } from './tags.js';

const READ_ONLY = new Set(['DescribeDeliveryStream', 'ListDeliveryStreams', 'ListTagsForDeliveryStream']);

export interface FirehoseService {
  service: ServiceDefinition;
  core: FirehoseCore;
  flusher: Flusher;
}

function optionsFrom(deps: ServiceDeps, overrides: Partial<FirehoseOptions>): FirehoseOptions {
  const cfg = deps.config as { functionsDir?: string; firehoseLimits?: boolean };
  return { creatingMs: 200, deletingMs: 1000, tickMs: 100, functionsDir: cfg.functionsDir ?? './functions', limits: cfg.firehoseLimits ?? true, ...overrides };
}

export async function buildFirehose(deps: ServiceDeps, overrides: Partial<FirehoseOptions> = {}): Promise<FirehoseService> {
  const core = new FirehoseCore(deps, optionsFrom(deps, overrides));
  const registry = deps.metrics?.registry;
  // eslint-disable-next-line prefer-const -- the metrics callback closes over it before it is built
  let flusher: Flusher | undefined;
  const metrics = firehoseMetrics(registry, () => flusher?.backlogAges() ?? []);
  flusher = new Flusher(core, metrics);
  const f = flusher;
  core.encryption = new StreamEncryption(core);
  core.onPut = (stream, bytes, count) => f.added(stream, bytes, core.clock.nowMs(), count);
  const source = new KinesisSource(core, (s, b, at, n) => f.added(s, b, at, n), (s) => metrics.sourceFailures.inc({ stream: s }));

  const deleted = (name: string): void => {
    f.forget(name);
    source.forget(name);
    core.throttle.forget(name);
    void core.store.write((tx) => tx.deleteRange(NS_SOURCE, { prefix: `${name}/` }));
  };
  const handlers: Record<string, (input: never, ctx: never) => Promise<unknown>> = {
    ...streamHandlers(core, { async created() {}, deleted }),
    ...recordHandlers(core),
    ...tagHandlers(core),
    ...core.encryption.handlers(),
  };
  const schemas = sdk as unknown as Record<string, unknown>;
  const operations: Record<string, OperationSpec> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    operations[name] = {
      schema: schemas[`${name}$`],
      action: `firehose:${name}`,
      handler: handler as OperationSpec['handler'],
      audit: { readOnly: READ_ONLY.has(name), request: (input: Record<string, unknown>) => redact(input) },
    };
  }
  const service: ServiceDefinition = {
    name: 'firehose',
    signingNames: ['firehose'],
    protocol: 'json-1.1',
    targetPrefix: 'Firehose_20150804',
    knownOperations: sdkOperations(sdk),
    operations,
    eventSource: 'firehose.amazonaws.com',
    async start() {
      const streams = await core.store.read((tx) => tx.scan<DeliveryStreamMeta>(NS_STREAM));
      for (const { key, value } of streams) if (value.deletingSince !== undefined) await finishDelete(core, key, deleted);
      await f.start();
      source.start();
    },
    async stop() {
      source.stop();
      await f.stop();
      stopFunctions();
      await stopJq();
    },
  };
  core.service = () => service;
  return { service, core, flusher: f };
}

/** CloudTrail never sees record payloads. */
function redact(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  if ('Record' in out) out['Record'] = '<redacted>';
  if (Array.isArray(out['Records'])) out['Records'] = `<${out['Records'].length} records>`;
  return out;
}

/** Amazon Data Firehose (JSON 1.1, target Firehose_20150804). */
export async function createFirehoseService(deps: ServiceDeps): Promise<ServiceDefinition> {
  return (await buildFirehose(deps)).service;
}
