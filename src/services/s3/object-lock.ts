/**
 * Object Lock: the bucket's lock configuration (default retention, default
 * event hold), each version's retention (GOVERNANCE / COMPLIANCE), legal hold
 * and event hold, the lock headers of object writes, and the rule that a
 * locked version cannot be permanently deleted. GOVERNANCE yields to
 * `x-amz-bypass-governance-retention: true` from a caller the IAM engine
 * allows s3:BypassGovernanceRetention; holds yield to nobody.
 *
 * An event hold (API of 2026) locks a version while it is ON, like a legal
 * hold; releasing it (OFF) retains the version for the hold's duration from
 * the release. AWS's pages say that much and no more; hanul's choices where
 * they are silent: the retention a release starts takes the version's own
 * mode, else the request's, else the bucket's default mode, else GOVERNANCE,
 * and never shortens a later retain-until date; an ON hold needs a duration
 * (the request's, the version's earlier one, or the bucket's default); while
 * a hold is ON its duration may grow but not shrink.
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
import { type BucketRecord, type EventHoldDuration, type LockMode, NS_BUCKETS, type ObjectLockFields, type ObjectRecord } from './model.js';
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
  return rec.legalHold === 'ON' || rec.eventHold === 'ON' || retentionActive(rec, now);
}

/** `from` plus an Object Lock period of days or years (years as calendar years, as AWS counts them). */
function addPeriod(from: Date, p: { days?: number | undefined; years?: number | undefined }): Date {
  const until = new Date(from);
  if (p.years !== undefined) until.setUTCFullYear(until.getUTCFullYear() + p.years);
  else until.setTime(until.getTime() + (p.days ?? 0) * DAY_MS);
  return until;
}

/** An Object Lock period of exactly one of days or years, in AWS's ranges (1–36,500 days, 1–100 years); `what` names it in messages, `names` are its fields on the wire. */
function checkPeriod(days: number | undefined, years: number | undefined, what: string, names: readonly [string, string]): EventHoldDuration {
  const n = (days ?? years) as number;
  const name = days !== undefined ? names[0] : names[1];
  if (!Number.isInteger(n) || n <= 0) throw invalidArgument(`${what} must be a positive integer value`, name, String(n));
  if ((days !== undefined && n > 36500) || (years !== undefined && n > 100)) throw invalidArgument(`${what} is too large.`, name, String(n));
  return days !== undefined ? { days: n } : { years: n };
}

/** An event hold duration, if any is given: days xor years (InvalidArgument otherwise). */
function checkDuration(days: number | undefined, years: number | undefined, names: readonly [string, string]): EventHoldDuration | undefined {
  if (days === undefined && years === undefined) return undefined;
  if (days !== undefined && years !== undefined) throw invalidArgument('You cannot specify an event hold duration in both days and years', names[1], String(years));
  return checkPeriod(days, years, 'Event hold duration', names);
}

const DURATION_HEADERS = ['x-amz-object-lock-event-hold-duration-days', 'x-amz-object-lock-event-hold-duration-years'] as const;
const DURATION_FIELDS = ['Days', 'Years'] as const;

/** A write's event hold duration headers, checked. */
function headerDuration(input: LockHeaders): EventHoldDuration | undefined {
  return checkDuration(input.ObjectLockEventHoldDurationDays, input.ObjectLockEventHoldDurationYears, DURATION_HEADERS);
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
  if (input.ObjectLockMode !== undefined || input.ObjectLockRetainUntilDate !== undefined || namesEventHold(input)) await checkAccess(ctx, s3.service(), { action: 's3:PutObjectRetention', resource });
  if (input.ObjectLockLegalHoldStatus !== undefined) await checkAccess(ctx, s3.service(), { action: 's3:PutObjectLegalHold', resource });
}

/** Throws AccessDenied when `rec` may not be permanently deleted now. */
export function checkDeletable(rec: ObjectRecord, now: Date, bypass: boolean): void {
  if (rec.legalHold === 'ON' || rec.eventHold === 'ON') throw lockedDenied();
  if (!retentionActive(rec, now)) return;
  if (rec.lockMode === 'GOVERNANCE' && bypass) return;
  throw lockedDenied();
}

