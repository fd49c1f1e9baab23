/**
 * Lifecycle rule evaluation, pure and clock-free: which rules apply to an
 * object (prefix, tags, size), when an action falls due (S3 adds the days to
 * the object's creation time and rounds up to the next midnight UTC), and
 * which transition is the one to apply now. The worker and the
 * x-amz-expiration header both read these.
 */
import type { LifecycleConfig, LifecycleFilter, LifecycleRule, TagPair } from './model.js';

const DAY_MS = 86_400_000;

/** Storage classes in S3's transition waterfall order: a transition only ever moves down. */
export const TRANSITION_ORDER = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'INTELLIGENT_TIERING', 'ONEZONE_IA', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'];

export function classRank(sc: string): number {
  const i = TRANSITION_ORDER.indexOf(sc);
  return i < 0 ? 0 : i;
}

/** S3's rule: `start` + `days`, rounded up to the next midnight UTC. */
export function dueAfterDays(start: Date, days: number): Date {
  const t = start.getTime() + days * DAY_MS;
  return new Date(t - (t % DAY_MS) + DAY_MS);
}

export interface Subject {
  key: string;
  size: number;
  tags?: readonly TagPair[] | undefined;
}

export function matchesFilter(f: LifecycleFilter, o: Subject): boolean {
  if (f.prefix !== undefined && !o.key.startsWith(f.prefix)) return false;
  if (f.sizeGreaterThan !== undefined && !(o.size > f.sizeGreaterThan)) return false;
  if (f.sizeLessThan !== undefined && !(o.size < f.sizeLessThan)) return false;
  for (const t of f.tags ?? []) {
    if (!o.tags?.some((x) => x.Key === t.Key && x.Value === t.Value)) return false;
  }
  return true;
}

export function activeRules(cfg: LifecycleConfig | undefined, o: Subject): LifecycleRule[] {
  return (cfg?.rules ?? []).filter((r) => r.enabled && matchesFilter(r.filter, o));
}

export interface Expiry {
  at: Date;
  ruleId: string;
}

/** When the current version expires by a Days/Date rule (the earliest), or undefined. */
export function currentExpiry(cfg: LifecycleConfig | undefined, o: Subject & { lastModified: Date }): Expiry | undefined {
  let best: Expiry | undefined;
  for (const r of activeRules(cfg, o)) {
    const e = r.expiration;
    if (!e) continue;
    const at = e.days !== undefined ? dueAfterDays(o.lastModified, e.days) : e.date;
    if (at && (!best || at < best.at)) best = { at, ruleId: r.id };
  }
  return best;
}

/** The x-amz-expiration header value S3 sends for an expiry. */
export function expirationHeader(e: Expiry): string {
  return `expiry-date="${e.at.toUTCString()}", rule-id="${encodeURIComponent(e.ruleId)}"`;
}

const SMALL_OBJECT = 128 * 1024;

/** Whether a transition may move an object of this size (the 128 KB default and its exceptions). */
function sizeAllowsTransition(cfg: LifecycleConfig, rule: LifecycleRule, size: number, target: string): boolean {
  if (size >= SMALL_OBJECT || rule.filter.hasSizeFilter) return true;
  return cfg.transitionDefaultMinimumObjectSize === 'varies_by_storage_class' && (target === 'GLACIER' || target === 'DEEP_ARCHIVE' || target === 'GLACIER_IR');
}

/** The storage class the current version should be in now, if it should move. */
export function dueTransition(cfg: LifecycleConfig | undefined, o: Subject & { lastModified: Date; storageClass: string }, now: Date): string | undefined {
  if (!cfg) return undefined;
  let target: string | undefined;
  for (const r of activeRules(cfg, o)) {
    for (const t of r.transitions ?? []) {
      const at = t.days !== undefined ? dueAfterDays(o.lastModified, t.days) : t.date;
      if (!at || at > now || !sizeAllowsTransition(cfg, r, o.size, t.storageClass)) continue;
      if (classRank(t.storageClass) > classRank(target ?? o.storageClass)) target = t.storageClass;
    }
  }
  return target;
}

export interface NoncurrentSubject extends Subject {
  /** When the version became noncurrent (its successor's creation time). */
  since: Date;
  /** How many noncurrent versions of the key are newer than this one. */
  newer: number;
  storageClass: string;
}

function enoughNewer(keep: number | undefined, newer: number): boolean {
  return keep === undefined || newer >= keep;
}

export function noncurrentExpired(cfg: LifecycleConfig | undefined, o: NoncurrentSubject, now: Date): LifecycleRule | undefined {
  return activeRules(cfg, o).find((r) => {
    const e = r.noncurrentExpiration;
    return e !== undefined && dueAfterDays(o.since, e.days) <= now && enoughNewer(e.newerNoncurrentVersions, o.newer);
  });
}

export function noncurrentTransition(cfg: LifecycleConfig | undefined, o: NoncurrentSubject, now: Date): string | undefined {
  if (!cfg) return undefined;
  let target: string | undefined;
  for (const r of activeRules(cfg, o)) {
    for (const t of r.noncurrentTransitions ?? []) {
      if (dueAfterDays(o.since, t.days) > now || !enoughNewer(t.newerNoncurrentVersions, o.newer)) continue;
      if (!sizeAllowsTransition(cfg, r, o.size, t.storageClass)) continue;
      if (classRank(t.storageClass) > classRank(target ?? o.storageClass)) target = t.storageClass;
    }
  }
  return target;
}

/**
 * Whether a delete marker that is the only version left goes: S3 removes such
 * an "expired object delete marker" under ExpiredObjectDeleteMarker and under
 * any rule that expires current versions (Days or Date).
 */
export function removesExpiredMarker(cfg: LifecycleConfig | undefined, key: string): boolean {
  return (cfg?.rules ?? []).some((r) => {
    const e = r.expiration;
    const expires = e !== undefined && (e.expiredObjectDeleteMarker === true || e.days !== undefined || e.date !== undefined);
    return r.enabled && expires && matchesFilter(r.filter, { key, size: 0 });
  });
}

export function abortDue(cfg: LifecycleConfig | undefined, key: string, initiated: Date, now: Date): LifecycleRule | undefined {
  return (cfg?.rules ?? []).find(
    (r) => r.enabled && r.abortIncompleteDays !== undefined && (r.filter.prefix === undefined || key.startsWith(r.filter.prefix)) && dueAfterDays(initiated, r.abortIncompleteDays) <= now,
  );
}

/** x-amz-expiration for a current version, when a Days/Date rule will expire it. */
export function expirationOf(cfg: LifecycleConfig | undefined, rec: Subject & { lastModified: Date; deleteMarker?: true }): string | undefined {
  if (!cfg || rec.deleteMarker) return undefined;
  const e = currentExpiry(cfg, rec);
  return e ? expirationHeader(e) : undefined;
}
