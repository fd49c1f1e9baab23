/**
 * Buckets: create (name rules, location constraint, us-east-1's legacy 200
 * for a bucket you already own), head, delete (only when empty), list
 * (prefix, max-buckets, continuation token), ListDirectoryBuckets, location,
 * versioning state.
 */
import { nsBucketConfigs } from './bucket-configs.js';
import { createDirectoryBucket, directoryArn, isDirectoryName } from './directory.js';
import type {
  CreateBucketOutput,
  CreateBucketRequest,
  DeleteBucketRequest,
  GetBucketLocationOutput,
  GetBucketLocationRequest,
  GetBucketVersioningOutput,
  GetBucketVersioningRequest,
  HeadBucketOutput,
  HeadBucketRequest,
  ListBucketsOutput,
  ListBucketsRequest,
  ListDirectoryBucketsOutput,
  ListDirectoryBucketsRequest,
  PutBucketVersioningRequest,
} from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { randomId } from '../../lib/ids.js';
import { invalidArgument, malformedXml, noSuchBucket, s3Error } from './errors.js';
import { checkAccess } from '../../iam/authorize.js';
import { requestTagKeys } from './abac.js';
import { checkTags, MAX_BUCKET_TAGS } from './tagging.js';
import { type BlobRef, type BucketRecord, NS_BUCKETS, nsInline, nsObjects, nsParts, nsRenameTokens, nsUploads, nsVersions, owner, type PartRecord, type TagPair } from './model.js';
import { mfaDeleteOn, verifyMfaHeader } from './mfa-delete.js';
import { newBucketAccess } from './acl.js';
import { accountOf, checkOwner, getBucket, isValidBucketName, requireBucket, type S3 } from './state.js';

const MAX_BUCKETS = 10_000;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

function bucketArn(name: string): string {
  return `arn:aws:s3:::${name}`;
}

/** The region a new bucket goes to, or the error S3 gives for the constraint. */
function regionFor(constraint: string | undefined, endpointRegion: string): string {
  if (constraint === undefined || constraint === '') {
    if (endpointRegion !== 'us-east-1') {
      throw s3Error('IllegalLocationConstraintException', 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.');
    }
    return 'us-east-1';
  }
  const region = constraint === 'EU' ? 'eu-west-1' : constraint;
  if (constraint === 'us-east-1' || !REGION.test(region)) {
    throw s3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', { LocationConstraint: constraint });
  }
  if (region !== endpointRegion) {
    throw s3Error('IllegalLocationConstraintException', `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`);
  }
  return region;
}

export async function createBucket(s3: S3, input: CreateBucketRequest, ctx: RequestContext): Promise<CreateBucketOutput> {
  const name = input.Bucket ?? '';
  if (isDirectoryName(name)) return createDirectoryBucket(s3, input, ctx);
  if (!isValidBucketName(name)) throw s3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
  const region = regionFor(input.CreateBucketConfiguration?.LocationConstraint, ctx.region);
  const account = accountOf(ctx);
  const now = s3.clock.now();
  const given = input.CreateBucketConfiguration?.Tags;
  let tags: TagPair[] | undefined;
  if (given && given.length > 0) {
    // Tagging at creation is tagging: it needs s3:TagResource too, decided on the tags asked for.
    const service = s3.service?.();
    if (service) await checkAccess(ctx, service, { action: 's3:TagResource', resource: bucketArn(name), conditions: requestTagKeys(given) });
    tags = checkTags(given, MAX_BUCKET_TAGS, 'Bucket');
  }
  const access = newBucketAccess(input, account);
  await s3.meta.write(async (tx) => {
    const existing = await getBucket(tx, name);
    if (existing) {
      if (existing.ownerAccount !== account) {
        throw s3Error(
          'BucketAlreadyExists',
          'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
          { BucketName: name },
        );
      }
      // Legacy compatibility: in us-east-1 re-creating your own bucket succeeds.
      if (existing.region === 'us-east-1' && region === 'us-east-1') return;
      throw s3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: name });
    }
    const owned = (await tx.scan<BucketRecord>(NS_BUCKETS, {})).filter((b) => b.value.ownerAccount === account).length;
    if (owned >= MAX_BUCKETS) throw s3Error('TooManyBuckets', 'You have attempted to create more buckets than allowed');
    const rec: BucketRecord = { name, id: randomId(), region, createdAt: now, ownerAccount: account, ...access };
    // Object Lock needs versioning: creating a lock bucket turns it on for good.
    if (input.ObjectLockEnabledForBucket === true) Object.assign(rec, { versioning: 'Enabled', objectLock: { enabled: true } });
    if (tags) rec.tags = tags;
    await tx.put(NS_BUCKETS, name, rec);
  });
  s3.buckets.invalidate(name);
  return { Location: `/${name}`, BucketArn: bucketArn(name) };
}

