/**
 * Bucket CORS: Put/Get/DeleteBucketCors with S3's validation, the preflight
 * `OPTIONS` answer (unauthenticated: browsers never sign a preflight), and the
 * CORS headers S3 adds to actual responses, success or error. Rules are tried
 * in order; the first whose origin and method (and, for a preflight, every
 * requested header) match decides, as S3 does.
 */
import type { CORSRule, DeleteBucketCorsRequest, GetBucketCorsOutput, GetBucketCorsRequest, PutBucketCorsRequest } from '@aws-sdk/client-s3';
import { header, type HttpRequest, type HttpResponse } from '../../aws/http.js';
import { s3HostId } from '../../lib/ids.js';
import type { RequestContext } from '../../server/context.js';
import { malformedXml, s3Error } from './errors.js';
import { type BucketRecord, type CorsRule, NS_BUCKETS } from './model.js';
import { requireBucket, type S3 } from './state.js';

const MAX_RULES = 100;
const METHODS = new Set(['GET', 'PUT', 'HEAD', 'POST', 'DELETE']);
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

function wildcards(s: string): number {
  let n = 0;
  for (const c of s) if (c === '*') n++;
  return n;
}

/** Validates a CORS configuration as S3 does; returns the rules to store. */
export function checkCorsRules(rules: readonly CORSRule[] | undefined): CorsRule[] {
  if (!rules || rules.length === 0) throw malformedXml();
  if (rules.length > MAX_RULES) throw s3Error('InvalidRequest', `The number of CORS rules should not exceed allowed limit of ${MAX_RULES} rules.`);
  return rules.map((r) => {
    const methods = r.AllowedMethods ?? [];
    const origins = r.AllowedOrigins ?? [];
    if (methods.length === 0 || origins.length === 0) throw malformedXml();
    for (const m of methods) if (!METHODS.has(m)) throw s3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    for (const o of origins) if (wildcards(o) > 1) throw s3Error('InvalidRequest', `AllowedOrigin "${o}" can not have more than one wildcard.`);
    for (const h of r.AllowedHeaders ?? []) if (wildcards(h) > 1) throw s3Error('InvalidRequest', `AllowedHeader "${h}" can not have more than one wildcard.`);
    for (const h of r.ExposeHeaders ?? []) if (h.includes('*')) throw s3Error('InvalidRequest', `ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
    if (r.ID !== undefined && r.ID.length > 255) throw s3Error('InvalidArgument', 'The ID of a CORS rule must be at most 255 characters long', { ArgumentName: 'ID' });
    if (r.MaxAgeSeconds !== undefined && (!Number.isInteger(r.MaxAgeSeconds) || r.MaxAgeSeconds < 0)) throw malformedXml();
    const rule: CorsRule = { AllowedMethods: [...methods], AllowedOrigins: [...origins] };
    if (r.ID !== undefined) rule.ID = r.ID;
    if (r.AllowedHeaders?.length) rule.AllowedHeaders = [...r.AllowedHeaders];
    if (r.ExposeHeaders?.length) rule.ExposeHeaders = [...r.ExposeHeaders];
    if (r.MaxAgeSeconds !== undefined) rule.MaxAgeSeconds = r.MaxAgeSeconds;
    return rule;
  });
}

export async function putBucketCors(s3: S3, input: PutBucketCorsRequest, ctx: RequestContext): Promise<Record<string, never>> {
  if (!input.CORSConfiguration) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const cors = checkCorsRules(input.CORSConfiguration.CORSRules);
  await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    await tx.put(NS_BUCKETS, bucket.name, { ...bucket, cors });
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}

export async function getBucketCors(s3: S3, input: GetBucketCorsRequest, ctx: RequestContext): Promise<GetBucketCorsOutput> {
  const bucket = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!bucket.cors) throw s3Error('NoSuchCORSConfiguration', 'The CORS configuration does not exist', { BucketName: bucket.name });
  return { CORSRules: bucket.cors };
}

export async function deleteBucketCors(s3: S3, input: DeleteBucketCorsRequest, ctx: RequestContext): Promise<Record<string, never>> {
  await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    const { cors: _drop, ...rest } = bucket;
    await tx.put(NS_BUCKETS, bucket.name, rest);
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}

/** `pattern` with at most one `*` (any run of characters) against `value`. */
function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

export interface Match {
  rule: CorsRule;
  /** The rule allowed every origin: S3 answers `*` and no credentials. */
  anyOrigin: boolean;
}

export function matchCorsRule(rules: readonly CorsRule[], origin: string, method: string, requestHeaders: readonly string[] | undefined): Match | undefined {
  for (const rule of rules) {
    if (!(rule.AllowedMethods ?? []).includes(method)) continue;
    const origins = rule.AllowedOrigins ?? [];
    const hit = origins.find((o) => wildcardMatch(o, origin));
    if (hit === undefined) continue;
    if (requestHeaders) {
      const allowed = (rule.AllowedHeaders ?? []).map((h) => h.toLowerCase());
      if (!requestHeaders.every((h) => allowed.some((a) => wildcardMatch(a, h)))) continue;
    }
    return { rule, anyOrigin: hit === '*' };
  }
  return undefined;
}

function corsHeaders(m: Match, origin: string, into: Record<string, string | string[]>): void {
  into['access-control-allow-origin'] = m.anyOrigin ? '*' : origin;
  into['access-control-allow-methods'] = (m.rule.AllowedMethods ?? []).join(', ');
  if (m.rule.ExposeHeaders?.length) into['access-control-expose-headers'] = m.rule.ExposeHeaders.join(', ');
  if (m.rule.MaxAgeSeconds !== undefined) into['access-control-max-age'] = String(m.rule.MaxAgeSeconds);
  if (!m.anyOrigin) into['access-control-allow-credentials'] = 'true';
  into['vary'] = VARY;
}

function forbidden(message: string, method: string, key: string | undefined) {
  return s3Error('AccessForbidden', `CORSResponse: ${message}`, { Method: method, ResourceType: key === undefined ? 'BUCKET' : 'OBJECT' });
}

/** Answers a preflight `OPTIONS` on a bucket or object (no signature, no policy: S3 checks only the CORS rules). */
export async function preflight(s3: S3, req: HttpRequest, bucketName: string | undefined, key: string | undefined, requestId: string): Promise<HttpResponse> {
  const origin = header(req, 'origin');
  if (origin === undefined) throw s3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  const method = header(req, 'access-control-request-method');
  const bucket = bucketName ? await s3.buckets.get(s3, bucketName) : undefined;
  if (!bucket) throw forbidden('Bucket not found', method ?? 'OPTIONS', key);
  if (!bucket.cors) throw forbidden('CORS is not enabled for this bucket.', method ?? 'OPTIONS', key);
  if (method === undefined) throw s3Error('BadRequest', 'Invalid Access-Control-Request-Method: null');
  const raw = header(req, 'access-control-request-headers');
  const requested = raw === undefined ? [] : raw.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  const m = matchCorsRule(bucket.cors, origin, method, requested);
  if (!m) {
    throw forbidden(
      "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      method,
      key,
    );
  }
  const headers: Record<string, string | string[]> = { 'x-amz-request-id': requestId, 'x-amz-id-2': s3HostId() };
  corsHeaders(m, origin, headers);
  if (requested.length > 0) headers['access-control-allow-headers'] = requested.join(', ');
  return { status: 200, headers };
}

/** Adds the matching rule's headers to an actual (non-preflight) response; no match, no headers. */
export async function addCorsHeaders(s3: S3, req: HttpRequest, bucketName: string | undefined, res: HttpResponse): Promise<void> {
  const origin = header(req, 'origin');
  if (origin === undefined || bucketName === undefined || req.method === 'OPTIONS') return;
  let bucket: BucketRecord | undefined;
  try {
    bucket = await s3.buckets.get(s3, bucketName);
  } catch {
    return;
  }
  if (!bucket?.cors) return;
  const m = matchCorsRule(bucket.cors, origin, req.method, undefined);
  if (m) corsHeaders(m, origin, res.headers);
}
