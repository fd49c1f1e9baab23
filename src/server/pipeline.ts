import type http from 'node:http';
import type http2 from 'node:http2';
import { Readable } from 'node:stream';
import { pipeline as pipe } from 'node:stream/promises';
import { AwsError, commonError, internalError, isAwsError, notImplemented } from '../aws/errors.js';
import { rawResponseOf, type HttpRequest, type HttpResponse } from '../aws/http.js';
import { codecFor } from '../aws/protocols/index.js';
import type { ServiceIndex } from '../aws/routing.js';
import { routeService } from '../aws/routing.js';
import type { ServiceDefinition } from '../aws/service.js';
import type { CredentialLookup, ErrorFamily } from '../aws/sigv4/index.js';
import { authenticate, credentialScope, sigv4Error, verifiedBody } from '../aws/sigv4/index.js';
import { anonymousPrincipal } from '../iam/root-key.js';
import { requestId as newRequestId, s3HostId, s3RequestId } from '../lib/ids.js';
import type { AuditRecord, Principal, RequestContext, ServiceDeps } from './context.js';
import type { Metrics } from './metrics.js';
import type { Protection } from './shield/protection.js';

export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** Decides whether `principal` may run the operation; throws the service's AccessDenied. IAM fills this in. */
export type Authorizer = (ctx: RequestContext, service: ServiceDefinition, operation: string, input: unknown) => Promise<void>;

export interface PipelineDeps extends ServiceDeps {
  services: ServiceIndex;
  credentials: CredentialLookup;
  metrics: Metrics;
  authorize: Authorizer;
  /** Answers /_hanul/* (health, clock, metrics); undefined → not an admin path. */
  admin(req: HttpRequest, principal: Principal | undefined): Promise<HttpResponse | undefined>;
  /** Aborted on shutdown: in-flight handlers see it through ctx.signal. */
  shutdown: AbortSignal;
  /** Flood protection (src/server/shield/): admission before any work, and every request for detection. */
  protection?: Protection | undefined;
  /** This listener is HANUL_WEBSITE_PORT: every request is for S3's website endpoint. */
  website?: boolean;
}

function familyOf(service: ServiceDefinition | undefined): ErrorFamily {
  if (!service || service.protocol === 'rest-xml') return 's3';
  return service.protocol === 'query' ? 'query' : 'json';
}

/**
 * One request, start to end:
 * route → authenticate → decode → authorize → handler → encode → log/metrics/audit.
 * Handlers throw AwsError; this is the one place errors are rendered, logged and counted.
 */
