import type http from 'node:http';
import type http2 from 'node:http2';
import { Readable, type Writable } from 'node:stream';
import { AwsError, commonError, internalError, isAwsError, notImplemented } from '../aws/errors.js';
import { rawResponseOf, type HttpRequest, type HttpResponse } from '../aws/http.js';
import { codecFor } from '../aws/protocols/index.js';
import type { EncodeContext } from '../aws/protocols/codec.js';
import type { ServiceIndex } from '../aws/routing.js';
import { routeService } from '../aws/routing.js';
import type { ServiceDefinition } from '../aws/service.js';
import type { CredentialLookup, ErrorFamily } from '../aws/sigv4/index.js';
import { authenticate, authenticateNow, credentialScope, sigv4Error, verifiedBody } from '../aws/sigv4/index.js';
import { anonymousPrincipal } from '../iam/root-key.js';
import { requestId as newRequestId, s3HostId, s3RequestId } from '../lib/ids.js';
import { lenderOf } from '../lib/streams.js';
import type { AuditRecord, Principal, RequestContext, ServiceDeps } from './context.js';
import type { Metrics } from './metrics.js';
import type { Protection, TrafficSample } from './shield/protection.js';

export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Decides whether `principal` may run the operation; throws (or rejects with) the service's AccessDenied.
 * IAM fills this in. Returns at once (no Promise) when everything it needs is cached.
 */
