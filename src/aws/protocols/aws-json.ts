import { Decoder, Encoder } from 'cbor-x';
import { AwsError, commonError } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import { header } from '../http.js';
import type { ServiceDefinition } from '../service.js';
import type { DecodedRequest, EncodeContext, ProtocolCodec } from './codec.js';
import { parseJsonBytes } from './json-bytes.js';
import type { JsonFlavor, Reader, Writer } from './json-shapes.js';
import { CBOR, JSON_RPC, ShapeError, compileReader, compileWriter, isRecord } from './json-shapes.js';
import { isKnownOperation, maxBodyBytes, operationShapes, specOf } from './operation.js';
import { mediaType, readBody } from './wire.js';

/**
 * awsJson1_0 / awsJson1_1 (KMS, Kinesis, Firehose, Shield, CloudTrail), and
 * their CBOR 1.1 variant (the Kinesis Java SDK/KPL): POST /, the operation in
 * `X-Amz-Target: <prefix>.<Operation>`, the input as one JSON (or CBOR) object.
 */

export const CBOR_CONTENT_TYPE = 'application/x-amz-cbor-1.1';

// Records off: Jackson (the Java SDK's CBOR parser) knows no cbor-x record tags.
// int64AsNumber: AWS Longs fit a double; BigInts would fail every number check.
// (int64AsNumber is a runtime option cbor-x's typings omit.)
const cborDecoder = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);
const cborEncoder = new Encoder({ useRecords: false, tagUint8Array: false });

interface JsonOperation {
  read: (flavor: JsonFlavor) => Reader;
  write: (flavor: JsonFlavor) => Writer;
}

/** Per-operation converters, compiled on first use of each flavor. */
const compiled = new WeakMap<object, JsonOperation>();

function converters(schema: unknown): JsonOperation | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  let c = compiled.get(schema);
  if (c) return c;
  const shapes = operationShapes(schema);
  if (!shapes) return undefined;
  const readers = new Map<string, Reader>();
  const writers = new Map<string, Writer>();
  c = {
    read(flavor) {
      let r = readers.get(flavor.id);
      if (!r) readers.set(flavor.id, (r = shapes.input.isUnitSchema() ? () => ({}) : compileReader(shapes.input, flavor)));
      return r;
    },
    write(flavor) {
      let w = writers.get(flavor.id);
      if (!w) writers.set(flavor.id, (w = shapes.output.isUnitSchema() ? () => ({}) : compileWriter(shapes.output, flavor)));
      return w;
    },
  };
  compiled.set(schema, c);
  return c;
}

function isCbor(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.toLowerCase().includes('cbor');
}

function jsonContentType(service: ServiceDefinition): string {
  return service.protocol === 'json-1.0' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
}

function unknownOperation(target: string | undefined): AwsError {
  return commonError(
    'UnknownOperationException',
    target === undefined ? 'Missing X-Amz-Target header' : `Unknown operation ${JSON.stringify(target.slice(0, 256))}`,
  );
}

function serialization(message: string): AwsError {
  return commonError('SerializationException', message);
}

/** The operation named by X-Amz-Target, if the prefix is this service's; undefined otherwise. */
function targetOperation(req: HttpRequest, service: ServiceDefinition): string | undefined {
  const target = header(req, 'x-amz-target');
  if (target === undefined) return undefined;
  const dot = target.lastIndexOf('.');
  if (dot < 0) return undefined;
  // AWS CLI/botocore send the full prefix (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101), SDK v3 only its last segment.
  const prefix = target.slice(0, dot);
  if (service.targetPrefix !== undefined && prefix !== service.targetPrefix && !service.targetPrefix.endsWith(`.${prefix}`)) return undefined;
  return target.slice(dot + 1);
}

/** From here on a body is parsed from its bytes (json-bytes.ts): no large-object string per request. */
const LARGE_JSON_BODY = 64 * 1024;

export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = body.length >= LARGE_JSON_BODY ? parseJsonBytes(body) : JSON.parse(body.toString('utf8'));
  } catch (e) {
    if (e instanceof RangeError) throw serialization('Request body is nested too deeply');
    throw serialization('Request body is not valid JSON');
  }
  if (!isRecord(parsed)) throw serialization('Request body must be a JSON object');
  return parsed;
}

function parseCborBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = cborDecoder.decode(body);
  } catch {
    // cbor-x throws plain Errors (and RangeError on absurd nesting): all mean the body is not CBOR we accept.
    throw serialization('Request body is not valid CBOR');
  }
  // Only a plain map: cbor-x can also yield Maps, Sets, Tags, RegExps for exotic tags.
  if (!isRecord(parsed) || Object.getPrototypeOf(parsed) !== Object.prototype) throw serialization('Request body must be a CBOR map');
  return parsed;
}

/** Runs a compiled reader, turning shape mismatches (and runaway recursion) into SerializationException. */
export function readInput(read: Reader, value: unknown): unknown {
  try {
    return read(value);
  } catch (e) {
    if (e instanceof ShapeError) throw serialization(e.describe());
    if (e instanceof RangeError) throw serialization('Request body is nested too deeply');
    throw e;
  }
}

export const awsJsonCodec: ProtocolCodec = {
  peekOperation(req, service) {
    return targetOperation(req, service);
  },

  async decode(req, service): Promise<DecodedRequest> {
    const operation = targetOperation(req, service);
    if (operation === undefined || !isKnownOperation(service, operation)) throw unknownOperation(header(req, 'x-amz-target'));
    const spec = specOf(service, operation);
    const body = await readBody(req, maxBodyBytes(spec));
    const cbor = isCbor(mediaType(req));
    if (!cbor && spec?.jsonFast) {
      const input = spec.jsonFast.decode(body);
      if (input !== undefined) return { operation, input };
    }
    const parsed = cbor ? parseCborBody(body) : parseJsonBody(body);
    const conv = converters(spec?.schema);
    return { operation, input: conv ? readInput(conv.read(cbor ? CBOR : JSON_RPC), parsed) : parsed };
  },

  encode(output, operation, service, ctx) {
    const cbor = isCbor(ctx.requestContentType);
    const spec = specOf(service, operation);
    if (!cbor && spec?.jsonFast && output !== undefined && output !== null) {
      const text = spec.jsonFast.encode(output);
      if (text !== undefined) return respond(200, undefined, service, ctx, false, text);
    }
    const conv = converters(spec?.schema);
    const wire = conv ? conv.write(cbor ? CBOR : JSON_RPC)(output ?? {}) : (output ?? {});
    return respond(200, wire, service, ctx, cbor);
  },

  encodeError(err, service, ctx) {
    const type = service.errorNamespace ? `${service.errorNamespace}#${err.code}` : err.code;
    const res = respond(err.status, { ...err.fields, __type: type, message: err.message }, service, ctx, isCbor(ctx.requestContentType));
    res.headers['x-amzn-errortype'] = err.code;
    for (const [k, v] of Object.entries(err.headers)) res.headers[k.toLowerCase()] = v;
    return res;
  },
};

/** `text`: the JSON already written (an operation's jsonFast encoder). */
function respond(status: number, wire: unknown, service: ServiceDefinition, ctx: EncodeContext, cbor: boolean, text?: string | Uint8Array): HttpResponse {
  return {
    status,
    headers: {
      'x-amzn-requestid': ctx.requestId,
      'content-type': cbor ? CBOR_CONTENT_TYPE : jsonContentType(service),
    },
    body: text ?? (cbor ? cborEncoder.encode(wire) : JSON.stringify(wire)),
  };
}
