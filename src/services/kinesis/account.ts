/**
 * Account-level operations (limits, the billing-commitment setting), server
 * side encryption switches, and Kinesis channels — which hanul does not run:
 * there are never any channels, so listing shows none, naming one is
 * ResourceNotFound, and creating one answers a clear NotImplemented instead
 * of a channel that would silently deliver nothing.
 */
import type {
  CreateChannelInput,
  DeleteChannelInput,
  DescribeAccountSettingsOutput,
  DescribeChannelInput,
  DescribeLimitsOutput,
  ListChannelsOutput,
  MinimumThroughputBillingCommitmentOutput,
  StartStreamEncryptionInput,
  StopStreamEncryptionInput,
  UpdateAccountSettingsInput,
  UpdateAccountSettingsOutput,
  UpdateChannelInput,
} from '@aws-sdk/client-kinesis';
import type { RequestContext } from '../../server/context.js';
import type { KinesisCore } from './core.js';
import { kinesisError, streamNotActive } from './errors.js';
import { NS_META, NS_STREAM, openShards, type StreamMeta } from './model.js';
import { beginUpdate } from './shards.js';
import { STREAM_REF, check } from './validate.js';

const YEAR_MS = 365 * 24 * 3_600_000;
const CHANNEL_ARN = { field: 'ChannelARN', notNull: true, lenMin: 1, lenMax: 2048 } as const;

interface Commitment {
  status: 'ENABLED' | 'DISABLED' | 'ENABLED_UNTIL_EARLIEST_ALLOWED_END';
  startedMs?: number;
  endedMs?: number;
  earliestEndMs?: number;
}

function commitmentOut(c: Commitment): MinimumThroughputBillingCommitmentOutput {
  const out: MinimumThroughputBillingCommitmentOutput = { Status: c.status };
  if (c.startedMs !== undefined) out.StartedAt = new Date(c.startedMs);
  if (c.endedMs !== undefined) out.EndedAt = new Date(c.endedMs);
  if (c.earliestEndMs !== undefined) out.EarliestAllowedEndAt = new Date(c.earliestEndMs);
  return out;
}

