import * as sdk from '@aws-sdk/client-shield';
import type { OperationSpec, ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { protectionOf } from '../../server/shield/protection.js';
import { sdkOperations } from '../sdk-operations.js';
import { attackHandlers } from './attacks.js';
import { DEFAULT_DETECTOR, Detector, type DetectorOptions } from './detector.js';
import { groupHandlers } from './groups.js';
import { protectionHandlers } from './protections.js';
import { endpointArn } from './resources.js';
import { ShieldStore } from './store.js';
import { subscriptionHandlers } from './subscription.js';

const READ_ONLY = /^(Describe|List|Get)/;

/**
 * AWS Shield Advanced's API (JSON 1.1, AWSShield_20160616) over hanul's own
 * protection layer: protections on the API endpoint and bucket website
 * endpoints, groups, detection of real floods, automatic response.
 */
export function buildShield(deps: ServiceDeps, opts: Partial<DetectorOptions> = {}): { service: ServiceDefinition; detector: Detector } {
  const store = new ShieldStore(deps.stores.metadata);
  const detector = new Detector(store, deps.clock, endpointArn(deps.config.region, deps.config.accountId), protectionOf(deps.config), { ...DEFAULT_DETECTOR, floor: deps.config.shieldAttackFloor, ...opts });
  const changed = () => {
    detector.reload().catch((e: unknown) => deps.log.error({ err: e }, 'shield: reloading protections failed'));
  };
  const handlers: Record<string, (input: never, ctx: never) => Promise<unknown>> = {
    ...subscriptionHandlers(store, () => service),
    ...protectionHandlers(store, changed),
    ...groupHandlers(store, changed),
    ...attackHandlers(store, () => detector),
  };
  const schemas = sdk as unknown as Record<string, unknown>;
  const operations: Record<string, OperationSpec> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const wrapped = name === 'DeleteSubscription' || name === 'CreateSubscription'
      ? async (i: never, c: never) => {
          const out = await handler(i, c);
          changed();
          return out;
        }
      : handler;
    operations[name] = {
      schema: schemas[`${name}$`],
      action: `shield:${name}`,
      handler: wrapped as OperationSpec['handler'],
      audit: { readOnly: READ_ONLY.test(name) },
    };
  }
  const service: ServiceDefinition = {
    name: 'shield',
    signingNames: ['shield'],
    protocol: 'json-1.1',
    targetPrefix: 'AWSShield_20160616',
    knownOperations: sdkOperations(sdk),
    operations,
    async start() {
      await detector.closeDangling();
      await detector.reload();
      detector.start();
    },
    async stop() {
      detector.stop();
    },
  };
  return { service, detector };
}

export function createShieldService(deps: ServiceDeps): ServiceDefinition {
  return buildShield(deps).service;
}
