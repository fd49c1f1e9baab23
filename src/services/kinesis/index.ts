import { randomBytes } from 'node:crypto';
import * as sdk from '@aws-sdk/client-kinesis';
import type { OperationSpec, ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';
import { accountHandlers } from './account.js';
import { consumerHandlers } from './consumers.js';
import { DEFAULT_OPTIONS, KinesisCore, type KinesisOptions } from './core.js';
import { StreamCrypto, kmsViaPeers, type StreamKms } from './encryption.js';
import { iteratorHandlers } from './iterators.js';
import { Lifecycle } from './lifecycle.js';
import { NS_CONSUMER, NS_META, NS_STREAM, parseArn, type ConsumerMeta, type StreamMeta } from './model.js';
import { StreamPolicyCache, watchStreamWrites } from './policy-cache.js';
import { decodePutRecordsJson, encodePutRecordsJson } from './put-records-json.js';
import { recordHandlers } from './records.js';
import { shardHandlers } from './shards.js';
import { streamHandlers } from './streams.js';
import { Subscriptions, subscribeHandlers } from './subscribe.js';
import { tagHandlers } from './tags.js';

/** Operations that only read (CloudTrail's readOnly). */
const READ_ONLY = new Set([
  'DescribeStream', 'DescribeStreamSummary', 'ListStreams', 'ListShards', 'GetRecords', 'GetShardIterator', 'DescribeLimits',
  'DescribeAccountSettings', 'ListTagsForStream', 'ListTagsForResource', 'GetResourcePolicy', 'DescribeStreamConsumer',
  'ListStreamConsumers', 'SubscribeToShard', 'DescribeChannel', 'ListChannels',
]);

export interface KinesisService {
  service: ServiceDefinition;
  core: KinesisCore;
  lifecycle: Lifecycle;
}

/** Settings from config; tests pass overrides. */
function optionsFrom(deps: ServiceDeps, overrides: Partial<KinesisOptions>): KinesisOptions {
  const cfg = deps.config as { kinesisLimits?: boolean; kinesisStateDelayMs?: number };
  return {
    ...DEFAULT_OPTIONS,
    limits: cfg.kinesisLimits ?? DEFAULT_OPTIONS.limits,
    ...(cfg.kinesisStateDelayMs !== undefined ? { stateDelayMs: cfg.kinesisStateDelayMs } : {}),
    ...overrides,
  };
}

/** The iterator/NextToken HMAC key: made once, kept in the store so tokens outlive restarts. */
async function iteratorKey(deps: ServiceDeps): Promise<Uint8Array> {
  return deps.stores.metadata.write(async (tx) => {
    const k = await tx.get<Uint8Array>(NS_META, 'iterator-key');
    if (k) return k;
    const fresh = new Uint8Array(randomBytes(32));
    await tx.put(NS_META, 'iterator-key', fresh);
    return fresh;
  });
}

export async function buildKinesis(deps: ServiceDeps, overrides: Partial<KinesisOptions> = {}, kms?: StreamKms): Promise<KinesisService> {
  const opts = optionsFrom(deps, overrides);
  // Every Kinesis write goes through this view, so the policy cache is exact on this node.
  const policies = new StreamPolicyCache();
  const core = new KinesisCore(watchStreamWrites(deps.stores.metadata, policies), deps.clock, deps.log, deps.config.region, deps.config.accountId, opts, await iteratorKey(deps));
  core.streamLog = deps.stores.streamLog;
  const lifecycle = new Lifecycle(core);
  const subscriptions = new Subscriptions();
  core.lifecycle = lifecycle;
  core.subscriptions = subscriptions;
  const viaPeers = kms ?? (deps.peers ? kmsViaPeers(deps.peers) : undefined);
  if (viaPeers) core.crypto = new StreamCrypto(core, viaPeers);

  const handlers: Record<string, (input: never, ctx: never) => Promise<unknown>> = {
    ...streamHandlers(core),
    ...shardHandlers(core),
    ...recordHandlers(core),
    ...iteratorHandlers(core),
    ...consumerHandlers(core),
    ...subscribeHandlers(core, subscriptions),
    ...tagHandlers(core),
    ...accountHandlers(core),
  };
  const schemas = sdk as unknown as Record<string, unknown>;
  const operations: Record<string, OperationSpec> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    operations[name] = {
      schema: schemas[`${name}$`],
      action: `kinesis:${name}`,
      handler: handler as OperationSpec['handler'],
      audit: { readOnly: READ_ONLY.has(name), request: (input: Record<string, unknown>) => redact(input) },
    };
  }
  // The hot call reads its body and writes its answer without the generic schema walk (same results).
  (operations['PutRecords'] as OperationSpec).jsonFast = { decode: decodePutRecordsJson, encode: encodePutRecordsJson };
  const service: ServiceDefinition = {
    name: 'kinesis',
    signingNames: ['kinesis'],
    protocol: 'json-1.1',
    targetPrefix: 'Kinesis_20131202',
    knownOperations: sdkOperations(sdk),
    operations,
    eventSource: 'kinesis.amazonaws.com',
    // The stream's (or consumer's) resource policy, for the IAM engine: it can grant on its own and its Deny binds even root.
    async resourcePolicy(arn) {
      const p = parseArn(arn);
      if (!p || p.account !== core.account) return undefined;
      const policy =
        p.consumer === undefined
          ? await policies.get(core.store, p.stream)
          : await core.store.read(async (tx) => {
              const s = await tx.get<StreamMeta>(NS_STREAM, p.stream);
              return s ? (await tx.get<ConsumerMeta>(NS_CONSUMER, `${s.id}/${p.consumer}`))?.policy : undefined;
            });
      return policy === undefined ? undefined : { document: policy };
    },
    async start() {
      await lifecycle.start();
    },
    async stop() {
      subscriptions.stopAll();
      await lifecycle.stop();
    },
  };
  return { service, core, lifecycle };
}

/** CloudTrail never sees record payloads. */
function redact(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  if ('Data' in out) out['Data'] = '<redacted>';
  if (Array.isArray(out['Records'])) out['Records'] = `<${out['Records'].length} records>`;
  return out;
}

/** Kinesis Data Streams (JSON 1.1 and CBOR 1.1, target Kinesis_20131202). */
export async function createKinesisService(deps: ServiceDeps): Promise<ServiceDefinition> {
  return (await buildKinesis(deps)).service;
}
