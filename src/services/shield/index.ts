import * as sdk from '@aws-sdk/client-shield';
import type { ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';

/** Not built yet: every operation answers 501 NotImplemented naming it. */
export function createShieldService(_deps: ServiceDeps): ServiceDefinition {
  return {
    name: 'shield',
    signingNames: ['shield'],
    protocol: 'json-1.1',
    targetPrefix: 'AWSShield_20160616',
    knownOperations: sdkOperations(sdk),
    operations: {},
  };
}
