import type { ConditionValues, ServiceDefinition } from '../aws/service.js';
import type { RequestContext } from '../server/context.js';

/**
 * What an operation is authorized as when its service has not declared it
 * in its operation table: the IAM action, the resource ARN(s) inferred from
 * the input's well-known members, and the service condition keys that the
 * input alone determines. A service's own declaration always wins.
 */

/** S3 operations whose IAM action is not `s3:<Operation>`. */
const S3_ACTIONS: Record<string, string> = {
  HeadObject: 's3:GetObject',
  HeadBucket: 's3:ListBucket',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  ListBuckets: 's3:ListAllMyBuckets',
  ListDirectoryBuckets: 's3express:ListAllMyDirectoryBuckets',
  DeleteObjects: 's3:DeleteObject',
  CopyObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  UploadPartCopy: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  ListParts: 's3:ListMultipartUploadParts',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  SelectObjectContent: 's3:GetObject',
  GetObjectAttributes: 's3:GetObject',
  PutBucketEncryption: 's3:PutEncryptionConfiguration',
  GetBucketEncryption: 's3:GetEncryptionConfiguration',
  DeleteBucketEncryption: 's3:PutEncryptionConfiguration',
  PutBucketLifecycleConfiguration: 's3:PutLifecycleConfiguration',
  GetBucketLifecycleConfiguration: 's3:GetLifecycleConfiguration',
  DeleteBucketLifecycle: 's3:PutLifecycleConfiguration',
  PutBucketCors: 's3:PutBucketCORS',
  GetBucketCors: 's3:GetBucketCORS',
  DeleteBucketCors: 's3:PutBucketCORS',
  PutBucketNotificationConfiguration: 's3:PutBucketNotification',
  GetBucketNotificationConfiguration: 's3:GetBucketNotification',
  PutObjectLockConfiguration: 's3:PutBucketObjectLockConfiguration',
  GetObjectLockConfiguration: 's3:GetBucketObjectLockConfiguration',
  DeleteBucketTagging: 's3:PutBucketTagging',
  PutPublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  GetPublicAccessBlock: 's3:GetBucketPublicAccessBlock',
  DeletePublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  DeleteBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  PutBucketReplication: 's3:PutReplicationConfiguration',
  GetBucketReplication: 's3:GetReplicationConfiguration',
  DeleteBucketReplication: 's3:PutReplicationConfiguration',
  PutBucketAccelerateConfiguration: 's3:PutAccelerateConfiguration',
  GetBucketAccelerateConfiguration: 's3:GetAccelerateConfiguration',
  PutBucketAnalyticsConfiguration: 's3:PutAnalyticsConfiguration',
  GetBucketAnalyticsConfiguration: 's3:GetAnalyticsConfiguration',
  PutBucketInventoryConfiguration: 's3:PutInventoryConfiguration',
  GetBucketInventoryConfiguration: 's3:GetInventoryConfiguration',
  PutBucketMetricsConfiguration: 's3:PutMetricsConfiguration',
  GetBucketMetricsConfiguration: 's3:GetMetricsConfiguration',
  PutBucketIntelligentTieringConfiguration: 's3:PutIntelligentTieringConfiguration',
  GetBucketIntelligentTieringConfiguration: 's3:GetIntelligentTieringConfiguration',
  DeleteBucketWebsite: 's3:DeleteBucketWebsite',
};

/** Object operations that name a version authorize as the *Version action. */
const S3_VERSIONED: Record<string, string> = {
  's3:GetObject': 's3:GetObjectVersion',
  's3:DeleteObject': 's3:DeleteObjectVersion',
  's3:GetObjectTagging': 's3:GetObjectVersionTagging',
  's3:PutObjectTagging': 's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging': 's3:DeleteObjectVersionTagging',
  's3:GetObjectAcl': 's3:GetObjectVersionAcl',
  's3:PutObjectAcl': 's3:PutObjectVersionAcl',
};

type Input = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function defaultAction(service: ServiceDefinition, operation: string, input: unknown): string {
  if (service.name === 's3') return versionedAction(service, S3_ACTIONS[operation] ?? `s3:${operation}`, input);
  return `${service.signingNames[0] ?? service.name}:${operation}`;
}

/**
 * S3: an object operation that names a VersionId is authorized as its
 * *Version action (GetObject → s3:GetObjectVersion…), also when the operation
 * table declares the plain action.
 */
