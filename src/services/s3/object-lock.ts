/**
 * Object Lock: the bucket's lock configuration (default retention), each
 * version's retention (GOVERNANCE / COMPLIANCE) and legal hold, the lock
 * headers of object writes, and the rule that a locked version cannot be
 * permanently deleted. GOVERNANCE yields to `x-amz-bypass-governance-retention:
 * true` from a caller the IAM engine allows s3:BypassGovernanceRetention.
 */
import type {
  GetObjectLegalHoldOutput,
  GetObjectLegalHoldRequest,
  GetObjectLockConfigurationOutput,
  GetObjectLockConfigurationRequest,
  GetObjectRetentionOutput,
  GetObjectRetentionRequest,
  PutObjectLegalHoldOutput,
  PutObjectLegalHoldRequest,
  PutObjectLockConfigurationOutput,
  PutObjectLockConfigurationRequest,
  PutObjectRetentionOutput,
  PutObjectRetentionRequest,
} from '@aws-sdk/client-s3';
import { isAwsError } from '../../aws/errors.js';
import type { ServiceDefinition } from '../../aws/service.js';
import { checkAccess } from '../../iam/authorize.js';
import type { RequestContext } from '../../server/context.js';
import { invalidArgument, malformedXml, s3Error } from './errors.js';
import { type BucketRecord, type LockMode, NS_BUCKETS, type ObjectLockFields, type ObjectRecord } from './model.js';
import { checkKey, requireBucket, type S3 } from './state.js';
import { readableVersion, updateVersion } from './versions.js';

const DAY_MS = 86_400_000;

/** Operations AWS refuses without a body digest (Content-MD5 or a flexible checksum). */
export function requireChecksumHeader(
  input: { ContentMD5?: string | undefined; ChecksumAlgorithm?: string | undefined },
  operation: string,
  headers?: Record<string, unknown>,
  requests = 'requests with Object Lock parameters',
): void {
  if (input.ContentMD5 !== undefined || input.ChecksumAlgorithm !== undefined) return;
  if (headers && Object.keys(headers).some((h) => h === 'content-md5' || h.startsWith('x-amz-checksum-') || h === 'x-amz-sdk-checksum-algorithm')) return;
  throw s3Error('InvalidRequest', `Content-MD5 OR x-amz-checksum- HTTP header is required for ${operation} ${requests}`);
}

function missingLock() {
  return s3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
}

function lockedDenied() {
  return s3Error('AccessDenied', 'Access Denied because object protected by object lock.');
}

function checkMode(m: string | undefined): LockMode {
  if (m !== 'GOVERNANCE' && m !== 'COMPLIANCE') throw malformedXml();
  return m;
}

export function retentionActive(rec: ObjectLockFields, now: Date): boolean {
  return rec.lockRetainUntil !== undefined && rec.lockRetainUntil > now;
}

/** Whether a version may not be permanently deleted (by a user without bypass, or by lifecycle). */
export function isLocked(rec: ObjectLockFields, now: Date): boolean {
  return rec.legalHold === 'ON' || retentionActive(rec, now);
}

function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}

/** The bypass header counts only with s3:BypassGovernanceRetention (checked by the IAM engine). */
export async function bypassAllowed(s3: S3, ctx: RequestContext, bucket: string, key: string, header: boolean | undefined): Promise<boolean> {
  if (header !== true) return false;
  if (!s3.service) return false;
  try {
    await checkAccess(ctx, s3.service(), { action: 's3:BypassGovernanceRetention', resource: objectArn(bucket, key) });
    return true;
  } catch (e) {
    // Without the permission the header is ignored: the lock itself answers AccessDenied.
    if (isAwsError(e) && e.code === 'AccessDenied') return false;
    throw e;
  }
}

