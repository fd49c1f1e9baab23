/**
 * Test support for this folder (not a test file itself): the signing-suite
 * request parser, an independent signer (@smithy/signature-v4 plus a hand
 * written aws-chunked encoder), and a helper that runs a request through
 * authenticate + verifiedBody the way the pipeline does.
 */
import { createHash, createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Principal } from '../../server/context.js';
import type { CredentialRecord, SignedRequestView } from './index.js';
import { authenticate, type SigV4Options, type SigV4Result } from './verify.js';
import { verifiedBody } from './payload.js';
import { asFailure, type SigV4Failure } from './failure.js';

/** The AWS signing test suite's SigV4 vectors, kept in the repo (test/fixtures/sigv4). */
export function sigv4TestData(): string {
  // Walks up from this file, so it works from src/ (tsx) and dist/src/ (compiled) alike.
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dir, 'test', 'fixtures', 'sigv4');
    if (existsSync(join(candidate, 'v4'))) return candidate;
  }
  throw new Error('test/fixtures/sigv4 not found above this file');
}

export interface ParsedRequest {
  view: SignedRequestView & { headers: Record<string, string[]> };
  body: Buffer;
}

/**
 * Parses the suite's request.txt format: `METHOD <uri, may contain spaces> HTTP/1.1`,
 * `Name:value` lines (a line starting with whitespace continues the previous value;
 * names repeat), a blank line, the body. Read as latin1, as Node reads the wire.
 */
