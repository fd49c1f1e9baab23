/**
 * Control plane: CreateDeliveryStream, DescribeDeliveryStream,
 * ListDeliveryStreams, DeleteDeliveryStream, UpdateDestination.
 */
import type {
  CreateDeliveryStreamInput,
  CreateDeliveryStreamOutput,
  DeleteDeliveryStreamInput,
  DeliveryStreamDescription,
  DescribeDeliveryStreamInput,
  DescribeDeliveryStreamOutput,
  DestinationDescription,
  ListDeliveryStreamsInput,
  ListDeliveryStreamsOutput,
  UpdateDestinationInput,
  ExtendedS3DestinationConfiguration,
} from '@aws-sdk/client-firehose';
import { checkPassRole } from '../../iam/authorize.js';
import type { RequestContext } from '../../server/context.js';
import type { FirehoseCore } from './core.js';
import { constraint, firehoseError } from './errors.js';
import { NS_STREAM, nsBuffer, streamArn, type DeliveryStreamMeta } from './model.js';
import { checkTags } from './tags.js';
import { checkHttp, checkQueries, checkRole, checkS3, checkStreamName } from './validate.js';

const MAX_STREAMS = 5000;
const DESTINATION_ID = 'destinationId-000000000001';

export function withS3Defaults(c: ExtendedS3DestinationConfiguration): ExtendedS3DestinationConfiguration {
  return {
    ...c,
    BufferingHints: { SizeInMBs: c.BufferingHints?.SizeInMBs ?? 5, IntervalInSeconds: c.BufferingHints?.IntervalInSeconds ?? 300 },
    CompressionFormat: c.CompressionFormat ?? 'UNCOMPRESSED',
    EncryptionConfiguration: c.EncryptionConfiguration ?? { NoEncryptionConfig: 'NoEncryption' },
    S3BackupMode: c.S3BackupMode ?? 'Disabled',
  };
}

/** The defaults AWS fills in and describes for an HTTP endpoint destination. */
function withHttpDefaults(h: NonNullable<DeliveryStreamMeta['http']>): NonNullable<DeliveryStreamMeta['http']> {
  return {
    ...h,
    BufferingHints: { SizeInMBs: h.BufferingHints?.SizeInMBs ?? 5, IntervalInSeconds: h.BufferingHints?.IntervalInSeconds ?? 300 },
    RequestConfiguration: { ContentEncoding: h.RequestConfiguration?.ContentEncoding ?? 'NONE', ...(h.RequestConfiguration?.CommonAttributes ? { CommonAttributes: h.RequestConfiguration.CommonAttributes } : {}) },
    RetryOptions: { DurationInSeconds: h.RetryOptions?.DurationInSeconds ?? 300 },
    S3BackupMode: h.S3BackupMode ?? 'FailedDataOnly',
    S3Configuration: withS3Defaults((h.S3Configuration ?? {}) as ExtendedS3DestinationConfiguration),
  };
}

