/**
 * S3 request routing: which bucket and key a request names (path-style or
 * virtual-hosted-style) and which operation (method + key presence + query
 * subresources + a few headers). The operation table is built once from the
 * official Smithy schemas' `http` traits, e.g. ["PUT", "/{Key+}?x-id=PutObject", 200];
 * `x-id` is only the JS SDK's hint (the CLI and boto3 do not send it), so a
 * route is chosen by its literal subresources, required query members and
 * required headers: the most specific match wins.
 */
import { NormalizedSchema } from '@smithy/core/schema';
import { AwsError } from '../errors.js';
import type { HttpRequest } from '../http.js';

/** A Smithy static operation schema: [9, namespace, name, traits, input, output]. */
export type StaticOperationSchema = readonly [9, string, string, { http?: [string, string, number] } & Record<string, unknown>, () => unknown, () => unknown];

export interface RouteEntry {
  operation: string;
  schema: StaticOperationSchema;
  method: string;
  /** Whether the operation addresses a bucket / an object key. */
  bucket: boolean;
  key: boolean;
  /** Query subresources that must be present (value checked when the trait gives one). */
  literals: ReadonlyArray<readonly [string, string | undefined]>;
  requiredQuery: readonly string[];
  requiredHeaders: readonly string[];
  /** The SDK's `x-id` literal: a tie-breaker only. */
  xId: string | undefined;
  status: number;
  score: number;
}

export interface RouteTable {
  /** `${method} ${bucket?1:0}${key?1:0}` → candidates, most specific first. */
  readonly groups: ReadonlyMap<string, readonly RouteEntry[]>;
  readonly byName: ReadonlyMap<string, RouteEntry>;
}

/** Operations a request without x-id should not land on when they tie with a common one. */
const DEPRIORITIZED = new Set(['ListDirectoryBuckets']);

export function isOperationSchema(v: unknown): v is StaticOperationSchema {
  return Array.isArray(v) && v[0] === 9 && typeof v[2] === 'string' && typeof v[3] === 'object' && v[3] !== null && Array.isArray((v[3] as { http?: unknown }).http);
}

export function buildRouteTable(schemas: Iterable<StaticOperationSchema>): RouteTable {
  const groups = new Map<string, RouteEntry[]>();
  const byName = new Map<string, RouteEntry>();
  for (const schema of schemas) {
    const http = schema[3].http;
    if (!http) continue;
    const [method, uri, status] = http;
    const q = uri.indexOf('?');
    const path = q < 0 ? uri : uri.slice(0, q);
    const literals: Array<[string, string | undefined]> = [];
    let xId: string | undefined;
    if (q >= 0) {
      for (const part of uri.slice(q + 1).split('&')) {
        const eq = part.indexOf('=');
        const name = eq < 0 ? part : part.slice(0, eq);
        const value = eq < 0 ? undefined : part.slice(eq + 1);
        if (name === 'x-id') xId = value;
        else literals.push([name, value]);
      }
    }
    const input = NormalizedSchema.of(schema[4]() as never);
    const requiredCount = requiredMemberCount(input);
    const requiredQuery: string[] = [];
    const requiredHeaders: string[] = [];
    let bucket = false;
    let i = 0;
    for (const [name, member] of input.isStructSchema() ? input.structIterator() : []) {
      const t = member.getMergedTraits();
      if (name === 'Bucket' && t.httpLabel) bucket = true;
      if (i++ < requiredCount) {
        if (typeof t.httpQuery === 'string') requiredQuery.push(t.httpQuery);
        if (typeof t.httpHeader === 'string') requiredHeaders.push(t.httpHeader.toLowerCase());
      }
    }
    // WriteGetObjectResponse is the only path with a fixed segment; it is an Object Lambda call we do not route.
    if (path !== '/' && path !== '/{Key+}') continue;
    const entry: RouteEntry = {
      operation: schema[2],
      schema,
      method,
      bucket,
      key: path === '/{Key+}',
      literals,
      requiredQuery,
      requiredHeaders,
      xId,
      status,
      score: literals.length + requiredQuery.length + requiredHeaders.length,
    };
    byName.set(entry.operation, entry);
    const g = `${method} ${bucket ? 1 : 0}${entry.key ? 1 : 0}`;
    const list = groups.get(g) ?? [];
    list.push(entry);
    groups.set(g, list);
  }
  for (const list of groups.values()) {
    list.sort((a, b) => b.score - a.score || Number(DEPRIORITIZED.has(a.operation)) - Number(DEPRIORITIZED.has(b.operation)) || a.operation.localeCompare(b.operation));
  }
  return { groups, byName };
}