export function parseRequestText(text: string): ParsedRequest {
  const lines = text.split('\n');
  const first = lines[0] ?? '';
  const sp = first.indexOf(' ');
  const uri = first.slice(sp + 1, first.lastIndexOf(' '));
  const headers: Record<string, string[]> = {};
  let last: string[] | undefined;
  let i = 1;
  for (; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (line === '') break;
    if (/^[ \t]/.test(line) && last) {
      last[last.length - 1] += ` ${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1));
    last = headers[name];
  }
  const q = uri.indexOf('?');
  return {
    view: { method: first.slice(0, sp), rawPath: q < 0 ? uri : uri.slice(0, q), rawQuery: q < 0 ? '' : uri.slice(q + 1), headers },
    body: Buffer.from(lines.slice(i + 1).join('\n'), 'latin1'),
  };
}

export const principal: Principal = { type: 'user', arn: 'arn:aws:iam::000000000000:user/test', accountId: '000000000000', userId: 'AIDATEST' };

export function lookupOf(records: Record<string, CredentialRecord>): SigV4Options['lookup'] {
  return (id) => Promise.resolve(records[id]);
}

/** Splits `data` into pieces of random sizes (1 byte up to `max`), deterministic per seed. */
export function* randomPieces(data: Buffer, seed: number, max = 97): Generator<Buffer> {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length;) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const n = 1 + (s % max);
    yield data.subarray(i, i + n);
    i += n;
  }
}

export function streamOf(data: Buffer, seed = 0, max = 97): Readable {
  return Readable.from(seed === 0 ? [data] : [...randomPieces(data, seed, max)], { objectMode: false });
}

/** Reads a stream to the end; the SigV4Failure (the AwsError's cause) when it errors. */
export async function drain(body: Readable): Promise<{ data: Buffer; failure?: SigV4Failure; error?: unknown }> {
  const parts: Buffer[] = [];
  try {
    for await (const c of body) parts.push(c as Buffer);
    return { data: Buffer.concat(parts) };
  } catch (e) {
    const failure = asFailure((e as { cause?: unknown }).cause) ?? asFailure(e);
    return failure ? { data: Buffer.concat(parts), failure, error: e } : { data: Buffer.concat(parts), error: e };
  }
}

/** authenticate + verifiedBody + read to the end; returns the failure kind or 'ok'. */
export async function verifyAll(view: SignedRequestView, body: Buffer, opts: SigV4Options, seed = 0, max = 97): Promise<{ outcome: string; result?: SigV4Result; data?: Buffer; trailers?: Record<string, string> }> {
  let result: SigV4Result | undefined;
  try {
    result = await authenticate(view, opts);
  } catch (e) {
    const f = asFailure(e);
    if (!f) throw e;
    return { outcome: f.kind };
  }
  const vb = verifiedBody(streamOf(body, seed, max), result, view.headers);
  const out = await drain(vb.body);
  if (out.error) {
    if (!out.failure) throw out.error instanceof Error ? out.error : new Error('body failed', { cause: out.error });
    return { outcome: out.failure.kind, ...(result ? { result } : {}) };
  }
  return { outcome: result ? 'ok' : 'anonymous', ...(result ? { result } : {}), data: out.data, trailers: vb.trailers() };
}

// ---- an independent signer -------------------------------------------------------------------

export interface SmithyInput {
  method: string;
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export function smithySigner(opts: { service: string; region?: string; s3?: boolean; accessKeyId?: string; secret?: string; token?: string }): SignatureV4 {
  return new SignatureV4({
    service: opts.service,
    region: opts.region ?? 'us-east-1',
    sha256: Sha256,
    uriEscapePath: !opts.s3,
    applyChecksum: opts.s3 ?? false,
    credentials: {
      accessKeyId: opts.accessKeyId ?? 'AKIDEXAMPLE',
      secretAccessKey: opts.secret ?? 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      ...(opts.token ? { sessionToken: opts.token } : {}),
    },
  });
}

/** The wire form of a query as an SDK writes it (RFC 3986 escaping). */
function escape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A request the smithy signer produced, as Node would hand it to us (latin1 header strings). */
export function toView(req: { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string> }): SignedRequestView & { headers: Record<string, string> } {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(req.query ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) parts.push(one === null ? escape(k) : `${escape(k)}=${escape(String(one))}`);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Buffer.from(v, 'utf8').toString('latin1');
  return { method: req.method, rawPath: req.path, rawQuery: parts.join('&'), headers };
}

export async function smithySign(signer: SignatureV4, input: SmithyInput, signingDate: Date): Promise<SignedRequestView & { headers: Record<string, string> }> {
  const signed = await signer.sign({
    method: input.method, protocol: 'http:', hostname: 'example.amazonaws.com', path: input.path,
    query: input.query ?? {}, headers: { host: 'example.amazonaws.com', ...input.headers }, body: input.body,
  } as never, { signingDate });
  return toView(signed as never);
}

export async function smithyPresign(signer: SignatureV4, input: SmithyInput, signingDate: Date, expiresIn: number): Promise<SignedRequestView & { headers: Record<string, string> }> {
  const signed = await signer.presign({
    method: input.method, protocol: 'http:', hostname: 'example.amazonaws.com', path: input.path,
    query: input.query ?? {}, headers: { host: 'example.amazonaws.com', ...input.headers }, body: input.body,
  }, { signingDate, expiresIn });
  return toView(signed);
}

// ---- aws-chunked encoding, written from the AWS documentation ------------------------------------

const hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const h = (k: Buffer | string, d: string): Buffer => createHmac('sha256', k).update(d).digest();
  return h(h(h(h(`AWS4${secret}`, date), region), service), 'aws4_request');
}

export interface ChunkedBody {
  wire: Buffer;
  /** Byte offsets of each chunk's data and signature within `wire`, for tampering. */
  dataAt: number[];
  signatureAt: number[];
}

/**
 * Encodes `data` in `chunkSize` chunks. `signing` present: chunk signatures chained from
 * `seed`; trailers (name → value) are appended, signed when `signing` is given.
 */
export function encodeChunked(data: Buffer, chunkSize: number, opts: {
  signing?: { key: Buffer; amzDate: string; scope: string; seed: string };
  trailers?: Record<string, string>;
}): ChunkedBody {
  const parts: Buffer[] = [];
  const dataAt: number[] = [];
  const signatureAt: number[] = [];
  let length = 0;
  let prev = opts.signing?.seed ?? '';
  const add = (b: Buffer | string): void => {
    const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
    parts.push(buf);
    length += buf.length;
  };
  const empty = hex('');
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  chunks.push(Buffer.alloc(0));
  for (const chunk of chunks) {
    if (opts.signing) {
      const { key, amzDate, scope } = opts.signing;
      const sig = createHmac('sha256', key).update(`AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${prev}\n${empty}\n${hex(chunk)}`).digest('hex');
      const head = `${chunk.length.toString(16)};chunk-signature=`;
      signatureAt.push(length + head.length);
      add(`${head}${sig}\r\n`);
      prev = sig;
    } else {
      add(`${chunk.length.toString(16)}\r\n`);
    }
    if (chunk.length > 0) {
      dataAt.push(length);
      add(chunk);
      add('\r\n');
    }
  }
  if (opts.trailers) {
    let canonical = '';
    for (const [k, v] of Object.entries(opts.trailers)) {
      add(`${k}:${v}\r\n`);
      canonical += `${k}:${v}\n`;
    }
    if (opts.signing) {
      const { key, amzDate, scope } = opts.signing;
      const sig = createHmac('sha256', key).update(`AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${prev}\n${hex(canonical)}`).digest('hex');
      signatureAt.push(length + 'x-amz-trailer-signature:'.length);
      add(`x-amz-trailer-signature:${sig}\r\n`);
    }
  }
  add('\r\n');
  return { wire: Buffer.concat(parts, length), dataAt, signatureAt };
}
