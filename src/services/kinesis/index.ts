import * as sdk from '@aws-sdk/client-kinesis';
import type { ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';

/** Not built yet: every operation answers 501 NotImplemented naming it. */
export function createKinesisService(_deps: ServiceDeps): ServiceDefinition {
  return {
    name: 'kinesis',
    signingNames: ['kinesis'],
    protocol: 'json-1.1',
    targetPrefix: 'Kinesis_20131202',
    knownOperations: sdkOperations(sdk),
    operations: {},
  };
}
