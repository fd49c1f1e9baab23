/**
 * Object and bucket tagging: S3's tag limits (10 per object, 50 per bucket,
 * keys ≤ 128 and values ≤ 256 characters, unique keys, no `aws:` prefix),
 * the x-amz-tagging header, and the tagging operations.
 */
import { queueTagSync } from './replication.js';
import type {
  DeleteBucketTaggingRequest,
  DeleteObjectTaggingOutput,
  DeleteObjectTaggingRequest,
  GetBucketTaggingOutput,
  GetBucketTaggingRequest,
  GetObjectTaggingOutput,
  GetObjectTaggingRequest,
  PutBucketTaggingRequest,
  PutObjectTaggingOutput,
  PutObjectTaggingRequest,
  Tag,
} from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { malformedXml, s3Error } from './errors.js';
import { type BucketRecord, NS_BUCKETS, type ObjectRecord, type TagPair } from './model.js';
import { checkKey, requireBucket, type S3 } from './state.js';
import { checkVersionIdFormat, readableVersion, updateVersion } from './versions.js';

function invalidTag(message: string) {
  return s3Error('InvalidTag', message);
}

/** Validates a tag set; returns it as plain pairs. */
/** S3's limit of tags on one bucket (PutBucketTagging, CreateBucket, S3 Control's TagResource). */
export const MAX_BUCKET_TAGS = 50;

export function checkTags(tags: readonly Tag[] | undefined, max: number, what: 'Object' | 'Bucket'): TagPair[] {
  const out: TagPair[] = [];
  const seen = new Set<string>();
  for (const t of tags ?? []) {
    if (t.Key === undefined || t.Value === undefined) throw malformedXml();
    if (t.Key.length === 0) throw invalidTag('The TagKey you have provided is invalid');
    if ([...t.Key].length > 128) throw invalidTag('The TagKey you have provided is too long, max 128');
    if ([...t.Value].length > 256) throw invalidTag('The TagValue you have provided is too long, max 256');
    if (t.Key.toLowerCase().startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:');
    if (seen.has(t.Key)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(t.Key);
    out.push({ Key: t.Key, Value: t.Value });
  }
  if (out.length > max) throw invalidTag(`${what} tags cannot be greater than ${max}`);
  return out;
}

/** The x-amz-tagging header: a URL query string of key=value pairs. */
export function parseTaggingHeader(raw: string | undefined): TagPair[] | undefined {
  if (raw === undefined) return undefined;
  const tags: Tag[] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        throw invalidTag('The header x-amz-tagging is not a valid URL query string');
      }
    };
    tags.push({ Key: dec(eq < 0 ? part : part.slice(0, eq)), Value: dec(eq < 0 ? '' : part.slice(eq + 1)) });
  }
  return checkTags(tags, 10, 'Object');
}

function versionHeader(bucket: BucketRecord, rec: ObjectRecord): { VersionId?: string } {
  return bucket.versioning !== undefined ? { VersionId: rec.versionId } : {};
}

export async function getObjectTagging(s3: S3, input: GetObjectTaggingRequest, ctx: RequestContext): Promise<GetObjectTaggingOutput> {
  const key = checkKey(input.Key);
  if (input.VersionId !== undefined) checkVersionIdFormat(input.VersionId);
  return s3.meta.read(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    const rec = await readableVersion(tx, bucket, key, input.VersionId);
    return { TagSet: rec.tags ?? [], ...versionHeader(bucket, rec) };
  });
}

export async function putObjectTagging(s3: S3, input: PutObjectTaggingRequest, ctx: RequestContext): Promise<PutObjectTaggingOutput> {
  const key = checkKey(input.Key);
  if (!input.Tagging) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const tags = checkTags(input.Tagging.TagSet, 10, 'Object');
  let queued = false;
  const out = await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    const rec = await updateVersion(tx, bucket, key, input.VersionId, (r) => ({ ...r, tags }));
    queued = bucket.replication !== undefined && (await queueTagSync(tx, bucket, rec));
    return versionHeader(bucket, rec);
  });
  if (queued) s3.replicationWorker?.poke();
  return out;
}

export async function deleteObjectTagging(s3: S3, input: DeleteObjectTaggingRequest, ctx: RequestContext): Promise<DeleteObjectTaggingOutput> {
  const key = checkKey(input.Key);
  let queued = false;
  const out = await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    const rec = await updateVersion(tx, bucket, key, input.VersionId, (r) => {
      const { tags: _drop, ...rest } = r;
      return rest;
    });
    queued = bucket.replication !== undefined && (await queueTagSync(tx, bucket, rec));
    return versionHeader(bucket, rec);
  });
  if (queued) s3.replicationWorker?.poke();
  return out;
}

/** PutBucketTagging / DeleteBucketTagging on a bucket whose tags ABAC governs. */
export function refuseWhileAbac(b: BucketRecord, operation: string): void {
  if (b.abac === 'Enabled') {
    throw s3Error('InvalidRequest', `${operation} is not allowed on a bucket with attribute-based access control (ABAC) enabled; use the S3 Control TagResource and UntagResource operations`);
  }
}

export async function getBucketTagging(s3: S3, input: GetBucketTaggingRequest, ctx: RequestContext): Promise<GetBucketTaggingOutput> {
  return s3.meta.read(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    if (!bucket.tags || bucket.tags.length === 0) throw s3Error('NoSuchTagSet', 'The TagSet does not exist', { BucketName: bucket.name });
    return { TagSet: bucket.tags };
  });
}

export async function putBucketTagging(s3: S3, input: PutBucketTaggingRequest, ctx: RequestContext): Promise<Record<string, never>> {
  if (!input.Tagging) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const tags = checkTags(input.Tagging.TagSet, MAX_BUCKET_TAGS, 'Bucket');
  await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    refuseWhileAbac(bucket, 'PutBucketTagging');
    await tx.put(NS_BUCKETS, bucket.name, { ...bucket, tags });
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}

export async function deleteBucketTagging(s3: S3, input: DeleteBucketTaggingRequest, ctx: RequestContext): Promise<Record<string, never>> {
  await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    refuseWhileAbac(bucket, 'DeleteBucketTagging');
    const { tags: _drop, ...rest } = bucket;
    await tx.put(NS_BUCKETS, bucket.name, rest);
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}
