/**
 * S3 Express One Zone directory buckets: the name rules
 * (`<base>--<zone-id>--x-s3`), CreateBucket's directory configuration, how each request on a directory bucket is authorized
 * (s3express:* actions; object operations as s3express:CreateSession, within
 * the session's bucket and mode) and the features directory buckets do not
 * have. A directory bucket is known by its name alone (general purpose names
 * may not end in `--x-s3`), so a request needs no lookup to be classified.
 */
import type { CreateBucketOutput, CreateBucketRequest } from '@aws-sdk/client-s3';
import type { ConditionValues } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { randomId } from '../../lib/ids.js';
import { invalidArgument, s3Error } from './errors.js';
import { type BucketRecord, NS_BUCKETS } from './model.js';
import { newBucketAccess } from './acl.js';
import { accountOf, getBucket, type S3 } from './state.js';

export const DIRECTORY_SUFFIX = '--x-s3';
/** `<base>--<zone-id>--x-s3`; an Availability Zone id is `use1-az4`, a Local Zone id `usw2-lax1-az1`. */
const DIRECTORY_NAME = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)--([a-z]{2,}[0-9]+(?:-[a-z]+[0-9]+)?-az[0-9]+)--x-s3$/;
const RESERVED_PREFIX = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const DIRECTIONS: Readonly<Record<string, string>> = {
  north: 'n', south: 's', east: 'e', west: 'w', central: 'c', northeast: 'ne', northwest: 'nw', southeast: 'se', southwest: 'sw',
};

/** A boolean, not a type guard: a string that is not a directory name must stay a string. */
export function isDirectoryName(name: unknown): boolean {
  return typeof name === 'string' && name.endsWith(DIRECTORY_SUFFIX);
}

/** The zone id a directory bucket name carries, or InvalidBucketName. */
export function directoryZone(name: string): string {
  const m = DIRECTORY_NAME.exec(name);
  if (!m || name.length < 3 || name.length > 63 || RESERVED_PREFIX.some((p) => name.startsWith(p))) {
    throw s3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
  }
  return m[2] as string;
}

/** AWS's short region code that zone ids start with: us-east-1 → use1, ap-northeast-2 → apne2. */
export function regionCode(region: string): string {
  const parts = region.split('-');
  const [country, ...rest] = parts;
  const number = rest.pop() ?? '';
  return `${country ?? ''}${rest.map((d) => DIRECTIONS[d] ?? d.charAt(0)).join('')}${number}`;
}

export function directoryArn(region: string, account: string, name: string): string {
  return `arn:aws:s3express:${region}:${account}:bucket/${name}`;
}

export async function createDirectoryBucket(s3: S3, input: CreateBucketRequest, ctx: RequestContext): Promise<CreateBucketOutput> {
  const name = input.Bucket ?? '';
  const zone = directoryZone(name);
  const conf = input.CreateBucketConfiguration;
  const location = conf?.Location;
  if (conf?.LocationConstraint !== undefined) throw s3Error('InvalidRequest', 'LocationConstraint is not supported for directory buckets; use Location.');
  if (location?.Type !== 'AvailabilityZone' && location?.Type !== 'LocalZone') throw s3Error('InvalidRequest', 'A directory bucket needs a Location of Type AvailabilityZone or LocalZone.');
  if (location.Name !== zone) throw s3Error('InvalidRequest', `The Location Name ${location.Name ?? ''} does not match the zone id ${zone} in the bucket name.`);
  const redundancy = location.Type === 'AvailabilityZone' ? 'SingleAvailabilityZone' : 'SingleLocalZone';
  if (conf?.Bucket?.Type !== 'Directory') throw s3Error('InvalidRequest', 'A directory bucket needs Bucket Type Directory.');
  if (conf.Bucket.DataRedundancy !== undefined && conf.Bucket.DataRedundancy !== redundancy) {
    throw s3Error('InvalidRequest', `DataRedundancy must be ${redundancy} for a bucket in a ${location.Type}.`);
  }
  if (!zone.startsWith(`${regionCode(ctx.region)}-`)) {
    throw s3Error('InvalidRequest', `The zone ${zone} is not in the region ${ctx.region} this request was sent to.`);
  }
  if (input.ObjectLockEnabledForBucket === true) throw s3Error('InvalidRequest', 'Object Lock is not supported for directory buckets.');
  const account = accountOf(ctx);
  const access = newBucketAccess(input, account);
  await s3.meta.write(async (tx) => {
    const existing = await getBucket(tx, name);
    if (existing) {
      if (existing.ownerAccount !== account) {
        throw s3Error('BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', { BucketName: name });
      }
      throw s3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: name });
    }
    const owned = (await tx.scan<BucketRecord>(NS_BUCKETS, {})).filter((b) => b.value.ownerAccount === account && b.value.directory !== undefined).length;
    if (owned >= 100) throw s3Error('TooManyBuckets', 'You have attempted to create more buckets than allowed');
    const rec: BucketRecord = { name, id: randomId(), region: ctx.region, createdAt: s3.clock.now(), ownerAccount: account, directory: { zone, locationType: location.Type as 'AvailabilityZone' }, ...access };
    await tx.put(NS_BUCKETS, name, rec);
  });
  s3.buckets.invalidate(name);
  return { Location: `/${name}`, BucketArn: directoryArn(ctx.region, account, name) };
}