export function versionedAction(service: ServiceDefinition, action: string, input: unknown): string {
  if (service.name !== 's3') return action;
  return str(((input ?? {}) as Input).VersionId) !== undefined ? (S3_VERSIONED[action] ?? action) : action;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MRK = /^mrk-[0-9a-f]{32}$/i;

export function defaultResource(service: ServiceDefinition, _operation: string, input: unknown, ctx: RequestContext): string | string[] {
  const i = (input ?? {}) as Input;
  const region = ctx.region;
  const acct = ctx.accountId;
  switch (service.name) {
    case 's3': {
      const bucket = str(i.Bucket);
      if (bucket === undefined) return '*';
      const key = str(i.Key);
      return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
    }
    case 'kms': {
      const id = str(i.KeyId) ?? str(i.DestinationKeyId) ?? str(i.TargetKeyId);
      if (id === undefined) return str(i.AliasName) !== undefined ? `arn:aws:kms:${region}:${acct}:${str(i.AliasName)}` : '*';
      if (id.startsWith('arn:')) return id;
      if (UUID.test(id) || MRK.test(id)) return `arn:aws:kms:${region}:${acct}:key/${id}`;
      // An alias: only KMS can resolve it to the key the request is really on.
      return `arn:aws:kms:${region}:${acct}:${id}`;
    }
    case 'kinesis': {
      const consumer = str(i.ConsumerARN);
      if (consumer !== undefined) return consumer;
      const arn = str(i.StreamARN) ?? str(i.ResourceARN);
      if (arn !== undefined) return arn;
      const name = str(i.StreamName);
      return name === undefined ? '*' : `arn:aws:kinesis:${region}:${acct}:stream/${name}`;
    }
    case 'firehose': {
      const name = str(i.DeliveryStreamName);
      return name === undefined ? '*' : `arn:aws:firehose:${region}:${acct}:deliverystream/${name}`;
    }
    case 'cloudtrail': {
      const name = str(i.Name) ?? str(i.TrailName);
      if (name === undefined) return str(i.ResourceId) ?? '*';
      return name.startsWith('arn:') ? name : `arn:aws:cloudtrail:${region}:${acct}:trail/${name}`;
    }
    case 'shield': {
      const arn = str(i.ResourceArn) ?? str(i.ResourceARN);
      if (arn !== undefined) return arn;
      const id = str(i.ProtectionId);
      return id === undefined ? '*' : `arn:aws:shield::${acct}:protection/${id}`;
    }
    default:
      return '*';
  }
}

/** aws:RequestTag/… and aws:TagKeys from the usual shapes of a Tags member. */
function requestTags(i: Input, out: Record<string, string | readonly string[] | undefined>): void {
  const tags = i.Tags ?? i.tags;
  const pairs: [string, string][] = [];
  if (Array.isArray(tags)) {
    for (const t of tags as Record<string, unknown>[]) {
      const k = str(t?.Key) ?? str(t?.TagKey);
      const v = t?.Value ?? t?.TagValue;
      if (k !== undefined) pairs.push([k, typeof v === 'string' ? v : '']);
    }
  } else if (tags !== null && typeof tags === 'object') {
    for (const [k, v] of Object.entries(tags as Record<string, unknown>)) pairs.push([k, typeof v === 'string' ? v : '']);
  } else {
    return;
  }
  for (const [k, v] of pairs) out[`aws:RequestTag/${k}`] = v;
  out['aws:TagKeys'] = pairs.map(([k]) => k);
}

export function defaultConditions(service: ServiceDefinition, input: unknown, ctx: RequestContext): ConditionValues {
  const i = (input ?? {}) as Input;
  const out: Record<string, string | readonly string[] | undefined> = {};
  requestTags(i, out);
  switch (service.name) {
    case 's3':
      if (typeof i.Prefix === 'string') out['s3:prefix'] = i.Prefix;
      if (typeof i.Delimiter === 'string') out['s3:delimiter'] = i.Delimiter;
      if (typeof i.MaxKeys === 'number') out['s3:max-keys'] = String(i.MaxKeys);
      if (typeof i.ServerSideEncryption === 'string') out['s3:x-amz-server-side-encryption'] = i.ServerSideEncryption;
      if (typeof i.SSEKMSKeyId === 'string') out['s3:x-amz-server-side-encryption-aws-kms-key-id'] = i.SSEKMSKeyId;
      if (typeof i.ACL === 'string') out['s3:x-amz-acl'] = i.ACL;
      if (typeof i.StorageClass === 'string') out['s3:x-amz-storage-class'] = i.StorageClass;
      if (typeof i.VersionId === 'string') out['s3:versionid'] = i.VersionId;
      if (typeof i.CopySource === 'string') out['s3:x-amz-copy-source'] = i.CopySource;
      out['s3:authType'] = 'REST-HEADER';
      out['s3:signatureversion'] = 'AWS4-HMAC-SHA256';
      break;
    case 'kms': {
      const ec = i.EncryptionContext;
      if (ec !== null && typeof ec === 'object') {
        const keys = Object.keys(ec);
        for (const k of keys) out[`kms:EncryptionContext:${k}`] = String((ec as Record<string, unknown>)[k]);
        out['kms:EncryptionContextKeys'] = keys;
      }
      out['kms:CallerAccount'] = ctx.principal.accountId;
      if (typeof i.KeySpec === 'string') out['kms:KeySpec'] = i.KeySpec;
      if (typeof i.KeyUsage === 'string') out['kms:KeyUsage'] = i.KeyUsage;
      if (typeof i.Origin === 'string') out['kms:KeyOrigin'] = i.Origin;
      if (typeof i.EncryptionAlgorithm === 'string') out['kms:EncryptionAlgorithm'] = i.EncryptionAlgorithm;
      if (typeof i.SigningAlgorithm === 'string') out['kms:SigningAlgorithm'] = i.SigningAlgorithm;
      if (typeof i.MessageType === 'string') out['kms:MessageType'] = i.MessageType;
      if (typeof i.MacAlgorithm === 'string') out['kms:MacAlgorithm'] = i.MacAlgorithm;
      if (typeof i.KeyAgreementAlgorithm === 'string') out['kms:KeyAgreementAlgorithm'] = i.KeyAgreementAlgorithm;
      if (typeof i.MultiRegion === 'boolean') out['kms:MultiRegion'] = String(i.MultiRegion);
      if (typeof i.GranteePrincipal === 'string') out['kms:GranteePrincipal'] = i.GranteePrincipal;
      if (Array.isArray(i.Operations)) out['kms:GrantOperations'] = i.Operations as string[];
      break;
    }
    case 'kinesis':
      if (typeof i.ShardCount === 'number') out['kinesis:ShardCount'] = String(i.ShardCount);
      break;
  }
  return out;
}
