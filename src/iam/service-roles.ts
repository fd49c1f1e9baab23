import type { ConditionValues, ResourcePolicy } from '../aws/service.js';
import type { Principal, ServiceDeps } from '../server/context.js';
import { NS, lower, type RoleRecord } from './entities.js';
import type { PrincipalFacts } from './policy/document.js';
import { decide, type Decision, type PolicySet } from './policy/evaluate.js';
import { iamRuntime } from './runtime.js';

/**
 * For services that act with a customer's role (Firehose delivering to S3
 * with its RoleARN, CloudTrail writing to a bucket or key): the role's trust
 * policy must let the service principal assume it, and each action it then
 * takes is evaluated with the role's policies (and the resource's policy),
 * exactly as a session of that role.
 */
export interface RoleActor {
  /** The session principal the service acts as (arn:aws:sts::<account>:assumed-role/<role>/<session>). */
  principal: Principal;
  /** Evaluates one action as the role; pass the resource's own policy when it has one. */
  decide(check: { action: string; resource: string; conditions?: ConditionValues }, resourcePolicy?: ResourcePolicy): Promise<Decision>;
}

export type RoleActorResult = { ok: true; actor: RoleActor } | { ok: false; reason: 'no-such-role' | 'not-trusted' };

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role(\/(?:.*\/)?)([\w+=,.@-]+)$/;

export async function actAsRole(
  deps: Pick<ServiceDeps, 'stores' | 'clock' | 'config'>,
  roleArn: string,
  servicePrincipal: string,
  sessionName = servicePrincipal.split('.')[0] ?? 'service',
): Promise<RoleActorResult> {
  const rt = await iamRuntime(deps);
  const m = ROLE_ARN.exec(roleArn);
  if (!m || m[1] !== rt.accountId) return { ok: false, reason: 'no-such-role' };
  const role = await rt.read((tx) => tx.get<RoleRecord>(NS.role, lower(m[3] ?? '')));
  if (!role || role.path !== m[2]) return { ok: false, reason: 'no-such-role' };
  const serviceFacts: PrincipalFacts = { anonymous: false, root: false, accountId: '', arns: [], service: servicePrincipal };
  const trust = rt.compile(role.trust, 'resource');
  const trusted = decide({ action: 'sts:AssumeRole', resource: roleArn, principal: serviceFacts, keys: new Map() }, { resource: trust, resourceRequired: true });
  if (!trusted.allowed) return { ok: false, reason: 'not-trusted' };
  const principal: Principal = {
    type: 'assumed-role',
    arn: `arn:aws:sts::${rt.accountId}:assumed-role/${role.name}/${sessionName}`,
    accountId: rt.accountId,
    userId: `${role.id}:${sessionName}`,
    name: sessionName,
  };
  const facts: PrincipalFacts = { anonymous: false, root: false, accountId: rt.accountId, arns: [[principal.arn, 'direct'], [roleArn, 'role']] };
  const roleKeys = new Map<string, readonly string[]>([
    ['aws:principalarn', [roleArn]],
    ['aws:principalaccount', [rt.accountId]],
    ['aws:principaltype', ['AssumedRole']],
    ['aws:userid', [principal.userId]],
    ['aws:principalisawsservice', ['false']],
    ['aws:viaawsservice', ['true']],
  ]);
  for (const t of role.tags) roleKeys.set(`aws:principaltag/${lower(t.Key)}`, [t.Value]);
  /** The role's policies as they are now. */
  const policies = () =>
    rt.read(async (tx) => {
      const r = await tx.get<RoleRecord>(NS.role, lower(role.name));
      const out: PolicySet = { identity: [] };
      if (!r) return out;
      for (const arn of r.attached) {
        const text = await rt.managedDocument(tx, arn);
        if (text !== undefined) out.identity = [...(out.identity ?? []), rt.compile(text, 'identity', arn)];
      }
      for (const [n, text] of Object.entries(r.inline)) out.identity = [...(out.identity ?? []), rt.compile(text, 'identity', n)];
      if (r.boundary !== undefined) {
        const text = await rt.managedDocument(tx, r.boundary);
        out.boundary = text === undefined ? { kind: 'boundary', version: '2012-10-17', statements: [], size: 0 } : rt.compile(text, 'boundary', r.boundary);
      }
      return out;
    });
  // Other services the session calls in-process (KMS for an encrypted object) evaluate it with the role's policies too.
  const now = await policies();
  rt.registerServiceSession({ principal, facts, identity: [...(now.identity ?? [])], ...(now.boundary ? { boundary: now.boundary } : {}), keys: roleKeys, roleName: role.name });
  return {
    ok: true,
    actor: {
      principal,
      async decide(check, resourcePolicy) {
        const identity = await policies();
        if (resourcePolicy?.document !== undefined) {
          identity.resource = rt.compile(resourcePolicy.document, 'resource');
          if (resourcePolicy.required) identity.resourceRequired = true;
        }
        const keys = new Map<string, readonly string[]>(roleKeys);
        keys.set('aws:currenttime', [deps.clock.now().toISOString()]);
        keys.set('aws:epochtime', [String(Math.floor(deps.clock.nowMs() / 1000))]);
        // The resource's own keys (an ABAC bucket's aws:ResourceTag) after the request's, as the authorizer layers them.
        for (const source of [check.conditions, resourcePolicy?.keys]) {
          for (const [k, v] of Object.entries(source ?? {})) if (v !== undefined) keys.set(k.toLowerCase(), typeof v === 'string' ? [v] : v);
        }
        return decide({ action: check.action, resource: check.resource, principal: facts, keys }, identity);
      },
    },
  };
}
