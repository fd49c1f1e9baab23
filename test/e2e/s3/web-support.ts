/**
 * Shared pieces of the CORS and website tests: raw HTTP with any Host header
 * (fetch may not set one), and public-read access for the anonymous principal.
 */
import { request } from 'node:http';
import { createIamAuthorizer } from '../../../src/iam/authorize.js';
import type { Authorizer } from '../../../src/server/pipeline.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP/1.1 request to 127.0.0.1:`port` with the given Host (bounded by a timeout). */
export function raw(port: number, path: string, opts: { host?: string; method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers }, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Public read for the anonymous principal on the named buckets: s3:GetObject
 * (and s3:ListBucket for `listable`), otherwise the real IAM authorizer.
 * A stand-in for a `Principal: "*"` bucket policy while bucket policies are
 * being built on another branch (hw/access); the website code authorizes
 * through this same Authorizer hook the pipeline uses, so a real policy
 * replaces it without changes on the serving side.
 */
export function publicRead(readable: ReadonlySet<string>, listable: ReadonlySet<string> = new Set()): Authorizer {
  const iam = createIamAuthorizer();
  return async (ctx, service, operation, input) => {
    const bucket = (input as { Bucket?: string } | undefined)?.Bucket;
    if (ctx.principal.type === 'anonymous' && service.name === 's3' && bucket !== undefined) {
      if ((operation === 'GetObject' || operation === 'HeadObject') && readable.has(bucket)) return;
      if (operation === 'ListObjectsV2' && listable.has(bucket)) return;
    }
    return iam(ctx, service, operation, input);
  };
}