/** Lock headers on a write need their own permissions, as on AWS (s3:PutObjectRetention, s3:PutObjectLegalHold). */
export async function checkLockPermissions(s3: S3, ctx: RequestContext, bucket: string, key: string, input: LockHeaders): Promise<void> {
  if (!s3.service) return;
  const resource = objectArn(bucket, key);
  if (input.ObjectLockMode !== undefined || input.ObjectLockRetainUntilDate !== undefined) await checkAccess(ctx, s3.service(), { action: 's3:PutObjectRetention', resource });
  if (input.ObjectLockLegalHoldStatus !== undefined) await checkAccess(ctx, s3.service(), { action: 's3:PutObjectLegalHold', resource });
}

/** Throws AccessDenied when `rec` may not be permanently deleted now. */
export function checkDeletable(rec: ObjectRecord, now: Date, bypass: boolean): void {
  if (rec.legalHold === 'ON') throw lockedDenied();
  if (!retentionActive(rec, now)) return;
  if (rec.lockMode === 'GOVERNANCE' && bypass) return;
  throw lockedDenied();
}

export interface LockHeaders {
  ObjectLockMode?: string | undefined;
  ObjectLockRetainUntilDate?: Date | undefined;
  ObjectLockLegalHoldStatus?: string | undefined;
}

/** Whether a write carries lock headers or lands in a bucket with default retention (both need a digest). */
export function writeNeedsDigest(bucket: BucketRecord, input: LockHeaders): boolean {
  return input.ObjectLockMode !== undefined || input.ObjectLockRetainUntilDate !== undefined || input.ObjectLockLegalHoldStatus !== undefined || bucket.objectLock?.defaultRetention !== undefined;
}

