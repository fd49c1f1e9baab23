import type { NormalizedSchema } from '@smithy/core/schema';
import { AwsError, commonError } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import { header } from '../http.js';
import type { OperationSpec, ServiceDefinition } from '../service.js';
import { parseJsonBody } from './aws-json.js';
import type { DecodedRequest, ProtocolCodec } from './codec.js';
import type { Reader, Writer } from './json-shapes.js';
import { REST_JSON, ShapeError, compileReader, compileWriter } from './json-shapes.js';
import { maxBodyBytes, operationShapes } from './operation.js';
import { decodeBase64, encodeBase64, readBody } from './wire.js';

/**
 * restJson1: the operation is found by method + path template (the `http`
 * trait), members bind to labels, query, headers, the status code or the
 * payload, and the rest travel as one JSON body (jsonName honoured).
 */

type Seg = { lit: string } | { label: string; greedy: boolean };
interface Route {
  operation: string;
  spec: OperationSpec;
  method: string;
  segs: Seg[];
  /** Literal query in the template: `?x-id=GetObject`, `?uploads` (value undefined). */
  queryLits: [string, string | undefined][];
  code: number;
  rank: number;
}

const routeCache = new WeakMap<object, Route[]>();

function routes(service: ServiceDefinition): Route[] {
  const hit = routeCache.get(service.operations);
  if (hit) return hit;
  const out: Route[] = [];
  for (const [operation, spec] of Object.entries(service.operations)) {
    const http = operationShapes(spec.schema)?.traits['http'];
    if (!Array.isArray(http) || typeof http[0] !== 'string' || typeof http[1] !== 'string') continue;
    const [path = '', q] = http[1].split('?', 2);
    const segs: Seg[] = path
      .split('/')
      .slice(1)
      .map((s) => (s.startsWith('{') && s.endsWith('}') ? { label: s.slice(1, s.endsWith('+}') ? -2 : -1), greedy: s.endsWith('+}') } : { lit: s }));
    const queryLits: [string, string | undefined][] = q ? q.split('&').map((kv) => (kv.includes('=') ? (kv.split('=', 2) as [string, string]) : [kv, undefined])) : [];
    const lits = segs.filter((s) => 'lit' in s).length;
    const greedy = segs.some((s) => 'greedy' in s && s.greedy);
    // The most specific template wins: more literal segments, no greedy label, more literal query.
    out.push({ operation, spec, method: http[0].toUpperCase(), segs, queryLits, code: typeof http[2] === 'number' ? http[2] : 200, rank: lits * 1000 - (greedy ? 500 : 0) + queryLits.length });
  }
  out.sort((a, b) => b.rank - a.rank);
  routeCache.set(service.operations, out);
  return out;
}

function match(req: HttpRequest, service: ServiceDefinition): { route: Route; labels: Map<string, string> } | undefined {
  let path = req.rawPath;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const parts = path.split('/').slice(1);
  for (const route of routes(service)) {
    if (route.method !== req.method) continue;
    if (!route.queryLits.every(([k, v]) => (v === undefined ? req.query.has(k) : req.query.get(k) === v))) continue;
    const labels = matchPath(route.segs, parts);
    if (labels) return { route, labels };
  }
  return undefined;
}

function matchPath(segs: Seg[], parts: string[]): Map<string, string> | undefined {
  const labels = new Map<string, string>();
  let i = 0;
  for (let s = 0; s < segs.length; s++) {
    const seg = segs[s] as Seg;
    if ('lit' in seg) {
      if (parts[i] === undefined || safeDecode(parts[i] as string) !== seg.lit) return undefined;
      i++;
    } else if (seg.greedy) {
      const rest = segs.length - s - 1;
      const take = parts.length - i - rest;
      if (take < 1) return undefined;
      labels.set(seg.label, parts.slice(i, i + take).map(safeDecode).join('/'));
      i += take;
    } else {
      if (parts[i] === undefined || parts[i] === '') return undefined;
      labels.set(seg.label, safeDecode(parts[i] as string));
      i++;
    }
  }
  return i === parts.length ? labels : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a malformed escape then simply matches nothing
  }
}

type Location = 'label' | 'query' | 'header';

/** A bound member's string → typed value (labels/query: ISO timestamps; headers: HTTP dates). */
function fromString(ns: NormalizedSchema, where: Location): (s: string) => unknown {
  if (ns.isBooleanSchema()) return (s) => (s === 'true' ? true : s === 'false' ? false : bad('a boolean', s));
  if (ns.isNumericSchema() || ns.isBigIntegerSchema() || ns.isBigDecimalSchema()) {
    return (s) => (s.trim() !== '' && !Number.isNaN(Number(s)) ? Number(s) : s === 'NaN' ? NaN : bad('a number', s));
  }
  if (ns.isTimestampSchema()) {
    const f = ns.getSchema();
    return (s) => {
      const d = f === 7 || (f === 4 && /^\d+(\.\d+)?$/.test(s)) ? new Date(Math.round(Number(s) * 1000)) : new Date(s);
      return Number.isNaN(d.getTime()) ? bad(where === 'header' ? 'an HTTP date' : 'an ISO 8601 timestamp', s) : d;
    };
  }
  if (ns.isBlobSchema()) {
    return (s) => {
      const r = decodeBase64(s);
      return Buffer.isBuffer(r) ? r : bad('base64', s);
    };
  }
  if (where === 'header' && ns.getMergedTraits().mediaType) {
    // A header can't carry JSON text, so Smithy base64-encodes @mediaType strings there.
    return (s) => {
      const r = decodeBase64(s);
      return Buffer.isBuffer(r) ? r.toString('utf8') : bad('base64', s);
    };
  }
  return (s) => s;
}

