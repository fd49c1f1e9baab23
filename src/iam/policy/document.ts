import { compileArnPattern } from './arn.js';
import { ConditionError, compileCondition, type ConditionTest } from './conditions.js';
import { compileGlob, hasWildcard, type StringTest } from './glob.js';
import { parseTemplate, resolvePieces, type ContextKeys } from './variables.js';
import { canonicalUserId } from '../ids.js';

/**
 * Where a policy sits decides what it may say: identity-side policies
 * (attached to users, groups, roles; boundaries; session policies) never name
 * a Principal; resource policies (bucket, key, stream policies) must; a role's
 * trust policy must name one and may not name a Resource.
 */
export type PolicyKind = 'identity' | 'boundary' | 'session' | 'resource' | 'trust';

/** How directly a resource policy's Principal names the caller. */
export type PrincipalMatch = 'direct' | 'role' | 'account';

/** Who is asking, as a resource policy's Principal element sees it. */
export interface PrincipalFacts {
  anonymous: boolean;
  root: boolean;
  accountId: string;
  /** The ARNs that name this caller: a user's ARN, or a session's ARN ('direct') and its role's ARN ('role'). */
  arns: ReadonlyArray<readonly [string, 'direct' | 'role']>;
  /** An AWS service acting on its own (Principal {"Service": …}). */
  service?: string;
}

export interface CompiledStatement {
  index: number;
  sid?: string;
  allow: boolean;
  /** Takes the lower-cased action name. */
  action: StringTest;
  resource(resource: string, keys: ContextKeys): boolean;
  principal?(p: PrincipalFacts): PrincipalMatch | undefined;
  condition?: ConditionTest;
  /** The condition keys this statement reads, as written (the simulator's MissingContextValues). */
  conditionKeys?: readonly string[];
}

export interface CompiledPolicy {
  kind: PolicyKind;
  version: string;
  id?: string;
  statements: readonly CompiledStatement[];
  /** Characters without white space: what IAM's size quotas count. */
  size: number;
}

/** MalformedPolicyDocument, with AWS's message. */
export class PolicyError extends Error {}

const TOP_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const ACTION = /^[a-zA-Z0-9-]+:[a-zA-Z0-9*?_-]*$/;
const ACCOUNT = /^\d{12}$/;

export function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}

function strings(v: unknown, what: string): string[] {
  const arr = Array.isArray(v) ? v : [v];
  if (arr.length === 0) throw new PolicyError(`Policy statement must contain ${what}.`);
  for (const x of arr) if (typeof x !== 'string') throw new PolicyError('Syntax errors in policy.');
  return arr as string[];
}