/** Regional (bucket-level) operations a directory bucket has, with their IAM actions. */
const CONTROL_ACTIONS: Readonly<Record<string, string>> = {
  CreateBucket: 's3express:CreateBucket',
  DeleteBucket: 's3express:DeleteBucket',
  PutBucketPolicy: 's3express:PutBucketPolicy',
  GetBucketPolicy: 's3express:GetBucketPolicy',
  DeleteBucketPolicy: 's3express:DeleteBucketPolicy',
  PutBucketEncryption: 's3express:PutEncryptionConfiguration',
  GetBucketEncryption: 's3express:GetEncryptionConfiguration',
  DeleteBucketEncryption: 's3express:PutEncryptionConfiguration',
  PutBucketLifecycleConfiguration: 's3express:PutLifecycleConfiguration',
  GetBucketLifecycleConfiguration: 's3express:GetLifecycleConfiguration',
  DeleteBucketLifecycle: 's3express:PutLifecycleConfiguration',
};

/** Zonal (object-level) operations, authorized as s3express:CreateSession; those a ReadOnly session may call are marked. */
const ZONAL_OPERATIONS: Readonly<Record<string, 'read' | 'write'>> = {
  CreateSession: 'write',
  HeadBucket: 'read',
  GetObject: 'read',
  HeadObject: 'read',
  GetObjectAttributes: 'read',
  ListObjectsV2: 'read',
  ListParts: 'read',
  ListMultipartUploads: 'read',
  PutObject: 'write',
  DeleteObject: 'write',
  DeleteObjects: 'write',
  CopyObject: 'write',
  CreateMultipartUpload: 'write',
  UploadPart: 'write',
  UploadPartCopy: 'write',
  CompleteMultipartUpload: 'write',
  AbortMultipartUpload: 'write',
  RenameObject: 'write',
};

const accessDenied = () => s3Error('AccessDenied', 'Access Denied');

/**
 * How a request is authorized when it names a directory bucket (or comes
 * with an S3 Express session): undefined for everything else. A session is
 * good only for its own bucket, and a ReadOnly one only for reads (AWS
 * checks both when the session is used; the policies were evaluated when it
 * was created, and are again here: s3express:CreateSession with its mode).
 */
export function directoryAccess(operation: string, input: { Bucket?: unknown }, ctx: RequestContext): { action: string; resource: string; conditions?: ConditionValues } | undefined {
  const session = ctx.principal.s3Session;
  const bucket = input.Bucket;
  if (operation === 'ListDirectoryBuckets') return { action: 's3express:ListAllMyDirectoryBuckets', resource: '*' };
  if (typeof bucket !== 'string' || !isDirectoryName(bucket)) {
    if (session !== undefined) throw accessDenied();
    return undefined;
  }
  if (session !== undefined && session.bucket !== bucket) throw accessDenied();
  const resource = directoryArn(ctx.region, accountOf(ctx), bucket);
  const control = CONTROL_ACTIONS[operation];
  if (control !== undefined) return { action: control, resource };
  const kind = ZONAL_OPERATIONS[operation];
  if (kind === undefined) return { action: `s3express:${operation}`, resource };
  if (operation === 'CreateSession') {
    if (session !== undefined) throw accessDenied();
    const mode = (input as { SessionMode?: string }).SessionMode ?? 'ReadWrite';
    return { action: 's3express:CreateSession', resource, conditions: { 's3express:SessionMode': mode } };
  }
  if (session?.mode === 'ReadOnly' && kind === 'write') throw accessDenied();
  return { action: 's3express:CreateSession', resource, conditions: { 's3express:SessionMode': session?.mode ?? 'ReadWrite' } };
}

