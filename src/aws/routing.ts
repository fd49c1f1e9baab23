import type { CredentialScope } from './sigv4/index.js';
import type { HttpRequest } from './http.js';
import { header } from './http.js';
import type { ServiceDefinition } from './service.js';

/** Every service, indexed the ways a request can name it. */
export interface ServiceIndex {
  all: readonly ServiceDefinition[];
  byName: ReadonlyMap<string, ServiceDefinition>;
  bySigningName: ReadonlyMap<string, ServiceDefinition>;
  byTargetPrefix: ReadonlyMap<string, ServiceDefinition>;
  /** Query-protocol Actions (IAM, STS) to their service, for unsigned requests. */
  byQueryAction: ReadonlyMap<string, ServiceDefinition>;
}

export function indexServices(services: readonly ServiceDefinition[]): ServiceIndex {
  const byName = new Map<string, ServiceDefinition>();
  const bySigningName = new Map<string, ServiceDefinition>();
  const byTargetPrefix = new Map<string, ServiceDefinition>();
  const byQueryAction = new Map<string, ServiceDefinition>();
  for (const s of services) {
    byName.set(s.name, s);
    for (const n of s.signingNames) bySigningName.set(n, s);
    if (s.targetPrefix !== undefined) byTargetPrefix.set(s.targetPrefix, s);
    if (s.protocol === 'query') for (const op of s.knownOperations ?? Object.keys(s.operations)) byQueryAction.set(op, s);
  }
  return { all: services, byName, bySigningName, byTargetPrefix, byQueryAction };
}

/**
 * Which service a request is for, in AWS's order of evidence: the SigV4
 * credential scope, then X-Amz-Target, then the Query protocol's Action,
 * else S3 (path-style or virtual-hosted-style).
 */
export function routeService(req: HttpRequest, scope: CredentialScope | undefined, index: ServiceIndex): ServiceDefinition | undefined {
  // S3's website endpoint (its port, or a `<bucket>.s3-website…` Host) is S3 whatever the request carries.
  if (req.website === true || req.hostname.includes('.s3-website')) return index.byName.get('s3');
  if (scope) {
    const s = index.bySigningName.get(scope.service);
    if (s) return s;
  }
  const target = header(req, 'x-amz-target');
  if (target !== undefined) {
    const dot = target.lastIndexOf('.');
    const s = index.byTargetPrefix.get(dot > 0 ? target.slice(0, dot) : target);
    if (s) return s;
  }
  const action = req.query.get('Action');
  if (action !== null) {
    const s = index.byQueryAction.get(action);
    if (s) return s;
  }
  if (scope) return undefined;
  return index.byName.get('s3');
}
