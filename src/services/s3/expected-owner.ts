/**
 * x-amz-expected-bucket-owner / x-amz-source-expected-bucket-owner: a request
 * naming an account that does not own the bucket is refused with 403, before
 * anything else happens (a guard against writing into someone else's bucket).
 */
import { s3Error } from './errors.js';
import { parseCopySource } from './copy.js';
import type { S3 } from './state.js';

async function check(s3: S3, bucket: unknown, expected: unknown): Promise<void> {
  if (typeof expected !== 'string' || typeof bucket !== 'string' || bucket === '') return;
  if (!/^\d{12}$/.test(expected)) throw s3Error('InvalidArgument', 'Invalid expected bucket owner', { ArgumentName: 'x-amz-expected-bucket-owner', ArgumentValue: expected });
  const b = await s3.buckets.get(s3, bucket);
  // A missing bucket is left to the operation (NoSuchBucket).
  if (b && b.ownerAccount !== expected) throw s3Error('AccessDenied', 'Access Denied');
}

export async function checkExpectedOwners(s3: S3, input: Record<string, unknown>): Promise<void> {
  if (input['ExpectedBucketOwner'] !== undefined) await check(s3, input['Bucket'], input['ExpectedBucketOwner']);
  if (input['ExpectedSourceBucketOwner'] !== undefined && typeof input['CopySource'] === 'string') {
    await check(s3, parseCopySource(input['CopySource']).bucket, input['ExpectedSourceBucketOwner']);
  }
}
