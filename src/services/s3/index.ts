import * as sdk from '@aws-sdk/client-s3';
import type { ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';

/** Not built yet: every operation answers 501 NotImplemented naming it. */
export function createS3Service(_deps: ServiceDeps): ServiceDefinition {
  return {
    name: 's3',
    signingNames: ['s3'],
    protocol: 'rest-xml',
    knownOperations: sdkOperations(sdk),
    operations: {},
  };
}
