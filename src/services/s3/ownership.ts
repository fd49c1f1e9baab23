/**
 * Object Ownership: Put/Get/DeleteBucketOwnershipControls. New buckets are
 * BucketOwnerEnforced (ACLs disabled, AWS's default since April 2023) unless
 * CreateBucket says otherwise; a record from before this setting existed
 * counts as BucketOwnerEnforced too. After DeleteBucketOwnershipControls the
 * bucket behaves as ObjectWriter (ACLs enabled) and Get answers
 * OwnershipControlsNotFoundError.
 */
import type {
  DeleteBucketOwnershipControlsRequest,
  GetBucketOwnershipControlsOutput,
  GetBucketOwnershipControlsRequest,
  PutBucketOwnershipControlsRequest,
} from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { updateBucket } from './bucket-config.js';
import { malformedXml, s3Error } from './errors.js';
import type { BucketRecord, ObjectOwnershipSetting } from './model.js';
import { requireBucket, type S3 } from './state.js';

const SETTINGS = new Set<string>(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']);

export function checkOwnershipSetting(v: string | undefined): ObjectOwnershipSetting {
  if (v === undefined || !SETTINGS.has(v)) throw malformedXml();
  return v as ObjectOwnershipSetting;
}

export function ownershipOf(b: BucketRecord): ObjectOwnershipSetting | undefined {
  if (b.ownership === undefined) return 'BucketOwnerEnforced';
  return b.ownership === 'none' ? undefined : b.ownership;
}

export const aclNotSupported = () => s3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs');

export async function putBucketOwnershipControls(s3: S3, input: PutBucketOwnershipControlsRequest, ctx: RequestContext): Promise<Record<string, never>> {
  const rules = input.OwnershipControls?.Rules ?? [];
  if (rules.length !== 1) throw malformedXml();
  const setting = checkOwnershipSetting(rules[0]?.ObjectOwnership);
  await updateBucket(s3, input.Bucket, ctx, (b) => {
    // Disabling ACLs keeps nothing that would grant beyond the owner: S3 refuses while the bucket ACL does.
    if (setting === 'BucketOwnerEnforced' && (b.acl?.length ?? 0) > 0) {
      throw s3Error('InvalidBucketAclWithObjectOwnership', "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
    }
    return { ...b, ownership: setting };
  });
  return {};
}

export async function getBucketOwnershipControls(s3: S3, input: GetBucketOwnershipControlsRequest, ctx: RequestContext): Promise<GetBucketOwnershipControlsOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  const setting = ownershipOf(b);
  if (setting === undefined) {
    throw s3Error('OwnershipControlsNotFoundError', 'The bucket ownership controls were not found', { BucketName: b.name });
  }
  return { OwnershipControls: { Rules: [{ ObjectOwnership: setting }] } };
}

export async function deleteBucketOwnershipControls(s3: S3, input: DeleteBucketOwnershipControlsRequest, ctx: RequestContext): Promise<Record<string, never>> {
  await updateBucket(s3, input.Bucket, ctx, (b) => ({ ...b, ownership: 'none' }));
  return {};
}
