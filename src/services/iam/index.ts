import * as sdk from '@aws-sdk/client-iam';
import type { ServiceDefinition } from '../../aws/service.js';
import { iamRuntime } from '../../iam/runtime.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';
import { accessKeyOperations } from './access-keys.js';
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
  return {
    name: 'iam',
    signingNames: ['iam'],
    protocol: 'query',
    audited: true,
    eventSource: 'iam.amazonaws.com',
    knownOperations: sdkOperations(sdk),
    operations: {
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
    },
  };
}
