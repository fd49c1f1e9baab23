/**
 * Put/Get/DeleteBucketLifecycleConfiguration: the configuration is validated
 * as S3 validates it (≤ 1,000 rules, unique IDs, one filter form, positive
 * days, midnight dates, transition classes, ordering and minimum days) and
 * stored on the bucket record; the lifecycle worker applies it.
 */
import { randomBytes } from 'node:crypto';
import type {
  DeleteBucketLifecycleRequest,
  GetBucketLifecycleConfigurationOutput,
  GetBucketLifecycleConfigurationRequest,
  LifecycleRule as SdkRule,
  LifecycleRuleFilter,
  PutBucketLifecycleConfigurationOutput,
  PutBucketLifecycleConfigurationRequest,
  Tag,
} from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { invalidArgument, malformedXml, s3Error } from './errors.js';
import { classRank } from './lifecycle-rules.js';
import { type LifecycleConfig, type LifecycleFilter, type LifecycleRule, NS_BUCKETS } from './model.js';
import { requireChecksumHeader } from './object-lock.js';
import { requireBucket, type S3 } from './state.js';
import { checkTags } from './tagging.js';

const MAX_RULES = 1000;
const TRANSITION_CLASSES = ['GLACIER', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'DEEP_ARCHIVE', 'GLACIER_IR'];
/** Classes an object must stay in for 30 days before S3 moves it there (or on from there). */
const IA_CLASSES = new Set(['STANDARD_IA', 'ONEZONE_IA']);

function invalidRequest(message: string) {
  return s3Error('InvalidRequest', message);
}

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function isMidnight(d: Date): boolean {
  return d.getTime() % 86_400_000 === 0;
}

function checkFilter(rule: SdkRule): { filter: LifecycleFilter; kind: LifecycleRule['filterKind']; legacy: boolean } {
  if (rule.Filter !== undefined && rule.Prefix !== undefined) throw malformedXml();
  if (rule.Filter === undefined) {
    if (rule.Prefix === undefined) throw malformedXml();
    return { filter: rule.Prefix === '' ? {} : { prefix: rule.Prefix }, kind: 'Prefix', legacy: true };
  }
  const f: LifecycleRuleFilter = rule.Filter;
  const forms = [f.Prefix, f.Tag, f.And, f.ObjectSizeGreaterThan, f.ObjectSizeLessThan].filter((x) => x !== undefined).length;
  if (forms > 1) throw malformedXml();
  const out: LifecycleFilter = {};
  const size = (gt: number | undefined, lt: number | undefined) => {
    if (gt !== undefined) {
      if (!Number.isInteger(gt) || gt < 0) throw invalidArgument('ObjectSizeGreaterThan must be a non-negative integer', 'ObjectSizeGreaterThan', String(gt));
      out.sizeGreaterThan = gt;
      out.hasSizeFilter = true;
    }
    if (lt !== undefined) {
      if (!Number.isInteger(lt) || lt <= 0) throw invalidArgument('ObjectSizeLessThan must be a positive integer', 'ObjectSizeLessThan', String(lt));
      out.sizeLessThan = lt;
      out.hasSizeFilter = true;
    }
    if (gt !== undefined && lt !== undefined && gt >= lt) {
      throw invalidArgument('ObjectSizeGreaterThan must be less than ObjectSizeLessThan', 'ObjectSizeGreaterThan', String(gt));
    }
  };
  if (f.Prefix !== undefined) {
    if (f.Prefix !== '') out.prefix = f.Prefix;
    return { filter: out, kind: 'Prefix', legacy: false };
  }
  if (f.Tag !== undefined) {
    out.tags = checkTags([f.Tag], 1, 'Object');
    return { filter: out, kind: 'Tag', legacy: false };
  }
  if (f.And !== undefined) {
    const a = f.And;
    if (a.Prefix !== undefined && a.Prefix !== '') out.prefix = a.Prefix;
    const tags = checkTags(a.Tags, 50, 'Object');
    if (tags.length > 0) out.tags = tags;
    size(a.ObjectSizeGreaterThan, a.ObjectSizeLessThan);
    return { filter: out, kind: 'And', legacy: false };
  }
  if (f.ObjectSizeGreaterThan !== undefined) {
    size(f.ObjectSizeGreaterThan, undefined);
    return { filter: out, kind: 'ObjectSizeGreaterThan', legacy: false };
  }
  if (f.ObjectSizeLessThan !== undefined) {
    size(undefined, f.ObjectSizeLessThan);
    return { filter: out, kind: 'ObjectSizeLessThan', legacy: false };
  }
  return { filter: out, kind: 'Empty', legacy: false };
}