/** Checks a write's lock headers before the bytes arrive (no bucket needed). */
export function checkLockHeaders(input: LockHeaders, now: Date): void {
  const { ObjectLockMode: mode, ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: hold } = input;
  if ((mode === undefined) !== (until === undefined)) {
    throw invalidArgument('x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied', 'x-amz-object-lock-retain-until-date');
  }
  if (mode !== undefined && mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw invalidArgument('Unknown wormMode directive.', 'x-amz-object-lock-mode', mode);
  if (until !== undefined && until <= now) throw invalidArgument('The retain until date must be in the future!', 'x-amz-object-lock-retain-until-date', until.toISOString());
  if (hold !== undefined && hold !== 'ON' && hold !== 'OFF') throw invalidArgument('Legal Hold must be either of \'ON\' or \'OFF\'', 'x-amz-object-lock-legal-hold', hold);
}

/** The lock a new version gets: its headers, else the bucket's default retention. */
export function lockForWrite(bucket: BucketRecord, input: LockHeaders, now: Date): ObjectLockFields {
  const explicit = input.ObjectLockMode !== undefined || input.ObjectLockRetainUntilDate !== undefined || input.ObjectLockLegalHoldStatus !== undefined;
  if (explicit && !bucket.objectLock) throw missingLock();
  checkLockHeaders(input, now);
  const out: ObjectLockFields = {};
  if (input.ObjectLockMode !== undefined && input.ObjectLockRetainUntilDate !== undefined) {
    out.lockMode = input.ObjectLockMode as LockMode;
    out.lockRetainUntil = input.ObjectLockRetainUntilDate;
  } else if (bucket.objectLock?.defaultRetention) {
    const d = bucket.objectLock.defaultRetention;
    out.lockMode = d.mode;
    const until = new Date(now);
    if (d.years !== undefined) until.setUTCFullYear(until.getUTCFullYear() + d.years);
    else until.setTime(until.getTime() + (d.days ?? 0) * DAY_MS);
    out.lockRetainUntil = until;
  }
  if (input.ObjectLockLegalHoldStatus !== undefined) out.legalHold = input.ObjectLockLegalHoldStatus as 'ON' | 'OFF';
  return out;
}

/** The lock of an object made by CompleteMultipartUpload: the upload's own headers, else the bucket's default now. */
export function lockForCompletion(bucket: BucketRecord, upload: ObjectLockFields, now: Date): ObjectLockFields {
  const out: ObjectLockFields = upload.lockMode !== undefined ? { lockMode: upload.lockMode, ...(upload.lockRetainUntil ? { lockRetainUntil: upload.lockRetainUntil } : {}) } : lockForWrite(bucket, {}, now);
  if (upload.legalHold !== undefined) out.legalHold = upload.legalHold;
  return out;
}

/** What GET/HEAD show of a version's lock: each part only to a caller allowed to read it (AWS omits the rest). */
export async function visibleLock(s3: S3, ctx: RequestContext, bucket: string, rec: ObjectRecord): Promise<LockHeaders> {
  const all = lockOutput(rec);
  if (!s3.service || (all.ObjectLockMode === undefined && all.ObjectLockLegalHoldStatus === undefined)) return all;
  const allowed = async (action: string) => {
    try {
      await checkAccess(ctx, (s3.service as () => ServiceDefinition)(), { action, resource: objectArn(bucket, rec.key) });
      return true;
    } catch (e) {
      if (isAwsError(e) && e.code === 'AccessDenied') return false;
      throw e;
    }
  };
  const out: LockHeaders = {};
  if (all.ObjectLockMode !== undefined && (await allowed('s3:GetObjectRetention'))) {
    out.ObjectLockMode = all.ObjectLockMode;
    out.ObjectLockRetainUntilDate = all.ObjectLockRetainUntilDate;
  }
  if (all.ObjectLockLegalHoldStatus !== undefined && (await allowed('s3:GetObjectLegalHold'))) out.ObjectLockLegalHoldStatus = all.ObjectLockLegalHoldStatus;
  return out;
}

/** What GET/HEAD return about a version's lock. */
export function lockOutput(rec: ObjectLockFields): LockHeaders {
  const out: LockHeaders = {};
  if (rec.lockMode !== undefined && rec.lockRetainUntil !== undefined) {
    out.ObjectLockMode = rec.lockMode;
    out.ObjectLockRetainUntilDate = rec.lockRetainUntil;
  }
  if (rec.legalHold !== undefined) out.ObjectLockLegalHoldStatus = rec.legalHold;
  return out;
}

export async function putObjectLockConfiguration(s3: S3, input: PutObjectLockConfigurationRequest, ctx: RequestContext): Promise<PutObjectLockConfigurationOutput> {
  requireChecksumHeader(input, 'PutObjectLockConfiguration');
  const cfg = input.ObjectLockConfiguration;
  if (!cfg || cfg.ObjectLockEnabled !== 'Enabled') throw malformedXml();
  let defaultRetention: NonNullable<BucketRecord['objectLock']>['defaultRetention'];
  const r = cfg.Rule?.DefaultRetention;
  if (cfg.Rule !== undefined) {
    if (!r) throw malformedXml();
    const mode = checkMode(r.Mode);
    if ((r.Days === undefined) === (r.Years === undefined)) throw malformedXml();
    const n = (r.Days ?? r.Years) as number;
    if (!Number.isInteger(n) || n <= 0) throw invalidArgument('Default retention period must be a positive integer value', r.Days !== undefined ? 'Days' : 'Years', String(n));
    if ((r.Days !== undefined && n > 36500) || (r.Years !== undefined && n > 100)) {
      throw invalidArgument('Default retention period is too large.', r.Days !== undefined ? 'Days' : 'Years', String(n));
    }
    defaultRetention = { mode, ...(r.Days !== undefined ? { days: n } : { years: n }) };
  }
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    // AWS lets a versioning-enabled bucket turn Object Lock on; never off, and never without versioning.
    if (!b.objectLock && b.versioning !== 'Enabled') {
      throw s3Error('InvalidBucketState', 'Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration', { BucketName: b.name });
    }
    await tx.put(NS_BUCKETS, b.name, { ...b, objectLock: { enabled: true, ...(defaultRetention ? { defaultRetention } : {}) } });
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}

export async function getObjectLockConfiguration(s3: S3, input: GetObjectLockConfigurationRequest, ctx: RequestContext): Promise<GetObjectLockConfigurationOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!b.objectLock) throw s3Error('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', { BucketName: b.name });
  const d = b.objectLock.defaultRetention;
  return {
    ObjectLockConfiguration: {
      ObjectLockEnabled: 'Enabled',
      ...(d ? { Rule: { DefaultRetention: { Mode: d.mode, ...(d.days !== undefined ? { Days: d.days } : { Years: d.years as number }) } } } : {}),
    },
  };
}

