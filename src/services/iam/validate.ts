import { compilePolicy, PolicyError, type PolicyKind } from '../../iam/policy/document.js';
import type { IamRuntime } from '../../iam/runtime.js';
import type { Tag } from '../../iam/entities.js';
import type { ReadTx } from '../../storage/ports.js';
import { iamError } from './errors.js';

/**
 * IAM's input checks, in its words: "1 validation error detected: Value 'x'
 * at 'userName' failed to satisfy constraint: …".
 */
function invalid(field: string, value: string | number | undefined, constraint: string) {
  const shown = value === undefined ? 'null' : `'${value}'`;
  return iamError('ValidationError', `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`);
}

export function required<T>(value: T | undefined | null, field: string): T {
  if (value === undefined || value === null || (typeof value === 'string' && value === '')) {
    if (value === '') throw invalid(field, '', 'Member must have length greater than or equal to 1');
    throw invalid(field, undefined, 'Member must not be null');
  }
  return value;
}

const NAME = /^[\w+=,.@-]+$/;

/** User, role, group, policy and MFA device names: [\w+=,.@-]+ up to `max` characters. */
export function name(value: string | undefined, field: string, max = 64): string {
  const v = required(value, field);
  if (v.length > max) throw invalid(field, v, `Member must have length less than or equal to ${max}`);
  if (!NAME.test(v)) throw invalid(field, v, 'Member must satisfy regular expression pattern: [\\w+=,.@-]+');
  return v;
}

export function optionalName(value: string | undefined, field: string, max = 64): string | undefined {
  return value === undefined ? undefined : name(value, field, max);
}

const PATH = /^(\/|\/[\u0021-\u007E]+\/)$/;

export function path(value: string | undefined, field = 'path'): string {
  if (value === undefined) return '/';
  if (value.length > 512) throw invalid(field, value, 'Member must have length less than or equal to 512');
  if (!PATH.test(value)) throw invalid(field, value, 'Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)');
  return value;
}

export function pathPrefix(value: string | undefined): string {
  if (value === undefined) return '/';
  if (!/^\u002F[\u0021-\u007F]*$/.test(value)) throw invalid('pathPrefix', value, 'Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*');
  return value;
}

export function arnOf(value: string | undefined, field: string): string {
  const v = required(value, field);
  if (v.length < 20 || v.length > 2048 || !v.startsWith('arn:')) throw invalid(field, v, 'Member must have length greater than or equal to 20');
  return v;
}

/** Parses and validates a policy; MalformedPolicyDocument on failure. Returns the text as given. */
export function policyDocument(rt: IamRuntime, value: string | undefined, field: string, kind: PolicyKind): string {
  const text = required(value, field);
  if (text.length > 131072) throw invalid(field, '…', 'Member must have length less than or equal to 131072');
  try {
    // Not rt.compile: a document only being validated need not occupy the cache.
    compilePolicy(text, kind);
  } catch (e) {
    if (e instanceof PolicyError) throw iamError('MalformedPolicyDocument', e.message);
    throw e;
  }
  return text;
}

/** Account quotas (AWS's defaults): LimitExceeded past them. */
export const ACCOUNT_QUOTAS = { user: ['UsersPerAccount', 5000], group: ['GroupsPerAccount', 300], role: ['RolesPerAccount', 1000], policy: ['CustomerManagedPolicies', 1500] } as const;

export async function withinQuota(tx: ReadTx, ns: string, kind: keyof typeof ACCOUNT_QUOTAS): Promise<void> {
  const [name, max] = ACCOUNT_QUOTAS[kind];
  if ((await tx.count(ns)) >= max) throw iamError('LimitExceeded', `Cannot exceed quota for ${name}: ${max}`);
}

/** IAM returns policy documents URL-encoded (RFC 3986), as AWS does. */
export function encodeDocument(text: string): string {
  return encodeURIComponent(text);
}

export function maxItems(value: number | undefined): number {
  if (value === undefined) return 100;
  if (!Number.isInteger(value) || value < 1 || value > 1000) throw invalid('maxItems', value, 'Member must have value less than or equal to 1000');
  return value;
}

/** One page of a sorted listing: IAM's Marker/MaxItems/IsTruncated. The marker is the last key returned. */
export function page<T>(items: readonly { key: string; value: T }[], marker: string | undefined, max: number | undefined): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const limit = maxItems(max);
  const from = marker === undefined ? items : items.filter((i) => i.key > marker);
  const slice = from.slice(0, limit);
  const truncated = from.length > limit;
  const out: { items: T[]; IsTruncated: boolean; Marker?: string } = { items: slice.map((i) => i.value), IsTruncated: truncated };
  if (truncated) out.Marker = (slice[slice.length - 1] as { key: string }).key;
  return out;
}

/** Tags: at most 50, keys 1–128, values 0–256, no duplicate keys (case-insensitive). */
export function tags(value: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): Tag[] {
  if (value === undefined) return [];
  if (value.length > 50) throw iamError('LimitExceeded', 'The number of tags has reached the maximum limit.');
  const seen = new Set<string>();
  return value.map((t, i) => {
    const key = required(t.Key, `tags.${i + 1}.member.key`);
    const val = t.Value ?? '';
    if (key.length > 128) throw invalid(`tags.${i + 1}.member.key`, key, 'Member must have length less than or equal to 128');
    if (val.length > 256) throw invalid(`tags.${i + 1}.member.value`, val, 'Member must have length less than or equal to 256');
    if (key.toLowerCase().startsWith('aws:')) throw iamError('InvalidInput', 'User-defined tag keys can\u2019t start with "aws:".');
    if (seen.has(key.toLowerCase())) throw iamError('InvalidInput', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(key.toLowerCase());
    return { Key: key, Value: val };
  });
}

/** Merges new tags into existing ones (case-insensitive keys), enforcing the 50-tag quota. */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const m = new Map(existing.map((t) => [t.Key.toLowerCase(), t]));
  for (const t of added) m.set(t.Key.toLowerCase(), t);
  if (m.size > 50) throw iamError('LimitExceeded', 'The number of tags has reached the maximum limit.');
  return [...m.values()];
}

export function removeTags(existing: readonly Tag[], keys: readonly string[] | undefined): Tag[] {
  const drop = new Set(required(keys, 'tagKeys').map((k) => k.toLowerCase()));
  return existing.filter((t) => !drop.has(t.Key.toLowerCase()));
}