function checkTransitions(rule: SdkRule, out: LifecycleRule): void {
  const seen = new Set<string>();
  const list = rule.Transitions ?? [];
  let usesDays = false;
  let usesDate = false;
  out.transitions = list.map((t) => {
    const sc = t.StorageClass;
    if (sc === undefined || !TRANSITION_CLASSES.includes(sc)) throw malformedXml();
    if (seen.has(sc)) throw invalidArgument(`'StorageClass' must be different for 'Transition' actions in same 'Rule' with prefix '${rule.Filter?.Prefix ?? rule.Prefix ?? ''}'`, 'StorageClass', sc);
    seen.add(sc);
    if ((t.Days === undefined) === (t.Date === undefined)) throw malformedXml();
    if (t.Days !== undefined) {
      usesDays = true;
      if (!Number.isInteger(t.Days) || t.Days < 0) throw invalidArgument("'Days' in Transition action must be nonnegative", 'Days', String(t.Days));
      if (IA_CLASSES.has(sc) && t.Days < 30) {
        throw invalidArgument(`'Days' in Transition action must be greater than or equal to 30 for storageClass '${sc}'`, 'Days', String(t.Days));
      }
      return { days: t.Days, storageClass: sc };
    }
    usesDate = true;
    const d = t.Date as Date;
    if (!isMidnight(d)) throw invalidArgument("'Date' must be at midnight GMT", 'Date', d.toISOString());
    return { date: d, storageClass: sc };
  });
  if (out.transitions.length === 0) delete out.transitions;
  const e = out.expiration;
  if ((usesDays && e?.date) || (usesDate && e?.days !== undefined) || (usesDays && usesDate)) {
    throw invalidRequest("Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule for prefix");
  }
  // The waterfall: a lower class needs more days than a higher one, and 30 more after an IA class.
  const sorted = [...(out.transitions ?? [])].filter((t) => t.days !== undefined).sort((a, b) => classRank(a.storageClass) - classRank(b.storageClass));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as { days?: number; storageClass: string };
    const cur = sorted[i] as { days?: number; storageClass: string };
    const gap = IA_CLASSES.has(prev.storageClass) ? 30 : 1;
    if ((cur.days as number) < (prev.days as number) + gap) {
      throw invalidArgument(
        `'Days' in the Transition action for StorageClass '${cur.storageClass}' must be ${gap === 30 ? '30 days more than' : 'greater than'} 'Days' in the Transition action for StorageClass '${prev.storageClass}'`,
        'Days',
        String(cur.days),
      );
    }
  }
  const last = sorted[sorted.length - 1];
  if (last && e?.days !== undefined && e.days <= (last.days as number)) {
    throw invalidArgument(`'Days' in the Expiration action must be greater than 'Days' in the Transition action`, 'Days', String(e.days));
  }
}

function checkNoncurrent(rule: SdkRule, out: LifecycleRule): void {
  const ne = rule.NoncurrentVersionExpiration;
  if (ne) {
    if (!positiveInt(ne.NoncurrentDays)) throw invalidArgument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer", 'NoncurrentDays', String(ne.NoncurrentDays));
    out.noncurrentExpiration = { days: ne.NoncurrentDays };
    if (ne.NewerNoncurrentVersions !== undefined) {
      if (!positiveInt(ne.NewerNoncurrentVersions) || ne.NewerNoncurrentVersions > 100) {
        throw invalidArgument('NewerNoncurrentVersions must be between 1 and 100', 'NewerNoncurrentVersions', String(ne.NewerNoncurrentVersions));
      }
      out.noncurrentExpiration.newerNoncurrentVersions = ne.NewerNoncurrentVersions;
    }
  }
  const seen = new Set<string>();
  const list = (rule.NoncurrentVersionTransitions ?? []).map((t) => {
    const sc = t.StorageClass;
    if (sc === undefined || !TRANSITION_CLASSES.includes(sc)) throw malformedXml();
    if (seen.has(sc)) throw invalidArgument("'StorageClass' must be different for 'NoncurrentVersionTransition' actions in same 'Rule'", 'StorageClass', sc);
    seen.add(sc);
    if (t.NoncurrentDays === undefined || !Number.isInteger(t.NoncurrentDays) || t.NoncurrentDays < 0) throw malformedXml();
    if (IA_CLASSES.has(sc) && t.NoncurrentDays < 30) {
      throw invalidArgument(`'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass '${sc}'`, 'NoncurrentDays', String(t.NoncurrentDays));
    }
    const n: { days: number; storageClass: string; newerNoncurrentVersions?: number } = { days: t.NoncurrentDays, storageClass: sc };
    if (t.NewerNoncurrentVersions !== undefined) {
      if (!positiveInt(t.NewerNoncurrentVersions) || t.NewerNoncurrentVersions > 100) {
        throw invalidArgument('NewerNoncurrentVersions must be between 1 and 100', 'NewerNoncurrentVersions', String(t.NewerNoncurrentVersions));
      }
      n.newerNoncurrentVersions = t.NewerNoncurrentVersions;
    }
    return n;
  });
  if (list.length > 0) out.noncurrentTransitions = list;
  const maxDays = Math.max(-1, ...list.map((t) => t.days));
  if (out.noncurrentExpiration && maxDays >= out.noncurrentExpiration.days) {
    throw invalidArgument("'NoncurrentDays' in the NoncurrentVersionExpiration action must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action", 'NoncurrentDays', String(out.noncurrentExpiration.days));
  }
}