/** Smithy static structure schemas end with the number of leading required members. */
function requiredMemberCount(ns: NormalizedSchema): number {
  const sc = ns.getSchema() as unknown;
  if (Array.isArray(sc) && sc[0] === 3 && typeof sc[6] === 'number') return sc[6];
  return 0;
}

/** The operation a request names, or undefined when none does. */
export function matchRoute(table: RouteTable, method: string, target: S3Target, req: Pick<HttpRequest, 'query' | 'headers'>): RouteEntry | undefined {
  const list = table.groups.get(`${method} ${target.bucket !== undefined ? 1 : 0}${target.key !== undefined ? 1 : 0}`);
  if (!list) return undefined;
  const xId = req.query.get('x-id');
  let best: RouteEntry | undefined;
  for (const e of list) {
    if (best && e.score < best.score) break;
    if (!matches(e, req)) continue;
    if (!best) best = e;
    else if (xId !== null && e.xId === xId) best = e;
  }
  return best;
}

function matches(e: RouteEntry, req: Pick<HttpRequest, 'query' | 'headers'>): boolean {
  for (const [name, value] of e.literals) {
    const v = req.query.get(name);
    if (v === null || (value !== undefined && v !== value)) return false;
  }
  for (const name of e.requiredQuery) if (!req.query.has(name)) return false;
  // A header tells operations apart only where no subresource does (CopyObject vs PutObject);
  // otherwise a missing required header is the operation's own validation error.
  if (e.literals.length === 0) for (const name of e.requiredHeaders) if (req.headers[name] === undefined) return false;
  return true;
}

/** Bucket and key a request addresses. `key` is decoded exactly once from the raw path. */
export interface S3Target {
  bucket: string | undefined;
  key: string | undefined;
  virtualHosted: boolean;
}

export function invalidUri(): AwsError {
  return new AwsError('InvalidURI', 400, "Couldn't parse the specified URI.");
}

/**
 * Percent-decodes one raw path piece. `+` stays a literal plus (paths are not
 * form-encoded); bad escapes and invalid UTF-8 (incl. encoded surrogates) are
 * InvalidURI. NUL cannot be stored as a key, so it is refused here too.
 */
export function decodePathPart(raw: string): string {
  if (!raw.includes('%')) return raw;
  let s: string;
  try {
    s = decodeURIComponent(raw);
  } catch {
    throw invalidUri();
  }
  if (s.includes('\0')) throw invalidUri();
  return s;
}

/**
 * Virtual-hosted-style when the Host is `<bucket>.<domain>` for one of the
 * domains (longest first, so `b.s3.localhost` names bucket `b`, not `b.s3`);
 * otherwise path-style `/<bucket>/<key>`.
 */
