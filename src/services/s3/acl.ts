/**
 * ACL operations: Get/PutBucketAcl, Get/PutObjectAcl, and the ACL a write
 * request asks for (x-amz-acl, x-amz-grant-*) on CreateBucket, PutObject,
 * CopyObject and CreateMultipartUpload. With Object Ownership
 * BucketOwnerEnforced, ACLs are disabled: reads answer the owner's
 * FULL_CONTROL, and any ACL but bucket-owner-full-control (or its explicit
 * equivalent) is AccessControlListNotSupported. Block Public Access's
 * BlockPublicAcls refuses public grants with AccessDenied.
 */
import type {
  AccessControlPolicy,
  CreateBucketRequest,
  GetBucketAclOutput,
  GetBucketAclRequest,
  GetObjectAclOutput,
  GetObjectAclRequest,
  PutBucketAclRequest,
  PutObjectAclOutput,
  PutObjectAclRequest,
} from '@aws-sdk/client-s3';
import type { ServiceDefinition } from '../../aws/service.js';
import { checkAccess } from '../../iam/authorize.js';
import type { RequestContext } from '../../server/context.js';
import { cannedGrants, grantsFromBody, isPublicGrant, parseGrantHeader, wireGrants } from './acl-model.js';
import { updateBucket } from './bucket-config.js';
import { s3Error } from './errors.js';
import { type BucketRecord, canonicalUserId, type ObjectRecord, owner, type StoredGrant } from './model.js';
import { aclNotSupported, checkOwnershipSetting, ownershipOf } from './ownership.js';
import { BLOCK_ALL } from './public-access.js';
import { accountOf, checkKey, requireBucket, type S3 } from './state.js';
import { checkVersionIdFormat, readableVersion, updateVersion } from './versions.js';

/** The ACL members a request may carry (headers, and PutXAcl's body). */
export interface AclRequest {
  ACL?: string | undefined;
  GrantFullControl?: string | undefined;
  GrantRead?: string | undefined;
  GrantReadACP?: string | undefined;
  GrantWrite?: string | undefined;
  GrantWriteACP?: string | undefined;
  AccessControlPolicy?: AccessControlPolicy | undefined;
}

const HEADERS = [
  ['GrantFullControl', 'FULL_CONTROL', 'x-amz-grant-full-control'],
  ['GrantRead', 'READ', 'x-amz-grant-read'],
  ['GrantReadACP', 'READ_ACP', 'x-amz-grant-read-acp'],
  ['GrantWrite', 'WRITE', 'x-amz-grant-write'],
  ['GrantWriteACP', 'WRITE_ACP', 'x-amz-grant-write-acp'],
] as const;

function hasGrantHeaders(r: AclRequest): boolean {
  return HEADERS.some(([m]) => r[m] !== undefined);
}

/**
 * The grants a request asks for, or undefined when it names no ACL. Checks
 * Object Ownership and BlockPublicAcls. `ownerId` is the resource's owner
 * (the writer for a new object).
 */
export function requestedAcl(b: BucketRecord, r: AclRequest, target: 'bucket' | 'object', ownerId: string, withBody = false): StoredGrant[] | undefined {
  const headers = hasGrantHeaders(r);
  const body = withBody && r.AccessControlPolicy !== undefined;
  if (r.ACL === undefined && !headers && !body) return undefined;
  if ((r.ACL !== undefined ? 1 : 0) + (headers ? 1 : 0) + (body ? 1 : 0) > 1) {
    throw s3Error('InvalidRequest', body ? 'Specifying both Canned ACLs and Header Grants is not allowed' : 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  const bucketOwnerId = canonicalUserId(b.ownerAccount);
  let grants: StoredGrant[];
  if (r.ACL !== undefined) grants = cannedGrants(r.ACL, target, ownerId, bucketOwnerId);
  else if (body) grants = grantsFromBody(r.AccessControlPolicy?.Grants, ownerId);
  else grants = HEADERS.flatMap(([m, perm, name]) => (r[m] === undefined ? [] : parseGrantHeader(r[m], perm, name))).filter((g) => !(g.id === ownerId && g.permission === 'FULL_CONTROL'));
  if (ownershipOf(b) === 'BucketOwnerEnforced') {
    // Only "the bucket owner has full control" may be said, which is what the bucket enforces anyway.
    const equivalent = r.ACL !== undefined ? r.ACL === 'bucket-owner-full-control' : grants.length === 0;
    if (!equivalent) throw aclNotSupported();
    return undefined;
  }
  if (b.publicAccessBlock?.BlockPublicAcls === true && grants.some(isPublicGrant)) throw s3Error('AccessDenied', 'Access Denied');
  return grants;
}

/** The spread for a new record: `acl` only when there are grants. */
export function aclField(grants: StoredGrant[] | undefined): { acl?: StoredGrant[] } {
  return grants && grants.length > 0 ? { acl: grants } : {};
}

export async function getBucketAcl(s3: S3, input: GetBucketAclRequest, ctx: RequestContext): Promise<GetBucketAclOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  const o = owner(b.ownerAccount);
  return { Owner: o, Grants: wireGrants(o.ID, ownershipOf(b) === 'BucketOwnerEnforced' ? undefined : b.acl) };
}

export async function putBucketAcl(s3: S3, input: PutBucketAclRequest, ctx: RequestContext): Promise<Record<string, never>> {
  await updateBucket(s3, input.Bucket, ctx, (b) => {
    const grants = requestedAcl(b, input, 'bucket', canonicalUserId(b.ownerAccount), true);
    if (grants === undefined && ownershipOf(b) !== 'BucketOwnerEnforced') throw s3Error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
    const { acl: _drop, ...rest } = b;
    return { ...(rest as BucketRecord), ...aclField(grants) };
  });
  return {};
}

export async function getObjectAcl(s3: S3, input: GetObjectAclRequest, ctx: RequestContext): Promise<GetObjectAclOutput> {
  const key = checkKey(input.Key);
  if (input.VersionId !== undefined) checkVersionIdFormat(input.VersionId);
  const { b, rec } = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    return { b, rec: await readableVersion(tx, b, key, input.VersionId) };
  });
  const o = owner(objectOwner(b, rec));
  return { Owner: o, Grants: wireGrants(o.ID, ownershipOf(b) === 'BucketOwnerEnforced' ? undefined : rec.acl) };
}

