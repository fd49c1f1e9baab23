import { Readable } from 'node:stream';
import { AwsError } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import { header } from '../http.js';
import type { ServiceDefinition } from '../service.js';
import type { RequestContext } from '../../server/context.js';
import type { DecodedRequest, ProtocolCodec } from './codec.js';

/**
 * Test support: a requestHandler for real `@aws-sdk/client-*` clients that
 * never touches the network. It turns the request the SDK's own serializer
 * built into hanul's HttpRequest, lets the test answer it (usually with a
 * codec's encode/encodeError), and hands that response back to the SDK's
 * deserializer. What passes through here is exactly what AWS would see.
 */

interface SdkHttpRequest {
  method: string;
  hostname: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

export type Responder = (req: HttpRequest, raw: { body: Buffer }) => HttpResponse | Promise<HttpResponse>;

export const TEST_CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

/** Client options that route a real SDK client through `respond`. */
export function loopbackClientConfig(respond: Responder) {
  return {
    region: 'us-east-1',
    endpoint: 'http://localhost:4566',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: {
      async handle(sdkReq: SdkHttpRequest) {
        const body = await bodyBytes(sdkReq.body);
        const req = toHanulRequest(sdkReq, body);
        const res = await respond(req, { body });
        return { response: await toSdkResponse(res) };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs() {
        return {};
      },
    },
  };
}

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks);
}

export function toHanulRequest(sdkReq: SdkHttpRequest, body: Buffer): HttpRequest {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(sdkReq.query ?? {})) {
    if (v === null) query.append(k, '');
    else for (const x of Array.isArray(v) ? v : [v]) query.append(k, x);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(sdkReq.headers)) headers[k.toLowerCase()] = v;
  return {
    method: sdkReq.method,
    rawPath: sdkReq.path,
    rawQuery: query.toString(),
    query,
    headers,
    hostname: sdkReq.hostname,
    body: Readable.from([body]),
    trailers: () => ({}),
  };
}

async function toSdkResponse(res: HttpResponse) {
  let body: Buffer;
  if (res.body === undefined) body = Buffer.alloc(0);
  else if (typeof res.body === 'string') body = Buffer.from(res.body, 'utf8');
  else if (res.body instanceof Uint8Array) body = Buffer.from(res.body);
  else body = await bodyBytes(res.body);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
  return { statusCode: res.status, reason: '', headers, body: Readable.from([body]) };
}

/** An HttpRequest built by hand, for tests that need bytes no SDK would send. */
export function rawRequest(init: {
  method?: string;
  path?: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | Readable;
}): HttpRequest {
  const query = init.query ?? '';
  const b = init.body ?? '';
  return {
    method: init.method ?? 'POST',
    rawPath: init.path ?? '/',
    rawQuery: query,
    query: new URLSearchParams(query),
    headers: init.headers ?? {},
    hostname: 'localhost',
    body: b instanceof Readable ? b : Readable.from([typeof b === 'string' ? Buffer.from(b) : Buffer.from(b)]),
    trailers: () => ({}),
  };
}

/** Bytes of a codec response body (tests only; bodies here are small). */
export async function responseBytes(res: HttpResponse): Promise<Buffer> {
  if (res.body === undefined) return Buffer.alloc(0);
  if (typeof res.body === 'string') return Buffer.from(res.body);
  if (res.body instanceof Uint8Array) return Buffer.from(res.body);
  return bodyBytes(res.body);
}

/**
 * A Responder that runs a codec the way the pipeline does: decode, the
 * operation's handler, encode — or encodeError for an AwsError.
 */
export function serveWith(codec: ProtocolCodec, service: ServiceDefinition, seen?: (d: DecodedRequest) => void): Responder {
  return async (req) => {
    const ctx = { requestId: 'req-0001', requestContentType: header(req, 'content-type') };
    try {
      const decoded = await codec.decode(req, service);
      seen?.(decoded);
      const spec = service.operations[decoded.operation];
      if (!spec) throw new AwsError('NotImplemented', 501, `${decoded.operation} is not implemented`);
      const output: unknown = await spec.handler(decoded.input, {} as RequestContext);
      return codec.encode(output, decoded.operation, service, ctx);
    } catch (e) {
      if (e instanceof AwsError) return codec.encodeError(e, service, ctx);
      throw e;
    }
  };
}