export function accountHandlers(core: KinesisCore) {
  const acct = core.account;

  async function setEncryption(input: StartStreamEncryptionInput, ctx: RequestContext, start: boolean): Promise<Record<string, never>> {
    check(input, [{ field: 'EncryptionType', notNull: true, enum: ['NONE', 'KMS'] }, { field: 'KeyId', notNull: true, lenMin: 1, lenMax: 2048 }, ...STREAM_REF]);
    const name = core.streamName(input, ctx);
    const keyId = input.KeyId as string;
    if (input.EncryptionType !== 'KMS') throw kinesisError('InvalidArgumentException', `Encryption type ${input.EncryptionType} is not valid for this operation: use KMS.`);
    let dataKey: { ref: string; blob: Uint8Array } | undefined;
    if (start) {
      if (!core.crypto) throw kinesisError('KMSNotFoundException', `KMS is not available to Kinesis in this hanul server, so key ${keyId} cannot be used.`);
      const s = await core.store.read((tx) => core.getStream(tx, name));
      dataKey = await core.crypto.newDataKey(keyId, s.arn, ctx);
    }
    await core.store.write(async (tx) => {
      const s = await core.getStream(tx, name);
      if (s.status !== 'ACTIVE') throw streamNotActive(name, acct, s.status);
      if (!start) {
        if (s.encryption.type !== 'KMS') throw kinesisError('InvalidArgumentException', `Stream ${name} under account ${acct} is not encrypted.`);
        if (s.encryption.keyId !== keyId) throw kinesisError('InvalidArgumentException', `KeyId ${keyId} does not match the key stream ${name} under account ${acct} is encrypted with.`);
      }
      beginUpdate(core, s, start && dataKey ? { kind: 'encryption', type: 'KMS', keyId, ref: dataKey.ref, blob: dataKey.blob } : { kind: 'encryption', type: 'NONE' });
      await tx.put(NS_STREAM, name, s);
    });
    core.schedule(name);
    return {};
  }

  return {
    async DescribeLimits(_input: unknown, _ctx: RequestContext): Promise<DescribeLimitsOutput> {
      const streams = await core.store.read((tx) => tx.scan<StreamMeta>(NS_STREAM));
      let open = 0;
      let onDemand = 0;
      for (const { value } of streams) {
        open += openShards(value).length;
        if (value.mode === 'ON_DEMAND') onDemand++;
      }
      return { ShardLimit: core.opts.shardLimit, OpenShardCount: open, OnDemandStreamCount: onDemand, OnDemandStreamCountLimit: core.opts.onDemandStreamLimit, ChannelCount: 0, ChannelCountLimit: 0 };
    },

    async DescribeAccountSettings(_input: unknown, _ctx: RequestContext): Promise<DescribeAccountSettingsOutput> {
      const c = await core.store.read((tx) => tx.get<Commitment>(NS_META, 'account-settings'));
      return c ? { MinimumThroughputBillingCommitment: commitmentOut(c) } : {};
    },

    async UpdateAccountSettings(input: UpdateAccountSettingsInput, _ctx: RequestContext): Promise<UpdateAccountSettingsOutput> {
      check(input, [{ field: 'MinimumThroughputBillingCommitment', notNull: true, kind: 'struct', children: [{ field: 'Status', notNull: true, enum: ['ENABLED', 'DISABLED'] }] }]);
      const want = input.MinimumThroughputBillingCommitment?.Status as 'ENABLED' | 'DISABLED';
      const c = await core.store.write(async (tx) => {
        const now = core.clock.nowMs();
        const cur = (await tx.get<Commitment>(NS_META, 'account-settings')) ?? { status: 'DISABLED' };
        let next: Commitment;
        if (want === 'ENABLED') {
          next = cur.status === 'ENABLED' ? cur : { status: 'ENABLED', startedMs: now, earliestEndMs: now + YEAR_MS };
        } else if (cur.status === 'DISABLED') {
          next = cur;
        } else if (cur.earliestEndMs !== undefined && now < cur.earliestEndMs) {
          // A commitment cannot end before its first year is over: it stays on until then.
          next = { ...cur, status: 'ENABLED_UNTIL_EARLIEST_ALLOWED_END', endedMs: cur.earliestEndMs };
        } else {
          next = { ...cur, status: 'DISABLED', endedMs: now };
        }
        await tx.put(NS_META, 'account-settings', next);
        return next;
      });
      return { MinimumThroughputBillingCommitment: commitmentOut(c) };
    },

    StartStreamEncryption: (input: StartStreamEncryptionInput, ctx: RequestContext) => setEncryption(input, ctx, true),
    StopStreamEncryption: (input: StopStreamEncryptionInput, ctx: RequestContext) => setEncryption(input, ctx, false),

    async CreateChannel(input: CreateChannelInput, _ctx: RequestContext): Promise<never> {
      check(input, [{ field: 'ChannelName', notNull: true, lenMin: 1, lenMax: 128, pattern: '[a-zA-Z0-9_.-]+' }, { field: 'ServiceExecutionRoleARN', notNull: true }, { field: 'StreamConfigurationList', notNull: true }]);
      throw kinesisError('NotImplemented', `Kinesis channels (managed delivery from a stream to S3 or S3 Tables) are not supported by hanul; channel ${input.ChannelName} was not created.`);
    },
    async ListChannels(_input: unknown, _ctx: RequestContext): Promise<ListChannelsOutput> {
      return { ChannelSummaries: [] };
    },
    DescribeChannel: (input: DescribeChannelInput) => noChannel(input),
    DeleteChannel: (input: DeleteChannelInput) => noChannel(input),
    UpdateChannel: (input: UpdateChannelInput) => noChannel(input),
  };

  function noChannel(input: { ChannelARN?: string | undefined }): Promise<never> {
    check(input, [CHANNEL_ARN]);
    return Promise.reject(kinesisError('ResourceNotFoundException', `Channel ${input.ChannelARN} under account ${acct} not found.`));
  }
}
