/**
 * Server access logging: Put/GetBucketLogging, validated as S3 does (the
 * target bucket exists, has the same owner and region and no Requester Pays;
 * one key format). Records are delivered by access-log.ts. An empty
 * BucketLoggingStatus turns logging off.
 */
import type { GetBucketLoggingOutput, GetBucketLoggingRequest, LoggingEnabled, PutBucketLoggingRequest, TargetGrant } from '@aws-sdk/client-s3';
import { updateBucket } from './bucket-config.js';
import type { RequestContext } from '../../server/context.js';
import { malformedXml, s3Error } from './errors.js';
import { getBucket, requireBucket, type S3 } from './state.js';

const DATE_SOURCES = new Set(['EventTime', 'DeliveryTime']);
const LOG_PERMISSIONS = new Set(['FULL_CONTROL', 'READ', 'WRITE']);

export async function putBucketLogging(s3: S3, input: PutBucketLoggingRequest, ctx: RequestContext): Promise<Record<string, never>> {
  if (!input.BucketLoggingStatus) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const enabled = input.BucketLoggingStatus.LoggingEnabled;
  const source = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!enabled) {
    await updateBucket(s3, input.Bucket, ctx, (b) => {
      const { logging: _drop, ...rest } = b;
      return rest;
    });
    s3.accessLog?.setSource(source.name, false);
    return {};
  }
  const targetName = enabled.TargetBucket;
  if (targetName === undefined || targetName === '' || enabled.TargetPrefix === undefined) throw malformedXml();
  const format = enabled.TargetObjectKeyFormat;
  if (format) {
    if (format.SimplePrefix !== undefined && format.PartitionedPrefix !== undefined) throw malformedXml();
    const ds = format.PartitionedPrefix?.PartitionDateSource;
    if (format.PartitionedPrefix !== undefined && ds !== undefined && !DATE_SOURCES.has(ds)) throw malformedXml();
  }
  const target = await s3.meta.read((tx) => getBucket(tx, targetName));
  if (!target) throw s3Error('InvalidTargetBucketForLogging', 'The target bucket for logging does not exist', { TargetBucket: targetName });
  if (target.ownerAccount !== source.ownerAccount) {
    throw s3Error('InvalidTargetBucketForLogging', 'The owner for the bucket to be logged and the target bucket must be the same.', { TargetBucket: targetName });
  }
  if (target.region !== source.region) {
    throw s3Error('CrossLocationLoggingProhibitted', 'Cross S3 location logging not allowed. ', { TargetBucketLocation: target.region, SourceBucketLocation: source.region });
  }
  if (target.requestPayer !== undefined) {
    throw s3Error('InvalidTargetBucketForLogging', 'Target bucket for logging must not have Requester Pays enabled.', { TargetBucket: targetName });
  }
  const logging: LoggingEnabled = { TargetBucket: targetName, TargetPrefix: enabled.TargetPrefix };
  if (enabled.TargetGrants?.length) logging.TargetGrants = typedGrants(enabled.TargetGrants);
  if (format) logging.TargetObjectKeyFormat = format.PartitionedPrefix ? { PartitionedPrefix: { PartitionDateSource: format.PartitionedPrefix.PartitionDateSource ?? 'EventTime' } } : { SimplePrefix: {} };
  await updateBucket(s3, input.Bucket, ctx, (b) => ({ ...b, logging }));
  s3.accessLog?.setSource(source.name, true);
  return {};
}

export async function getBucketLogging(s3: S3, input: GetBucketLoggingRequest, ctx: RequestContext): Promise<GetBucketLoggingOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!b.logging) return {};
  // Records stored before grantees carried their kind get it here.
  return { LoggingEnabled: b.logging.TargetGrants ? { ...b.logging, TargetGrants: typedGrants(b.logging.TargetGrants) } : b.logging };
}

/**
 * The codec does not read the request's `xsi:type` attribute, so each
 * grantee's kind is named from its element; written back as `xsi:type`
 * (botocore, the CLIs and boto3 read `Type` only from it). A grantee with
 * none of ID, URI, EmailAddress, or a permission outside the logging
 * grants' three, is refused as S3 refuses it.
 */
function typedGrants(grants: readonly TargetGrant[]): TargetGrant[] {
  return grants.map((g) => {
    const e = g.Grantee;
    if (!e || g.Permission === undefined || !LOG_PERMISSIONS.has(g.Permission)) throw malformedXml();
    const Type = e.ID !== undefined ? 'CanonicalUser' : e.URI !== undefined ? 'Group' : e.EmailAddress !== undefined ? 'AmazonCustomerByEmail' : undefined;
    if (Type === undefined) throw malformedXml();
    return { ...g, Grantee: { ...e, Type } };
  });
}