/** Answered at once (no Promise) when the bucket is cached; a thrown error is the same as a rejection to the pipeline. */
export function headBucket(s3: S3, input: HeadBucketRequest, ctx: RequestContext): HeadBucketOutput | Promise<HeadBucketOutput> {
  const name = input.Bucket ?? '';
  const b = name === '' ? undefined : s3.buckets.getNow(s3, name);
  return b instanceof Promise ? b.then((rec) => headBucketOutput(rec, name, ctx)) : headBucketOutput(b, name, ctx);
}

function headBucketOutput(rec: BucketRecord | undefined, name: string, ctx: RequestContext): HeadBucketOutput {
  const b = checkOwner(rec, name, ctx);
  return { BucketRegion: b.region, AccessPointAlias: false, BucketArn: b.directory ? directoryArn(b.region, b.ownerAccount, b.name) : bucketArn(b.name) };
}

export async function deleteBucket(s3: S3, input: DeleteBucketRequest, ctx: RequestContext): Promise<Record<string, never>> {
  const freed: BlobRef[] = [];
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const [obj] = await tx.scan(nsObjects(b.name), { limit: 1 });
    const [ver] = await tx.scan(nsVersions(b.name), { limit: 1 });
    if (obj || ver) throw s3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: b.name });
    // Unfinished multipart uploads go with the bucket.
    for (const p of await tx.scan<PartRecord>(nsParts(b.name), {})) freed.push(p.value.blob);
    await tx.deleteRange(nsParts(b.name), {});
    await tx.deleteRange(nsUploads(b.name), {});
    await tx.deleteRange(nsInline(b.name), {});
    await tx.deleteRange(nsRenameTokens(b.name), {});
    await tx.deleteRange(nsBucketConfigs(b.name), {});
    await tx.delete(NS_BUCKETS, b.name);
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  s3.reaper.free(freed.map((f) => f.id));
  return {};
}

/** Continuation tokens are opaque to clients: the last bucket name returned, base64url. */
function encodeToken(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (name === '' || encodeToken(name) !== token) throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  return name;
}

export async function listBuckets(s3: S3, input: ListBucketsRequest, ctx: RequestContext): Promise<ListBucketsOutput> {
  const max = input.MaxBuckets ?? MAX_BUCKETS;
  if (!Number.isInteger(max) || max < 1 || max > MAX_BUCKETS) {
    throw invalidArgument('Argument max-buckets must be an integer between 1 and 10000', 'max-buckets', String(input.MaxBuckets));
  }
  const after = input.ContinuationToken !== undefined ? decodeToken(input.ContinuationToken) : undefined;
  const account = accountOf(ctx);
  const region = input.BucketRegion;
  const rows = await s3.meta.read((tx) =>
    tx.scan<BucketRecord>(NS_BUCKETS, { ...(input.Prefix ? { prefix: input.Prefix } : {}), ...(after !== undefined ? { startAfter: after } : {}) }),
  );
  const mine = rows.map((r) => r.value).filter((b) => b.ownerAccount === account && b.directory === undefined && (region === undefined || b.region === region));
  const page = mine.slice(0, max);
  const out: ListBucketsOutput = {
    Buckets: page.map((b) => ({ Name: b.name, CreationDate: b.createdAt, BucketRegion: b.region, BucketArn: bucketArn(b.name) })),
    Owner: owner(account),
  };
  if (input.Prefix !== undefined) out.Prefix = input.Prefix;
  const last = page[page.length - 1];
  if (mine.length > max && last) out.ContinuationToken = encodeToken(last.name);
  return out;
}

