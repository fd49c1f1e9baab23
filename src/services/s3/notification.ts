/**
 * Event notifications: Put/GetBucketNotificationConfiguration.
 *
 * hanul has no SNS, SQS, Lambda or EventBridge to deliver to. S3 validates
 * each destination when the configuration is put (it sends a test event) and
 * refuses the whole configuration when one cannot be validated; here none
 * can, so a configuration naming a destination is refused that way (400
 * InvalidArgument "Unable to validate the following destination
 * configurations") after the checks that need no destination. Only an empty
 * configuration is stored (Get answers it; a bucket starts with one).
 * EventBridge, which S3 enables without validation, and a request that asks
 * to skip validation would otherwise be stored and never deliver: those
 * answer 501 NotImplemented.
 */
import type {
  FilterRule,
  GetBucketNotificationConfigurationRequest,
  NotificationConfiguration,
  NotificationConfigurationFilter,
  PutBucketNotificationConfigurationRequest,
} from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { updateBucket } from './bucket-config.js';
import { invalidArgument, malformedXml, s3Error } from './errors.js';
import { requireBucket, type S3 } from './state.js';

const EVENTS = new Set([
  's3:ReducedRedundancyLostObject',
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:ObjectRestore:*',
  's3:ObjectRestore:Post',
  's3:ObjectRestore:Completed',
  's3:ObjectRestore:Delete',
  's3:Replication:*',
  's3:Replication:OperationFailedReplication',
  's3:Replication:OperationNotTracked',
  's3:Replication:OperationMissedThreshold',
  's3:Replication:OperationReplicatedAfterThreshold',
  's3:LifecycleTransition',
  's3:IntelligentTiering',
  's3:ObjectAcl:Put',
  's3:LifecycleExpiration:*',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
  's3:ObjectTagging:*',
  's3:ObjectTagging:Put',
  's3:ObjectTagging:Delete',
]);

interface Destination {
  arn: string | undefined;
  events: readonly string[] | undefined;
  filter: NotificationConfigurationFilter | undefined;
  /** The ARN's service and the word S3 uses for that destination. */
  service: 'sns' | 'sqs' | 'lambda';
  kind: string;
}

function destinations(cfg: NotificationConfiguration): Destination[] {
  return [
    ...(cfg.TopicConfigurations ?? []).map((c) => ({ arn: c.TopicArn, events: c.Events, filter: c.Filter, service: 'sns' as const, kind: 'topic' })),
    ...(cfg.QueueConfigurations ?? []).map((c) => ({ arn: c.QueueArn, events: c.Events, filter: c.Filter, service: 'sqs' as const, kind: 'queue' })),
    ...(cfg.LambdaFunctionConfigurations ?? []).map((c) => ({ arn: c.LambdaFunctionArn, events: c.Events, filter: c.Filter, service: 'lambda' as const, kind: 'Lambda function' })),
  ];
}

function checkFilter(rules: readonly FilterRule[] | undefined): void {
  const seen = new Set<string>();
  for (const r of rules ?? []) {
    const name = (r.Name ?? '').toLowerCase();
    if (name !== 'prefix' && name !== 'suffix') throw invalidArgument('filter rule name must be either prefix or suffix', 'FilterRule', r.Name);
    if (seen.has(name)) throw invalidArgument(`Cannot specify more than one ${name} rule in a filter.`, 'FilterRule', r.Name);
    seen.add(name);
  }
}

/** Everything S3 checks before it contacts the destinations; returns the destinations' ARNs. */
export function checkNotificationConfiguration(cfg: NotificationConfiguration): string[] {
  const out: string[] = [];
  for (const d of destinations(cfg)) {
    if (d.arn === undefined || d.arn === '') throw malformedXml();
    const parts = d.arn.split(':');
    const ok = parts.length >= 6 && parts[0] === 'arn' && parts[2] === d.service && (d.service !== 'lambda' || parts[5] === 'function');
    if (!ok) throw invalidArgument('The ARN is not well formed', d.kind === 'Lambda function' ? 'CloudFunction' : d.kind === 'topic' ? 'Topic' : 'Queue', d.arn);
    if (!d.events || d.events.length === 0) throw malformedXml();
    for (const e of d.events) if (!EVENTS.has(e)) throw invalidArgument('The event is not supported for notifications', 'Event', e);
    checkFilter(d.filter?.Key?.FilterRules);
    out.push(d.arn);
  }
  return out;
}

export async function putBucketNotificationConfiguration(s3: S3, input: PutBucketNotificationConfigurationRequest, ctx: RequestContext): Promise<Record<string, never>> {
  const cfg = input.NotificationConfiguration;
  if (!cfg) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const arns = checkNotificationConfiguration(cfg);
  // The bucket is checked before the destinations, as S3 (NoSuchBucket wins over a destination error).
  await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (cfg.EventBridgeConfiguration !== undefined) {
    throw s3Error('NotImplemented', 'PutBucketNotificationConfiguration: hanul has no EventBridge, so EventBridge notifications cannot be enabled.');
  }
  if (arns.length > 0 && input.SkipDestinationValidation === true) {
    throw s3Error('NotImplemented', 'PutBucketNotificationConfiguration: hanul has no SNS, SQS or Lambda to deliver event notifications to; the configuration was not stored.');
  }
  if (arns.length > 0) {
    const fields: Record<string, string> = {};
    arns.forEach((arn, i) => {
      const service = arn.split(':')[2];
      fields[`ArgumentName${i + 1}`] = arn;
      fields[`ArgumentValue${i + 1}`] = `The destination ${service === 'sns' ? 'topic' : service === 'sqs' ? 'queue' : 'Lambda function'} does not exist (hanul has no SNS, SQS or Lambda)`;
    });
    throw s3Error('InvalidArgument', 'Unable to validate the following destination configurations', fields);
  }
  await updateBucket(s3, input.Bucket, ctx, (b) => ({ ...b, notification: {} }));
  return {};
}

export async function getBucketNotificationConfiguration(s3: S3, input: GetBucketNotificationConfigurationRequest, ctx: RequestContext): Promise<NotificationConfiguration> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  return b.notification ?? {};
}
