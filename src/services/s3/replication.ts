/**
 * Bucket replication: Get/Delete/PutBucketReplication.
 *
 * Objects are not replicated by hanul yet (no worker copies them as the role,
 * no x-amz-replication-status). Rather than store a configuration that would
 * silently do nothing, Put validates it as S3 does (so a wrong configuration
 * gets S3's own error) and then answers 501 NotImplemented; Get answers
 * ReplicationConfigurationNotFoundError and Delete succeeds, as for a bucket
 * without replication.
 */
import type { DeleteBucketReplicationRequest, GetBucketReplicationOutput, GetBucketReplicationRequest, PutBucketReplicationRequest, ReplicationRule } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { updateBucket } from './bucket-config.js';
import { invalidArgument, malformedXml, s3Error } from './errors.js';
import { getBucket, requireBucket, type S3 } from './state.js';

const MAX_RULES = 1000;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const BUCKET_ARN = /^arn:aws[a-z-]*:s3:::([^/]+)$/;
const STORAGE_CLASSES = new Set(['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR']);

/** The destination bucket names a rule list refers to, after checking what needs no other bucket. */
export function checkReplicationRules(role: string | undefined, rules: readonly ReplicationRule[] | undefined): string[] {
  if (!rules || rules.length === 0) throw malformedXml();
  if (rules.length > MAX_RULES) throw invalidArgument(`Number of rules in a replication configuration cannot exceed ${MAX_RULES}.`, 'Rules');
  if (role === undefined || role === '') throw malformedXml();
  if (!ROLE_ARN.test(role)) throw invalidArgument('Invalid ARN', 'Role', role);
  const ids = new Set<string>();
  const priorities = new Set<number>();
  const destinations: string[] = [];
  // A rule with a Filter is the V2 schema: every rule must then use it, with a Priority and DeleteMarkerReplication.
  const v2 = rules.some((r) => r.Filter !== undefined);
  for (const r of rules) {
    if (r.Status !== 'Enabled' && r.Status !== 'Disabled') throw malformedXml();
    if (r.ID !== undefined) {
      if (r.ID.length > 255) throw invalidArgument('The ID of a replication rule must be at most 255 characters long', 'ID', r.ID);
      if (ids.has(r.ID)) throw invalidArgument('Rule Id must be unique.', 'ID', r.ID);
      ids.add(r.ID);
    }
    if (v2) {
      if (r.Prefix !== undefined || r.Filter === undefined) throw malformedXml();
      if (r.DeleteMarkerReplication === undefined) {
        throw s3Error('InvalidRequest', 'DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema.');
      }
      const dm = r.DeleteMarkerReplication.Status;
      if (dm !== 'Enabled' && dm !== 'Disabled') throw malformedXml();
      const f = r.Filter;
      if ([f.Prefix, f.Tag, f.And].filter((x) => x !== undefined).length > 1) throw malformedXml();
      if (r.Priority === undefined) throw invalidArgument('Priority must be specified for this version of Cross Region Replication configuration schema.', 'Priority');
      if (priorities.has(r.Priority)) throw invalidArgument('Found duplicate priority ' + String(r.Priority) + ' in replication rules.', 'Priority', String(r.Priority));
      priorities.add(r.Priority);
    } else if (r.Prefix === undefined) {
      throw malformedXml();
    }
    const dest = r.Destination?.Bucket;
    if (dest === undefined) throw malformedXml();
    const m = BUCKET_ARN.exec(dest);
    if (!m?.[1]) throw invalidArgument('Invalid bucket ARN.', 'Bucket', dest);
    const sc = r.Destination?.StorageClass;
    if (sc !== undefined && !STORAGE_CLASSES.has(sc)) throw malformedXml();
    destinations.push(m[1]);
  }
  return destinations;
}

export async function putBucketReplication(s3: S3, input: PutBucketReplicationRequest, ctx: RequestContext): Promise<never> {
  if (!input.ReplicationConfiguration) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const cfg = input.ReplicationConfiguration;
  const destinations = checkReplicationRules(cfg.Role, cfg.Rules);
  await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    if (b.versioning !== 'Enabled') throw s3Error('InvalidRequest', "Versioning must be 'Enabled' on the bucket to apply a replication configuration", { BucketName: b.name });
    for (const name of destinations) {
      const d = await getBucket(tx, name);
      if (!d) throw s3Error('InvalidRequest', 'Destination bucket must exist.');
      if (d.versioning !== 'Enabled') throw s3Error('InvalidRequest', 'Destination bucket must have versioning enabled.');
    }
  });
  throw s3Error(
    'NotImplemented',
    'PutBucketReplication: hanul does not replicate objects yet, so the replication configuration was validated but not stored.',
  );
}

export async function getBucketReplication(s3: S3, input: GetBucketReplicationRequest, ctx: RequestContext): Promise<GetBucketReplicationOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!b.replication) throw s3Error('ReplicationConfigurationNotFoundError', 'The replication configuration was not found', { BucketName: b.name });
  return { ReplicationConfiguration: b.replication };
}

export async function deleteBucketReplication(s3: S3, input: DeleteBucketReplicationRequest, ctx: RequestContext): Promise<Record<string, never>> {
  await updateBucket(s3, input.Bucket, ctx, (b) => {
    const { replication: _drop, ...rest } = b;
    return rest;
  });
  return {};
}