/** One rule from the SDK shape to the stored form, or S3's error. */
export function checkRule(rule: SdkRule): LifecycleRule {
  if (rule.Status !== 'Enabled' && rule.Status !== 'Disabled') throw malformedXml();
  const id = rule.ID ?? randomBytes(36).toString('base64url').slice(0, 48);
  if (id.length > 255) throw invalidArgument('ID length should not exceed allowed limit of 255', 'ID', id);
  const { filter, kind, legacy } = checkFilter(rule);
  const out: LifecycleRule = { id, enabled: rule.Status === 'Enabled', filter, ...(kind ? { filterKind: kind } : {}), ...(legacy ? { legacyPrefix: true as const } : {}) };
  const e = rule.Expiration;
  if (e) {
    const n = [e.Days, e.Date, e.ExpiredObjectDeleteMarker].filter((x) => x !== undefined).length;
    if (n !== 1) throw malformedXml();
    if (e.Days !== undefined) {
      if (!positiveInt(e.Days)) throw invalidArgument("'Days' for Expiration action must be a positive integer", 'Days', String(e.Days));
      out.expiration = { days: e.Days };
    } else if (e.Date !== undefined) {
      if (!isMidnight(e.Date)) throw invalidArgument("'Date' must be at midnight GMT", 'Date', e.Date.toISOString());
      out.expiration = { date: e.Date };
    } else {
      if (filter.tags) throw invalidRequest('ExpiredObjectDeleteMarker cannot be specified with Tag filters');
      out.expiration = { expiredObjectDeleteMarker: e.ExpiredObjectDeleteMarker === true };
    }
  }
  checkTransitions(rule, out);
  checkNoncurrent(rule, out);
  const abort = rule.AbortIncompleteMultipartUpload;
  if (abort) {
    if (!positiveInt(abort.DaysAfterInitiation)) {
      throw invalidArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer", 'DaysAfterInitiation', String(abort.DaysAfterInitiation));
    }
    if (filter.tags || filter.hasSizeFilter) throw invalidRequest('AbortIncompleteMultipartUpload cannot be specified with Tags.');
    out.abortIncompleteDays = abort.DaysAfterInitiation;
  }
  if (!out.expiration && !out.transitions && !out.noncurrentExpiration && !out.noncurrentTransitions && out.abortIncompleteDays === undefined) {
    throw invalidRequest('At least one action needs to be specified in a rule');
  }
  return out;
}

export function checkLifecycle(rules: readonly SdkRule[] | undefined, minSize: string | undefined): LifecycleConfig {
  if (!rules || rules.length === 0 || rules.length > MAX_RULES) throw malformedXml();
  if (minSize !== undefined && minSize !== 'all_storage_classes_128K' && minSize !== 'varies_by_storage_class') {
    throw invalidArgument('Invalid value for x-amz-transition-default-minimum-object-size', 'x-amz-transition-default-minimum-object-size', minSize);
  }
  const ids = new Set<string>();
  const out = rules.map((r) => {
    const rule = checkRule(r);
    if (ids.has(rule.id)) throw invalidArgument('Rule ID must be unique. Found same ID for more than one rule', 'ID', rule.id);
    ids.add(rule.id);
    return rule;
  });
  return { rules: out, transitionDefaultMinimumObjectSize: minSize ?? 'all_storage_classes_128K' };
}

