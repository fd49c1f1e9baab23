import * as sdk from '@aws-sdk/client-cloudtrail';
import type { ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';

/** Not built yet: every operation answers 501 NotImplemented naming it. */
export function createCloudTrailService(_deps: ServiceDeps): ServiceDefinition {
  return {
    name: 'cloudtrail',
    signingNames: ['cloudtrail'],
    protocol: 'json-1.1',
    targetPrefix: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101',
    knownOperations: sdkOperations(sdk),
    operations: {},
  };
}