export type Authorizer = (ctx: RequestContext, service: ServiceDefinition, operation: string, input: unknown) => void | Promise<void>;

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
    // No closure in this function captures its locals: one that did would make V8 allocate a
    // context for them on every request (and read them from there rather than from registers).
    // HTTP/1 with no content-length (or 0) and no transfer-encoding carries no body: nothing to count.
    const bodiless = nreq.httpVersionMajor === 1 && (nreq.headers['content-length'] === undefined || nreq.headers['content-length'] === '0') && nreq.headers['transfer-encoding'] === undefined;
    const counter = bodiless ? undefined : new ByteCounter(nreq);

    const req = new WireRequest(nreq.method ?? 'GET', rawPath, rawQuery, nreq.headers, stripPort(hostHeader), nreq);
    if (deps.website === true) req.website = true;

    let service: ServiceDefinition | undefined;
    let operation = 'Unknown';
    let ctx: RequestContext | undefined;
    let input: unknown;
    let output: unknown;
    let failure: AwsError | undefined;
    let response: HttpResponse;
    let requestId = '';
    const sourceIp = deps.protection ? deps.protection.addressOf(nreq.socket?.remoteAddress, nreq.headers) : (nreq.socket?.remoteAddress ?? '');
    // One sample per request: admission sees it first (service not yet known), detection after the response.
    const seen: TrafficSample | undefined = deps.protection && { address: sourceIp, service: '', hostname: req.hostname, path: rawPath, userAgent: String(nreq.headers['user-agent'] ?? ''), referer: String(nreq.headers['referer'] ?? ''), status: 0, bytesIn: 0, bytesOut: 0 };
    const refusal = seen && deps.protection?.admit(sourceIp, seen);
    try {
      // SigV4 joins repeated headers with ',' where Node joins them with ', ' (and drops some): sign-check the distinct values.
      const distinct = hasRepeatedHeader(nreq) ? (nreq as { headersDistinct?: Record<string, string[]> }).headersDistinct : undefined;
      const signedView = distinct ? { method: req.method, rawPath, rawQuery, headers: { ...distinct, ...pseudoHeaders(nreq.headers) } } : req;
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
          await send(nres, res, requestId, deps.clock.nowMs());
          finished(deps, started, undefined, operation, 200, counter, 0, seen, requestId, undefined, undefined);
          return;
        }
      }
      service = routeService(req, scope, deps.services);
      requestId = ridFor(service);
      if (refusal) throw refusal(service);
      if (!service) throw commonError('UnknownOperationException', `no service answers to '${scope?.service ?? 'this request'}'`);
      const codec = codecFor(service.protocol);
      operation = codec.peekOperation(req, service) ?? operation;

      let principal: Principal;
      let signedRegion = deps.config.region;
      // Preflights and website reads are never signed (service.answersUnsigned): they run anonymous.
      const unsigned = service.answersUnsigned?.(req) === true;
      try {
        // Awaited only when the credential lookup went async: the root key (and IAM's cache) answer at once.
        const verifying = unsigned ? undefined : authenticateNow(signedView, {
          lookup: deps.credentials,
          now: deps.clock.now(),
          normalizePath: service.protocol !== 'rest-xml',
          family: familyOf(service),
        });
        const auth = verifying instanceof Promise ? await verifying : verifying;
        if (auth) {
          principal = auth.credential.principal;
          signedRegion = auth.scope.region;
        } else {
          principal = anonymousPrincipal();
        }
        const vb = verifiedBody(req.body, auth, req.headers, familyOf(service));
        req.body = vb.body;
        req.trailersOf = vb.trailers;
      } catch (e) {
        throw sigv4Error(e, familyOf(service));
      }
      // A class instance, not an object literal: a literal with a getter (the lazy `signal`) is
      // built by V8's slow path as a dictionary, and every later read of any member (handlers,
      // authorizer, CloudTrail) then pays a dictionary lookup — ~20% of a HeadBucket's CPU.
      ctx = new PipelineContext(deps, requestId, principal, signedRegion, nres, sourceIp, 'encrypted' in (nreq.socket ?? {}), nreq.headers['user-agent'] ?? '', service.name, operation);

      // rawHandler, the authorizer and the handler may answer at once: each is awaited only when it returned a Promise.
      const rawAnswer = service.rawHandler ? service.rawHandler(req, ctx) : undefined;
      const raw = rawAnswer instanceof Promise ? await rawAnswer : rawAnswer;
      if (raw) {
        response = raw;
        operation = ctx.operation;
      } else {
        // Awaited only when the codec had a body to read: a bodiless S3 request decodes at once.
        const decoding = codec.decodeNow ? codec.decodeNow(req, service) : codec.decode(req, service);
        const decoded = decoding instanceof Promise ? await decoding : decoding;
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
        const authorizing = deps.authorize(ctx, service, operation, input);
        if (authorizing instanceof Promise) await authorizing;
        if (!spec) throw notImplemented(service.name, operation);
        const answer = spec.handler(input, ctx);
        output = answer instanceof Promise ? await answer : answer;
        const raw = rawResponseOf(output);
        response = raw
          ? raw({ requestContentType: req.headers['content-type'] as string | undefined })
          : codec.encode(output, operation, service, encodeContext(requestId, service.protocol === 'rest-xml', req.headers['content-type'] as string | undefined));
      }
    } catch (e) {
      failure = isAwsError(e) ? e : undefined;
      if (!failure) {
        if (!requestId) requestId = ridFor(service);
        deps.log.error({ err: e, requestId, service: service?.name, operation }, 'unhandled error');
        failure = internalError(requestId);
      }
      if (!requestId) requestId = ridFor(service);
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
    const noBody = bodiless || ((nreq.headers['content-length'] === undefined || nreq.headers['content-length'] === '0') && nreq.headers['transfer-encoding'] === undefined);
    if (!noBody && !nreq.readableEnded && !(nreq as http.IncomingMessage).complete && nreq.httpVersionMajor === 1 && !(await drainSmallBody(nreq as http.IncomingMessage))) response.headers['connection'] = 'close';
    let bytesOut = 0;
    try {
      // A body in memory is written at once (a number back): no promise or microtask turn for it.
      const sent = send(nres, response, requestId, deps.clock.nowMs());
      bytesOut = typeof sent === 'number' ? sent : await sent;
    } catch (e) {
      deps.log.debug({ err: e, requestId }, 'response aborted');
    }
    finished(deps, started, service, operation, response.status, counter, bytesOut, seen, requestId, ctx, failure);
    if (service?.served !== undefined) service.served(req, input, output, ctx, response.status, bytesOut, requestId, failure, started);
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

  };
}

/** S3 request ids for S3 (rest-xml), hanul's own for the rest. */
function ridFor(service: ServiceDefinition | undefined): string {
  return service?.protocol === 'rest-xml' ? s3RequestId() : newRequestId();
}

/**
 * Counts a request body's bytes as its readers pull them. Paused first: a 'data' listener on
 * a stream not explicitly paused switches it to flowing mode, and body bytes arriving before
 * the handler reads would be lost. Paused, the listener only counts what readers (pipe,
 * for-await) pull.
 */
class ByteCounter {
  n = 0;
  constructor(nreq: NodeRequest) {
    nreq.pause();
    nreq.on('data', this.#count);
  }
  readonly #count = (c: Buffer): void => {
    this.n += c.length;
  };
}