function bad(expected: string, s: string): never {
  throw new ShapeError(`'${s.slice(0, 64)}' is not ${expected}`);
}

function toString(ns: NormalizedSchema, v: unknown): string {
  if (v instanceof Date) return ns.getSchema() === 7 ? String(v.getTime() / 1000) : ns.getSchema() === 5 ? v.toISOString() : v.toUTCString();
  if (v instanceof Uint8Array) return encodeBase64(v);
  if (typeof v === 'string' && ns.getMergedTraits().mediaType) return Buffer.from(v, 'utf8').toString('base64');
  return String(v);
}

interface Plan {
  decode(req: HttpRequest, labels: Map<string, string>, limit: number): Promise<Record<string, unknown>>;
  encode(output: Record<string, unknown>): { status?: number; headers: Record<string, string>; body?: HttpResponse['body']; contentType?: string };
}

const planCache = new WeakMap<object, Plan>();

const isBodyMember = (m: NormalizedSchema): boolean => {
  const t = m.getMergedTraits();
  return !(t.httpLabel || t.httpQuery || t.httpQueryParams || t.httpHeader || t.httpPrefixHeaders || t.httpPayload || t.httpResponseCode);
};

function plan(spec: OperationSpec): Plan | undefined {
  const schema = spec.schema;
  if (schema === null || typeof schema !== 'object') return undefined;
  const cached = planCache.get(schema);
  if (cached) return cached;
  const shapes = operationShapes(schema);
  if (!shapes) return undefined;
  type Step = (req: HttpRequest, labels: Map<string, string>, out: Record<string, unknown>, bound: Set<string>) => void;
  const steps: Step[] = [];
  let payload: { name: string; ns: NormalizedSchema; read?: Reader } | undefined;
  let hasBody = false;
  const input = shapes.input;
  if (input.isStructSchema()) {
    for (const [name, m] of input.structIterator()) {
      const t = m.getMergedTraits();
      const parse = (where: Location) => fromString(m.isListSchema() ? m.getValueSchema() : m, where);
      if (t.httpLabel) {
        const p = parse('label');
        steps.push((_r, labels, out) => {
          const v = labels.get(name);
          if (v !== undefined) out[name] = p(v);
        });
      } else if (typeof t.httpQuery === 'string') {
        const key = t.httpQuery;
        const p = parse('query');
        steps.push((req, _l, out, bound) => {
          bound.add(key);
          const all = req.query.getAll(key);
          if (all.length) out[name] = m.isListSchema() ? all.map(p) : p(all[0] as string);
        });
      } else if (typeof t.httpHeader === 'string') {
        const key = t.httpHeader.toLowerCase();
        const p = parse('header');
        steps.push((req, _l, out) => {
          const v = header(req, key);
          if (v !== undefined) out[name] = m.isListSchema() ? v.split(',').map((x) => p(x.trim())) : p(v);
        });
      } else if (typeof t.httpPrefixHeaders === 'string') {
        const prefix = t.httpPrefixHeaders.toLowerCase();
        steps.push((req, _l, out) => {
          const map: Record<string, string> = {};
          for (const k of Object.keys(req.headers)) if (k.startsWith(prefix) && k !== prefix) map[k.slice(prefix.length)] = header(req, k) as string;
          if (Object.keys(map).length) out[name] = map;
        });
      } else if (t.httpPayload) {
        payload = { name, ns: m, ...(m.isStructSchema() || m.isDocumentSchema() ? { read: compileReader(m, REST_JSON) } : {}) };
      } else if (!t.httpQueryParams) {
        hasBody = true;
      }
    }
    // Query params no other member claimed, last, once the claims are known.
    for (const [name, m] of input.structIterator()) {
      if (!m.getMergedTraits().httpQueryParams) continue;
      const list = m.getValueSchema().isListSchema();
      steps.push((req, _l, out, bound) => {
        const map: Record<string, unknown> = {};
        for (const k of new Set(req.query.keys())) if (!bound.has(k)) map[k] = list ? req.query.getAll(k) : req.query.get(k);
        if (Object.keys(map).length) out[name] = map;
      });
    }
  }
  const bodyReader = hasBody ? compileReader(input, REST_JSON, isBodyMember) : undefined;
  const output = shapes.output;
  const outMembers = output.isStructSchema() ? [...output.structIterator()] : [];
  const outPayload = outMembers.find(([, m]) => m.getMergedTraits().httpPayload);
  const payloadWriter = outPayload && (outPayload[1].isStructSchema() || outPayload[1].isDocumentSchema()) ? compileWriter(outPayload[1], REST_JSON) : undefined;
  const bodyWriter: Writer | undefined = !outPayload && outMembers.some(([, m]) => isBodyMember(m)) ? compileWriter(output, REST_JSON, isBodyMember) : undefined;

  const p: Plan = {
    async decode(req, labels, limit) {
      const out: Record<string, unknown> = {};
      const bound = new Set<string>();
      for (const step of steps) step(req, labels, out, bound);
      if (payload) {
        if (payload.ns.isStreaming()) {
          out[payload.name] = req.body; // streamed to the handler, never buffered here
        } else {
          const body = await readBody(req, limit);
          if (body.length > 0) {
            if (payload.read) out[payload.name] = payload.read(parseJsonBody(body));
            else out[payload.name] = payload.ns.isStringSchema() ? body.toString('utf8') : body;
          }
        }
      } else if (bodyReader) {
        Object.assign(out, bodyReader(parseJsonBody(await readBody(req, limit))));
      }
      return out;
    },
    encode(o) {
      const headers: Record<string, string> = {};
      let status: number | undefined;
      for (const [name, m] of outMembers) {
        const v = o[name];
        if (v === undefined || v === null) continue;
        const t = m.getMergedTraits();
        if (t.httpResponseCode) status = Number(v);
        else if (typeof t.httpHeader === 'string') {
          headers[t.httpHeader.toLowerCase()] = Array.isArray(v) ? v.map((x) => toString(m.getValueSchema(), x)).join(', ') : toString(m, v);
        } else if (typeof t.httpPrefixHeaders === 'string') {
          for (const [k, x] of Object.entries(v as Record<string, unknown>)) headers[`${t.httpPrefixHeaders}${k}`.toLowerCase()] = String(x);
        }
      }
      if (outPayload) {
        const [name, m] = outPayload;
        const v = o[name];
        const mt = m.getMergedTraits().mediaType;
        const ct = typeof mt === 'string' ? mt : payloadWriter ? 'application/json' : m.isStringSchema() ? 'text/plain' : 'application/octet-stream';
        if (v === undefined || v === null) return { ...(status !== undefined ? { status } : {}), headers };
        const body = payloadWriter ? JSON.stringify(payloadWriter(v)) : (v as HttpResponse['body']);
        return { ...(status !== undefined ? { status } : {}), headers, body, contentType: ct };
      }
      if (bodyWriter) return { ...(status !== undefined ? { status } : {}), headers, body: JSON.stringify(bodyWriter(o)), contentType: 'application/json' };
      return { ...(status !== undefined ? { status } : {}), headers };
    },
  };
  planCache.set(schema, p);
  return p;
}

