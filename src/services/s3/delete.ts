/**
 * DeleteObject and DeleteObjects (≤ 1000 keys, Quiet mode, per-key errors).
 * A delete commits first and frees the blobs afterwards.
 */
import type { DeletedObject, DeleteObjectOutput, DeleteObjectRequest, DeleteObjectsOutput, DeleteObjectsRequest, _Error } from '@aws-sdk/client-s3';
import { isAwsError } from '../../aws/errors.js';
import type { RequestContext } from '../../server/context.js';
import { malformedXml } from './errors.js';
import { mfaDeleteOn, verifyMfaHeader } from './mfa-delete.js';
import type { BlobRef, BucketRecord, ObjectRecord } from './model.js';
import { bypassAllowed, checkDeletable } from './object-lock.js';
import { accountOf, checkKey, checkOwner, requireBucket, type S3 } from './state.js';
import { deleteCurrent, deleteVersion, type DeleteResult } from './versions.js';
import { markerTargets, queueReplication } from './replication.js';
import type { WriteTx } from '../../storage/ports.js';

export async function deleteObject(s3: S3, input: DeleteObjectRequest, ctx: RequestContext): Promise<DeleteObjectOutput> {
  const key = checkKey(input.Key);
  const guard = input.VersionId !== undefined ? await permanentDeleteGuard(s3, ctx, input.Bucket, [key], input.MFA, input.BypassGovernanceRetention) : undefined;
  let queued = false;
  const res = await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    if (input.VersionId !== undefined) return deleteVersion(tx, bucket, key, input.VersionId, guard?.(bucket));
    const r = await deleteCurrent(tx, bucket, key, accountOf(ctx), s3.clock.now());
    queued = bucket.replication !== undefined && (await queueMarker(tx, bucket, key, r));
    return r;
  });
  if (queued) s3.replicationWorker?.poke();
  s3.reaper.free(res.freed.map((b) => b.id));
  const out: DeleteObjectOutput = {};
  if (res.deleteMarker) out.DeleteMarker = true;
  if (res.versionId !== undefined) out.VersionId = res.versionId;
  return out;
}

/**
 * Before a permanent delete: MFA Delete's x-amz-mfa (checked once per request)
 * and the governance bypass; returns the per-version lock check.
 */
async function permanentDeleteGuard(
  s3: S3,
  ctx: RequestContext,
  bucketName: string | undefined,
  keys: string[],
  mfa: string | undefined,
  bypassHeader: boolean | undefined,
): Promise<(bucket: BucketRecord) => ((rec: ObjectRecord) => void) | undefined> {
  const b = checkOwner(bucketName ? await s3.buckets.get(s3, bucketName) : undefined, bucketName ?? '', ctx);
  if (mfaDeleteOn(b)) await verifyMfaHeader(ctx, mfa);
  const bypass = new Set<string>();
  if (b.objectLock && bypassHeader === true) {
    for (const k of new Set(keys)) if (await bypassAllowed(s3, ctx, b.name, k, true)) bypass.add(k);
  }
  const now = s3.clock.now();
  return (bucket) => (bucket.objectLock ? (rec) => checkDeletable(rec, now, bypass.has(rec.key)) : undefined);
}

/** A new delete marker in a replicating bucket: queued for the destinations whose rules replicate markers. */
async function queueMarker(tx: WriteTx, bucket: BucketRecord, key: string, res: DeleteResult): Promise<boolean> {
  if (!bucket.replication || res.deleteMarker !== true || res.versionId === undefined) return false;
  const targets = markerTargets(bucket.replication, key);
  if (targets.length === 0) return false;
  await queueReplication(tx, bucket.name, { key, versionId: res.versionId }, targets);
  return true;
}

const MAX_KEYS = 1000;

export async function deleteObjects(s3: S3, input: DeleteObjectsRequest, ctx: RequestContext): Promise<DeleteObjectsOutput> {
  const objects = input.Delete?.Objects;
  if (!objects || objects.length === 0 || objects.length > MAX_KEYS) throw malformedXml();
  const quiet = input.Delete?.Quiet === true;
  const freed: BlobRef[] = [];
  const deleted: DeletedObject[] = [];
  const errors: _Error[] = [];
  const versioned = objects.filter((o) => o.VersionId !== undefined).map((o) => o.Key ?? '');
  // An invalid x-amz-mfa fails the whole request; a missing one only when a version is named (AWS's rule).
  const guard = versioned.length > 0 || input.MFA !== undefined ? await permanentDeleteGuard(s3, ctx, input.Bucket, versioned, input.MFA, input.BypassGovernanceRetention) : undefined;
  let queued = false;
  await s3.meta.write(async (tx) => {
    freed.length = deleted.length = errors.length = 0;
    queued = false;
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    const now = s3.clock.now();
    for (const o of objects) {
      let res: DeleteResult;
      try {
        const key = checkKey(o.Key);
        res = o.VersionId !== undefined ? await deleteVersion(tx, bucket, key, o.VersionId, guard?.(bucket)) : await deleteCurrent(tx, bucket, key, accountOf(ctx), now);
        if (bucket.replication !== undefined && o.VersionId === undefined && (await queueMarker(tx, bucket, key, res))) queued = true;
      } catch (e) {
        if (!isAwsError(e)) throw e;
        errors.push({ Key: o.Key, ...(o.VersionId !== undefined ? { VersionId: o.VersionId } : {}), Code: e.code, Message: e.message });
        continue;
      }
      freed.push(...res.freed);
      if (quiet) continue;
      const d: DeletedObject = { Key: o.Key };
      if (o.VersionId !== undefined) {
        d.VersionId = o.VersionId;
        if (res.deleteMarker) {
          d.DeleteMarker = true;
          d.DeleteMarkerVersionId = o.VersionId;
        }
      } else if (res.deleteMarker) {
        d.DeleteMarker = true;
        if (res.versionId !== undefined) d.DeleteMarkerVersionId = res.versionId;
      }
      deleted.push(d);
    }
  });
  if (queued) s3.replicationWorker?.poke();
  s3.reaper.free(freed.map((b) => b.id));
  const out: DeleteObjectsOutput = {};
  if (deleted.length > 0) out.Deleted = deleted;
  if (errors.length > 0) out.Errors = errors;
  return out;
}