/** Once the response is written: metrics, Shield's detection sample, the request's log line. */
function finished(
  deps: PipelineDeps,
  started: number,
  service: ServiceDefinition | undefined,
  operation: string,
  status: number,
  counter: ByteCounter | undefined,
  out: number,
  seen: TrafficSample | undefined,
  requestId: string,
  ctx: RequestContext | undefined,
  failure: AwsError | undefined,
): void {
  const seconds = (performance.now() - started) / 1e3;
  const svcName = service?.name ?? 'hanul';
  const bytesIn = counter === undefined ? 0 : counter.n;
  deps.metrics.observe(svcName, operation, status, seconds, bytesIn, out);
  if (seen) {
    seen.service = svcName;
    seen.status = status;
    seen.bytesIn = bytesIn;
    seen.bytesOut = out;
    deps.protection?.observe(seen);
  }
  if (!deps.log.isLevelEnabled('info')) return;
  const line: Record<string, unknown> = {
    requestId,
    service: svcName,
    operation,
    principal: ctx?.principal.arn,
    status,
    bytesIn,
    bytesOut: out,
    ms: Math.round(seconds * 1e5) / 100,
  };
  if (failure) line['error'] = failure.code;
  deps.log.info(line, 'request');
}

/** What a codec needs to render a response (assigned, not spread: this runs per request). */
function encodeContext(requestId: string, s3: boolean, requestContentType: string | undefined): EncodeContext {
  const c: EncodeContext = { requestId, requestContentType };
  if (s3) c.hostId = s3HostId();
  return c;
}

/**
 * The request context the pipeline hands to handlers. The dependencies are
 * listed, not spread (a spread copies every pipeline dependency into a fresh
 * dictionary-sized object per request); a new RequestContext member the
 * pipeline provides is added here. `signal` is a getter on the prototype
 * (built on first use), so a copy made with `{ ...ctx }` must carry it over
 * explicitly: `{ ...ctx, signal: ctx.signal }`.
 */
class PipelineContext implements RequestContext {
  readonly config: RequestContext['config'];
  readonly clock: RequestContext['clock'];
  readonly stores: RequestContext['stores'];
  readonly log: RequestContext['log'];
  readonly audit: RequestContext['audit'];
  readonly peers: RequestContext['peers'];
  readonly metrics: RequestContext['metrics'];
  readonly credentials: CredentialLookup;
  readonly authorize: Authorizer;
  readonly accountId: string;

  constructor(
    deps: PipelineDeps,
    public requestId: string,
    public principal: Principal,
    public region: string,
    nres: NodeResponse,
    public sourceIp: string,
    public secure: boolean,
    public userAgent: string,
    public service: string,
    public operation: string,
  ) {
    this.config = deps.config;
    this.clock = deps.clock;
    this.stores = deps.stores;
    this.log = deps.log;
    this.audit = deps.audit;
    this.peers = deps.peers;
    this.metrics = deps.metrics;
    this.credentials = deps.credentials;
    this.authorize = deps.authorize;
    this.accountId = deps.config.accountId;
    this.#nres = nres;
    this.#shutdown = deps.shutdown;
  }

  readonly #nres: NodeResponse;
  readonly #shutdown: AbortSignal;
  #abort: AbortController | undefined;

  /**
   * Built on first use: most handlers never read it, and a controller plus two listeners per
   * request is a measurable share of the edge path's garbage.
   */
  get signal(): AbortSignal {
    if (this.#abort) return this.#abort.signal;
    const ac = (this.#abort = new AbortController());
    const nres = this.#nres;
    const shutdown = this.#shutdown;
    if ((nres as { closed?: boolean }).closed === true || nres.destroyed) {
      if (!nres.writableFinished) ac.abort(new Error('client went away'));
    } else {
      const onShutdown = () => ac.abort(new Error('server shutting down'));
      shutdown.addEventListener('abort', onShutdown, { once: true });
      nres.once('close', () => {
        if (!nres.writableFinished) ac.abort(new Error('client went away'));
        shutdown.removeEventListener('abort', onShutdown);
      });
    }
    return ac.signal;
  }
}

const NO_TRAILERS = (): Record<string, string> => ({});

/**
 * The request handed to codecs and handlers. A class, not an object literal:
 * a literal with a getter (the lazily parsed query) is built by V8's slow
 * path, about a microsecond per request.
 */
class WireRequest implements HttpRequest {
  #query: URLSearchParams | undefined;
  trailersOf: () => Readonly<Record<string, string>> = NO_TRAILERS;
  website?: true;
  codecMemo: unknown = undefined;

  constructor(
    readonly method: string,
    readonly rawPath: string,
    readonly rawQuery: string,
    readonly headers: HttpRequest['headers'],
    readonly hostname: string,
    public body: Readable,
  ) {}

  /** Parsed on first use: many requests (JSON protocols, HeadBucket) never read it. */
  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(this.rawQuery));
  }

