/**
 * Streams: create, delete, describe, list, and the per-stream settings
 * (retention, enhanced monitoring, mode, record size, warm throughput,
 * record distribution).
 */
import { randomBytes } from 'node:crypto';
import type {
  CreateStreamInput,
  DecreaseStreamRetentionPeriodInput,
  DeleteStreamInput,
  DescribeStreamInput,
  DescribeStreamOutput,
  DescribeStreamSummaryInput,
  DescribeStreamSummaryOutput,
  DisableEnhancedMonitoringInput,
  EnableEnhancedMonitoringInput,
  EnhancedMonitoringOutput,
  IncreaseStreamRetentionPeriodInput,
  ListStreamsInput,
  ListStreamsOutput,
  MetricsName,
  StreamSummary,
  UpdateMaxRecordSizeInput,
  UpdateStreamModeInput,
  UpdateStreamRecordDistributionStrategyInput,
  UpdateStreamWarmThroughputInput,
  UpdateStreamWarmThroughputOutput,
} from '@aws-sdk/client-kinesis';
import type { RequestContext } from '../../server/context.js';
import type { KinesisCore } from './core.js';
import { kinesisError, streamNotActive } from './errors.js';
import { NS_CONSUMER, NS_STREAM, openShards, streamArn, type StreamMeta } from './model.js';
import { evenSplitStart, hexOfHashKey, shardIxOf, MAX_HASH_KEY } from './seq.js';
import { beginUpdate, describeShard, newShard, openShardTotal, shardLimitError } from './shards.js';
import { sealJson, unsealJson } from './tokens.js';
import { NAME_PATTERN, STREAM_REF, ShardIdRule, StreamArnRule, TagsMapRule, check, type Rule } from './validate.js';
import { checkTagChars } from './tags.js';

const METRICS = ['IncomingBytes', 'IncomingRecords', 'OutgoingBytes', 'OutgoingRecords', 'WriteProvisionedThroughputExceeded', 'ReadProvisionedThroughputExceeded', 'IteratorAgeMilliseconds', 'ALL'] as const;
const ALL_METRICS = METRICS.filter((m) => m !== 'ALL') as MetricsName[];
const ON_DEMAND_SHARDS = 4;
const DEFAULT_RETENTION_HOURS = 24;
const MAX_RETENTION_HOURS = 8760;

const RETENTION_RULES: readonly Rule[] = [{ field: 'RetentionPeriodHours', notNull: true, min: 1, max: MAX_RETENTION_HOURS }, ...STREAM_REF];
const METRICS_RULES: readonly Rule[] = [{ field: 'ShardLevelMetrics', notNull: true, lenMin: 1, lenMax: 7 }, ...STREAM_REF];

export function enhancedMonitoring(s: StreamMeta) {
  return [{ ShardLevelMetrics: [...s.metrics] }];
}