/** With BucketOwnerEnforced every object belongs to the bucket owner. */
function objectOwner(b: BucketRecord, rec: ObjectRecord): string {
  return ownershipOf(b) === 'BucketOwnerEnforced' ? b.ownerAccount : rec.ownerAccount;
}

export async function putObjectAcl(s3: S3, input: PutObjectAclRequest, ctx: RequestContext): Promise<PutObjectAclOutput> {
  const key = checkKey(input.Key);
  if (input.VersionId !== undefined) checkVersionIdFormat(input.VersionId);
  const rec = await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const current = await readableVersion(tx, b, key, input.VersionId);
    const grants = requestedAcl(b, input, 'object', canonicalUserId(objectOwner(b, current)), true);
    if (grants === undefined && ownershipOf(b) !== 'BucketOwnerEnforced') throw s3Error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
    return updateVersion(tx, b, key, input.VersionId, (r) => {
      const { acl: _drop, ...rest } = r;
      return { ...(rest as ObjectRecord), ...aclField(grants) };
    });
  });
  void rec;
  return {};
}

/** The writer's canonical id, for a new object's ACL. */
export function writerId(ctx: RequestContext): string {
  return canonicalUserId(accountOf(ctx));
}

/**
 * The access settings of a new bucket: Object Ownership (default
 * BucketOwnerEnforced), Block Public Access all on (AWS's default for new
 * buckets), and the ACL CreateBucket asks for where ACLs are enabled.
 */
export function newBucketAccess(input: CreateBucketRequest, account: string): Pick<BucketRecord, 'ownership' | 'publicAccessBlock' | 'acl'> {
  const ownership = input.ObjectOwnership === undefined ? 'BucketOwnerEnforced' : checkOwnershipSetting(input.ObjectOwnership);
  const publicAccessBlock = { ...BLOCK_ALL };
  const enforced = ownership === 'BucketOwnerEnforced';
  const canned: string | undefined = input.ACL;
  if (enforced && ((canned !== undefined && canned !== 'private' && canned !== 'bucket-owner-full-control') || hasGrantHeaders(input))) {
    throw s3Error('InvalidBucketAclWithObjectOwnership', "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
  }
  if (enforced) return { ownership, publicAccessBlock };
  const draft = { ownership, ownerAccount: account } as BucketRecord;
  const grants = requestedAcl(draft, input, 'bucket', canonicalUserId(account));
  if (grants?.some(isPublicGrant)) {
    throw s3Error('InvalidBucketAclWithBlockPublicAccessError', 'Bucket cannot have public ACLs set with BlockPublicAccess enabled');
  }
  return { ownership, publicAccessBlock, ...aclField(grants) };
}

/**
 * POST Object: the form's signer (or, for an unsigned form, the anonymous
 * caller) must be allowed s3:PutObject on the key, as for PutObject; the
 * form's `acl` field is the object's ACL.
 */
export async function authorizeFormUpload(service: ServiceDefinition, ctx: RequestContext, b: BucketRecord, key: string, fields: ReadonlyMap<string, string>): Promise<StoredGrant[] | undefined> {
  const canned = fields.get('acl');
  const conditions: Record<string, string> = {};
  if (canned !== undefined) conditions['s3:x-amz-acl'] = canned;
  const sse = fields.get('x-amz-server-side-encryption');
  if (sse !== undefined) conditions['s3:x-amz-server-side-encryption'] = sse;
  await checkAccess(ctx, service, { action: 's3:PutObject', resource: `arn:aws:s3:::${b.name}/${key}`, conditions });
  return requestedAcl(b, canned === undefined ? {} : { ACL: canned }, 'object', writerId(ctx));
}