function noLockOnObject() {
  return s3Error('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
}

export async function putObjectRetention(s3: S3, input: PutObjectRetentionRequest, ctx: RequestContext): Promise<PutObjectRetentionOutput> {
  const key = checkKey(input.Key);
  requireChecksumHeader(input, 'PutObjectRetention');
  const ret = input.Retention ?? {};
  if ((ret.Mode === undefined) !== (ret.RetainUntilDate === undefined)) throw malformedXml();
  const now = s3.clock.now();
  const mode = ret.Mode !== undefined ? checkMode(ret.Mode) : undefined;
  const until = ret.RetainUntilDate;
  if (until !== undefined && until <= now) throw invalidArgument('The retain until date must be in the future!', 'RetainUntilDate', until.toISOString());
  const b0 = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!b0.objectLock) throw missingLock();
  const bypass = await bypassAllowed(s3, ctx, b0.name, key, input.BypassGovernanceRetention);
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    await updateVersion(tx, b, key, input.VersionId, (rec) => {
      if (retentionActive(rec, now)) {
        const old = rec.lockRetainUntil as Date;
        const weaker = until === undefined || until < old || (rec.lockMode === 'COMPLIANCE' && mode !== 'COMPLIANCE');
        if (weaker && (rec.lockMode === 'COMPLIANCE' || !bypass)) throw lockedDenied();
      }
      const { lockMode: _m, lockRetainUntil: _u, ...rest } = rec;
      return mode !== undefined && until !== undefined ? { ...rest, lockMode: mode, lockRetainUntil: until } : rest;
    });
  });
  return {};
}

export async function getObjectRetention(s3: S3, input: GetObjectRetentionRequest, ctx: RequestContext): Promise<GetObjectRetentionOutput> {
  const key = checkKey(input.Key);
  const rec = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    if (!b.objectLock) throw missingLock();
    return readableVersion(tx, b, key, input.VersionId);
  });
  if (rec.lockMode === undefined || rec.lockRetainUntil === undefined) throw noLockOnObject();
  return { Retention: { Mode: rec.lockMode, RetainUntilDate: rec.lockRetainUntil } };
}

export async function putObjectLegalHold(s3: S3, input: PutObjectLegalHoldRequest, ctx: RequestContext): Promise<PutObjectLegalHoldOutput> {
  const key = checkKey(input.Key);
  requireChecksumHeader(input, 'PutObjectLegalHold');
  const status = input.LegalHold?.Status;
  if (status !== 'ON' && status !== 'OFF') throw malformedXml();
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    if (!b.objectLock) throw missingLock();
    await updateVersion(tx, b, key, input.VersionId, (rec) => ({ ...rec, legalHold: status }));
  });
  return {};
}

export async function getObjectLegalHold(s3: S3, input: GetObjectLegalHoldRequest, ctx: RequestContext): Promise<GetObjectLegalHoldOutput> {
  const key = checkKey(input.Key);
  const rec = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    if (!b.objectLock) throw missingLock();
    return readableVersion(tx, b, key, input.VersionId);
  });
  if (rec.legalHold === undefined) throw noLockOnObject();
  return { LegalHold: { Status: rec.legalHold } };
}
