import * as sdk from '@aws-sdk/client-kms';
import type { ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';

/** Not built yet: every operation answers 501 NotImplemented naming it. */
export function createKmsService(_deps: ServiceDeps): ServiceDefinition {
  return {
    name: 'kms',
    signingNames: ['kms'],
    protocol: 'json-1.1',
    targetPrefix: 'TrentService',
    knownOperations: sdkOperations(sdk),
    operations: {},
  };
}