export interface LockHeaders {
  ObjectLockMode?: string | undefined;
  ObjectLockRetainUntilDate?: Date | undefined;
  ObjectLockLegalHoldStatus?: string | undefined;
  ObjectLockEventHold?: string | undefined;
  ObjectLockEventHoldDurationDays?: number | undefined;
  ObjectLockEventHoldDurationYears?: number | undefined;
}

function namesEventHold(input: LockHeaders): boolean {
  return input.ObjectLockEventHold !== undefined || input.ObjectLockEventHoldDurationDays !== undefined || input.ObjectLockEventHoldDurationYears !== undefined;
}

function namesLock(input: LockHeaders): boolean {
  return input.ObjectLockMode !== undefined || input.ObjectLockRetainUntilDate !== undefined || input.ObjectLockLegalHoldStatus !== undefined || namesEventHold(input);
}

/** Whether a write carries lock headers or lands in a bucket with a default lock (both need a digest). */
export function writeNeedsDigest(bucket: BucketRecord, input: LockHeaders): boolean {
  return namesLock(input) || bucket.objectLock?.defaultRetention !== undefined || bucket.objectLock?.defaultEventHold !== undefined;
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
  const event = input.ObjectLockEventHold;
  if (event !== undefined && event !== 'ON' && event !== 'OFF') throw invalidArgument('Event Hold must be either of \'ON\' or \'OFF\'', 'x-amz-object-lock-event-hold', event);
  headerDuration(input);
}

/**
 * The bucket's defaults for a new version: its default retention unless the write names a
 * retention, its default event hold unless the write names a retention or an event hold.
 */
function lockDefaults(bucket: BucketRecord, now: Date, out: ObjectLockFields, named: { retention: boolean; eventHold: boolean }): void {
  const d = bucket.objectLock?.defaultRetention;
  if (!named.retention && d) {
    out.lockMode = d.mode;
    out.lockRetainUntil = addPeriod(now, d);
  }
  const e = bucket.objectLock?.defaultEventHold;
  if (!named.retention && !named.eventHold && e) {
    out.eventHold = 'ON';
    out.eventHoldDuration = e;
  }
}

/** The lock a new version gets: its headers, else the bucket's defaults. */
export function lockForWrite(bucket: BucketRecord, input: LockHeaders, now: Date): ObjectLockFields {
  if (namesLock(input) && !bucket.objectLock) throw missingLock();
  checkLockHeaders(input, now);
  const out: ObjectLockFields = {};
  const retention = input.ObjectLockMode !== undefined && input.ObjectLockRetainUntilDate !== undefined;
  if (input.ObjectLockMode !== undefined && input.ObjectLockRetainUntilDate !== undefined) {
    out.lockMode = input.ObjectLockMode as LockMode;
    out.lockRetainUntil = input.ObjectLockRetainUntilDate;
  }
  if (namesEventHold(input)) {
    const duration = headerDuration(input) ?? bucket.objectLock?.defaultEventHold;
    const status = (input.ObjectLockEventHold ?? 'ON') as 'ON' | 'OFF';
    if (status === 'ON' && duration === undefined) throw invalidArgument('x-amz-object-lock-event-hold ON needs an event hold duration (x-amz-object-lock-event-hold-duration-days or -years)', 'x-amz-object-lock-event-hold', status);
    out.eventHold = status;
    if (duration !== undefined) out.eventHoldDuration = duration;
  }
  lockDefaults(bucket, now, out, { retention, eventHold: namesEventHold(input) });
  if (input.ObjectLockLegalHoldStatus !== undefined) out.legalHold = input.ObjectLockLegalHoldStatus as 'ON' | 'OFF';
  return out;
}

