/**
 * The rest-xml protocol codec (S3): routes method + host + path + query to an
 * operation, decodes HTTP bindings into SDK-typed inputs, encodes outputs
 * (headers, status, XML in S3's namespace, streaming bodies) and renders
 * errors as S3's <Error> document. Everything schema-derived is computed once
 * per service (route table) and once per operation (binding plans).
 */
import { AwsError, notImplemented } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import { header } from '../http.js';
import type { ServiceDefinition } from '../service.js';
import { readAll } from '../../lib/streams.js';
import type { DecodedRequest, EncodeContext, ProtocolCodec } from './codec.js';
import { formatHeaderValue, inputPlan, outputPlan, parseWireValue, type InputPlan, type OutputPlan } from './rest-xml-bindings.js';
import {
  buildRouteTable,
  buildTemplateRoutes,
  matchRoute,
  matchTemplate,
  s3Target,
  type RouteEntry,
  type RouteTable,
  type S3Target,
  type StaticOperationSchema,
  type TemplateRoute,
} from './rest-xml-routing.js';
import { escapeXml, parseXmlDocument, readShape, S3_XMLNS, XML_DECLARATION, xmlDocument } from './rest-xml-xml.js';

/** What a rest-xml service tells the codec beyond ServiceDefinition. */
export interface RestXmlOptions {
  /** Every operation schema of the API (implemented or not), for routing. */
  schemas: readonly StaticOperationSchema[];
  /** Host suffixes for virtual-hosted-style requests, longest first. */
  domains: readonly string[];
  /** Name of the pseudo-operation for a bucket-level POST without a subresource (browser form upload). */
  formPostOperation?: string;
  /** Largest XML request payload, when the operation sets no maxBodyBytes. */
  maxXmlBytes?: number;
  /**
   * Checks a whole buffered (non-streaming) payload against the request's digest headers (Content-MD5,
   * checksums). `bound` names the headers the operation models as input members: those carry the
   * operation's own values (CompleteMultipartUpload's x-amz-checksum-* is the whole object's), not the body's.
   */
  checkPayload?: (headers: HttpRequest['headers'], body: Buffer, bound: ReadonlySet<string>) => void | Promise<void>;
  /**
   * Operations addressed by a path template with labels instead of bucket and key (S3 Control's
   * `/v20180820/tags/{ResourceArn+}`, signed as `s3`): a request `claims` picks out is routed by
   * these schemas' templates, never as a bucket or key. `claims` runs per request: keep it cheap.
   */
  labelled?: {
    schemas: readonly StaticOperationSchema[];
    claims(req: HttpRequest): boolean;
    /** Every operation of that API (`api` names it): a claimed request for one not in `schemas` is 501 NotImplemented naming it. */
    known?: { api: string; schemas: readonly StaticOperationSchema[] };
  };
}

export interface RestXmlService extends ServiceDefinition {
  restXml?: RestXmlOptions;
}

/** A handler may set these on its output to choose the status (206, 202…) or add raw headers. */
export const HTTP_STATUS: unique symbol = Symbol.for('hanul.rest-xml.status');
export const HTTP_HEADERS: unique symbol = Symbol.for('hanul.rest-xml.headers');
/**
 * On inputs with a streaming payload the codec adds the raw request headers
 * and the aws-chunked trailers (readable once the body has ended): S3 checks
 * checksums and lengths the schema does not model.
 */
export const HTTP_REQUEST: unique symbol = Symbol.for('hanul.rest-xml.request');
export interface RestXmlInputExtras {
  [HTTP_REQUEST]?: { headers: HttpRequest['headers']; trailers(): Readonly<Record<string, string>> };
}
export interface RestXmlOutputExtras {
  [HTTP_STATUS]?: number;
  [HTTP_HEADERS]?: Record<string, string>;
}

