import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** Signs one request with SigV4 the way the SDKs do; returns the headers to send. */
export async function signedHeaders(opts: {
  url: string;
  method: string;
  service: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  headers?: Record<string, string>;
  body?: string;
}): Promise<Record<string, string>> {
  const u = new URL(opts.url);
  const signer = new SignatureV4({ service: opts.service, region: opts.region, credentials: opts.credentials, sha256: Sha256, uriEscapePath: opts.service !== 's3' });
  const query: Record<string, string> = {};
  u.searchParams.forEach((v, k) => (query[k] = v));
  const signed = await signer.sign({
    method: opts.method,
    protocol: u.protocol,
    hostname: u.hostname,
    port: Number(u.port),
    path: u.pathname,
    query,
    headers: { host: u.host, ...(opts.service === 's3' ? { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  return signed.headers;
}
