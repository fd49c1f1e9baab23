import type { Principal } from '../../server/context.js';
import { kmsError } from './errors.js';

/**
 * Key policies: parsing, validation and evaluation — the subset of the IAM
 * policy language that key policies use (Effect, Principal, Action/NotAction,
 * Resource/NotResource, Condition with the String/Bool/Null/Numeric/Date/Arn
 * operators and ForAnyValue/ForAllValues/IfExists). The IAM engine may
 * replace `evaluatePolicy`; the request shape (action, resource, condition
 * keys) is what it needs.
 */
export type ConditionValue = string | readonly string[] | undefined;

export interface AccessRequest {
  /** 'kms:Encrypt' */
  action: string;
  /** The key ARN ('*' for account-level actions like kms:CreateKey). */
  resource: string;
  principal: Principal;
  /** Condition keys, lower-cased: kms:encryptioncontext:<k>, kms:encryptioncontextkeys, kms:keyspec, kms:calleraccount, … */
  conditions: Readonly<Record<string, ConditionValue>>;
}

/** 'delegate': allowed only if the caller's identity (IAM) policies allow it too. */
export type PolicyDecision = 'allow' | 'deny' | 'delegate' | 'none';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const parsedCache = new Map<string, Statement[]>();

/** Parses (memoized by text) and validates; throws MalformedPolicyDocumentException. */
export function parsePolicy(text: string): Statement[] {
  const hit = parsedCache.get(text);
  if (hit) return hit;
  const bad = (why: string) => kmsError('MalformedPolicyDocumentException', why);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad('The policy is not valid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('The policy is not a JSON object.');
  const raw = (doc as { Statement?: unknown }).Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (list.length === 0) throw bad('Policy contains no statements.');
  const out: Statement[] = [];
  for (const s of list) {
    if (typeof s !== 'object' || s === null) throw bad('Policy contains a statement that is not an object.');
    const st = s as Statement;
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw bad('Policy contains a statement with an invalid Effect.');
    if (st.Principal === undefined) throw bad('Policy contains a statement with no principal.');
    if (st.Action === undefined && st.NotAction === undefined) throw bad('Policy contains a statement with no action.');
    if (!validPrincipal(st.Principal)) throw bad('Policy contains a statement with one or more invalid principals.');
    out.push(st);
  }
  if (parsedCache.size > 1000) parsedCache.clear();
  parsedCache.set(text, out);
  return out;
}

function validPrincipal(p: unknown): boolean {
  if (p === '*') return true;
  if (typeof p !== 'object' || p === null) return false;
  return Object.entries(p).every(([k, v]) => ['AWS', 'Service', 'Federated', 'CanonicalUser'].includes(k) && (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))));
}

const list = (v: string | readonly string[] | undefined): readonly string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : v);

const patterns = new Map<string, RegExp>();

function wildcard(pattern: string, value: string, ignoreCase = true): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  const cacheKey = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = patterns.get(cacheKey);
  if (re) return re.test(value);
  if (patterns.size > 5000) patterns.clear();
  re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ignoreCase ? 'is' : 's');
  patterns.set(cacheKey, re);
  return re.test(value);
}

/** 'direct' when the statement names this principal; 'account' when it names the principal's account (delegation to IAM). */
function principalMatch(p: unknown, who: Principal): 'direct' | 'account' | undefined {
  if (p === '*') return 'direct';
  const aws = list((p as { AWS?: string | string[] }).AWS);
  let result: 'direct' | 'account' | undefined;
  for (const a of aws) {
    if (a === '*') return 'direct';
    if (a === who.arn) return 'direct';
    if (who.type === 'assumed-role' && roleArnOf(who.arn) === a) return 'direct';
    if (a === who.accountId || a === `arn:aws:iam::${who.accountId}:root`) result = 'account';
  }
  return result;
}

/** arn:aws:sts::123:assumed-role/Role/session → arn:aws:iam::123:role/Role */
function roleArnOf(arn: string): string | undefined {
  const m = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
  return m ? `arn:aws:iam::${m[1]}:role/${m[2]}` : undefined;
}

