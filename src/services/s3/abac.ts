/**
 * Attribute-based access control (ABAC) for general purpose buckets:
 * Put/GetBucketAbac, and S3 Control's TagResource / UntagResource /
 * ListTagsForResource on a bucket ARN (`arn:aws:s3:::<bucket>`), which manage
 * the same tags GetBucketTagging returns.
 *
 * While a bucket's ABAC is Enabled its tags are the `aws:ResourceTag/<key>`
 * and `s3:BucketTag/<key>` condition keys of every request on the bucket and
 * its objects (s3-authz.ts supplies them with the bucket's resource policy),
 * and PutBucketTagging / DeleteBucketTagging are refused: tags then change
 * only with s3:TagResource / s3:UntagResource, which policies can condition
 * on the tags asked for (`aws:RequestTag/<key>`, `aws:TagKeys`). While it is
 * Disabled (the default) bucket tags take no part in authorization.
 */
import type { GetBucketAbacOutput, GetBucketAbacRequest, PutBucketAbacRequest } from '@aws-sdk/client-s3';
import type { ListTagsForResourceRequest, ListTagsForResourceResult, TagResourceRequest, UntagResourceRequest } from '@aws-sdk/client-s3-control';
import type { ConditionValues } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { updateBucket } from './bucket-config.js';
import { malformedXml, s3Error } from './errors.js';
import type { BucketRecord, TagPair } from './model.js';
import { accountOf, isValidBucketName, requireBucket, type S3 } from './state.js';
import { checkTags, MAX_BUCKET_TAGS } from './tagging.js';

export async function putBucketAbac(s3: S3, input: PutBucketAbacRequest, ctx: RequestContext): Promise<Record<string, never>> {
  if (!input.AbacStatus) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const status = input.AbacStatus.Status;
  if (status !== 'Enabled' && status !== 'Disabled') throw malformedXml();
  await updateBucket(s3, input.Bucket, ctx, (b) => {
    const { abac: _drop, ...rest } = b;
    return status === 'Enabled' ? { ...rest, abac: 'Enabled' } : rest;
  });
  return {};
}

export async function getBucketAbac(s3: S3, input: GetBucketAbacRequest, ctx: RequestContext): Promise<GetBucketAbacOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  return { AbacStatus: { Status: b.abac ?? 'Disabled' } };
}

/**
 * The bucket an S3 Control tagging ARN names. Only general purpose buckets
 * (`arn:aws:s3:::<bucket>`) are taggable here; any other ARN is refused as
 * invalid input.
 */
export function taggedBucket(arn: string | undefined): string {
  const prefix = 'arn:aws:s3:::';
  const name = arn?.startsWith(prefix) ? arn.slice(prefix.length) : undefined;
  if (name === undefined || name.includes('/') || !isValidBucketName(name)) {
    throw s3Error('InvalidRequest', `Invalid ARN: ${arn ?? ''} is not the ARN of a general purpose bucket (arn:aws:s3:::<bucket>)`);
  }
  return name;
}

/**
 * S3 Control's `x-amz-account-id` names the account that owns the resource or the caller's own;
 * another account is refused as AWS refuses a request to the wrong account's S3 Control endpoint.
 */
function checkAccountId(accountId: string | undefined, b: BucketRecord, ctx: RequestContext): BucketRecord {
  if (accountId !== undefined && accountId !== b.ownerAccount && accountId !== accountOf(ctx)) throw s3Error('AccessDenied', 'Access Denied');
  return b;
}

/** The resource an S3 Control tagging call is authorized on: the bucket's ARN, or '*' for an ARN the handler refuses. */
export function tagResourceArn(input: { ResourceArn?: string | undefined }): string {
  try {
    return `arn:aws:s3:::${taggedBucket(input.ResourceArn)}`;
  } catch {
    return '*';
  }
}

/** aws:RequestTag/<key> and aws:TagKeys of a request that sets tags (TagResource, CreateBucket with tags). */
export function requestTagKeys(tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined): ConditionValues {
  const out: Record<string, string | string[]> = {};
  const keys: string[] = [];
  for (const t of tags ?? []) {
    if (t.Key === undefined) continue;
    keys.push(t.Key);
    if (t.Value !== undefined) out[`aws:RequestTag/${t.Key}`] = t.Value;
  }
  out['aws:TagKeys'] = keys;
  return out;
}

export async function tagResource(s3: S3, input: TagResourceRequest, ctx: RequestContext): Promise<Record<string, never>> {
  const name = taggedBucket(input.ResourceArn);
  if (!input.Tags) throw malformedXml();
  const given = checkTags(input.Tags, MAX_BUCKET_TAGS, 'Bucket');
  await updateBucket(s3, name, ctx, (b) => {
    checkAccountId(input.AccountId, b, ctx);
    // Adds or overwrites the given keys; the others stay.
    const merged = new Map<string, string>((b.tags ?? []).map((t) => [t.Key, t.Value]));
    for (const t of given) merged.set(t.Key, t.Value);
    const tags: TagPair[] = checkTags([...merged].map(([Key, Value]) => ({ Key, Value })), MAX_BUCKET_TAGS, 'Bucket');
    return { ...b, tags };
  });
  return {};
}

export async function untagResource(s3: S3, input: UntagResourceRequest, ctx: RequestContext): Promise<Record<string, never>> {
  const name = taggedBucket(input.ResourceArn);
  const keys = input.TagKeys ?? [];
  if (keys.length === 0) throw s3Error('InvalidRequest', 'The request must name at least one tag key (tagKeys)');
  const drop = new Set(keys);
  await updateBucket(s3, name, ctx, (b) => {
    checkAccountId(input.AccountId, b, ctx);
    const { tags: old, ...rest } = b;
    const tags = (old ?? []).filter((t) => !drop.has(t.Key));
    return tags.length > 0 ? { ...rest, tags } : rest;
  });
  return {};
}

export async function listTagsForResource(s3: S3, input: ListTagsForResourceRequest, ctx: RequestContext): Promise<ListTagsForResourceResult> {
  const name = taggedBucket(input.ResourceArn);
  const b = checkAccountId(input.AccountId, await s3.meta.read((tx) => requireBucket(tx, name, ctx)), ctx);
  return { Tags: (b.tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value })) };
}
