import type { CompiledPolicy, CompiledStatement, PrincipalFacts, PrincipalMatch } from './document.js';
import type { ContextKeys } from './variables.js';

/** One authorization question. */
export interface EvalRequest {
  action: string;
  resource: string;
  principal: PrincipalFacts;
  keys: ContextKeys;
}

export interface StatementHit {
  policy: CompiledPolicy;
  statement: CompiledStatement;
}

export interface PolicyResult {
  deny?: StatementHit;
  allow?: StatementHit;
  /** For resource policies: how directly the best Allow named the caller. */
  allowMatch?: PrincipalMatch;
}

const RANK: Record<PrincipalMatch, number> = { direct: 3, role: 2, account: 1 };

/**
 * The statements of a policy whose Action/NotAction matches an action,
 * memoised per policy: a compiled policy never changes, and a caller uses
 * few distinct actions, so wildcard action patterns are matched once per
 * action rather than once per request.
 */
const byAction = new WeakMap<CompiledPolicy, Map<string, readonly CompiledStatement[]>>();
const ACTION_MEMO_MAX = 512;

function statementsFor(policy: CompiledPolicy, lowerAction: string): readonly CompiledStatement[] {
  let memo = byAction.get(policy);
  if (!memo) byAction.set(policy, (memo = new Map()));
  let list = memo.get(lowerAction);
  if (!list) {
    if (memo.size >= ACTION_MEMO_MAX) memo.clear();
    list = policy.statements.filter((st) => st.action(lowerAction));
    memo.set(lowerAction, list);
  }
  return list;
}

/**
 * Evaluates a set of policies of one kind: the first applicable Deny ends it;
 * otherwise the best applicable Allow is kept.
 */
export function evaluatePolicies(policies: readonly CompiledPolicy[], req: EvalRequest, lowerAction = req.action.toLowerCase()): PolicyResult {
  const out: PolicyResult = {};
  for (const policy of policies) {
    for (const st of statementsFor(policy, lowerAction)) {
      if (out.allow && st.allow && !st.principal) continue;
      let match: PrincipalMatch | undefined;
      if (st.principal) {
        match = st.principal(req.principal);
        if (match === undefined) continue;
        if (st.allow && out.allowMatch && RANK[out.allowMatch] >= RANK[match]) continue;
      }
      if (!st.resource(req.resource, req.keys)) continue;
      if (st.condition && !st.condition(req.keys)) continue;
      if (!st.allow) return { deny: { policy, statement: st } };
      out.allow = { policy, statement: st };
      if (match) out.allowMatch = match;
    }
  }
  return out;
}

export type PolicyType = 'identity-based' | 'resource-based' | 'permissions boundary' | 'session';

export type Decision =
  | { allowed: true; by: PolicyType | 'root'; hit?: StatementHit }
  | { allowed: false; explicit: boolean; type: PolicyType; hit?: StatementHit };

/** Everything that bears on one request. */
export interface PolicySet {
  /** Identity-based policies (a user's own and its groups', or a role's). Undefined for root and anonymous. */
  identity?: readonly CompiledPolicy[];
  boundary?: CompiledPolicy;
  /** Session policies passed to AssumeRole/GetFederationToken; undefined when none were passed. */
  session?: readonly CompiledPolicy[];
  /** The resource's own policy (bucket policy, key policy, trust policy). */
  resource?: CompiledPolicy;
  /**
   * A key policy or trust policy: it must allow, at least by naming the
   * account, before identity-based policies count at all.
   */
  resourceRequired?: boolean;
}

/**
 * AWS's evaluation logic within one account:
 * an explicit Deny anywhere wins; a resource policy naming the caller itself
 * allows on its own; naming a role (for a session) allows within the
 * boundary and session policies; otherwise identity-based policies must
 * allow, within the permissions boundary and the session policies. Key
 * policies and trust policies must allow (or delegate to the account) first.
 * The root user needs no identity-based policy but still meets resource
 * policies' Deny and key/trust policies.
 */
export function decide(req: EvalRequest, set: PolicySet): Decision {
  const lower = req.action.toLowerCase();
  const denied = (explicit: boolean, type: PolicyType, hit?: StatementHit): Decision => (hit ? { allowed: false, explicit, type, hit } : { allowed: false, explicit, type });

  const res = set.resource ? evaluatePolicies([set.resource], req, lower) : {};
  if (res.deny) return denied(true, 'resource-based', res.deny);
  const id = set.identity ? evaluatePolicies(set.identity, req, lower) : {};
  if (id.deny) return denied(true, 'identity-based', id.deny);
  const bound = set.boundary ? evaluatePolicies([set.boundary], req, lower) : undefined;
  if (bound?.deny) return denied(true, 'permissions boundary', bound.deny);
  const sess = set.session ? evaluatePolicies(set.session, req, lower) : undefined;
  if (sess?.deny) return denied(true, 'session', sess.deny);

  const p = req.principal;
  if (p.root && !p.anonymous) {
    if (!set.resourceRequired || !set.resource || res.allow) return res.allow ? { allowed: true, by: 'resource-based', hit: res.allow } : { allowed: true, by: 'root' };
    return denied(false, 'resource-based');
  }
  if (res.allow && res.allowMatch === 'direct') return { allowed: true, by: 'resource-based', hit: res.allow };
  if (p.anonymous) return denied(false, 'resource-based');

  const boundaryOk = bound === undefined || bound.allow !== undefined;
  const sessionOk = sess === undefined || sess.allow !== undefined;
  if (res.allow && res.allowMatch === 'role' && boundaryOk && sessionOk) return { allowed: true, by: 'resource-based', hit: res.allow };
  if (set.resourceRequired && set.resource && !res.allow) return denied(false, 'resource-based');
  if (!id.allow) return denied(false, 'identity-based');
  if (!boundaryOk) return denied(false, 'permissions boundary');
  if (!sessionOk) return denied(false, 'session');
  return { allowed: true, by: 'identity-based', hit: id.allow };
}

/** AWS's access-denied message: "User: <arn> is not authorized to perform: <action> on resource: <arn> because …". */
export function deniedMessage(principalArn: string, action: string, resource: string, d: Extract<Decision, { allowed: false }>, quoteResource = false): string {
  const r = quoteResource ? `"${resource}"` : resource;
  const why = d.explicit
    ? `with an explicit deny in ${d.type === 'identity-based' ? 'an' : 'a'} ${d.type === 'session' ? 'session policy' : d.type === 'permissions boundary' ? 'permissions boundary' : `${d.type} policy`}`
    : `because no ${d.type === 'session' ? 'session policy' : d.type === 'permissions boundary' ? 'permissions boundary' : `${d.type} policy`} allows the ${action} action`;
  return `User: ${principalArn} is not authorized to perform: ${action} on resource: ${r} ${why}`;
}
