import * as sdk from '@aws-sdk/client-cloudtrail';
import type { LookupEventsRequest } from '@aws-sdk/client-cloudtrail';
import type { ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';
import { lookupEvents } from './lookup.js';
import { scanAll } from '../../storage/blob-sweep.js';
import { NS_SEGMENT, type Segment } from './segments.js';
import { TrailRecorder } from './sink.js';

/**
 * CloudTrail: the event history of every audited service (KMS first). The
 * app attaches `auditSink`; the pipeline feeds it every finished call of a
 * service marked `audited`. LookupEvents serves the history.
 */
export function createCloudTrailService(deps: ServiceDeps): ServiceDefinition & { recorder: TrailRecorder } {
  const recorder = new TrailRecorder(deps.stores.metadata, deps.stores.blobs, deps.log);
  let pruner: NodeJS.Timeout | undefined;
  return {
    name: 'cloudtrail',
    signingNames: ['cloudtrail'],
    protocol: 'json-1.1',
    targetPrefix: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101',
    knownOperations: sdkOperations(sdk),
    auditSink: recorder,
    blobRefs: async (tx, visit) => {
      await scanAll<Segment>(tx, NS_SEGMENT, (s) => visit(s.blobId));
    },
    recorder,
    operations: {
      LookupEvents: {
        schema: sdk.LookupEvents$,
        action: 'cloudtrail:LookupEvents',
        async handler(input: LookupEventsRequest, ctx) {
          // What this node recorded up to now is visible to its own lookups.
          await recorder.flush();
          return lookupEvents(deps.stores.metadata, deps.stores.blobs, input, ctx);
        },
      },
    },
    start() {
      // Event history is 90 days of hanul's clock: prune once a minute.
      pruner = setInterval(() => {
        recorder.prune(deps.clock.now()).catch((e: unknown) => deps.log.warn({ err: e }, 'cloudtrail: prune failed'));
      }, 60_000);
      pruner.unref();
      return Promise.resolve();
    },
    async stop() {
      clearInterval(pruner);
      await recorder.flush();
    },
  };
}
