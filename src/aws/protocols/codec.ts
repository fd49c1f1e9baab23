import type { AwsError } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import type { ServiceDefinition } from '../service.js';

export interface DecodedRequest {
  /** Operation name as in the service's operation table (e.g. 'PutRecord'). */
  operation: string;
  /** Typed input: blobs as Uint8Array, timestamps as Date, streaming payloads as the body stream. */
  input: unknown;
}

export interface EncodeContext {
  requestId: string;
  /** For S3's x-amz-id-2 and similar. */
  hostId?: string;
  /** The decoded request's content type: answer in the same (JSON vs CBOR). */
  requestContentType?: string | undefined;
}

/**
 * One codec per AWS protocol. Pure: request in, typed input out; typed output
 * in, response parts out. Errors thrown while decoding are AwsErrors in the
 * protocol's vocabulary (SerializationException, MalformedXML, …).
 */
export interface ProtocolCodec {
  /**
   * Which operation this request names, cheaply, from headers and path only
   * (X-Amz-Target, method + path + query); undefined when only the body can
   * tell (Query protocol's Action in a form body).
   */
  peekOperation(req: HttpRequest, service: ServiceDefinition): string | undefined;
  decode(req: HttpRequest, service: ServiceDefinition): Promise<DecodedRequest>;
  /**
   * `decode` for the request path, where a codec can answer without a promise (no body to
   * read): a DecodedRequest at once, or a promise; errors found before any read are thrown.
   */
  decodeNow?(req: HttpRequest, service: ServiceDefinition): DecodedRequest | Promise<DecodedRequest>;
  encode(output: unknown, operation: string, service: ServiceDefinition, ctx: EncodeContext): HttpResponse;
  encodeError(err: AwsError, service: ServiceDefinition, ctx: EncodeContext): HttpResponse;
}
