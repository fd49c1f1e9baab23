import { commonError } from '../aws/errors.js';
import type { HttpRequest, HttpResponse } from '../aws/http.js';
import type { ServiceIndex } from '../aws/routing.js';
import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import { readAll } from '../lib/streams.js';
import type { Principal } from './context.js';
import type { Metrics } from './metrics.js';
import { endpointArn } from './shield/endpoint.js';

export interface AdminDeps {
  config: Config;
  clock: Clock;
  services: ServiceIndex;
  metrics: Metrics;
  version: string;
  startedAt: number;
}

function json(status: number, body: unknown): HttpResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) + '\n' };
}

/**
 * hanul's own endpoints: `/_hanul/health`, `/_hanul/clock` (time travel, when
 * enabled; moving it needs the root key), and Prometheus `/metrics`.
 */
export function createAdmin(deps: AdminDeps) {
  return async function admin(req: HttpRequest, principal: Principal | undefined): Promise<HttpResponse | undefined> {
    const path = req.rawPath;
    if (path === '/_hanul/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      return json(200, {
        status: 'ok',
        version: deps.version,
        uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
        region: deps.config.region,
        accountId: deps.config.accountId,
        shield: { protection: deps.config.shield ? 'on' : 'off', endpointResourceArn: endpointArn(deps.config.region, deps.config.accountId) },
        services: Object.fromEntries(
          deps.services.all.map((s) => [
            s.name,
            // With the API's list at hand, count only its operations (S3's POST form and CORS preflight entries are not API calls).
            { state: s.state?.() ?? 'running', operations: s.knownOperations ? s.knownOperations.filter((o) => o in s.operations).length : Object.keys(s.operations).length, ...(s.knownOperations ? { apiOperations: s.knownOperations.length } : {}) },
          ]),
        ),
      });
    }
    if (path === '/metrics' || path === '/_hanul/metrics') {
      return { status: 200, headers: { 'content-type': deps.metrics.registry.contentType }, body: await deps.metrics.registry.metrics() };
    }
    if (path === '/_hanul/clock') {
      const view = () => ({ now: deps.clock.now().toISOString(), offsetSeconds: deps.clock.offsetMs() / 1000, timeTravel: deps.config.timeTravel });
      if (req.method === 'GET') return json(200, view());
      if (req.method !== 'POST') return json(405, { error: 'MethodNotAllowed', message: 'GET or POST' });
      if (!deps.config.timeTravel) return json(403, { error: 'TimeTravelDisabled', message: 'start hanul with HANUL_TIME_TRAVEL=1 to move its clock' });
      if (principal?.type !== 'root') return json(403, { error: 'AccessDenied', message: 'moving the clock needs a request signed with the root key' });
      const body = await readAll(req.body, 4096, () => commonError('RequestEntityTooLarge', 'body too large'));
      let advance: unknown;
      try {
        advance = (JSON.parse(body.toString('utf8')) as { advanceSeconds?: unknown }).advanceSeconds;
      } catch {
        return json(400, { error: 'SerializationException', message: 'body must be JSON: {"advanceSeconds": N}' });
      }
      if (typeof advance !== 'number' || !Number.isFinite(advance) || advance < 0 || advance > 100 * 365 * 86400) {
        return json(400, { error: 'ValidationException', message: 'advanceSeconds must be a number from 0 to 3153600000' });
      }
      deps.clock.advance(advance * 1000);
      return json(200, view());
    }
    if (path.startsWith('/_hanul/')) return json(404, { error: 'NotFound', message: `no such hanul endpoint ${path}` });
    return undefined;
  };
}