export function s3Target(req: Pick<HttpRequest, 'hostname' | 'rawPath'>, domains: readonly string[]): S3Target {
  const host = req.hostname;
  const raw = req.rawPath;
  if (!raw.startsWith('/')) throw invalidUri();
  // A bare service host (`s3.localhost`) is path-style, though it ends in another domain.
  for (const d of domains) {
    if (host === d) break;
    if (host.length > d.length + 1 && host.endsWith(d) && host.charCodeAt(host.length - d.length - 1) === 46 /* . */) {
      const bucket = host.slice(0, host.length - d.length - 1);
      return { bucket, key: raw.length > 1 ? decodePathPart(raw.slice(1)) : undefined, virtualHosted: true };
    }
  }
  const slash = raw.indexOf('/', 1);
  const bucketRaw = slash < 0 ? raw.slice(1) : raw.slice(1, slash);
  if (bucketRaw === '') return { bucket: undefined, key: undefined, virtualHosted: false };
  let keyRaw = slash < 0 ? '' : raw.slice(slash + 1);
  // The SDKs' path-style URL for a directory bucket (an IP endpoint) is `/<bucket>/` + `/<key>`: one slash too many.
  if (keyRaw.startsWith('/') && bucketRaw.endsWith('--x-s3')) keyRaw = keyRaw.slice(1);
  return { bucket: decodePathPart(bucketRaw), key: keyRaw === '' ? undefined : decodePathPart(keyRaw), virtualHosted: false };
}

/** The domains virtual-hosted-style requests may use, longest first. */
export function virtualHostDomains(extra: readonly (string | undefined)[]): string[] {
  const set = new Set(['localhost', 's3.localhost']);
  for (const d of extra) {
    if (!d) continue;
    const lower = d.toLowerCase().replace(/^\.+|\.+$/g, '');
    if (lower) {
      set.add(lower);
      set.add(`s3.${lower}`);
    }
  }
  return [...set].sort((a, b) => b.length - a.length);
}

/**
 * An operation addressed by a path template with labels rather than by bucket
 * and key: S3 Control's `/v20180820/tags/{ResourceArn+}`, which hanul's S3
 * answers for bucket tags. Built from the schemas' `http` traits.
 */
export interface TemplateRoute {
  entry: RouteEntry;
  segments: ReadonlyArray<{ literal: string } | { label: string; greedy: boolean }>;
}

export function buildTemplateRoutes(schemas: Iterable<StaticOperationSchema>): TemplateRoute[] {
  const out: TemplateRoute[] = [];
  for (const schema of schemas) {
    const http = schema[3].http;
    if (!http) continue;
    const [method, uri, status] = http;
    const path = uri.split('?', 1)[0] ?? '';
    const segments = path
      .split('/')
      .slice(1)
      .map((s) => (s.startsWith('{') && s.endsWith('}') ? { label: s.slice(1, s.endsWith('+}') ? -2 : -1), greedy: s.endsWith('+}') } : { literal: s }));
    const entry: RouteEntry = { operation: schema[2], schema, method, bucket: false, key: false, literals: [], requiredQuery: [], requiredHeaders: [], xId: undefined, status, score: 0 };
    out.push({ entry, segments });
  }
  return out;
}

/** The template route a request's method and raw path name, with its labels decoded (a greedy label keeps its slashes). */
export function matchTemplate(routes: readonly TemplateRoute[], method: string, rawPath: string): { entry: RouteEntry; labels: Map<string, string> } | undefined {
  const parts = rawPath.split('/').slice(1);
  for (const r of routes) {
    if (r.entry.method !== method) continue;
    const labels = new Map<string, string>();
    let i = 0;
    let ok = true;
    for (let s = 0; s < r.segments.length && ok; s++) {
      const seg = r.segments[s] as TemplateRoute['segments'][number];
      if ('literal' in seg) {
        ok = parts[i] === seg.literal;
        i++;
      } else {
        const take = seg.greedy ? parts.length - i - (r.segments.length - s - 1) : 1;
        const piece = parts.slice(i, i + take);
        ok = take >= 1 && piece.every((p) => p !== '');
        if (ok) labels.set(seg.label, piece.map(decodePathPart).join('/'));
        i += take;
      }
    }
    if (ok && i === parts.length) return { entry: r.entry, labels };
  }
  return undefined;
}
