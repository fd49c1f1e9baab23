import * as sdk from '@aws-sdk/client-kms';
import type { GetKeyPolicyRequest, GetKeyPolicyResponse, ListKeyPoliciesRequest, ListKeyPoliciesResponse, PutKeyPolicyRequest } from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { conditionKeys } from './access.js';
import { kmsError } from './errors.js';
import { setState } from './mutate.js';
import { evaluatePolicy, parsePolicy } from './policy.js';
import { requireState, resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { keyAudit, noteResource } from './shared.js';
import { checks } from './validate.js';

/**
 * A new key policy must parse, and (unless BypassPolicyLockoutSafetyCheck)
 * must still let the caller change it later — AWS's lockout safety check.
 */
export function checkPolicyForCaller(ctx: RequestContext, policy: string, keyArn: string, bypass: boolean): void {
  parsePolicy(policy);
  if (bypass) return;
  const d = evaluatePolicy(policy, { action: 'kms:PutKeyPolicy', resource: keyArn, principal: ctx.principal, conditions: conditionKeys(ctx, undefined, {}) });
  if (d !== 'allow' && d !== 'delegate') {
    throw kmsError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.');
  }
}

function checkPolicyName(name: string | undefined): void {
  checks().length(name, 'policyName', 1, 128).pattern(name, 'policyName', /^[\w]+$/, '[\\w]+').done();
  if (name !== undefined && name !== 'default') throw kmsError('NotFoundException', 'No such policy exists');
}

export function policyOperations(kms: Kms): Record<string, OperationSpec> {
  return {
    GetKeyPolicy: {
      schema: sdk.GetKeyPolicy$,
      action: 'kms:GetKeyPolicy',
      audit: keyAudit({ readOnly: true, request: (i: GetKeyPolicyRequest) => ({ keyId: i.KeyId, policyName: i.PolicyName ?? 'default' }) }),
      async handler(input: GetKeyPolicyRequest, ctx): Promise<GetKeyPolicyResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).done();
        checkPolicyName(input.PolicyName);
        const k = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, k.key.arn);
        await kms.access.authorize(ctx, k, 'GetKeyPolicy');
        return { Policy: k.key.policy, PolicyName: 'default' };
      },
    },
    PutKeyPolicy: {
      schema: sdk.PutKeyPolicy$,
      action: 'kms:PutKeyPolicy',
      audit: keyAudit({
        request: (i: PutKeyPolicyRequest) => ({ keyId: i.KeyId, policyName: i.PolicyName ?? 'default', policy: i.Policy, bypassPolicyLockoutSafetyCheck: i.BypassPolicyLockoutSafetyCheck ?? false }),
      }),
      async handler(input: PutKeyPolicyRequest, ctx) {
        checks().required(input.Policy, 'policy').length(input.Policy, 'policy', 1, 32768).done();
        checkPolicyName(input.PolicyName);
        const policy = input.Policy as string;
        await setState(kms, ctx, input.KeyId, 'PutKeyPolicy', (k) => {
          requireState(k);
          checkPolicyForCaller(ctx, policy, k.arn, input.BypassPolicyLockoutSafetyCheck === true);
          k.policy = policy;
        });
        return {};
      },
    },
    ListKeyPolicies: {
      schema: sdk.ListKeyPolicies$,
      action: 'kms:ListKeyPolicies',
      audit: keyAudit({ readOnly: true }),
      async handler(input: ListKeyPoliciesRequest, ctx): Promise<ListKeyPoliciesResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).range(input.Limit, 'limit', 1, 1000).done();
        const k = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, k.key.arn);
        await kms.access.authorize(ctx, k, 'ListKeyPolicies');
        return { PolicyNames: ['default'], Truncated: false };
      },
    },
  };
}