function describe(core: FirehoseCore, s: DeliveryStreamMeta): DeliveryStreamDescription {
  const dest: DestinationDescription = { DestinationId: DESTINATION_ID };
  if (s.s3) {
    const { S3BackupConfiguration: backup, ...rest } = s.s3;
    dest.ExtendedS3DestinationDescription = { ...rest, ...(backup ? { S3BackupDescription: withS3Defaults(backup) } : {}) } as DestinationDescription['ExtendedS3DestinationDescription'];
    dest.S3DestinationDescription = {
      RoleARN: s.s3.RoleARN, BucketARN: s.s3.BucketARN, BufferingHints: s.s3.BufferingHints, CompressionFormat: s.s3.CompressionFormat,
      EncryptionConfiguration: s.s3.EncryptionConfiguration, ...(s.s3.Prefix !== undefined ? { Prefix: s.s3.Prefix } : {}),
      ...(s.s3.ErrorOutputPrefix !== undefined ? { ErrorOutputPrefix: s.s3.ErrorOutputPrefix } : {}),
    };
  }
  if (s.http) {
    const { S3Configuration: s3, EndpointConfiguration: ep, ...rest } = s.http;
    dest.HttpEndpointDestinationDescription = {
      ...rest,
      EndpointConfiguration: { Url: ep?.Url, ...(ep?.Name !== undefined ? { Name: ep.Name } : {}) },
      ...(s3 ? { S3DestinationDescription: withS3Defaults(s3) } : {}),
    } as DestinationDescription['HttpEndpointDestinationDescription'];
  }
  return {
    DeliveryStreamName: s.name,
    DeliveryStreamARN: s.arn,
    DeliveryStreamStatus: core.status(s),
    DeliveryStreamEncryptionConfiguration: s.encryption ?? { Status: 'DISABLED' },
    DeliveryStreamType: s.type,
    VersionId: String(s.versionId),
    CreateTimestamp: s.createdAt,
    ...(s.updatedAt ? { LastUpdateTimestamp: s.updatedAt } : {}),
    ...(s.source ? { Source: { KinesisStreamSourceDescription: { KinesisStreamARN: s.source.streamArn, RoleARN: s.source.roleArn, DeliveryStartTimestamp: s.source.startedAt } } } : {}),
    Destinations: [dest],
    HasMoreDestinations: false,
  };
}

/** Removes a DELETING stream and its buffered records (also run at start for deletes a restart interrupted). */
export async function finishDelete(core: FirehoseCore, name: string, deleted: (name: string) => void): Promise<void> {
  try {
    const gone = await core.store.write(async (tx) => {
      const s = await tx.get<DeliveryStreamMeta>(NS_STREAM, name);
      if (s?.deletingSince === undefined) return false;
      await tx.delete(NS_STREAM, name);
      await tx.deleteRange(nsBuffer(name), {});
      return true;
    });
    if (gone) deleted(name);
  } catch (e) {
    core.log.warn({ err: e, stream: name }, 'firehose stream removal failed; retried at next start');
  }
}

/** Every role a configuration hands to Firehose (destinations, backups, the Kinesis source): any member named RoleARN. */
function rolesIn(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) rolesIn(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'RoleARN' && typeof v === 'string') out.add(v);
      else rolesIn(v, out);
    }
  }
  return out;
}

/** Firehose will deliver as these roles: the caller must be allowed to pass each (iam:PassRole), as in AWS. */
async function checkPassRoles(core: FirehoseCore, input: unknown, ctx: RequestContext): Promise<void> {
  const service = core.service?.();
  if (!service) return;
  for (const role of rolesIn(input)) await checkPassRole(ctx, service, role, 'firehose.amazonaws.com');
}

