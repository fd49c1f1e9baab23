/**
 * Bucket replication: Put/Get/DeleteBucketReplication, validated as S3 does
 * (source and destination versioned, the destination exists, Role ARN shape,
 * rule ids, priorities and the V1/V2 schemas, at most 1,000 rules), and which
 * rules a new object version matches.
 *
 * A version a rule matches is written with x-amz-replication-status PENDING
 * and queued in the same transaction (commitObject); the worker
 * (replication-worker.ts) copies it as the configuration's role to each
 * destination, keeping its version id (the copy says REPLICA), and marks it
 * COMPLETED or FAILED; user-made delete markers are replicated as S3 does
 * (V1 rules always, V2 rules with DeleteMarkerReplication Enabled). Features
 * whose effect hanul does not build yet (existing objects, replica modification sync,
 * another account's destination) are refused with 501 rather than stored and
 * ignored. SSE-KMS objects are replicated by rules that select them, under the
 * rule's ReplicaKmsKeyID; SSE-C objects as stored (the same key opens the replica);
 * DSSE-KMS objects are not replicated (no status).
 */
import type {
  DeleteBucketReplicationRequest,
  GetBucketReplicationOutput,
  GetBucketReplicationRequest,
  PutBucketReplicationRequest,
  ReplicationConfiguration,
  ReplicationRule,
} from '@aws-sdk/client-s3';
import { checkPassRole } from '../../iam/authorize.js';
import type { RequestContext } from '../../server/context.js';
import type { WriteTx } from '../../storage/ports.js';
import { updateBucket } from './bucket-config.js';
import { invalidArgument, malformedXml, s3Error } from './errors.js';
import { type BucketRecord, NS_BUCKETS, NS_REPLICATION, type ObjectRecord, type ReplicationTask, SEP } from './model.js';
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
      if (dm === 'Enabled' && (f.Tag !== undefined || (f.And?.Tags?.length ?? 0) > 0)) {
        throw s3Error('InvalidRequest', 'Delete marker replication is not supported if any Tag filter is specified.');
      }
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
    notBuilt(r);
    const kms = r.SourceSelectionCriteria?.SseKmsEncryptedObjects?.Status;
    if (kms !== undefined && kms !== 'Enabled' && kms !== 'Disabled') throw malformedXml();
    const replicaKey = r.Destination?.EncryptionConfiguration?.ReplicaKmsKeyID;
    if (kms === 'Enabled' && !replicaKey) throw s3Error('InvalidRequest', 'ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.');
    if (replicaKey && kms !== 'Enabled') throw s3Error('InvalidRequest', 'SseKmsEncryptedObjects must be specified if EncryptionConfiguration is present.');
    destinations.push(m[1]);
  }
  return destinations;
}

const notImplemented = (what: string) => s3Error('NotImplemented', `PutBucketReplication: ${what} is not built in hanul; the replication configuration was not stored.`);

/** Parts of a rule whose effect hanul does not build: refused, never stored and ignored. */
function notBuilt(r: ReplicationRule): void {
  if (r.ExistingObjectReplication?.Status === 'Enabled') throw notImplemented('ExistingObjectReplication');
  if (r.SourceSelectionCriteria?.ReplicaModifications?.Status === 'Enabled') throw notImplemented('ReplicaModifications');
  if (r.Destination?.Account !== undefined || r.Destination?.AccessControlTranslation !== undefined) throw notImplemented('Replication to another account');
}

/** Where a new version goes: for each destination, the highest-priority enabled rule that matches it. */
export function replicationTargets(cfg: ReplicationConfiguration, rec: Pick<ObjectRecord, 'key' | 'tags' | 'sse'>): ReplicationTarget[] {
  // DSSE-KMS sources are not replicated; SSE-KMS ones only by rules that select them (SourceSelectionCriteria).
  if (rec.sse !== undefined && rec.sse.customer === undefined && rec.sse.algorithm === 'aws:kms:dsse') return [];
  const kms = rec.sse?.algorithm === 'aws:kms';
  const best = new Map<string, ReplicationRule>();
  for (const r of cfg.Rules ?? []) {
    if (r.Status !== 'Enabled' || !ruleMatches(r, rec)) continue;
    if (kms && r.SourceSelectionCriteria?.SseKmsEncryptedObjects?.Status !== 'Enabled') continue;
    const dest = BUCKET_ARN.exec(r.Destination?.Bucket ?? '')?.[1];
    if (dest === undefined) continue;
    const prev = best.get(dest);
    if (!prev || (r.Priority ?? 0) > (prev.Priority ?? 0)) best.set(dest, r);
  }
  return [...best].map(([destination, r]) => {
    const t: ReplicationTarget = { destination };
    if (r.Destination?.StorageClass) t.storageClass = r.Destination.StorageClass;
    const replicaKey = r.Destination?.EncryptionConfiguration?.ReplicaKmsKeyID;
    if (kms && replicaKey) t.replicaKmsKeyId = replicaKey;
    return t;
  });
}