export function streamHandlers(core: KinesisCore) {
  const acct = core.account;

  /** Reads, changes and writes one stream; the change may require a status. */
  async function update<T>(input: { StreamName?: string | undefined; StreamARN?: string | undefined }, ctx: RequestContext, fn: (s: StreamMeta) => T, need: 'ACTIVE' | 'any' = 'ACTIVE'): Promise<T> {
    const name = core.streamName(input, ctx);
    return core.store.write(async (tx) => {
      const s = await core.getStream(tx, name);
      if (need === 'ACTIVE' && s.status !== 'ACTIVE') throw streamNotActive(name, acct, s.status);
      const out = fn(s);
      await tx.put(NS_STREAM, name, s);
      return out;
    });
  }

  return {
    async CreateStream(input: CreateStreamInput, _ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [
        { field: 'StreamName', notNull: true, pattern: NAME_PATTERN, lenMin: 1, lenMax: 128 },
        { field: 'ShardCount', min: 1, max: 100000 },
        { field: 'StreamModeDetails', kind: 'struct', children: [{ field: 'StreamMode', notNull: true, enum: ['PROVISIONED', 'ON_DEMAND'] }] },
        { ...TagsMapRule, lenMax: 50 },
        { field: 'WarmThroughputMiBps', min: 0 },
        { field: 'MaxRecordSizeInKiB', min: 1024, max: 10240 },
        { field: 'RecordDistributionStrategy', enum: ['AUTO', 'USER_PARTITION_KEY'] },
      ]);
      const name = input.StreamName as string;
      const mode = input.StreamModeDetails?.StreamMode ?? 'PROVISIONED';
      if (mode === 'PROVISIONED' && input.ShardCount === undefined) {
        throw kinesisError('ValidationException', "1 validation error detected: Value null at 'shardCount' failed to satisfy constraint: Member must not be null");
      }
      if (input.Tags) checkTagChars(input.Tags, `Failed to create stream ${name} under account ${acct}`);
      const count = mode === 'ON_DEMAND' ? ON_DEMAND_SHARDS : (input.ShardCount as number);
      await core.store.write(async (tx) => {
        if (await tx.get(NS_STREAM, name)) throw kinesisError('ResourceInUseException', `Stream ${name} under account ${acct} already exists.`);
        const total = await openShardTotal(tx);
        if (total + count > core.opts.shardLimit) throw shardLimitError(core, total, count);
        if (mode === 'ON_DEMAND') {
          const onDemand = (await tx.scan<StreamMeta>(NS_STREAM)).filter((e) => e.value.mode === 'ON_DEMAND').length;
          if (onDemand >= core.opts.onDemandStreamLimit) {
            throw kinesisError('LimitExceededException', `This request would exceed the on-demand stream count limit for the account ${acct} in ${core.region}. Limit: ${core.opts.onDemandStreamLimit}.`);
          }
        }
        const now = core.clock.nowMs();
        const s: StreamMeta = {
          name,
          id: randomBytes(16).toString('hex'),
          arn: streamArn(core.region, acct, name),
          status: 'CREATING',
          createdMs: now,
          dueMs: now + core.opts.stateDelayMs,
          pending: { kind: 'create' },
          version: 1,
          mode,
          retentionHours: DEFAULT_RETENTION_HOURS,
          shards: [],
          nextShardIx: 0,
          encryption: { type: 'NONE' },
          metrics: [],
          tags: { ...input.Tags },
          maxRecordSizeKiB: input.MaxRecordSizeInKiB ?? 1024,
        };
        if (input.WarmThroughputMiBps !== undefined) s.warmThroughputMiBps = input.WarmThroughputMiBps;
        if (input.RecordDistributionStrategy !== undefined) s.distribution = input.RecordDistributionStrategy;
        for (let i = 0; i < count; i++) {
          const end = i + 1 < count ? evenSplitStart(i + 1, count) - 1n : MAX_HASH_KEY;
          newShard(s, hexOfHashKey(evenSplitStart(i, count)), hexOfHashKey(end), now);
        }
        await tx.put(NS_STREAM, name, s);
      });
      core.schedule(name);
      return {};
    },

    async DeleteStream(input: DeleteStreamInput, ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [...STREAM_REF]);
      const name = core.streamName(input, ctx);
      await core.store.write(async (tx) => {
        const s = await core.getStream(tx, name);
        if (s.status === 'DELETING') throw streamNotActive(name, acct, s.status);
        const consumers = await tx.count(NS_CONSUMER, { prefix: `${s.id}/` });
        if (consumers > 0 && input.EnforceConsumerDeletion !== true) {
          throw kinesisError('ResourceInUseException', `Stream ${name} under account ${acct} has ${consumers} registered consumer(s). Deregister them first, or set EnforceConsumerDeletion.`);
        }
        s.status = 'DELETING';
        s.pending = { kind: 'delete' };
        s.dueMs = core.clock.nowMs() + core.opts.stateDelayMs;
        await tx.put(NS_STREAM, name, s);
      });
      core.schedule(name);
      return {};
    },

    async DescribeStream(input: DescribeStreamInput, ctx: RequestContext): Promise<DescribeStreamOutput> {
      check(input, [...STREAM_REF, { field: 'Limit', min: 1, max: 10000 }, ShardIdRule('ExclusiveStartShardId', false)]);
      const name = core.streamName(input, ctx);
      const s = await core.store.read((tx) => core.getStream(tx, name));
      const after = input.ExclusiveStartShardId !== undefined ? (shardIxOf(input.ExclusiveStartShardId) ?? -1) : -1;
      const all = s.shards.filter((sh) => sh.ix > after).sort((a, b) => a.ix - b.ix);
      const limit = input.Limit ?? 100;
      const page = all.slice(0, limit);
      return {
        StreamDescription: {
          StreamName: s.name,
          StreamARN: s.arn,
          StreamStatus: s.status,
          StreamModeDetails: { StreamMode: s.mode },
          Shards: s.status === 'CREATING' ? [] : page.map(describeShard),
          HasMoreShards: s.status !== 'CREATING' && all.length > page.length,
          RetentionPeriodHours: s.retentionHours,
          StreamCreationTimestamp: new Date(Math.floor(s.createdMs / 1000) * 1000),
          EnhancedMonitoring: enhancedMonitoring(s),
          EncryptionType: s.encryption.type,
          ...(s.encryption.keyId !== undefined ? { KeyId: s.encryption.keyId } : {}),
        },
      };
    },

    async DescribeStreamSummary(input: DescribeStreamSummaryInput, ctx: RequestContext): Promise<DescribeStreamSummaryOutput> {
      check(input, [...STREAM_REF]);
      const name = core.streamName(input, ctx);
      const [s, consumers] = await core.store.read(async (tx) => {
        const st = await core.getStream(tx, name);
        return [st, await tx.count(NS_CONSUMER, { prefix: `${st.id}/` })] as const;
      });
      return {
        StreamDescriptionSummary: {
          StreamName: s.name,
          StreamARN: s.arn,
          StreamId: s.id,
          StreamStatus: s.status,
          StreamModeDetails: { StreamMode: s.mode },
          RetentionPeriodHours: s.retentionHours,
          StreamCreationTimestamp: new Date(Math.floor(s.createdMs / 1000) * 1000),
          EnhancedMonitoring: enhancedMonitoring(s),
          EncryptionType: s.encryption.type,
          ...(s.encryption.keyId !== undefined ? { KeyId: s.encryption.keyId } : {}),
          OpenShardCount: s.status === 'CREATING' ? 0 : openShards(s).length,
          ConsumerCount: consumers,
          MaxRecordSizeInKiB: s.maxRecordSizeKiB,
          ...(s.warmThroughputMiBps !== undefined ? { WarmThroughput: { TargetMiBps: s.warmThroughputMiBps, CurrentMiBps: s.warmThroughputMiBps } } : {}),
          ...(s.distribution !== undefined ? { RecordDistributionStrategy: s.distribution as 'AUTO' } : {}),
        },
      };
    },

    async ListStreams(input: ListStreamsInput, _ctx: RequestContext): Promise<ListStreamsOutput> {
      check(input, [
        { field: 'Limit', min: 1, max: 10000 },
        { field: 'ExclusiveStartStreamName', pattern: NAME_PATTERN, lenMin: 1, lenMax: 128 },
        { field: 'NextToken', lenMin: 1, lenMax: 1048576 },
      ]);
      const now = core.clock.nowMs();
      let after = input.ExclusiveStartStreamName;
      if (input.NextToken !== undefined) {
        const t = unsealJson<{ a: string }>(core.iteratorKey, input.NextToken, now, 300_000);
        if (!t.ok) {
          if (t.expired) throw kinesisError('ExpiredNextTokenException', 'The nextToken has expired.');
          throw kinesisError('InvalidArgumentException', 'Invalid NextToken.');
        }
        after = t.value.a;
      }
      const limit = input.Limit ?? 100;
      const rows = await core.store.read((tx) => tx.scan<StreamMeta>(NS_STREAM, { ...(after !== undefined ? { startAfter: after } : {}), limit: limit + 1 }));
      const page = rows.slice(0, limit).map((r) => r.value);
      const more = rows.length > limit;
      const summaries: StreamSummary[] = page.map((s) => ({
        StreamName: s.name,
        StreamARN: s.arn,
        StreamStatus: s.status,
        StreamModeDetails: { StreamMode: s.mode },
        StreamCreationTimestamp: new Date(Math.floor(s.createdMs / 1000) * 1000),
      }));
      const out: ListStreamsOutput = { StreamNames: page.map((s) => s.name), HasMoreStreams: more, StreamSummaries: summaries };
      const last = page[page.length - 1];
      if (more && last) out.NextToken = sealJson(core.iteratorKey, { a: last.name }, now);
      return out;
    },

    async IncreaseStreamRetentionPeriod(input: IncreaseStreamRetentionPeriodInput, ctx: RequestContext): Promise<Record<string, never>> {
      check(input, RETENTION_RULES);
      const hours = input.RetentionPeriodHours as number;
      await update(input, ctx, (s) => {
        if (hours < 24) throw kinesisError('InvalidArgumentException', `Minimum allowed retention period is 24 hours. Requested retention period (${hours} hours) is too short.`);
        if (hours < s.retentionHours) {
          throw kinesisError('InvalidArgumentException', `Requested retention period (${hours} hours) for stream ${s.name} can not be shorter than existing retention period (${s.retentionHours} hours). Use DecreaseRetentionPeriod API.`);
        }
        s.retentionHours = hours;
      });
      return {};
    },

    async DecreaseStreamRetentionPeriod(input: DecreaseStreamRetentionPeriodInput, ctx: RequestContext): Promise<Record<string, never>> {
      check(input, RETENTION_RULES);
      const hours = input.RetentionPeriodHours as number;
      await update(input, ctx, (s) => {
        if (hours < 24) throw kinesisError('InvalidArgumentException', `Minimum allowed retention period is 24 hours. Requested retention period (${hours} hours) is too short.`);
        if (hours > s.retentionHours) {
          throw kinesisError('InvalidArgumentException', `Requested retention period (${hours} hours) for stream ${s.name} can not be longer than existing retention period (${s.retentionHours} hours). Use IncreaseRetentionPeriod API.`);
        }
        s.retentionHours = hours;
      });
      return {};
    },

    async EnableEnhancedMonitoring(input: EnableEnhancedMonitoringInput, ctx: RequestContext): Promise<EnhancedMonitoringOutput> {
      return setMetrics(input, ctx, true);
    },

    async DisableEnhancedMonitoring(input: DisableEnhancedMonitoringInput, ctx: RequestContext): Promise<EnhancedMonitoringOutput> {
      return setMetrics(input, ctx, false);
    },

    async UpdateStreamMode(input: UpdateStreamModeInput, ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [
        { ...StreamArnRule, notNull: true },
        { field: 'StreamModeDetails', notNull: true, kind: 'struct', children: [{ field: 'StreamMode', notNull: true, enum: ['PROVISIONED', 'ON_DEMAND'] }] },
        { field: 'WarmThroughputMiBps', min: 0 },
      ]);
      const mode = input.StreamModeDetails?.StreamMode as 'ON_DEMAND';
      const name = core.streamName(input, ctx);
      await update(input, ctx, (s) => {
        if (s.mode === mode) throw kinesisError('InvalidArgumentException', `Stream ${s.name} under account ${acct} is already in ${mode} mode.`);
        if (input.WarmThroughputMiBps !== undefined) s.warmThroughputMiBps = input.WarmThroughputMiBps;
        beginUpdate(core, s, { kind: 'mode', mode });
      });
      core.schedule(name);
      return {};
    },

    async UpdateMaxRecordSize(input: UpdateMaxRecordSizeInput, ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [StreamArnRule, { field: 'MaxRecordSizeInKiB', notNull: true, min: 1024, max: 10240 }]);
      await update(input, ctx, (s) => {
        s.maxRecordSizeKiB = input.MaxRecordSizeInKiB as number;
      });
      return {};
    },

    async UpdateStreamWarmThroughput(input: UpdateStreamWarmThroughputInput, ctx: RequestContext): Promise<UpdateStreamWarmThroughputOutput> {
      check(input, [...STREAM_REF, { field: 'WarmThroughputMiBps', notNull: true, min: 0 }]);
      return update(input, ctx, (s) => {
        if (s.mode !== 'ON_DEMAND') throw kinesisError('InvalidArgumentException', `Warm throughput applies to ON_DEMAND streams only; stream ${s.name} under account ${acct} is PROVISIONED.`);
        s.warmThroughputMiBps = input.WarmThroughputMiBps as number;
        return { StreamName: s.name, StreamARN: s.arn, WarmThroughput: { TargetMiBps: s.warmThroughputMiBps, CurrentMiBps: s.warmThroughputMiBps } };
      });
    },

    async UpdateStreamRecordDistributionStrategy(input: UpdateStreamRecordDistributionStrategyInput, ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [{ ...StreamArnRule, notNull: true }, { field: 'RecordDistributionStrategy', notNull: true, enum: ['AUTO', 'USER_PARTITION_KEY'] }]);
      await update(input, ctx, (s) => {
        s.distribution = input.RecordDistributionStrategy as string;
      });
      return {};
    },
  };

  async function setMetrics(input: EnableEnhancedMonitoringInput, ctx: RequestContext, enable: boolean): Promise<EnhancedMonitoringOutput> {
    check(input, METRICS_RULES);
    const asked = input.ShardLevelMetrics as string[];
    const bad = asked.find((m) => !(METRICS as readonly string[]).includes(m));
    if (bad !== undefined) {
      throw kinesisError('ValidationException', `1 validation error detected: Value '[${asked.join(', ')}]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${METRICS.join(', ')}]]`);
    }
    const wanted = asked.includes('ALL') ? ALL_METRICS : (asked as MetricsName[]);
    return update(input, ctx, (s) => {
      const current = [...s.metrics];
      const next = enable ? ALL_METRICS.filter((m) => current.includes(m) || wanted.includes(m)) : current.filter((m) => !wanted.includes(m));
      s.metrics = next;
      return { StreamName: s.name, StreamARN: s.arn, CurrentShardLevelMetrics: current, DesiredShardLevelMetrics: next };
    });
  }
}