interface Compiled {
  table: RouteTable;
  /** RestXmlOptions.labelled's routes, and its entries by name (for encoding). */
  templates: readonly TemplateRoute[];
  /** RestXmlOptions.labelled.known's routes, for naming an operation not answered. */
  knownTemplates: readonly TemplateRoute[];
  templateByName: ReadonlyMap<string, RouteEntry>;
  options: RestXmlOptions;
  inputs: Map<string, InputPlan>;
  outputs: Map<string, OutputPlan>;
}

/** A request's bucket/key and route, memoised on the request (peekOperation, decode and raw handlers all ask). */
class Resolved {
  constructor(
    readonly target: S3Target,
    readonly route: RouteEntry | undefined,
    /** A claimed (labelled) request's labels (S3 Control's ResourceArn); empty when no template matched. */
    readonly labels?: ReadonlyMap<string, string>,
  ) {}
}

const NO_TARGET: S3Target = { bucket: undefined, key: undefined, virtualHosted: false };

const compiledByService = new WeakMap<ServiceDefinition, Compiled>();

function compiled(service: ServiceDefinition): Compiled {
  let c = compiledByService.get(service);
  if (!c) {
    const options = (service as RestXmlService).restXml ?? { schemas: [], domains: ['s3.localhost', 'localhost'] };
    const schemas = [...options.schemas];
    for (const spec of Object.values(service.operations)) {
      const s = spec.schema as StaticOperationSchema | undefined;
      if (s && !schemas.includes(s)) schemas.push(s);
    }
    const templates = buildTemplateRoutes(options.labelled?.schemas ?? []);
    const knownTemplates = buildTemplateRoutes(options.labelled?.known?.schemas ?? []);
    c = { table: buildRouteTable(schemas), templates, knownTemplates, templateByName: new Map(templates.map((t) => [t.entry.operation, t.entry])), options, inputs: new Map(), outputs: new Map() };
    compiledByService.set(service, c);
  }
  return c;
}

function resolve(req: HttpRequest, service: ServiceDefinition): Resolved {
  // On the request itself, not in a WeakMap keyed by it: an ephemeron per request costs GC work.
  const memo = req.codecMemo;
  if (memo instanceof Resolved) return memo;
  const c = compiled(service);
  let r: Resolved;
  if (c.options.labelled?.claims(req) === true) {
    const m = matchTemplate(c.templates, req.method, req.rawPath);
    r = new Resolved(NO_TARGET, m?.entry, m?.labels ?? new Map<string, string>());
  } else {
    const target = s3Target(req, c.options.domains);
    r = new Resolved(target, matchRoute(c.table, req.method, target, req));
  }
  req.codecMemo = r;
  return r;
}

/** Bucket and key of a request (for services' raw handlers). */
export function restXmlTarget(req: HttpRequest, service: ServiceDefinition): S3Target {
  return resolve(req, service).target;
}

function methodNotAllowed(method: string, target: S3Target): AwsError {
  const resourceType = target.key !== undefined ? 'OBJECT' : target.bucket !== undefined ? 'BUCKET' : 'SERVICE';
  return new AwsError('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', { Method: method, ResourceType: resourceType });
}

/** A claimed request no answered template names: an operation of that API this service does not answer. */
function labelledNotImplemented(c: Compiled, req: HttpRequest): AwsError {
  const known = c.options.labelled?.known;
  const op = known ? matchTemplate(c.knownTemplates, req.method, req.rawPath)?.entry.operation : undefined;
  return op !== undefined && known ? notImplemented(known.api, op) : new AwsError('NotImplemented', 501, 'This operation is not implemented in hanul yet');
}

function planFor<T>(cache: Map<string, T>, route: RouteEntry, make: (s: StaticOperationSchema) => T): T {
  let p = cache.get(route.operation);
  if (!p) {
    p = make(route.schema);
    cache.set(route.operation, p);
  }
  return p;
}

const DEFAULT_MAX_XML = 2 * 1024 * 1024;

async function decode(req: HttpRequest, service: ServiceDefinition): Promise<DecodedRequest> {
  return decodeNow(req, service);
}

