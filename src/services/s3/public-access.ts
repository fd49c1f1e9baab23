/**
 * Block Public Access for one bucket: Put/Get/DeletePublicAccessBlock. New
 * buckets get all four settings on (AWS's default since April 2023); the
 * settings take effect in bucket-policy.ts (BlockPublicPolicy), acl.ts
 * (BlockPublicAcls) and s3-authz.ts (IgnorePublicAcls, RestrictPublicBuckets).
 */
import type { DeletePublicAccessBlockRequest, GetPublicAccessBlockOutput, GetPublicAccessBlockRequest, PutPublicAccessBlockRequest } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { updateBucket } from './bucket-config.js';
import { malformedXml, s3Error } from './errors.js';
import type { PublicAccessBlock } from './model.js';
import { requireBucket, type S3 } from './state.js';

export const BLOCK_ALL: PublicAccessBlock = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

export async function putPublicAccessBlock(s3: S3, input: PutPublicAccessBlockRequest, ctx: RequestContext): Promise<Record<string, never>> {
  const c = input.PublicAccessBlockConfiguration;
  if (!c) throw malformedXml();
  // Elements left out are false, as in S3.
  const pab: PublicAccessBlock = {
    BlockPublicAcls: c.BlockPublicAcls === true,
    IgnorePublicAcls: c.IgnorePublicAcls === true,
    BlockPublicPolicy: c.BlockPublicPolicy === true,
    RestrictPublicBuckets: c.RestrictPublicBuckets === true,
  };
  await updateBucket(s3, input.Bucket, ctx, (b) => ({ ...b, publicAccessBlock: pab }));
  return {};
}

export async function getPublicAccessBlock(s3: S3, input: GetPublicAccessBlockRequest, ctx: RequestContext): Promise<GetPublicAccessBlockOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!b.publicAccessBlock) {
    throw s3Error('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', { BucketName: b.name });
  }
  return { PublicAccessBlockConfiguration: { ...b.publicAccessBlock } };
}

export async function deletePublicAccessBlock(s3: S3, input: DeletePublicAccessBlockRequest, ctx: RequestContext): Promise<Record<string, never>> {
  await updateBucket(s3, input.Bucket, ctx, (b) => {
    const { publicAccessBlock: _drop, ...rest } = b;
    return rest;
  });
  return {};
}