export function streamHandlers(core: FirehoseCore, hooks: { created(s: DeliveryStreamMeta, ctx: RequestContext): Promise<void>; deleted(name: string): void }) {
  return {
    async CreateDeliveryStream(input: CreateDeliveryStreamInput, ctx: RequestContext): Promise<CreateDeliveryStreamOutput> {
      const name = checkStreamName(input.DeliveryStreamName);
      const type = input.DeliveryStreamType ?? 'DirectPut';
      if (type !== 'DirectPut' && type !== 'KinesisStreamAsSource') {
        throw firehoseError('InvalidArgumentException', `DeliveryStreamType ${type} is not supported by hanul (DirectPut and KinesisStreamAsSource are).`);
      }
      if (type === 'KinesisStreamAsSource') {
        const src = input.KinesisStreamSourceConfiguration;
        if (!src) throw firehoseError('InvalidArgumentException', 'KinesisStreamSourceConfiguration is required when DeliveryStreamType is KinesisStreamAsSource.');
        if (!/^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/[a-zA-Z0-9_.-]{1,128}$/.test(src.KinesisStreamARN ?? '')) {
          throw firehoseError('InvalidArgumentException', `KinesisStreamARN ${src.KinesisStreamARN ?? 'null'} is not a valid Kinesis stream ARN.`);
        }
        checkRole(src.RoleARN, 'kinesisStreamSourceConfiguration.roleARN');
        if (input.DeliveryStreamEncryptionConfigurationInput) {
          throw firehoseError('InvalidArgumentException', 'Server-side encryption cannot be enabled for a Firehose stream with a Kinesis stream as its source.');
        }
      } else if (input.KinesisStreamSourceConfiguration) {
        throw firehoseError('InvalidArgumentException', 'KinesisStreamSourceConfiguration is only allowed when DeliveryStreamType is KinesisStreamAsSource.');
      }
      const s3in = input.ExtendedS3DestinationConfiguration ?? (input.S3DestinationConfiguration);
      const http = input.HttpEndpointDestinationConfiguration;
      const others = ['ElasticsearchDestinationConfiguration', 'AmazonopensearchserviceDestinationConfiguration', 'RedshiftDestinationConfiguration', 'SplunkDestinationConfiguration',
        'AmazonOpenSearchServerlessDestinationConfiguration', 'SnowflakeDestinationConfiguration', 'IcebergDestinationConfiguration', 'MSKSourceConfiguration', 'DatabaseSourceConfiguration'] as const;
      for (const o of others) {
        if ((input as unknown as Record<string, unknown>)[o] !== undefined) throw firehoseError('InvalidArgumentException', `${o.replace(/Configuration$/, '')} is not supported by hanul: use an S3 or HTTP endpoint destination.`);
      }
      if ((s3in ? 1 : 0) + (http ? 1 : 0) !== 1) throw firehoseError('InvalidArgumentException', 'Exactly one destination configuration must be specified.');
      if (s3in) checkS3(s3in);
      if (http) checkHttp(http);
      await checkQueries(input.ExtendedS3DestinationConfiguration?.ProcessingConfiguration, http?.ProcessingConfiguration);
      await checkPassRoles(core, input, ctx);
      const tags = checkTags(input.Tags ?? []);
      const now = ctx.clock.nowMs();
      const meta: DeliveryStreamMeta = {
        name, arn: streamArn(ctx.region, core.account, name), account: core.account, region: ctx.region, type,
        activeAt: now + core.opts.creatingMs, createdAt: new Date(now), versionId: 1, tags,
        ...(s3in ? { s3: withS3Defaults(s3in) } : {}),
        ...(http ? { http: withHttpDefaults(http) } : {}),
        ...(input.KinesisStreamSourceConfiguration ? { source: { streamArn: input.KinesisStreamSourceConfiguration.KinesisStreamARN as string, roleArn: input.KinesisStreamSourceConfiguration.RoleARN as string, startedAt: new Date(now) } } : {}),
      };
      await core.store.write(async (tx) => {
        if (await tx.get(NS_STREAM, name)) throw firehoseError('ResourceInUseException', `Firehose ${name} under accountId ${core.account} already exists`);
        if ((await tx.count(NS_STREAM)) >= MAX_STREAMS) throw firehoseError('LimitExceededException', `You have already consumed your firehose quota of ${MAX_STREAMS} hoses. Firehose names: …`);
        await tx.put(NS_STREAM, name, meta);
      });
      await hooks.created(meta, ctx);
      const enc = input.DeliveryStreamEncryptionConfigurationInput;
      if (enc) await core.encryption?.start(name, enc, ctx);
      return { DeliveryStreamARN: meta.arn };
    },

    async DescribeDeliveryStream(input: DescribeDeliveryStreamInput): Promise<DescribeDeliveryStreamOutput> {
      const name = checkStreamName(input.DeliveryStreamName);
      if (input.Limit !== undefined && (input.Limit < 1 || input.Limit > 10000)) throw constraint(String(input.Limit), 'limit', 'Member must have value between 1 and 10000');
      const s = await core.store.read((tx) => core.getStream(tx, name));
      return { DeliveryStreamDescription: describe(core, s) };
    },

    async ListDeliveryStreams(input: ListDeliveryStreamsInput): Promise<ListDeliveryStreamsOutput> {
      const limit = input.Limit ?? 10;
      if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw constraint(String(limit), 'limit', 'Member must have value between 1 and 10000');
      const after = input.ExclusiveStartDeliveryStreamName;
      const rows = await core.store.read((tx) => tx.scan<DeliveryStreamMeta>(NS_STREAM, after ? { startAfter: after } : {}));
      const match = rows.filter((r) => input.DeliveryStreamType === undefined || r.value.type === input.DeliveryStreamType);
      return { DeliveryStreamNames: match.slice(0, limit).map((r) => r.key), HasMoreDeliveryStreams: match.length > limit };
    },

    async DeleteDeliveryStream(input: DeleteDeliveryStreamInput): Promise<Record<string, never>> {
      const name = checkStreamName(input.DeliveryStreamName);
      // DELETING first (Describe shows it; puts and updates are refused), then gone.
      await core.store.write(async (tx) => {
        const s = await core.getStream(tx, name);
        if (s.deletingSince !== undefined) return;
        s.deletingSince = core.clock.nowMs();
        await tx.put(NS_STREAM, name, s);
      });
      const t = setTimeout(() => void finishDelete(core, name, (n) => hooks.deleted(n)), core.opts.deletingMs);
      t.unref();
      return {};
    },

    async UpdateDestination(input: UpdateDestinationInput, ctx: RequestContext): Promise<Record<string, never>> {
      const name = checkStreamName(input.DeliveryStreamName);
      if (input.DestinationId !== DESTINATION_ID) throw firehoseError('InvalidArgumentException', `Destination ${input.DestinationId ?? 'null'} not found for Firehose ${name}.`);
      const version = input.CurrentDeliveryStreamVersionId;
      if (version === undefined || !/^[0-9]+$/.test(version)) throw constraint(String(version), 'currentDeliveryStreamVersionId', 'Member must satisfy regular expression pattern: [0-9]+');
      await checkQueries(input.ExtendedS3DestinationUpdate?.ProcessingConfiguration, input.HttpEndpointDestinationUpdate?.ProcessingConfiguration);
      await checkPassRoles(core, input, ctx);
      await core.store.write(async (tx) => {
        const s = await core.activeStream(tx, name, 'ResourceInUseException');
        if (String(s.versionId) !== version) {
          throw firehoseError('ConcurrentModificationException', `Cannot update firehose: ${name} since the current version id: ${s.versionId} and the specified version id: ${version} do not match`);
        }
        const upd = input.ExtendedS3DestinationUpdate ?? input.S3DestinationUpdate;
        if (upd) {
          if (!s.s3) throw firehoseError('InvalidArgumentException', 'Changing the destination type is not supported by hanul.');
          const merged = withS3Defaults({ ...s.s3, ...upd, BufferingHints: { ...s.s3.BufferingHints, ...upd.BufferingHints } });
          checkS3(merged);
          s.s3 = merged;
        } else if (input.HttpEndpointDestinationUpdate) {
          if (!s.http) throw firehoseError('InvalidArgumentException', 'Changing the destination type is not supported by hanul.');
          const merged = withHttpDefaults({ ...s.http, ...input.HttpEndpointDestinationUpdate });
          checkHttp(merged);
          s.http = merged;
        } else throw firehoseError('InvalidArgumentException', 'A destination update (ExtendedS3DestinationUpdate, S3DestinationUpdate or HttpEndpointDestinationUpdate) is required.');
        s.versionId += 1;
        s.updatedAt = ctx.clock.now();
        await tx.put(NS_STREAM, name, s);
      });
      return {};
    },
  };
}
