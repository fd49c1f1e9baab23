import type { Readable } from 'node:stream';

/**
 * A request as the wire layer sees it, independent of HTTP/1.1 vs HTTP/2.
 * `body` is the payload after SigV4 verification (aws-chunked decoded,
 * hashes and chunk signatures checked as it streams: it errors with an
 * AwsError on a mismatch).
 */
export interface HttpRequest {
  method: string;
  /** The path exactly as sent (percent-encoded), without the query. */
  rawPath: string;
  /** The query exactly as sent, without '?'. */
  rawQuery: string;
  /** Decoded query parameters (a key may repeat). */
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Host header (or :authority) without the port. */
  hostname: string;
  body: Readable;
  /** Trailing headers of an aws-chunked body, available once `body` has ended. */
  trailers(): Readonly<Record<string, string>>;
  /** Arrived on HANUL_WEBSITE_PORT: S3's website endpoint whatever the Host. */
  website?: true;
  /** The protocol codec's memo of this request (rest-xml: its resolved route), kept by the codec. */
  codecMemo?: unknown;
}

export type HttpBody = string | Uint8Array | AsyncIterable<Uint8Array> | undefined;

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body?: HttpBody;
}

/** Reads one header as a single string (joins repeats with ','). */
export function header(req: Pick<HttpRequest, 'headers'>, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * A handler whose answer the codec cannot express (SubscribeToShard's event
 * stream) returns `rawResponse(make)`: after decode, authorize and the
 * handler ran as for any operation, the pipeline sends what `make` builds
 * (given the request's content type, so it can answer in JSON or CBOR)
 * instead of encoding the output.
 */
const RAW_RESPONSE = Symbol.for('hanul.rawResponse');

export interface RawResponseContext {
  requestContentType: string | undefined;
}

export interface RawResponse {
  readonly [RAW_RESPONSE]: (wire: RawResponseContext) => HttpResponse;
}

export function rawResponse(make: (wire: RawResponseContext) => HttpResponse): RawResponse {
  return { [RAW_RESPONSE]: make };
}

export function rawResponseOf(output: unknown): ((wire: RawResponseContext) => HttpResponse) | undefined {
  return typeof output === 'object' && output !== null && RAW_RESPONSE in output ? (output as RawResponse)[RAW_RESPONSE] : undefined;
}
