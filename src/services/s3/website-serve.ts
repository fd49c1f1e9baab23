/**
 * The website endpoint: `<bucket>.s3-website.<domain>` (also
 * `s3-website-<region>` and `s3-website.<region>`) on the main port, and any
 * `<bucket>.…` Host on HANUL_WEBSITE_PORT. Anonymous GET/HEAD only, each read
 * authorized as the anonymous principal by the pipeline's IAM authorizer
 * (bucket policy); index documents (also in sub-folders), routing rules,
 * RedirectAllRequestsTo, x-amz-website-redirect-location, the custom error
 * document (served with the original status), and S3's HTML error pages.
 * Objects are read through the REST GET/HEAD handlers, so conditional and
 * range requests behave the same.
 */
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import type { GetObjectOutput, GetObjectRequest, RoutingRule } from '@aws-sdk/client-s3';
import { type AwsError, isAwsError } from '../../aws/errors.js';
import { header, type HttpRequest, type HttpResponse } from '../../aws/http.js';
import { codecFor } from '../../aws/protocols/index.js';
import type { ServiceDefinition } from '../../aws/service.js';
import { s3HostId } from '../../lib/ids.js';
import type { RequestContext } from '../../server/context.js';
import { s3Error } from './errors.js';
import type { BucketRecord } from './model.js';
import { getObject, headObject } from './objects-get.js';
import type { S3 } from './state.js';
import { noSuchWebsiteConfiguration } from './website.js';

const MARK = '.s3-website';

/** Whether a request is for the website endpoint rather than the REST API. */
export function isWebsiteRequest(req: HttpRequest): boolean {
  return req.website === true || req.hostname.includes(MARK);
}

/** Bucket names a website Host may mean, most specific first. */
function bucketCandidates(req: HttpRequest): string[] {
  const host = req.hostname;
  const at = host.indexOf(MARK);
  if (at > 0) return [host.slice(0, at)];
  // On the website port: the whole host (a CNAME'd bucket like www.example.com), else its first label.
  const dot = host.indexOf('.');
  return dot > 0 ? [host, host.slice(0, dot)] : [host];
}

/** The bucket a website request names: its record when it exists, and the name to report. */
export async function websiteBucket(s3: S3, req: HttpRequest): Promise<{ name: string; bucket: BucketRecord | undefined }> {
  const names = bucketCandidates(req);
  for (const name of names) {
    const bucket = await s3.buckets.get(s3, name);
    if (bucket) return { name, bucket };
  }
  return { name: names[0] ?? '', bucket: undefined };
}

const ERROR_DOC_FAILED = 'An Error Occurred While Attempting to Retrieve a Custom Error Document';

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function items(e: AwsError): string {
  const lines = [`<li>Code: ${escapeHtml(e.code)}</li>`, `<li>Message: ${escapeHtml(e.message)}</li>`];
  for (const [k, v] of Object.entries(e.fields)) if (v !== undefined) lines.push(`<li>${escapeHtml(k)}: ${escapeHtml(String(v))}</li>`);
  return lines.join('\n');
}

/** S3's HTML error page (the website endpoint never answers XML). */
function htmlError(e: AwsError, requestId: string, method: string, docError?: AwsError): HttpResponse {
  const title = `${e.status} ${STATUS_CODES[e.status] ?? ''}`.trim();
  const nested = docError ? `<h3>${ERROR_DOC_FAILED}</h3>\n<ul>\n${items(docError)}\n</ul>\n` : '';
  const body = `<html>\n<head><title>${title}</title></head>\n<body>\n<h1>${title}</h1>\n<ul>\n${items(e)}\n<li>RequestId: ${requestId}</li>\n<li>HostId: ${s3HostId()}</li>\n</ul>\n${nested}<hr/>\n</body>\n</html>\n`;
  const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', 'x-amz-request-id': requestId, ...e.headers };
  if (method === 'HEAD') return { status: e.status, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } };
  return { status: e.status, headers, body };
}

function redirect(status: number, location: string, requestId: string): HttpResponse {
  return { status, headers: { location, 'x-amz-request-id': requestId } };
}

const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

function ruleRedirect(rule: RoutingRule, key: string, req: HttpRequest, ctx: RequestContext): HttpResponse {
  const r = rule.Redirect ?? {};
  const proto = r.Protocol ?? (ctx.secure ? 'https' : 'http');
  const host = r.HostName ?? header(req, 'host') ?? req.hostname;
  let target = key;
  if (r.ReplaceKeyWith !== undefined) target = r.ReplaceKeyWith;
  else if (r.ReplaceKeyPrefixWith !== undefined) target = r.ReplaceKeyPrefixWith + key.slice((rule.Condition?.KeyPrefixEquals ?? '').length);
  return redirect(Number(r.HttpRedirectCode ?? 301), `${proto}://${host}/${encodeKey(target)}`, ctx.requestId);
}

/** The first routing rule whose condition holds (`status` undefined: before the object is read). */
function matchRule(rules: readonly RoutingRule[] | undefined, key: string, status: number | undefined): RoutingRule | undefined {
  return rules?.find((r) => {
    const c = r.Condition;
    if (c?.KeyPrefixEquals !== undefined && !key.startsWith(c.KeyPrefixEquals)) return false;
    const code = c?.HttpErrorCodeReturnedEquals;
    return status === undefined ? code === undefined : code !== undefined && Number(code) === status;
  });
}

