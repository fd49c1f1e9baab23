import * as sdk from '@aws-sdk/client-iam';
import type { ConditionValues, OperationSpec, ServiceDefinition } from '../../aws/service.js';
import { NS, lower, type Tag } from '../../iam/entities.js';
import type { IamRuntime } from '../../iam/runtime.js';
import type { RequestContext } from '../../server/context.js';
import { iamRuntime } from '../../iam/runtime.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';
import { accessKeyOperations } from './access-keys.js';
import { accountOperations } from './account.js';
import { authorizationDetailsOperations } from './authorization-details.js';
import { groupOperations } from './groups.js';
import { managedPolicyOperations } from './managed-policies.js';
import { mfaOperations } from './mfa.js';
import { holderPolicyOperations } from './policies-of.js';
import { roleOperations } from './roles.js';
import { simulateOperations } from './simulate.js';
import { userOperations } from './users.js';

/**
 * IAM (Query protocol, XML): users, access keys, groups, roles, managed and
 * inline policies, permissions boundaries, tags, virtual MFA devices and the
 * policy simulator. Every operation is authorized as `iam:<Operation>` on the
 * entity's ARN; the state lives in the MetadataStore through the shared
 * IamRuntime (src/iam/runtime.ts), whose caches the authorizer reads.
 */
export async function createIamService(deps: ServiceDeps): Promise<ServiceDefinition> {
  const rt = await iamRuntime(deps);
  const operations: Record<string, OperationSpec> = {
    ...userOperations(rt),
    ...accessKeyOperations(rt),
    ...groupOperations(rt),
    ...roleOperations(rt),
    ...managedPolicyOperations(rt),
    ...holderPolicyOperations(rt, 'user'),
    ...holderPolicyOperations(rt, 'group'),
    ...holderPolicyOperations(rt, 'role'),
    ...mfaOperations(rt),
    ...simulateOperations(rt),
    ...accountOperations(rt),
    ...authorizationDetailsOperations(rt),
  };
  for (const [name, spec] of Object.entries(operations)) {
    const kind = /Role/.test(name) ? 'role' : /User|AccessKey|MFA/.test(name) ? 'user' : undefined;
    if (kind && !spec.conditions) spec.conditions = resourceTags(rt, kind);
  }
  return {
    name: 'iam',
    signingNames: ['iam'],
    protocol: 'query',
    audited: true,
    eventSource: 'iam.amazonaws.com',
    knownOperations: sdkOperations(sdk),
    operations,
  };
}

/** aws:ResourceTag/* and iam:ResourceTag/* of the user or role an operation is on. */
function resourceTags(rt: IamRuntime, kind: 'user' | 'role') {
  return async (input: Record<string, unknown>, ctx: RequestContext): Promise<ConditionValues> => {
    let name = kind === 'role' ? input.RoleName : input.UserName;
    if (name === undefined && kind === 'user' && ctx.principal.type === 'user') name = ctx.principal.name;
    if (typeof name !== 'string' || name === '') return {};
    const rec = await rt.read((tx) => tx.get<{ tags: Tag[] }>(kind === 'role' ? NS.role : NS.user, lower(name)));
    const out: Record<string, string> = {};
    for (const t of rec?.tags ?? []) {
      out[`aws:ResourceTag/${t.Key}`] = t.Value;
      out[`iam:ResourceTag/${t.Key}`] = t.Value;
    }
    return out;
  };
}