const MAX_DIRECTORY_BUCKETS = 1000;

/** Directory buckets only (directory.ts), in name order, with the same opaque tokens. */
export async function listDirectoryBuckets(s3: S3, input: ListDirectoryBucketsRequest, ctx: RequestContext): Promise<ListDirectoryBucketsOutput> {
  const max = input.MaxDirectoryBuckets ?? MAX_DIRECTORY_BUCKETS;
  if (!Number.isInteger(max) || max < 0 || max > MAX_DIRECTORY_BUCKETS) {
    throw invalidArgument('Argument max-directory-buckets must be an integer between 0 and 1000', 'max-directory-buckets', String(input.MaxDirectoryBuckets));
  }
  const after = input.ContinuationToken !== undefined ? decodeToken(input.ContinuationToken) : undefined;
  const account = accountOf(ctx);
  const rows = await s3.meta.read((tx) => tx.scan<BucketRecord>(NS_BUCKETS, after !== undefined ? { startAfter: after } : {}));
  const mine = rows.map((r) => r.value).filter((b) => b.ownerAccount === account && b.directory !== undefined);
  const page = mine.slice(0, max);
  const out: ListDirectoryBucketsOutput = {
    Buckets: page.map((b) => ({ Name: b.name, CreationDate: b.createdAt, BucketRegion: b.region, BucketArn: directoryArn(b.region, b.ownerAccount, b.name) })),
  };
  const last = page[page.length - 1];
  if (mine.length > page.length && last) out.ContinuationToken = encodeToken(last.name);
  return out;
}

export async function getBucketLocation(s3: S3, input: GetBucketLocationRequest, ctx: RequestContext): Promise<GetBucketLocationOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  // us-east-1 is the empty constraint.
  return b.region === 'us-east-1' ? {} : { LocationConstraint: b.region as GetBucketLocationOutput['LocationConstraint'] };
}

export async function getBucketVersioning(s3: S3, input: GetBucketVersioningRequest, ctx: RequestContext): Promise<GetBucketVersioningOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  return { ...(b.versioning ? { Status: b.versioning } : {}), ...(b.mfaDelete ? { MFADelete: b.mfaDelete } : {}) };
}

export async function putBucketVersioning(s3: S3, input: PutBucketVersioningRequest, ctx: RequestContext): Promise<Record<string, never>> {
  const status = input.VersioningConfiguration?.Status;
  const mfa = input.VersioningConfiguration?.MFADelete;
  if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml();
  if (mfa !== undefined && mfa !== 'Enabled' && mfa !== 'Disabled') throw malformedXml();
  const current = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (current.objectLock && status === 'Suspended') {
    throw s3Error('InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.', { BucketName: current.name });
  }
  if (current.replication && status === 'Suspended') {
    throw s3Error('InvalidBucketState', 'A replication configuration is present on this bucket, so the versioning state cannot be changed.', { BucketName: current.name });
  }
  // Only the root user (with its own device) may set MFA Delete; once on, every versioning change needs the code.
  if (mfa !== undefined && ctx.principal.type !== 'root') throw s3Error('AccessDenied', 'Access Denied');
  if (mfa !== undefined || mfaDeleteOn(current)) await verifyMfaHeader(ctx, input.MFA);
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    await tx.put(NS_BUCKETS, b.name, { ...b, versioning: status, ...(mfa !== undefined ? { mfaDelete: mfa } : {}) });
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}

export { noSuchBucket };