export async function serveWebsite(s3: S3, service: ServiceDefinition, req: HttpRequest, ctx: RequestContext): Promise<HttpResponse> {
  const method = req.method;
  ctx.operation = method === 'HEAD' ? 'HeadObject' : 'GetObject';
  if (method !== 'GET' && method !== 'HEAD') {
    return htmlError(s3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method, ResourceType: 'OBJECT' }, { allow: 'GET, HEAD' }), ctx.requestId, method);
  }
  const { name, bucket } = await websiteBucket(s3, req);
  if (!bucket) return htmlError(s3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: name }), ctx.requestId, method);
  const site = bucket.website;
  if (!site) return htmlError(noSuchWebsiteConfiguration(bucket.name), ctx.requestId, method);
  if (site.RedirectAllRequestsTo) {
    const to = site.RedirectAllRequestsTo;
    const query = req.rawQuery === '' ? '' : `?${req.rawQuery}`;
    return redirect(301, `${to.Protocol ?? (ctx.secure ? 'https' : 'http')}://${to.HostName ?? ''}${req.rawPath}${query}`, ctx.requestId);
  }
  let key: string;
  try {
    key = decodeURIComponent(req.rawPath).slice(1);
  } catch {
    return htmlError(s3Error('InvalidURI', "Couldn't parse the specified URI."), ctx.requestId, method);
  }
  const early = matchRule(site.RoutingRules, key, undefined);
  if (early) return ruleRedirect(early, key, req, ctx);
  const suffix = site.IndexDocument?.Suffix ?? 'index.html';
  const objectKey = key === '' || key.endsWith('/') ? key + suffix : key;
  try {
    return await readObject(s3, service, req, ctx, bucket, objectKey, true);
  } catch (e) {
    if (!isAwsError(e)) throw e;
    let err = e;
    if (err.code === 'NoSuchKey' && objectKey === key) {
      // `/docs` with a `docs/index.html`: S3 sends the browser to the folder.
      if (await readable(s3, service, ctx, bucket, `${key}/${suffix}`)) return redirect(302, `/${encodeKey(key)}/`, ctx.requestId);
    }
    // Without s3:ListBucket a missing key is indistinguishable from a forbidden one: 403, as S3.
    if (err.code === 'NoSuchKey' && !(await allowed(service, ctx, 'ListObjectsV2', { Bucket: bucket.name }))) err = s3Error('AccessDenied', 'Access Denied');
    if (err.status === 304) return { status: 304, headers: { 'x-amz-request-id': ctx.requestId, ...err.headers } };
    const rule = matchRule(site.RoutingRules, key, err.status);
    if (rule) return ruleRedirect(rule, key, req, ctx);
    const errorKey = site.ErrorDocument?.Key;
    if (errorKey === undefined || err.status < 400 || err.status === 405) return htmlError(err, ctx.requestId, method);
    try {
      const doc = await readObject(s3, service, req, ctx, bucket, errorKey, false);
      doc.status = err.status;
      return doc;
    } catch (docErr) {
      if (!isAwsError(docErr)) throw docErr;
      return htmlError(err, ctx.requestId, method, docErr);
    }
  }
}

async function allowed(service: ServiceDefinition, ctx: RequestContext, operation: string, input: Record<string, string>): Promise<boolean> {
  if (!ctx.authorize) return false;
  try {
    await ctx.authorize(ctx, service, operation, input);
    return true;
  } catch (e) {
    if (isAwsError(e) && e.code === 'AccessDenied') return false;
    throw e;
  }
}

async function readable(s3: S3, service: ServiceDefinition, ctx: RequestContext, bucket: BucketRecord, key: string): Promise<boolean> {
  if (!(await allowed(service, ctx, 'GetObject', { Bucket: bucket.name, Key: key }))) return false;
  try {
    await headObject(s3, { Bucket: bucket.name, Key: key }, ctx);
    return true;
  } catch (e) {
    if (isAwsError(e) && e.status === 404) return false;
    throw e;
  }
}

/** One object through the REST GET/HEAD handlers, as the anonymous principal; the request's conditions and range apply to the page itself, not the error document. */
async function readObject(s3: S3, service: ServiceDefinition, req: HttpRequest, ctx: RequestContext, bucket: BucketRecord, key: string, conditional: boolean): Promise<HttpResponse> {
  const input = { Bucket: bucket.name, Key: key };
  if (!(await allowed(service, ctx, 'GetObject', input))) throw s3Error('AccessDenied', 'Access Denied');
  const full: GetObjectRequest = { ...input };
  if (conditional) {
    const range = header(req, 'range');
    if (range !== undefined) full.Range = range;
    const ifMatch = header(req, 'if-match');
    if (ifMatch !== undefined) full.IfMatch = ifMatch;
    const ifNoneMatch = header(req, 'if-none-match');
    if (ifNoneMatch !== undefined) full.IfNoneMatch = ifNoneMatch;
    for (const [h, m] of [['if-modified-since', 'IfModifiedSince'], ['if-unmodified-since', 'IfUnmodifiedSince']] as const) {
      const v = header(req, h);
      const d = v === undefined ? undefined : new Date(v);
      if (d && !Number.isNaN(d.getTime())) full[m] = d;
    }
  }
  const head = req.method === 'HEAD';
  const out: GetObjectOutput = head ? await headObject(s3, full, ctx) : await getObject(s3, full, ctx);
  if (out.WebsiteRedirectLocation !== undefined) {
    // A small object's body is a buffer (objects-get.ts); only a stream holds anything to release.
    if (out.Body instanceof Readable) out.Body.destroy();
    return redirect(301, out.WebsiteRedirectLocation, ctx.requestId);
  }
  return codecFor('rest-xml').encode(out, head ? 'HeadObject' : 'GetObject', service, { requestId: ctx.requestId, hostId: s3HostId() });
}
