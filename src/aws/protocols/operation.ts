import { NormalizedSchema } from '@smithy/core/schema';
import type { OperationSpec, ServiceDefinition } from '../service.js';

/** An operation schema taken apart once: what every codec needs from it. */
export interface OperationShapes {
  name: string;
  input: NormalizedSchema;
  output: NormalizedSchema;
  /** The operation's own traits (`http` for REST protocols). */
  traits: Readonly<Record<string, unknown>>;
}

const shapesCache = new WeakMap<object, OperationShapes>();

/**
 * The SDK's static operation schema is `[9, namespace, name, traits, input, output]`
 * (the SDK's own serde middleware destructures it the same way); an already
 * built `{ name, input, output }` object is accepted too. Memoised per schema
 * object, which is immutable, so this is a cache, not state.
 */
export function operationShapes(schema: unknown): OperationShapes | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  const hit = shapesCache.get(schema);
  if (hit) return hit;
  let name: unknown, input: unknown, output: unknown;
  if (Array.isArray(schema)) {
    if (schema[0] !== 9) return undefined;
    [, , name, , input, output] = schema as unknown[];
  } else {
    ({ name, input, output } = schema as { name?: unknown; input?: unknown; output?: unknown });
  }
  if (typeof name !== 'string') return undefined;
  const shapes: OperationShapes = {
    name: name.includes('#') ? name.slice(name.indexOf('#') + 1) : name,
    input: NormalizedSchema.of((input ?? 'unit') as Parameters<typeof NormalizedSchema.of>[0]),
    output: NormalizedSchema.of((output ?? 'unit') as Parameters<typeof NormalizedSchema.of>[0]),
    traits: NormalizedSchema.of(schema as Parameters<typeof NormalizedSchema.of>[0]).getMergedTraits(),
  };
  shapesCache.set(schema, shapes);
  return shapes;
}

/** The spec of an implemented operation; own properties only, so 'constructor' or '__proto__' never match. */
export function specOf(service: ServiceDefinition, operation: string): OperationSpec | undefined {
  return Object.hasOwn(service.operations, operation) ? service.operations[operation] : undefined;
}

/** Implemented, or known to the real API (then the pipeline answers 501). */
export function isKnownOperation(service: ServiceDefinition, operation: string): boolean {
  return specOf(service, operation) !== undefined || (service.knownOperations?.includes(operation) ?? false);
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export function maxBodyBytes(spec: OperationSpec | undefined): number {
  return spec?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
}
