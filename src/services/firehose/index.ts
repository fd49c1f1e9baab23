import * as sdk from '@aws-sdk/client-firehose';
import type { ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';

/** Not built yet: every operation answers 501 NotImplemented naming it. */
export function createFirehoseService(_deps: ServiceDeps): ServiceDefinition {
  return {
    name: 'firehose',
    signingNames: ['firehose'],
    protocol: 'json-1.1',
    targetPrefix: 'Firehose_20150804',
    knownOperations: sdkOperations(sdk),
    operations: {},
  };
}