/** The lock of an object made by CompleteMultipartUpload: the upload's own headers, else the bucket's defaults now. */
export function lockForCompletion(bucket: BucketRecord, upload: ObjectLockFields, now: Date): ObjectLockFields {
  const out: ObjectLockFields = {};
  if (upload.lockMode !== undefined) {
    out.lockMode = upload.lockMode;
    if (upload.lockRetainUntil) out.lockRetainUntil = upload.lockRetainUntil;
  }
  if (upload.eventHold !== undefined) {
    out.eventHold = upload.eventHold;
    if (upload.eventHoldDuration) out.eventHoldDuration = upload.eventHoldDuration;
  }
  lockDefaults(bucket, now, out, { retention: upload.lockMode !== undefined, eventHold: upload.eventHold !== undefined });
  if (upload.legalHold !== undefined) out.legalHold = upload.legalHold;
  return out;
}

/** What GET/HEAD show of a version's lock: each part only to a caller allowed to read it (AWS omits the rest). */
export async function visibleLock(s3: S3, ctx: RequestContext, bucket: string, rec: ObjectRecord): Promise<LockHeaders> {
  const all = lockOutput(rec);
  if (!s3.service || (all.ObjectLockMode === undefined && all.ObjectLockLegalHoldStatus === undefined && all.ObjectLockEventHold === undefined)) return all;
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
  if ((all.ObjectLockMode !== undefined || all.ObjectLockEventHold !== undefined) && (await allowed('s3:GetObjectRetention'))) {
    const { ObjectLockLegalHoldStatus: _h, ...retention } = all;
    Object.assign(out, retention);
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
  if (rec.eventHold !== undefined) {
    out.ObjectLockEventHold = rec.eventHold;
    // The duration only while the hold is on (AWS: "Only returned when the event hold is enabled").
    if (rec.eventHold === 'ON' && rec.eventHoldDuration?.days !== undefined) out.ObjectLockEventHoldDurationDays = rec.eventHoldDuration.days;
    if (rec.eventHold === 'ON' && rec.eventHoldDuration?.years !== undefined) out.ObjectLockEventHoldDurationYears = rec.eventHoldDuration.years;
  }
  return out;
}

export async function putObjectLockConfiguration(s3: S3, input: PutObjectLockConfigurationRequest, ctx: RequestContext): Promise<PutObjectLockConfigurationOutput> {
  requireChecksumHeader(input, 'PutObjectLockConfiguration');
  const cfg = input.ObjectLockConfiguration;
  if (!cfg || cfg.ObjectLockEnabled !== 'Enabled') throw malformedXml();
  let defaultRetention: NonNullable<BucketRecord['objectLock']>['defaultRetention'];
  let defaultEventHold: EventHoldDuration | undefined;
  const r = cfg.Rule?.DefaultRetention;
  if (cfg.Rule !== undefined && r?.DefaultEventHold !== undefined) {
    defaultEventHold = checkDuration(r.DefaultEventHold.Days, r.DefaultEventHold.Years, DURATION_FIELDS);
    if (defaultEventHold === undefined) throw malformedXml();
  }
  // A rule may hold a default retention (mode and period), a default event hold, or both.
  if (cfg.Rule !== undefined && !(defaultEventHold !== undefined && r?.Mode === undefined && r?.Days === undefined && r?.Years === undefined)) {
    if (!r) throw malformedXml();
    const mode = checkMode(r.Mode);
    if ((r.Days === undefined) === (r.Years === undefined)) throw malformedXml();
    defaultRetention = { mode, ...checkPeriod(r.Days, r.Years, 'Default retention period', DURATION_FIELDS) };
  }
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    // AWS lets a versioning-enabled bucket turn Object Lock on; never off, and never without versioning.
    if (!b.objectLock && b.versioning !== 'Enabled') {
      throw s3Error('InvalidBucketState', 'Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration', { BucketName: b.name });
    }
    await tx.put(NS_BUCKETS, b.name, { ...b, objectLock: { enabled: true, ...(defaultRetention ? { defaultRetention } : {}), ...(defaultEventHold ? { defaultEventHold } : {}) } });
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}

export async function getObjectLockConfiguration(s3: S3, input: GetObjectLockConfigurationRequest, ctx: RequestContext): Promise<GetObjectLockConfigurationOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!b.objectLock) throw s3Error('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', { BucketName: b.name });
  const d = b.objectLock.defaultRetention;
  const e = b.objectLock.defaultEventHold;
  const rule = {
    ...(d ? { Mode: d.mode, ...(d.days !== undefined ? { Days: d.days } : { Years: d.years as number }) } : {}),
    ...(e ? { DefaultEventHold: e.days !== undefined ? { Days: e.days } : { Years: e.years as number } } : {}),
  };
  return {
    ObjectLockConfiguration: {
      ObjectLockEnabled: 'Enabled',
      ...(d || e ? { Rule: { DefaultRetention: rule } } : {}),
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
  if (ret.EventHold !== undefined && ret.EventHold !== 'ON' && ret.EventHold !== 'OFF') throw malformedXml();
  const duration = ret.EventHoldDuration === undefined ? undefined : checkDuration(ret.EventHoldDuration.Days, ret.EventHoldDuration.Years, DURATION_FIELDS);
  if (ret.EventHoldDuration !== undefined && duration === undefined) throw malformedXml();
  const b0 = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!b0.objectLock) throw missingLock();
  const bypass = await bypassAllowed(s3, ctx, b0.name, key, input.BypassGovernanceRetention);
  // A body that names only the event hold changes only the event hold.
  const holdOnly = mode === undefined && (ret.EventHold !== undefined || duration !== undefined);
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    await updateVersion(tx, b, key, input.VersionId, (rec) => {
      if (ret.EventHold !== undefined || duration !== undefined) rec = withEventHold(rec, b, ret.EventHold, duration, mode, now);
      if (holdOnly) return rec;
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

/** A version with its event hold set, or released (which starts its retention for the hold's duration). */
function withEventHold(rec: ObjectRecord, b: BucketRecord, status: 'ON' | 'OFF' | undefined, duration: EventHoldDuration | undefined, mode: LockMode | undefined, now: Date): ObjectRecord {
  const next = status ?? rec.eventHold ?? 'ON';
  const held = duration ?? rec.eventHoldDuration ?? b.objectLock?.defaultEventHold;
  if (next === 'ON' && held === undefined) throw invalidArgument('An event hold needs a duration (EventHoldDuration Days or Years)', 'EventHoldDuration', '');
  // While a hold is on, its duration may grow, not shrink.
  if (rec.eventHold === 'ON' && duration !== undefined && rec.eventHoldDuration !== undefined && addPeriod(now, duration) < addPeriod(now, rec.eventHoldDuration)) throw lockedDenied();
  const out: ObjectRecord = { ...rec, eventHold: next };
  if (held !== undefined) out.eventHoldDuration = held;
  if (rec.eventHold === 'ON' && next === 'OFF' && held !== undefined) {
    // Released: retained for the hold's duration from now, never less than a retention already set.
    const until = addPeriod(now, held);
    if (rec.lockRetainUntil === undefined || rec.lockRetainUntil < until) out.lockRetainUntil = until;
    out.lockMode = rec.lockMode ?? mode ?? b.objectLock?.defaultRetention?.mode ?? 'GOVERNANCE';
  }
  return out;
}

export async function getObjectRetention(s3: S3, input: GetObjectRetentionRequest, ctx: RequestContext): Promise<GetObjectRetentionOutput> {
  const key = checkKey(input.Key);
  const rec = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    if (!b.objectLock) throw missingLock();
    return readableVersion(tx, b, key, input.VersionId);
  });
  const hasRetention = rec.lockMode !== undefined && rec.lockRetainUntil !== undefined;
  if (!hasRetention && rec.eventHold === undefined) throw noLockOnObject();
  const e = rec.eventHoldDuration;
  return {
    Retention: {
      ...(hasRetention ? { Mode: rec.lockMode, RetainUntilDate: rec.lockRetainUntil } : {}),
      ...(rec.eventHold !== undefined ? { EventHold: rec.eventHold } : {}),
      ...(e ? { EventHoldDuration: e.days !== undefined ? { Days: e.days } : { Years: e.years as number } } : {}),
    },
  };
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