export function createPipeline(deps: PipelineDeps) {
  return async function handle(nreq: NodeRequest, nres: NodeResponse): Promise<void> {
    // A double, not a bigint: no allocation per request.
    const started = performance.now();
    const url = nreq.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const hostHeader = (nreq.headers[':authority'] as string | undefined) ?? nreq.headers.host ?? '';
    // The handler's AbortSignal is built on first use: most handlers never read it, and a
    // controller plus two listeners per request is a measurable share of the edge path's garbage.
    let abort: AbortController | undefined;
    const signalOf = (): AbortSignal => {
      if (abort) return abort.signal;
      const ac = (abort = new AbortController());
      if ((nres as { closed?: boolean }).closed === true || nres.destroyed) {
        if (!nres.writableFinished) ac.abort(new Error('client went away'));
      } else {
        const onShutdown = () => ac.abort(new Error('server shutting down'));
        deps.shutdown.addEventListener('abort', onShutdown, { once: true });
        nres.once('close', () => {
          if (!nres.writableFinished) ac.abort(new Error('client went away'));
          deps.shutdown.removeEventListener('abort', onShutdown);
        });
      }
      return ac.signal;
    };
    let bytesIn = 0;
    // Paused first: a 'data' listener on a stream not explicitly paused switches it to
    // flowing mode, and body bytes arriving before the handler reads would be lost.
    // Paused, the listener only counts what readers (pipe, for-await) pull.
    nreq.pause();
    nreq.on('data', (c: Buffer) => (bytesIn += c.length));

    let trailersOf: () => Record<string, string> = () => ({});
    let query: URLSearchParams | undefined;
    const req: HttpRequest = {
      method: nreq.method ?? 'GET',
      rawPath,
      rawQuery,
      // Parsed on first use: many requests (JSON protocols, HeadBucket) never read it.
      get query() {
        return (query ??= new URLSearchParams(rawQuery));
      },
      headers: nreq.headers,
      hostname: stripPort(hostHeader),
      body: nreq,
      trailers: () => trailersOf(),
    };
    if (deps.website === true) req.website = true;

    let service: ServiceDefinition | undefined;
    let operation = 'Unknown';
    let ctx: RequestContext | undefined;
    let input: unknown;
    let output: unknown;
    let failure: AwsError | undefined;
    let response: HttpResponse;
    const isS3 = () => service?.protocol === 'rest-xml';
    const rid = () => (isS3() ? s3RequestId() : newRequestId());
    let requestId = '';
    const sourceIp = deps.protection ? deps.protection.addressOf(nreq.socket?.remoteAddress, nreq.headers) : (nreq.socket?.remoteAddress ?? '');
    const seen = deps.protection && { address: sourceIp, hostname: req.hostname, path: rawPath, userAgent: String(nreq.headers['user-agent'] ?? ''), referer: String(nreq.headers['referer'] ?? '') };
    const refusal = seen && deps.protection?.admit(sourceIp, { ...seen, service: '' });
    try {
      // SigV4 joins repeated headers with ',' where Node joins them with ', ' (and drops some): sign-check the distinct values.
      const distinct = hasRepeatedHeader(nreq) ? (nreq as { headersDistinct?: Record<string, string[]> }).headersDistinct : undefined;
      const signedView = distinct ? { ...req, headers: { ...distinct, ...pseudoHeaders(nreq.headers) } } : req;
      const scope = credentialScope(req);
      const admin = rawPath.startsWith('/_hanul/') || (rawPath === '/metrics' && scope === undefined && rawQuery === '');
      if (refusal && admin) throw refusal(undefined);
      if (admin) {
        service = undefined;
        operation = 'Admin';
        requestId = newRequestId();
        let principal: Principal | undefined;
        try {
          principal = scope ? (await authenticate(signedView, { lookup: deps.credentials, now: deps.clock.now(), normalizePath: true }))?.credential.principal : undefined;
        } catch (e) {
          throw sigv4Error(e, 'json');
        }
        const res = await deps.admin(req, principal);
        if (res) {
          await send(nres, res, requestId);
          log(200);
          return;
        }
      }
      service = routeService(req, scope, deps.services);
      requestId = rid();
      if (refusal) throw refusal(service);
      if (!service) throw commonError('UnknownOperationException', `no service answers to '${scope?.service ?? 'this request'}'`);
      const codec = codecFor(service.protocol);
      operation = codec.peekOperation(req, service) ?? operation;

      let principal: Principal;
      let signedRegion = deps.config.region;
      // Preflights and website reads are never signed (service.answersUnsigned): they run anonymous.
      const unsigned = service.answersUnsigned?.(req) === true;
      try {
        const auth = unsigned ? undefined : await authenticate(signedView, {
          lookup: deps.credentials,
          now: deps.clock.now(),
          normalizePath: service.protocol !== 'rest-xml',
          family: familyOf(service),
        });
        if (auth) {
          principal = auth.credential.principal;
          signedRegion = auth.scope.region;
        } else {
          principal = anonymousPrincipal();
        }
        const vb = verifiedBody(req.body, auth, req.headers, familyOf(service));
        req.body = vb.body;
        trailersOf = () => vb.trailers();
      } catch (e) {
        throw sigv4Error(e, familyOf(service));
      }
      ctx = {
        ...deps,
        requestId,
        principal,
        region: signedRegion,
        accountId: deps.config.accountId,
        get signal() {
          return signalOf();
        },
        sourceIp,
        secure: 'encrypted' in (nreq.socket ?? {}),
        userAgent: (nreq.headers['user-agent']) ?? '',
        service: service.name,
        operation,
      };

      const raw = service.rawHandler ? await service.rawHandler(req, ctx) : undefined;
      if (raw) {
        response = raw;
        operation = ctx.operation;
      } else {
        const decoded = await codec.decode(req, service);
        operation = ctx.operation = decoded.operation;
        input = decoded.input;
        const spec = service.operations[operation];
        if (!spec && service.knownOperations && !service.knownOperations.includes(operation)) {
          throw commonError('UnknownOperationException', `${service.name} has no operation ${operation}`);
        }
        if (principal.type === 'anonymous' && service.protocol !== 'rest-xml') {
          throw sigv4Error(Object.assign(new Error('Missing Authentication Token'), { kind: 'missing-auth' }), familyOf(service));
        }
        // Not-yet-built operations are authorized too: AccessDenied comes before NotImplemented, as a caller would see it.
        await deps.authorize(ctx, service, operation, input);
        if (!spec) throw notImplemented(service.name, operation);
        output = await spec.handler(input, ctx);
        const raw = rawResponseOf(output);
        response = raw
          ? raw({ requestContentType: req.headers['content-type'] as string | undefined })
          : codec.encode(output, operation, service, { requestId, ...(isS3() ? { hostId: s3HostId() } : {}), requestContentType: req.headers['content-type'] as string | undefined });
      }
    } catch (e) {
      failure = isAwsError(e) ? e : undefined;
      if (!failure) {
        if (!requestId) requestId = rid();
        deps.log.error({ err: e, requestId, service: service?.name, operation }, 'unhandled error');
        failure = internalError(requestId);
      }
      if (!requestId) requestId = rid();
      const svc = service ?? deps.services.byName.get('s3');
      response = svc
        ? codecFor(svc.protocol).encodeError(failure, svc, { requestId, hostId: s3HostId(), requestContentType: req.headers['content-type'] as string | undefined })
        : { status: failure.status, headers: { 'content-type': 'text/plain' }, body: failure.message };
    }
    if (service?.crossOrigin && nreq.headers.origin !== undefined) await service.crossOrigin(req, response);
    // A body we did not read to the end cannot be left on a keep-alive connection.
    // (`complete`: the whole request arrived; an unread rest is then dropped by Node, and
    // a bodiless request — HEAD, GET — keeps its keep-alive connection.)
    // A request with no body at all has nothing left unread, even when answered before Node marks it complete (a refusal by Shield's admission is synchronous).
    const bodiless = (nreq.headers['content-length'] === undefined || nreq.headers['content-length'] === '0') && nreq.headers['transfer-encoding'] === undefined;
    if (!bodiless && !nreq.readableEnded && !(nreq as http.IncomingMessage).complete && nreq.httpVersionMajor === 1) response.headers['connection'] = 'close';
    let bytesOut = 0;
    try {
      bytesOut = await send(nres, response, requestId);
    } catch (e) {
      deps.log.debug({ err: e, requestId }, 'response aborted');
    }
    log(response.status, bytesOut);
    const auditSpec = ctx && service?.audited ? service.operations[operation] : undefined;
    if (ctx && service?.audited && auditSpec?.audit?.dataEvent !== true) {
      const spec = auditSpec;
      // Assigned, not spread: no throwaway objects per audited request.
      const rec: AuditRecord = { ctx, input, output, status: response.status };
      if (failure) rec.error = { code: failure.code, message: failure.message };
      if (service.eventSource !== undefined) rec.eventSource = service.eventSource;
      if (spec?.audit) rec.audit = spec.audit;
      deps.audit.record(rec);
    }

    function log(status: number, out = 0): void {
      const seconds = (performance.now() - started) / 1e3;
      const svcName = service?.name ?? 'hanul';
      deps.metrics.observe(svcName, operation, status, seconds, bytesIn, out);
      if (seen) deps.protection?.observe({ ...seen, service: svcName, status, bytesIn, bytesOut: out });
      if (!deps.log.isLevelEnabled('info')) return;
      deps.log.info(
        {
          requestId,
          service: svcName,
          operation,
          principal: ctx?.principal.arn,
          status,
          bytesIn,
          bytesOut: out,
          ms: Math.round(seconds * 1e5) / 100,
          ...(failure ? { error: failure.code } : {}),
        },
        'request',
      );
    }
  };
}