/** Synchronous unless an XML/blob body must be read first (most S3 requests have none, or stream it). */
function decodeNow(req: HttpRequest, service: ServiceDefinition): DecodedRequest | Promise<DecodedRequest> {
  const c = compiled(service);
  const { target, route, labels } = resolve(req, service);
  if (!route) throw labels ? labelledNotImplemented(c, req) : methodNotAllowed(req.method, target);
  const plan = planFor(c.inputs, route, inputPlan);
  const input: Record<string, unknown> = {};
  for (const m of plan.labels) {
    if (labels) input[m.name] = labels.get(m.name);
    else if (m.name === 'Bucket') input['Bucket'] = target.bucket;
    else if (m.name === 'Key') input['Key'] = target.key;
  }
  for (const m of plan.query) {
    // A list in the query is the parameter repeated (UntagResource's tagKeys).
    if (m.type === 'list') {
      const all = req.query.getAll(m.wire);
      if (all.length > 0) input[m.name] = all;
      continue;
    }
    const v = req.query.get(m.wire);
    if (v !== null) input[m.name] = parseWireValue(m, v, m.wire, 'query');
  }
  for (const m of plan.headers) {
    const v = header(req, m.wire);
    if (v === undefined) continue;
    // HTTP ignores a date header it cannot parse (If-Modified-Since, Expires…).
    if (m.type === 'timestamp') {
      const d = parseHttpDate(v);
      if (d) input[m.name] = d;
      continue;
    }
    input[m.name] = parseWireValue(m, v, m.wire, 'header');
  }
  if (plan.prefixHeaders) {
    const { prefix, name } = plan.prefixHeaders;
    const map: Record<string, string> = {};
    let any = false;
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || !k.startsWith(prefix)) continue;
      map[k.slice(prefix.length)] = Array.isArray(v) ? v.join(',') : v;
      any = true;
    }
    if (any) input[name] = map;
  }
  const p = plan.payload;
  if (p) {
    if (p.kind === 'stream') {
      input[p.name] = req.body;
      (input as RestXmlInputExtras)[HTTP_REQUEST] = { headers: req.headers, trailers: () => req.trailers() };
    } else {
      return readBuffered(req, service, c, route.operation, plan.headerNames).then((body) => {
        if (p.kind === 'blob') input[p.name] = new Uint8Array(body);
        else if (p.kind === 'string') input[p.name] = body.toString('utf8');
        else if (body.length > 0) input[p.name] = decodeStructPayload(body, p.schema, p.xmlName);
        return { operation: route.operation, input };
      });
    }
  }
  const whole = plan.body;
  if (whole) {
    return readBuffered(req, service, c, route.operation, plan.headerNames).then((body) => {
      const members = body.length > 0 ? (decodeStructPayload(body, whole.schema, whole.xmlName) as Record<string, unknown> | undefined) : undefined;
      if (members) for (const [k, v] of Object.entries(members)) if (v !== undefined && !(k in input)) input[k] = v;
      return { operation: route.operation, input };
    });
  }
  return { operation: route.operation, input };
}

/** A whole non-streaming payload, within the operation's limit, checked against its digest headers. */
async function readBuffered(req: HttpRequest, service: ServiceDefinition, c: Compiled, operation: string, bound: ReadonlySet<string>): Promise<Buffer> {
  const limit = service.operations[operation]?.maxBodyBytes ?? c.options.maxXmlBytes ?? DEFAULT_MAX_XML;
  const body = await readAll(req.body, limit, () => new AwsError('MaxMessageLengthExceeded', 400, 'Your request was too big.'));
  if (c.options.checkPayload) await c.options.checkPayload(req.headers, body, bound);
  return body;
}

function parseHttpDate(v: string): Date | undefined {
  const d = new Date(v.trim());
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function decodeStructPayload(body: Buffer, schema: Parameters<typeof readShape>[0], xmlName: string): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  const doc = parseXmlDocument(text);
  const roots = Object.keys(doc).filter((k) => k !== '#text');
  if (roots.length !== 1 || roots[0] !== xmlName) {
    throw new AwsError('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema');
  }
  return readShape(schema, doc[xmlName]);
}