function filterOut(r: LifecycleRule): Pick<SdkRule, 'Filter' | 'Prefix'> {
  const f = r.filter;
  const tags = (f.tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value }));
  if (r.legacyPrefix) return { Prefix: f.prefix ?? '' };
  switch (r.filterKind) {
    case 'Prefix':
      return { Filter: { Prefix: f.prefix ?? '' } };
    case 'Tag':
      return { Filter: { Tag: tags[0] as Tag } };
    case 'ObjectSizeGreaterThan':
      return { Filter: { ObjectSizeGreaterThan: f.sizeGreaterThan as number } };
    case 'ObjectSizeLessThan':
      return { Filter: { ObjectSizeLessThan: f.sizeLessThan as number } };
    case 'And':
      return {
        Filter: {
          And: {
            ...(f.prefix !== undefined ? { Prefix: f.prefix } : {}),
            ...(tags.length > 0 ? { Tags: tags } : {}),
            ...(f.sizeGreaterThan !== undefined ? { ObjectSizeGreaterThan: f.sizeGreaterThan } : {}),
            ...(f.sizeLessThan !== undefined ? { ObjectSizeLessThan: f.sizeLessThan } : {}),
          },
        },
      };
    case 'Empty':
    case undefined:
      return { Filter: {} };
  }
  return { Filter: {} };
}

/** The stored rule in the SDK shape, as GetBucketLifecycleConfiguration returns it. */
export function ruleOut(r: LifecycleRule): SdkRule {
  const out: SdkRule = { ID: r.id, Status: r.enabled ? 'Enabled' : 'Disabled', ...filterOut(r) };
  const e = r.expiration;
  if (e) out.Expiration = e.days !== undefined ? { Days: e.days } : e.date ? { Date: e.date } : { ExpiredObjectDeleteMarker: e.expiredObjectDeleteMarker === true };
  if (r.transitions) {
    out.Transitions = r.transitions.map((t) => ({ ...(t.days !== undefined ? { Days: t.days } : { Date: t.date as Date }), StorageClass: t.storageClass as 'GLACIER' }));
  }
  if (r.noncurrentExpiration) {
    const n = r.noncurrentExpiration;
    out.NoncurrentVersionExpiration = { NoncurrentDays: n.days, ...(n.newerNoncurrentVersions !== undefined ? { NewerNoncurrentVersions: n.newerNoncurrentVersions } : {}) };
  }
  if (r.noncurrentTransitions) {
    out.NoncurrentVersionTransitions = r.noncurrentTransitions.map((t) => ({
      NoncurrentDays: t.days,
      StorageClass: t.storageClass as 'GLACIER',
      ...(t.newerNoncurrentVersions !== undefined ? { NewerNoncurrentVersions: t.newerNoncurrentVersions } : {}),
    }));
  }
  if (r.abortIncompleteDays !== undefined) out.AbortIncompleteMultipartUpload = { DaysAfterInitiation: r.abortIncompleteDays };
  return out;
}

export async function putBucketLifecycleConfiguration(s3: S3, input: PutBucketLifecycleConfigurationRequest, ctx: RequestContext): Promise<PutBucketLifecycleConfigurationOutput> {
  requireChecksumHeader(input, 'PutBucketLifecycleConfiguration');
  const cfg = checkLifecycle(input.LifecycleConfiguration?.Rules, input.TransitionDefaultMinimumObjectSize);
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    await tx.put(NS_BUCKETS, b.name, { ...b, lifecycle: cfg });
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  s3.lifecycleWorker?.poke();
  return { TransitionDefaultMinimumObjectSize: cfg.transitionDefaultMinimumObjectSize };
}

export async function getBucketLifecycleConfiguration(s3: S3, input: GetBucketLifecycleConfigurationRequest, ctx: RequestContext): Promise<GetBucketLifecycleConfigurationOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!b.lifecycle) {
    throw s3Error('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', { BucketName: b.name });
  }
  return { Rules: b.lifecycle.rules.map(ruleOut), TransitionDefaultMinimumObjectSize: b.lifecycle.transitionDefaultMinimumObjectSize };
}

export async function deleteBucketLifecycle(s3: S3, input: DeleteBucketLifecycleRequest, ctx: RequestContext): Promise<Record<string, never>> {
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    if (!b.lifecycle) return;
    const { lifecycle: _l, ...rest } = b;
    await tx.put(NS_BUCKETS, b.name, rest);
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}