function compileActions(list: string[]): StringTest {
  const exact = new Set<string>();
  const wild: StringTest[] = [];
  for (const a of list) {
    if (a === '*') return () => true;
    if (!ACTION.test(a)) throw new PolicyError(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`);
    if (hasWildcard(a)) wild.push(compileGlob(a.toLowerCase()));
    else exact.add(a.toLowerCase());
  }
  if (wild.length === 0) return exact.size === 1 ? ((x) => exact.has(x)) : (x) => exact.has(x);
  return (x) => exact.has(x) || wild.some((t) => t(x));
}

function compileResources(list: string[], variables: boolean): (r: string, keys: ContextKeys) => boolean {
  const tests: ((r: string, keys: ContextKeys) => boolean)[] = [];
  for (const raw of list) {
    if (raw !== '*' && !raw.startsWith('arn:')) throw new PolicyError(`Resource ${raw} must be in ARN format or "*".`);
    const t = variables ? parseTemplate(raw) : raw;
    if (typeof t === 'string') {
      if (t === '*') return () => true;
      const test = compileArnPattern(t);
      tests.push((r) => test(r));
    } else {
      tests.push((r, keys) => {
        const pieces = resolvePieces(t, keys);
        return pieces !== undefined && compileArnPattern(pieces)(r);
      });
    }
  }
  return (r, keys) => tests.some((t) => t(r, keys));
}

function compilePrincipal(raw: unknown): (p: PrincipalFacts) => PrincipalMatch | undefined {
  if (raw === '*') return () => 'direct';
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new PolicyError('Invalid principal in policy');
  let any = false;
  const arns = new Set<string>();
  const accounts = new Set<string>();
  const services = new Set<string>();
  const canonical = new Set<string>();
  for (const [type, value] of Object.entries(raw as Record<string, unknown>)) {
    const list = strings(value, 'principals');
    for (const v of list) {
      if (type === 'AWS') {
        if (v === '*') any = true;
        else if (ACCOUNT.test(v)) accounts.add(v);
        else if (/^arn:[\w-]+:iam::\d{12}:root$/.test(v)) accounts.add(v.split(':')[4] as string);
        else if (/^arn:[\w-]+:(iam|sts)::\d{12}:.+/.test(v)) arns.add(v);
        else throw new PolicyError(`Invalid principal in policy: "AWS":"${v}"`);
      } else if (type === 'Service') {
        services.add(v);
      } else if (type === 'CanonicalUser') {
        // S3's name for an account (the id GetBucketAcl shows as Owner.ID): the account, as an account principal.
        if (!/^[0-9a-f]{64}$/.test(v)) throw new PolicyError(`Invalid principal in policy: "CanonicalUser":"${v}"`);
        canonical.add(v);
      } else if (type === 'Federated') {
        // Recognised, never matched: hanul has no identity-provider federation.
      } else {
        throw new PolicyError(`Invalid principal in policy: "${type}":"${v}"`);
      }
    }
  }
  return (p) => {
    if (any) return 'direct';
    if (p.service !== undefined) return services.has(p.service) ? 'direct' : undefined;
    if (p.anonymous) return undefined;
    let best: PrincipalMatch | undefined;
    for (const [arn, kind] of p.arns) {
      if (arns.has(arn)) {
        if (kind === 'direct') return 'direct';
        best = 'role';
      }
    }
    if (best) return best;
    if (accounts.has(p.accountId) || (canonical.size > 0 && canonical.has(canonicalUserId(p.accountId)))) return p.root ? 'direct' : 'account';
    return undefined;
  };
}

function compileStatement(st: unknown, index: number, kind: PolicyKind, variables: boolean): CompiledStatement {
  if (st === null || typeof st !== 'object' || Array.isArray(st)) throw new PolicyError('Syntax errors in policy.');
  const s = st as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!STATEMENT_FIELDS.has(k)) throw new PolicyError('Syntax errors in policy.');
  if (s.Sid !== undefined && typeof s.Sid !== 'string') throw new PolicyError('Syntax errors in policy.');
  // IAM's own policies take alphanumeric Sids only; resource policies (S3, KMS) allow more.
  if (typeof s.Sid === 'string' && (kind === 'identity' || kind === 'boundary') && !/^[0-9A-Za-z]*$/.test(s.Sid)) {
    throw new PolicyError('Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*');
  }
  if (s.Effect === undefined) throw new PolicyError('Missing required field Effect');
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyError(`Invalid effect: ${typeof s.Effect === "string" ? s.Effect : JSON.stringify(s.Effect)}`);
  const hasAction = s.Action !== undefined;
  if (hasAction === (s.NotAction !== undefined)) throw new PolicyError('Policy statement must contain actions.');
  const hasResource = s.Resource !== undefined || s.NotResource !== undefined;
  if (s.Resource !== undefined && s.NotResource !== undefined) throw new PolicyError('Syntax errors in policy.');
  const hasPrincipal = s.Principal !== undefined || s.NotPrincipal !== undefined;
  if (s.Principal !== undefined && s.NotPrincipal !== undefined) throw new PolicyError('Syntax errors in policy.');
  if (kind === 'identity' || kind === 'boundary' || kind === 'session') {
    if (hasPrincipal) throw new PolicyError('Policy document should not specify a principal.');
    if (!hasResource) throw new PolicyError('Policy statement must contain resources.');
  } else {
    if (!hasPrincipal) throw new PolicyError('Missing required field Principal');
    if (kind === 'trust' && hasResource) throw new PolicyError('Has prohibited field Resource');
  }
  const actions = compileActions(strings(hasAction ? s.Action : s.NotAction, 'actions'));
  const action: StringTest = hasAction ? actions : (a) => !actions(a);
  let resource: CompiledStatement['resource'] = () => true;
  if (hasResource) {
    const r = compileResources(strings(s.Resource ?? s.NotResource, 'resources'), variables);
    resource = s.Resource !== undefined ? r : (x, keys) => !r(x, keys);
  }
  const out: CompiledStatement = { index, allow: s.Effect === 'Allow', action, resource };
  if (typeof s.Sid === 'string') out.sid = s.Sid;
  if (s.Principal !== undefined) out.principal = compilePrincipal(s.Principal);
  if (s.NotPrincipal !== undefined) {
    const listed = compilePrincipal(s.NotPrincipal);
    out.principal = (p) => (listed(p) === undefined ? 'direct' : undefined);
  }
  try {
    const c = compileCondition(s.Condition, variables);
    if (c) {
      out.condition = c;
      out.conditionKeys = Object.values(s.Condition as Record<string, Record<string, unknown>>).flatMap((block) => Object.keys(block));
    }
  } catch (e) {
    if (e instanceof ConditionError) throw new PolicyError(e.message);
    throw e;
  }
  return out;
}

/**
 * Parses, validates and compiles a policy document. Throws PolicyError with
 * the message IAM gives for MalformedPolicyDocument.
 */
export function compilePolicy(text: string, kind: PolicyKind, id?: string): CompiledPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PolicyError('Syntax errors in policy.');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new PolicyError('Syntax errors in policy.');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!TOP_FIELDS.has(k)) throw new PolicyError('Syntax errors in policy.');
  const version = d.Version === undefined ? '2008-10-17' : d.Version;
  if (typeof version !== 'string' || !VERSIONS.has(version)) throw new PolicyError('The policy must contain a valid version string');
  if (d.Statement === undefined) throw new PolicyError('Missing required field Statement');
  const list = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (list.length === 0) throw new PolicyError('Missing required field Statement');
  const variables = version === '2012-10-17';
  const statements = list.map((st, i) => compileStatement(st, i, kind, variables));
  const sids = new Set<string>();
  for (const st of statements) {
    if (st.sid === undefined || st.sid === '') continue;
    if (sids.has(st.sid)) throw new PolicyError('Statement IDs (SID) in a single policy must be unique.');
    sids.add(st.sid);
  }
  const out: CompiledPolicy = { kind, version, statements, size: policySize(text) };
  if (id !== undefined) out.id = id;
  return out;
}
