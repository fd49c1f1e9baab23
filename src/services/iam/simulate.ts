import type * as sdk from '@aws-sdk/client-iam';
import { SimulateCustomPolicy$, SimulatePrincipalPolicy$ } from '@aws-sdk/client-iam';
import type { OperationSpec } from '../../aws/service.js';
import { awsManagedPolicy } from '../../iam/aws-managed.js';
import { NS, lower, type GroupRecord, type PolicyHolder, type RoleRecord, type UserRecord } from '../../iam/entities.js';
import { compilePolicy, PolicyError, type CompiledPolicy, type PolicyKind, type PrincipalFacts } from '../../iam/policy/document.js';
import { decide, type PolicySet } from '../../iam/policy/evaluate.js';
import type { IamRuntime } from '../../iam/runtime.js';
import type { ReadTx } from '../../storage/ports.js';
import { iamError } from './errors.js';
import { page, required } from './validate.js';

/**
 * The policy simulator: the same engine the authorizer runs, answering for
 * every action × resource with the decision and the statement that made it.
 */

interface Sourced {
  policy: CompiledPolicy;
  type: sdk.PolicySourceType;
}

function compileInput(text: string, kind: PolicyKind, id: string): CompiledPolicy {
  try {
    return compilePolicy(text, kind, id);
  } catch (e) {
    if (e instanceof PolicyError) throw iamError('MalformedPolicyDocument', e.message);
    throw e;
  }
}

async function holderPolicies(rt: IamRuntime, tx: ReadTx, h: PolicyHolder, inlineType: sdk.PolicySourceType, out: Sourced[]): Promise<void> {
  for (const arn of h.attached) {
    const text = await rt.managedDocument(tx, arn);
    if (text !== undefined) out.push({ policy: compilePolicy(text, 'identity', arn), type: awsManagedPolicy(arn) ? 'aws-managed' : 'user-managed' });
  }
  for (const [name, text] of Object.entries(h.inline)) out.push({ policy: compilePolicy(text, 'identity', name), type: inlineType });
}

function contextKeys(entries: readonly sdk.ContextEntry[] | undefined, base: Map<string, readonly string[]>): Map<string, readonly string[]> {
  const keys = new Map(base);
  for (const e of entries ?? []) {
    const k = required(e.ContextKeyName, 'contextKeyName');
    keys.set(k.toLowerCase(), e.ContextKeyValues ?? []);
  }
  return keys;
}

function facts(rt: IamRuntime, arn: string | undefined): PrincipalFacts {
  const a = arn ?? `arn:aws:iam::${rt.accountId}:user/SimulatedUser`;
  return { anonymous: false, root: a.endsWith(':root'), accountId: rt.accountId, arns: [[a, 'direct']] };
}