/** Whether a header name repeats (rare): only then is the distinct-values view worth building. */
function hasRepeatedHeader(nreq: NodeRequest): boolean {
  const raw = nreq.rawHeaders;
  if (raw.length <= 2) return false;
  // Node files each name once in `headers` (repeats joined or dropped), so fewer names than
  // raw pairs means a repeat: counted without lower-casing every name into a Set.
  let names = 0;
  for (const _ in nreq.headers) names++;
  return names < raw.length / 2;
}

/** HTTP/2's pseudo-headers (:authority, :method…), which headersDistinct does not carry. */
function pseudoHeaders(h: NodeRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) if (k.charCodeAt(0) === 58 /* ':' */) out[k] = String(h[k]);
  return out;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const c = host.lastIndexOf(':');
  return (c < 0 ? host : host.slice(0, c)).toLowerCase();
}

// The Date header changes once a second: formatted once per second, not per response.
let dateSecond = -1;
let dateText = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Writes a response; resolves with the body bytes sent. */
async function send(nres: NodeResponse, res: HttpResponse, requestId: string): Promise<number> {
  const headers = res.headers;
  if (!('date' in headers)) headers['date'] = httpDate();
  const body = res.body;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    headers['content-length'] = String(buf.length);
    nres.writeHead(res.status, headers as http.OutgoingHttpHeaders);
    nres.end(buf);
    return buf.length;
  }
  if (body === undefined) {
    if (!('content-length' in headers) && res.status !== 304 && res.status !== 204) headers['content-length'] = '0';
    nres.writeHead(res.status, headers as http.OutgoingHttpHeaders);
    nres.end();
    return 0;
  }
  nres.writeHead(res.status, headers as http.OutgoingHttpHeaders);
  let sent = 0;
  const counted = (body instanceof Readable ? body : Readable.from(body, { objectMode: false })).on('data', (c: Buffer) => (sent += c.length));
  try {
    await pipe(counted, nres as unknown as NodeJS.WritableStream);
  } catch (e) {
    nres.destroy();
    throw Object.assign(new Error(`response ${requestId} aborted`), { cause: e });
  }
  return sent;
}