export function evaluatePolicy(text: string, req: AccessRequest): PolicyDecision {
  let allow: PolicyDecision = 'none';
  for (const st of parsePolicy(text)) {
    if (st.Action !== undefined && !list(st.Action).some((a) => wildcard(a, req.action))) continue;
    if (st.NotAction !== undefined && list(st.NotAction).some((a) => wildcard(a, req.action))) continue;
    if (st.Resource !== undefined && !list(st.Resource).some((r) => wildcard(r, req.resource, false))) continue;
    if (st.NotResource !== undefined && list(st.NotResource).some((r) => wildcard(r, req.resource, false))) continue;
    const pm = principalMatch(st.Principal, req.principal);
    if (!pm) continue;
    if (st.Condition && !conditionsHold(st.Condition, req.conditions)) continue;
    if (st.Effect === 'Deny') return 'deny';
    if (pm === 'direct' || req.principal.type === 'root') allow = 'allow';
    else if (allow === 'none') allow = 'delegate';
  }
  return allow;
}

function conditionsHold(cond: Record<string, Record<string, unknown>>, ctx: Readonly<Record<string, ConditionValue>>): boolean {
  for (const [opRaw, block] of Object.entries(cond)) {
    for (const [keyRaw, expectedRaw] of Object.entries(block ?? {})) {
      const expected = (Array.isArray(expectedRaw) ? expectedRaw : [expectedRaw]).map(String);
      const actual = ctx[keyRaw.toLowerCase()];
      if (!testCondition(opRaw, actual, expected)) return false;
    }
  }
  return true;
}

function testCondition(opRaw: string, actual: ConditionValue, expected: readonly string[]): boolean {
  let op = opRaw;
  let set: 'any' | 'all' | undefined;
  if (op.startsWith('ForAnyValue:')) {
    set = 'any';
    op = op.slice(12);
  } else if (op.startsWith('ForAllValues:')) {
    set = 'all';
    op = op.slice(13);
  }
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -8);
  if (op === 'Null') return (expected[0] === 'true') === (actual === undefined || (Array.isArray(actual) && actual.length === 0));
  if (actual === undefined) return ifExists || set === 'all';
  const values = list(actual);
  const one = (v: string) => expected.some((e) => compare(op, v, e));
  const negated = op.startsWith('StringNot') || op.startsWith('ArnNot') || op === 'NumericNotEquals';
  if (set === 'all') return values.every(negated ? (v) => expected.every((e) => compare(op, v, e)) : one);
  if (negated) return values.every((v) => expected.every((e) => compare(op, v, e)));
  return values.some(one);
}

function compare(op: string, v: string, e: string): boolean {
  switch (op) {
    case 'StringEquals':
    case 'ArnEquals':
      return v === e;
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return v !== e;
    case 'StringEqualsIgnoreCase':
      return v.toLowerCase() === e.toLowerCase();
    case 'StringNotEqualsIgnoreCase':
      return v.toLowerCase() !== e.toLowerCase();
    case 'StringLike':
    case 'ArnLike':
      return wildcard(e, v, false);
    case 'StringNotLike':
    case 'ArnNotLike':
      return !wildcard(e, v, false);
    case 'Bool':
      return v.toLowerCase() === e.toLowerCase();
    case 'NumericEquals':
      return Number(v) === Number(e);
    case 'NumericNotEquals':
      return Number(v) !== Number(e);
    case 'NumericLessThan':
      return Number(v) < Number(e);
    case 'NumericLessThanEquals':
      return Number(v) <= Number(e);
    case 'NumericGreaterThan':
      return Number(v) > Number(e);
    case 'NumericGreaterThanEquals':
      return Number(v) >= Number(e);
    case 'DateLessThan':
      return Date.parse(v) < Date.parse(e);
    case 'DateGreaterThan':
      return Date.parse(v) > Date.parse(e);
    default:
      return false;
  }
}