/** One destination of a new version: the rule's storage class and, for an SSE-KMS source, the replica's KMS key. */
export type ReplicationTarget = Pick<ReplicationTask, 'destination' | 'storageClass' | 'replicaKmsKeyId'>;

/**
 * Where a new delete marker goes: rules of the V1 schema (a rule Prefix) replicate markers, V2
 * rules (a Filter) only with DeleteMarkerReplication Enabled. Markers made by lifecycle are not replicated.
 */
export function markerTargets(cfg: ReplicationConfiguration, key: string): Array<{ destination: string }> {
  const out = new Set<string>();
  for (const r of cfg.Rules ?? []) {
    if (r.Status !== 'Enabled' || !ruleMatches(r, { key })) continue;
    if (r.Filter !== undefined && r.DeleteMarkerReplication?.Status !== 'Enabled') continue;
    const dest = BUCKET_ARN.exec(r.Destination?.Bucket ?? '')?.[1];
    if (dest !== undefined) out.add(dest);
  }
  return [...out].map((destination) => ({ destination }));
}

function ruleMatches(r: ReplicationRule, rec: Pick<ObjectRecord, 'key' | 'tags'>): boolean {
  const hasTag = (t: { Key?: string | undefined; Value?: string | undefined }) => (rec.tags ?? []).some((x) => x.Key === t.Key && x.Value === t.Value);
  if (r.Filter === undefined) return rec.key.startsWith(r.Prefix ?? '');
  const f = r.Filter;
  if (f.Prefix !== undefined) return rec.key.startsWith(f.Prefix);
  if (f.Tag !== undefined) return hasTag(f.Tag);
  if (f.And !== undefined) return rec.key.startsWith(f.And.Prefix ?? '') && (f.And.Tags ?? []).every(hasTag);
  return true;
}

export const replicationTaskKey = (t: Pick<ReplicationTask, 'bucket' | 'key' | 'versionId' | 'destination'>) => `${t.bucket}${SEP}${t.key}${SEP}${t.versionId}${SEP}${t.destination}`;

/** Queues a committed version for each destination (in the transaction that wrote it). */
export async function queueReplication(tx: WriteTx, bucket: string, rec: Pick<ObjectRecord, 'key' | 'versionId'>, targets: readonly ReplicationTarget[]): Promise<void> {
  for (const t of targets) {
    const task: ReplicationTask = { bucket, key: rec.key, versionId: rec.versionId, ...t };
    await tx.put(NS_REPLICATION, replicationTaskKey(task), task);
  }
}

/**
 * A replicated source version's tags changed: its replicas get them too (s3:ReplicateTags).
 * A copy still queued reads the new tags when it runs, so nothing more is queued for it.
 */
export async function queueTagSync(tx: WriteTx, bucket: BucketRecord, rec: ObjectRecord): Promise<boolean> {
  if (!bucket.replication || rec.replicationStatus === undefined || rec.replicationStatus === 'REPLICA') return false;
  let queued = false;
  for (const t of replicationTargets(bucket.replication, rec)) {
    const task: ReplicationTask = { bucket: bucket.name, key: rec.key, versionId: rec.versionId, destination: t.destination, tagsOnly: true };
    const k = replicationTaskKey(task);
    if ((await tx.get(NS_REPLICATION, k)) !== undefined) continue;
    await tx.put(NS_REPLICATION, k, task);
    queued = true;
  }
  return queued;
}

export async function putBucketReplication(s3: S3, input: PutBucketReplicationRequest, ctx: RequestContext): Promise<Record<string, never>> {
  if (!input.ReplicationConfiguration) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const cfg = input.ReplicationConfiguration;
  const destinations = checkReplicationRules(cfg.Role, cfg.Rules);
  // S3 will act with this role later: the caller must be allowed to pass it (iam:PassRole), as in AWS.
  const service = s3.service?.();
  if (service) await checkPassRole(ctx, service, cfg.Role as string, 's3.amazonaws.com');
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    if (b.versioning !== 'Enabled') throw s3Error('InvalidRequest', "Versioning must be 'Enabled' on the bucket to apply a replication configuration", { BucketName: b.name });
    for (const name of destinations) {
      if (name === b.name) throw s3Error('InvalidRequest', 'Destination bucket cannot be the same as the source bucket.');
      const d = await getBucket(tx, name);
      if (!d) throw s3Error('InvalidRequest', 'Destination bucket must exist.');
      if (d.versioning !== 'Enabled') throw s3Error('InvalidRequest', 'Destination bucket must have versioning enabled.');
    }
    await tx.put(NS_BUCKETS, b.name, { ...b, replication: { Role: cfg.Role, Rules: cfg.Rules } });
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
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
