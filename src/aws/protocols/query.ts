import { AwsError, commonError } from '../errors.js';
import type { HttpRequest } from '../http.js';
import type { ServiceDefinition } from '../service.js';
import type { DecodedRequest, EncodeContext, ProtocolCodec } from './codec.js';
import { ShapeError } from './json-shapes.js';
import { isKnownOperation, maxBodyBytes, operationShapes, specOf } from './operation.js';
import type { FormReader, XmlWriter } from './query-shapes.js';
import { compileFormReader, compileXmlWriter, escapeXml, formTree } from './query-shapes.js';
import { hasXmlDtd, readBody, tooLarge } from './wire.js';

/**
 * The AWS Query protocol (IAM, STS): `Action=…&Version=…&Param.member.1=…`
 * as a form POST body (or a GET query string) in, XML out.
 */

/**
 * The XML namespace of each Query service's responses. The SDK keeps it in
 * its runtime config (protocolSettings.xmlNamespace), not in the schemas.
 */
export const QUERY_XML_NAMESPACES: Readonly<Record<string, string>> = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
};

function xmlns(service: ServiceDefinition): string {
  const ns = QUERY_XML_NAMESPACES[service.name];
  return ns ? ` xmlns="${ns}"` : '';
}

interface QueryOperation {
  read: FormReader | undefined;
  write: XmlWriter | undefined;
}
const compiled = new WeakMap<object, QueryOperation>();

function converters(schema: unknown): QueryOperation | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  let c = compiled.get(schema);
  if (c) return c;
  const shapes = operationShapes(schema);
  if (!shapes) return undefined;
  c = {
    read: shapes.input.isStructSchema() ? compileFormReader(shapes.input) : undefined,
    write: shapes.output.isStructSchema() ? compileXmlWriter(shapes.output) : undefined,
  };
  compiled.set(schema, c);
  return c;
}

function invalidAction(action: string | undefined): AwsError {
  return commonError(
    'InvalidAction',
    action === undefined ? 'Missing Action parameter' : `Could not find operation ${action.slice(0, 128)}`,
  );
}

const dtdRefused = () => commonError('MalformedQueryString', 'XML document type declarations and entities are not allowed');

export const queryCodec: ProtocolCodec = {
  peekOperation(req) {
    return req.query.get('Action') ?? undefined;
  },

  async decode(req, service): Promise<DecodedRequest> {
    const urlAction = req.query.get('Action') ?? undefined;
    // The body limit is the operation's when the URL names it; otherwise the default, checked again below.
    const limit = maxBodyBytes(urlAction !== undefined ? specOf(service, urlAction) : undefined);
    const params = await formParams(req, limit);
    const action = params.get('Action') ?? undefined;
    if (action === undefined || !isKnownOperation(service, action)) throw invalidAction(action);
    const spec = specOf(service, action);
    if (params.bodyBytes > maxBodyBytes(spec)) throw tooLarge(maxBodyBytes(spec));
    for (const [, v] of params) if (hasXmlDtd(v)) throw dtdRefused();
    const read = converters(spec?.schema)?.read;
    if (!read) return { operation: action, input: Object.fromEntries(params) };
    try {
      return { operation: action, input: read(formTree(params)) };
    } catch (e) {
      if (e instanceof ShapeError) throw commonError('InvalidParameterValue', e.describe());
      throw e;
    }
  },

  encode(output, operation, service, ctx) {
    const write = converters(specOf(service, operation)?.schema)?.write;
    const result = write ? `<${operation}Result>${write(output ?? {})}</${operation}Result>` : '';
    return xmlResponse(
      200,
      `<${operation}Response${xmlns(service)}>${result}<ResponseMetadata><RequestId>${escapeXml(ctx.requestId)}</RequestId></ResponseMetadata></${operation}Response>`,
      ctx,
    );
  },

  encodeError(err, service, ctx) {
    let fields = '';
    for (const [k, v] of Object.entries(err.fields)) {
      if (v !== undefined && /^[A-Za-z_][\w.-]*$/.test(k)) fields += `<${k}>${escapeXml(String(v))}</${k}>`;
    }
    const res = xmlResponse(
      err.status,
      `<ErrorResponse${xmlns(service)}><Error><Type>${err.senderFault ? 'Sender' : 'Receiver'}</Type><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message>${fields}</Error><RequestId>${escapeXml(ctx.requestId)}</RequestId></ErrorResponse>`,
      ctx,
    );
    for (const [k, v] of Object.entries(err.headers)) res.headers[k.toLowerCase()] = v;
    return res;
  },
};

function xmlResponse(status: number, body: string, ctx: EncodeContext) {
  return { status, headers: { 'x-amzn-requestid': ctx.requestId, 'content-type': 'text/xml' } as Record<string, string>, body };
}

/** URL query and form body merged (the body wins); `bodyBytes` for the per-operation limit. */
async function formParams(req: HttpRequest, limit: number): Promise<Map<string, string> & { bodyBytes: number }> {
  const params = new Map<string, string>() as Map<string, string> & { bodyBytes: number };
  for (const [k, v] of req.query) params.set(k, v);
  params.bodyBytes = 0;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const body = await readBody(req, limit);
    params.bodyBytes = body.length;
    if (body.length > 0) {
      const text = body.toString('utf8');
      if (hasXmlDtd(text)) throw dtdRefused();
      for (const [k, v] of new URLSearchParams(text)) params.set(k, v);
    }
  }
  return params;
}