function noRoute(req: HttpRequest): AwsError {
  return commonError('UnknownOperationException', `No operation matches ${req.method} ${req.rawPath.slice(0, 256)}`);
}

export const restJsonCodec: ProtocolCodec = {
  peekOperation(req, service) {
    return match(req, service)?.route.operation;
  },

  async decode(req, service): Promise<DecodedRequest> {
    const m = match(req, service);
    if (!m) throw noRoute(req);
    const { route, labels } = m;
    const p = plan(route.spec);
    if (!p) {
      const body = await readBody(req, maxBodyBytes(route.spec));
      return { operation: route.operation, input: parseJsonBody(body) };
    }
    try {
      return { operation: route.operation, input: await p.decode(req, labels, maxBodyBytes(route.spec)) };
    } catch (e) {
      if (e instanceof ShapeError) throw commonError('SerializationException', e.describe());
      if (e instanceof RangeError) throw commonError('SerializationException', 'Request body is nested too deeply');
      throw e;
    }
  },

  encode(output, operation, service, ctx) {
    const spec = Object.hasOwn(service.operations, operation) ? service.operations[operation] : undefined;
    const route = spec ? routes(service).find((r) => r.spec === spec) : undefined;
    const p = spec ? plan(spec) : undefined;
    const o = (output ?? {}) as Record<string, unknown>;
    if (!p) return { status: route?.code ?? 200, headers: { 'x-amzn-requestid': ctx.requestId, 'content-type': 'application/json' }, body: JSON.stringify(o) };
    const r = p.encode(o);
    const headers: Record<string, string> = { ...r.headers, 'x-amzn-requestid': ctx.requestId };
    if (r.contentType !== undefined) headers['content-type'] = r.contentType;
    return { status: r.status ?? route?.code ?? 200, headers, ...(r.body !== undefined ? { body: r.body } : {}) };
  },

  encodeError(err, _service, ctx) {
    const headers: Record<string, string> = { 'x-amzn-requestid': ctx.requestId, 'x-amzn-errortype': err.code, 'content-type': 'application/json' };
    for (const [k, v] of Object.entries(err.headers)) headers[k.toLowerCase()] = v;
    return { status: err.status, headers, body: JSON.stringify({ ...err.fields, message: err.message }) };
  },
};