function simulate(
  identity: Sourced[],
  boundary: Sourced[] | undefined,
  resourcePolicy: CompiledPolicy | undefined,
  principal: PrincipalFacts,
  input: { ActionNames?: string[] | undefined; ResourceArns?: string[] | undefined; ContextEntries?: sdk.ContextEntry[] | undefined; Marker?: string | undefined; MaxItems?: number | undefined },
  base: Map<string, readonly string[]>,
): sdk.SimulatePolicyResponse {
  const actions = required(input.ActionNames, 'actionNames');
  const resources = input.ResourceArns && input.ResourceArns.length > 0 ? input.ResourceArns : ['*'];
  const keys = contextKeys(input.ContextEntries, base);
  const typeOf = new Map<CompiledPolicy, sdk.PolicySourceType>(identity.map((s) => [s.policy, s.type]));
  const results: { key: string; value: sdk.EvaluationResult }[] = [];
  for (const action of actions) {
    for (const resource of resources) {
      const set: PolicySet = { identity: identity.map((s) => s.policy) };
      if (boundary && boundary.length > 0) set.boundary = { kind: 'boundary', version: '2012-10-17', size: 0, statements: boundary.flatMap((b) => b.policy.statements) };
      if (resourcePolicy) set.resource = resourcePolicy;
      const d = decide({ action, resource, principal, keys }, set);
      const r: sdk.EvaluationResult = {
        EvalActionName: action,
        EvalResourceName: resource,
        EvalDecision: d.allowed ? 'allowed' : d.explicit ? 'explicitDeny' : 'implicitDeny',
        MatchedStatements: d.hit ? [{ SourcePolicyId: d.hit.policy.id ?? 'PolicyInputList.1', SourcePolicyType: d.hit.policy === resourcePolicy ? 'resource' : (typeOf.get(d.hit.policy) ?? 'none') }] : [],
        MissingContextValues: missingKeys([...identity.map((x) => x.policy), ...(boundary ?? []).map((x) => x.policy), ...(resourcePolicy ? [resourcePolicy] : [])], action, keys),
      };
      if (set.boundary) r.PermissionsBoundaryDecisionDetail = { AllowedByPermissionsBoundary: d.allowed || (!d.allowed && d.type !== 'permissions boundary') };
      results.push({ key: String(results.length).padStart(8, '0'), value: r });
    }
  }
  const p = page(results, input.Marker, input.MaxItems);
  return { EvaluationResults: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
}

/** Condition keys of the statements that apply to the action which the context does not supply. */
function missingKeys(policies: readonly CompiledPolicy[], action: string, keys: ReadonlyMap<string, readonly string[]>): string[] {
  const lowerAction = action.toLowerCase();
  const missing = new Map<string, string>();
  for (const p of policies) {
    for (const st of p.statements) {
      if (!st.action(lowerAction)) continue;
      for (const k of st.conditionKeys ?? []) if (!keys.has(k.toLowerCase())) missing.set(k.toLowerCase(), k);
    }
  }
  return [...missing.values()];
}

function inputs(list: string[] | undefined, kind: PolicyKind, label: string, type: sdk.PolicySourceType): Sourced[] {
  return (list ?? []).map((text, i) => ({ policy: compileInput(text, kind, `${label}.${i + 1}`), type }));
}

export function simulateOperations(rt: IamRuntime): Record<string, OperationSpec> {
  return {
    SimulatePrincipalPolicy: {
      schema: SimulatePrincipalPolicy$,
      resource: (input: sdk.SimulatePrincipalPolicyRequest) => input.PolicySourceArn ?? '*',
      async handler(input: sdk.SimulatePrincipalPolicyRequest): Promise<sdk.SimulatePolicyResponse> {
        const source = required(input.PolicySourceArn, 'policySourceArn');
        const m = /^arn:aws:iam::(\d{12}):(user|group|role)(\/(?:.*\/)?)([^/]+)$/.exec(source);
        if (!m || m[1] !== rt.accountId) throw iamError('InvalidInput', `Invalid ARN: ${source}`);
        const kind = m[2] as 'user' | 'group' | 'role';
        const entityName = m[4] ?? '';
        const { identity, boundary } = await rt.read(async (tx) => {
          const ns = kind === 'user' ? NS.user : kind === 'group' ? NS.group : NS.role;
          const rec = await tx.get<UserRecord | GroupRecord | RoleRecord>(ns, lower(entityName));
          if (!rec) throw iamError('NoSuchEntity', `The ${kind} with name ${entityName} cannot be found.`);
          const out: Sourced[] = [];
          await holderPolicies(rt, tx, rec, kind, out);
          if (kind === 'user') {
            for (const g of (rec as UserRecord).groups) {
              const group = await tx.get<GroupRecord>(NS.group, lower(g));
              if (group) await holderPolicies(rt, tx, group, 'group', out);
            }
          }
          const b = (rec as { boundary?: string }).boundary;
          const bText = b === undefined ? undefined : await rt.managedDocument(tx, b);
          return { identity: out, boundary: bText === undefined || b === undefined ? undefined : [{ policy: compilePolicy(bText, 'boundary', b), type: 'user-managed' as const }] };
        });
        identity.push(...inputs(input.PolicyInputList, 'identity', 'PolicyInputList', 'user'));
        const pb = input.PermissionsBoundaryPolicyInputList ? inputs(input.PermissionsBoundaryPolicyInputList, 'boundary', 'PermissionsBoundaryPolicyInputList', 'none') : boundary;
        const rp = input.ResourcePolicy === undefined ? undefined : compileInput(input.ResourcePolicy, 'resource', 'ResourcePolicy');
        const principal = facts(rt, input.CallerArn ?? source);
        const base = new Map<string, readonly string[]>([['aws:principalarn', [source]], ['aws:principalaccount', [rt.accountId]]]);
        if (kind === 'user') base.set('aws:username', [entityName]);
        return simulate(identity, pb, rp, principal, input, base);
      },
    },
    SimulateCustomPolicy: {
      schema: SimulateCustomPolicy$,
      async handler(input: sdk.SimulateCustomPolicyRequest): Promise<sdk.SimulatePolicyResponse> {
        const identity = inputs(required(input.PolicyInputList, 'policyInputList'), 'identity', 'PolicyInputList', 'user');
        const pb = input.PermissionsBoundaryPolicyInputList ? inputs(input.PermissionsBoundaryPolicyInputList, 'boundary', 'PermissionsBoundaryPolicyInputList', 'none') : undefined;
        const rp = input.ResourcePolicy === undefined ? undefined : compileInput(input.ResourcePolicy, 'resource', 'ResourcePolicy');
        const base = new Map<string, readonly string[]>([['aws:principalaccount', [rt.accountId]]]);
        if (input.CallerArn !== undefined) base.set('aws:principalarn', [input.CallerArn]);
        return simulate(identity, pb, rp, facts(rt, input.CallerArn), input, base);
      },
    },
  };
}