const notForDirectory = (what = 'This operation') => s3Error('NotImplemented', `${what} is not supported for directory buckets.`);
const UNSUPPORTED_HEADERS: ReadonlyArray<[string, string]> = [
  ['Tagging', 'x-amz-tagging'],
  ['ACL', 'x-amz-acl'],
  ['GrantRead', 'x-amz-grant-read'],
  ['GrantReadACP', 'x-amz-grant-read-acp'],
  ['GrantWriteACP', 'x-amz-grant-write-acp'],
  ['GrantFullControl', 'x-amz-grant-full-control'],
  ['ObjectLockMode', 'x-amz-object-lock-mode'],
  ['ObjectLockRetainUntilDate', 'x-amz-object-lock-retain-until-date'],
  ['ObjectLockLegalHoldStatus', 'x-amz-object-lock-legal-hold'],
  ['WebsiteRedirectLocation', 'x-amz-website-redirect-location'],
];

/**
 * What a directory bucket refuses before its handler runs, and the storage
 * class it gives every object (EXPRESS_ONEZONE). Mutates `input` for that.
 */
export function directoryGate(operation: string, input: Record<string, unknown>): void {
  if (CONTROL_ACTIONS[operation] === undefined && ZONAL_OPERATIONS[operation] === undefined) throw notForDirectory(operation);
  if (input['VersionId'] !== undefined && input['VersionId'] !== 'null') throw notForDirectory('Versioning');
  switch (operation) {
    case 'PutObject':
    case 'CreateMultipartUpload':
    case 'CopyObject': {
      for (const [member, header] of UNSUPPORTED_HEADERS) {
        if (input[member] !== undefined) throw s3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: header });
      }
      // Directory buckets have no annotations: only EXCLUDE (or nothing) copies into one.
      if (input['AnnotationDirective'] === 'COPY') throw s3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'x-amz-object-annotation-directive' });
      const sc = input['StorageClass'];
      if (sc !== undefined && sc !== 'EXPRESS_ONEZONE') throw s3Error('InvalidStorageClass', 'The storage class you specified is not valid', { StorageClassRequested: typeof sc === 'string' ? sc : '' });
      input['StorageClass'] = 'EXPRESS_ONEZONE';
      break;
    }
    case 'ListObjectsV2': {
      const delimiter = input['Delimiter'];
      if (delimiter !== undefined && delimiter !== '/') throw invalidArgument('For directory buckets, / is the only supported delimiter.', 'delimiter', typeof delimiter === 'string' ? delimiter : '');
      const prefix = input['Prefix'];
      if (typeof prefix === 'string' && prefix !== '' && !prefix.endsWith('/')) {
        throw invalidArgument('For directory buckets, only prefixes that end in a delimiter (/) are supported.', 'prefix', prefix);
      }
      if (input['StartAfter'] !== undefined) throw invalidArgument('StartAfter is not supported for directory buckets.', 'start-after', typeof input['StartAfter'] === 'string' ? input['StartAfter'] : '');
      break;
    }
    case 'CompleteMultipartUpload': {
      // Directory buckets take only consecutive part numbers, from 1.
      const parts = (input['MultipartUpload'] as { Parts?: Array<{ PartNumber?: number }> } | undefined)?.Parts ?? [];
      parts.forEach((p, i) => {
        if (p.PartNumber !== i + 1) throw s3Error('InvalidPart', 'One or more of the specified parts could not be found. Directory buckets take consecutive part numbers starting at 1.', { PartNumber: String(p.PartNumber) });
      });
      break;
    }
    default:
      break;
  }
}