function baseHeaders(ctx: EncodeContext): Record<string, string> {
  const h: Record<string, string> = { 'x-amz-request-id': ctx.requestId };
  if (ctx.hostId) h['x-amz-id-2'] = ctx.hostId;
  return h;
}

function encode(output: unknown, operation: string, service: ServiceDefinition, ctx: EncodeContext): HttpResponse {
  const c = compiled(service);
  const route = c.table.byName.get(operation) ?? c.templateByName.get(operation);
  const headers = baseHeaders(ctx);
  const out = (output ?? {}) as Record<string, unknown> & RestXmlOutputExtras;
  if (!route) return { status: out[HTTP_STATUS] ?? 200, headers };
  const plan = planFor(c.outputs, route, outputPlan);
  for (const m of plan.headers) {
    const v = formatHeaderValue(m, out[m.name]);
    if (v !== undefined) headers[m.wire] = v;
  }
  if (plan.prefixHeaders) {
    const map = out[plan.prefixHeaders.name] as Record<string, string> | undefined;
    if (map) for (const [k, v] of Object.entries(map)) headers[plan.prefixHeaders.prefix + k.toLowerCase()] = v;
  }
  const extra = out[HTTP_HEADERS];
  if (extra) Object.assign(headers, extra);
  const status = out[HTTP_STATUS] ?? plan.status;
  const res: HttpResponse = { status, headers };
  const p = plan.payload;
  if (p) {
    const v = out[p.name];
    if (v === undefined || v === null) return res;
    if (p.kind === 'struct') {
      headers['content-type'] = 'application/xml';
      res.body = xmlDocument(p.schema, v, p.xmlName);
    } else {
      res.body = v as HttpResponse['body'];
    }
    return res;
  }
  if (plan.bodyMembers > 0 && status !== 204) {
    headers['content-type'] = 'application/xml';
    if (operation === 'GetBucketLocation') {
      // The one S3 output whose root element *is* its only member.
      const loc = typeof out['LocationConstraint'] === 'string' ? out['LocationConstraint'] : '';
      res.body = `${XML_DECLARATION}${loc ? `<LocationConstraint xmlns="${S3_XMLNS}">${escapeXml(loc)}</LocationConstraint>` : `<LocationConstraint xmlns="${S3_XMLNS}"/>`}`;
    } else {
      res.body = xmlDocument(plan.schema, out, plan.rootName);
    }
  }
  return res;
}

function encodeError(err: AwsError, _service: ServiceDefinition, ctx: EncodeContext): HttpResponse {
  const headers: Record<string, string> = { ...err.headers, ...baseHeaders(ctx) };
  // 304 carries no body; HEAD responses lose theirs in the HTTP layer.
  if (err.status === 304) return { status: 304, headers };
  const parts = [XML_DECLARATION, '<Error><Code>', escapeXml(err.code), '</Code><Message>', escapeXml(err.message), '</Message>'];
  for (const [k, v] of Object.entries(err.fields)) {
    if (v === undefined) continue;
    parts.push(`<${k}>${escapeXml(String(v))}</${k}>`);
  }
  parts.push('<RequestId>', escapeXml(ctx.requestId), '</RequestId>');
  if (ctx.hostId) parts.push('<HostId>', escapeXml(ctx.hostId), '</HostId>');
  parts.push('</Error>');
  headers['content-type'] = 'application/xml';
  return { status: err.status, headers, body: parts.join('') };
}

export const restXmlCodec: ProtocolCodec = {
  peekOperation(req, service) {
    const { target, route } = resolve(req, service);
    if (route) return route.operation;
    const form = compiled(service).options.formPostOperation;
    if (form && req.method === 'POST' && target.bucket !== undefined && target.key === undefined) return form;
    return undefined;
  },
  decode,
  decodeNow,
  encode,
  encodeError,
};
