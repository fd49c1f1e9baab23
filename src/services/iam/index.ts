import * as sdk from '@aws-sdk/client-iam';
import type { ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';

/** Not built yet: every operation answers 501 NotImplemented naming it. */
export function createIamService(_deps: ServiceDeps): ServiceDefinition {
  return {
    name: 'iam',
    signingNames: ['iam'],
    protocol: 'query',
    knownOperations: sdkOperations(sdk),
    operations: {},
  };
}
