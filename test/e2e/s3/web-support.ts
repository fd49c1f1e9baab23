/**
 * Shared pieces of the CORS and website tests: raw HTTP with any Host header
 * (fetch may not set one), and publishing a bucket with a public-read policy.
 */
import { request } from 'node:http';
import { DeletePublicAccessBlockCommand, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';

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
 * Publishes a bucket as S3 users do: Block Public Access lifted (new buckets
 * have it on) and a bucket policy granting `Principal: "*"` s3:GetObject, plus
 * s3:ListBucket when `list` (then missing keys read as 404, not 403).
 */
export async function makePublic(s3: S3Client, bucket: string, opts: { list?: boolean } = {}): Promise<void> {
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  const Statement: unknown[] = [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }];
  if (opts.list === true) Statement.push({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` });
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement }) }));
}