  trailers(): Readonly<Record<string, string>> {
    return this.trailersOf();
  }
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
function httpDate(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Writes a response: the body bytes sent, at once for a body in memory, else once the stream has gone out. */
function send(nres: NodeResponse, res: HttpResponse, requestId: string, nowMs: number): number | Promise<number> {
  const headers = res.headers;
  // hanul's clock, not the host's: SDKs correct their signing clock from Date, so they follow time travel.
  if (!('date' in headers)) headers['date'] = httpDate(nowMs);
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
  return pump(body instanceof Readable ? body : Readable.from(body, { objectMode: false }), nres).catch((e: unknown) => {
    nres.destroy();
    throw Object.assign(new Error(`response ${requestId} aborted`), { cause: e });
  });
}

/**
 * Streams `src` into the response with backpressure; resolves with the bytes
 * sent once the response has finished. What stream.pipeline does for this one
 * pair, without its per-call AbortController, DOMException and end-of-stream
 * watchers (a measurable share of a small GET). Either side failing or the
 * client going away destroys the source (releasing what it holds). A source
 * that lends its chunks (lib/streams.ts, an encrypted GET's worker slots) is
 * told when the socket has taken each one and when the response is over.
 */
function pump(src: Readable, res: NodeResponse): Promise<number> {
  const dst = res as unknown as Writable;
  const lender = lenderOf(src);
  lender?.take();
  return new Promise<number>((resolve, reject) => {
    let sent = 0;
    let settled = false;
    // 'error' listeners stay attached after settling: a late error must not go unhandled.
    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      src.off('data', onData).off('end', onEnd).off('close', onSrcClose);
      dst.off('drain', onDrain).off('finish', onFinish).off('close', onDstClose);
      if (err === undefined) resolve(sent);
      else {
        src.destroy();
        reject(err instanceof Error ? err : new Error('response stream failed', { cause: err }));
      }
      lender?.ended();
    };
    const onData = (c: Buffer): void => {
      sent += c.length;
      if (!(lender === undefined ? dst.write(c) : dst.write(c, () => lender.sent(c)))) src.pause();
    };
    const onDrain = (): void => void src.resume();
    const onEnd = (): void => void dst.end();
    const onFinish = (): void => settle();
    const onSrcClose = (): void => {
      if (!src.readableEnded) settle(new Error('response body closed before its end'));
    };
    const onDstClose = (): void => {
      if (!dst.writableFinished) settle(new Error('client went away'));
    };
    src.on('data', onData).on('end', onEnd).on('error', settle).on('close', onSrcClose);
    dst.on('drain', onDrain).on('finish', onFinish).on('close', onDstClose).on('error', settle);
  });
}

/** Unread request bodies up to this size are read and dropped before an early answer. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;
const DRAIN_MS = 2000;

/**
 * An answer sent before the body was read (an error found from the headers)
 * would close the connection under a client still sending — which a client
 * that got Node's automatic `100 Continue` does even for an 8-byte body, and
 * over TLS botocore then reports an EOF instead of our error. A small body is
 * read and dropped first (bounded in size and time), so the client sees the
 * answer and keeps its connection; a large or slow one still closes it.
 */
function drainSmallBody(req: http.IncomingMessage): Promise<boolean> {
  const length = Number(req.headers['content-length']);
  if (req.destroyed || !Number.isSafeInteger(length) || length > DRAIN_LIMIT_BYTES) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      req.off('end', onEnd).off('close', onClose).off('error', onClose);
      resolve(ok);
    };
    const onEnd = (): void => done(true);
    const onClose = (): void => done(req.complete);
    const timer = setTimeout(() => done(false), DRAIN_MS);
    timer.unref();
    req.unpipe();
    req.on('end', onEnd).on('close', onClose).on('error', onClose);
    req.resume();
  });
}
