/**
 * POST Object: browser form uploads (multipart/form-data with a signed
 * policy). Runs as the service's rawHandler: the form carries its own
 * signature, so the request arrives anonymous and is authenticated here
 * (post-policy.ts). Fields are read first (bounded), the policy checked, then
 * the file part streams to a blob with hashes and the policy's size range;
 * nothing is buffered.
 */
import type { Tag } from '@aws-sdk/client-s3';
import { header, type HttpRequest, type HttpResponse } from '../../aws/http.js';
import { restXmlTarget } from '../../aws/protocols/rest-xml.js';
import { escapeXml, parseXmlDocument, XML_DECLARATION } from '../../aws/protocols/rest-xml-xml.js';
import type { ServiceDefinition } from '../../aws/service.js';
import { s3HostId } from '../../lib/ids.js';
import type { RequestContext } from '../../server/context.js';
import { ALGORITHMS, checkDigestFormat, checksumHeader } from './checksums.js';
import { s3Error } from './errors.js';
import type { StoredChecksum } from './model.js';
import { fieldText, FormError, formBoundary, readForm, type FormPart } from './multipart-form.js';
import { DEFAULT_ALGORITHM } from './objects-put.js';
import { checkConditions, verifyPostPolicy } from './post-policy.js';
import { MAX_PUT_BYTES, receiveBody, type ChecksumRequest } from './receive-body.js';
import { etagHex, newCipher, sealingBody, sseRequest } from './sse.js';
import { checkKey, getBucket, type S3 } from './state.js';
import { aclField, authorizeFormUpload } from './acl.js';
import { checkTags } from './tagging.js';
import { checkMetadata, checkStorageClass, commitObject, tagsOf } from './write-object.js';

const MAX_FIELDS_BYTES = 1024 * 1024;

function malformed() {
  return s3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
}

/** The `tagging` form field: a <Tagging><TagSet><Tag>… document. */
function parseTaggingField(xml: string | undefined) {
  if (xml === undefined) return undefined;
  const doc = parseXmlDocument(xml) as { Tagging?: { TagSet?: { Tag?: Tag | Tag[] } } };
  const t = doc.Tagging?.TagSet?.Tag;
  return checkTags(t === undefined ? [] : Array.isArray(t) ? t : [t], 10, 'Object');
}

function checksumFromFields(fields: ReadonlyMap<string, string>): ChecksumRequest {
  for (const a of ALGORITHMS) {
    const v = fields.get(checksumHeader(a));
    if (v !== undefined) {
      checkDigestFormat(a, v);
      return { algorithm: a, value: v, trailer: undefined };
    }
  }
  return { algorithm: undefined, value: undefined, trailer: undefined };
}

export async function postObjectHandler(s3: S3, service: ServiceDefinition, req: HttpRequest, ctx: RequestContext): Promise<HttpResponse | undefined> {
  if (req.method !== 'POST' || req.rawQuery !== '') return undefined;
  const target = restXmlTarget(req, service);
  if (target.bucket === undefined || target.key !== undefined) return undefined;
  const boundary = formBoundary(header(req, 'content-type'));
  if (!boundary) {
    throw s3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' });
  }
  const bucket = await s3.meta.read((tx) => getBucket(tx, target.bucket as string));
  if (!bucket) throw s3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: target.bucket });

  const form = readForm(req.body as AsyncIterable<Uint8Array>, boundary);
  const fields = new Map<string, string>();
  let file: FormPart | undefined;
  let fieldBytes = 0;
  try {
    for (;;) {
      const r = await form.next();
      if (r.done) break;
      const name = r.value.name.toLowerCase();
      if (name === 'file') {
        file = r.value;
        break;
      }
      const value = await fieldText(r.value, MAX_FIELDS_BYTES);
      fieldBytes += value.length + name.length;
      if (fieldBytes > MAX_FIELDS_BYTES) throw s3Error('MaxPostPreDataLengthExceededError', 'Your POST request fields preceeding the upload file was too large.');
      if (!fields.has(name)) fields.set(name, value);
    }
  } catch (e) {
    if (e instanceof FormError) throw malformed();
    throw e;
  }
  if (!file) throw s3Error('IncorrectNumberOfFilesInPostRequest', 'POST requires exactly one file upload per request.');

  // A form without a policy and signature is an anonymous upload: only a bucket policy or ACL can allow it.
  const unsigned = !fields.has('policy') && !fields.has('x-amz-signature') && !fields.has('x-amz-credential') && !fields.has('signature') && !fields.has('awsaccesskeyid');
  const signed = unsigned ? undefined : await verifyPostPolicy(fields, ctx);
  const check = signed?.check ?? { minSize: 0, maxSize: undefined, conditions: [] };
  const rawKey = fields.get('key');
  if (rawKey === undefined) {
    throw s3Error('InvalidArgument', "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: 'key' });
  }
  const key = checkKey(rawKey.replaceAll('${filename}', file.filename ?? ''));
  fields.set('key', key);
  checkConditions(check, fields, bucket.name);
  const acl = await authorizeFormUpload(service, signed ? { ...ctx, signal: ctx.signal, principal: signed.credential.principal } : ctx, bucket, key, fields);

  const meta: Record<string, string> = {};
  for (const [k, v] of fields) if (k.startsWith('x-amz-meta-')) meta[k.slice('x-amz-meta-'.length)] = v;
  const tags = parseTaggingField(fields.get('tagging'));
  const checksum = checksumFromFields(fields);
  const algorithm = checksum.algorithm ?? DEFAULT_ALGORITHM;
  const maxBytes = Math.min(check.maxSize ?? MAX_PUT_BYTES, MAX_PUT_BYTES);
  const bool = fields.get('x-amz-server-side-encryption-bucket-key-enabled');
  const sseReq = sseRequest(ctx, {
    ServerSideEncryption: fields.get('x-amz-server-side-encryption'),
    SSEKMSKeyId: fields.get('x-amz-server-side-encryption-aws-kms-key-id'),
    SSEKMSEncryptionContext: fields.get('x-amz-server-side-encryption-context'),
    BucketKeyEnabled: bool === undefined ? undefined : bool.toLowerCase() === 'true',
    SSECustomerAlgorithm: fields.get('x-amz-server-side-encryption-customer-algorithm'),
    SSECustomerKey: fields.get('x-amz-server-side-encryption-customer-key'),
    SSECustomerKeyMD5: fields.get('x-amz-server-side-encryption-customer-key-md5'),
  });
  const cipher = await newCipher(s3, ctx, bucket, key, sseReq);
  let received;
  try {
    received = await receiveBody(s3, ctx, file.body, { declared: undefined, maxBytes, checksum, extraAlgorithms: [algorithm], contentMd5Hex: undefined, seal: cipher && sealingBody(cipher.keys) });
  } catch (e) {
    if (e instanceof FormError) throw malformed();
    throw e;
  }
  const { blob, digests } = received;
  if (digests.size < check.minSize) {
    s3.reaper.discard([blob.id]);
    throw s3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { ProposedSize: digests.size, MinSizeAllowed: check.minSize });
  }
  const stored: StoredChecksum = { algorithm, value: digests.checksums[algorithm] as string, type: 'FULL_OBJECT' };
  const entity: Record<string, string> = {};
  const map = [
    ['content-type', 'contentType'],
    ['cache-control', 'cacheControl'],
    ['content-disposition', 'contentDisposition'],
    ['content-encoding', 'contentEncoding'],
    ['content-language', 'contentLanguage'],
    ['expires', 'expires'],
    ['x-amz-website-redirect-location', 'websiteRedirectLocation'],
  ] as const;
  for (const [f, k] of map) {
    const v = fields.get(f);
    if (v !== undefined) entity[k] = v;
  }
  const { record, versioned } = await commitObject(s3, ctx, bucket, {
    key,
    etag: `"${etagHex(cipher?.sse, digests.md5Hex, blob)}"`,
    size: digests.size,
    blobs: [blob],
    ...(cipher ? { sse: cipher.sse } : {}),
    meta: checkMetadata(meta),
    checksum: stored,
    storageClass: checkStorageClass(fields.get('x-amz-storage-class')),
    ...tagsOf(tags),
    ...entity,
    ...aclField(acl),
  });
  // Fields after the file are ignored, as S3 does; read them off the connection.
  try {
    for await (const p of form) for await (const _ of p.body) void _;
  } catch {
    // A malformed tail does not undo a stored object.
  }

  const host = header(req, 'host') ?? 'localhost';
  const location = `${ctx.secure ? 'https' : 'http'}://${host}/${encodeURIComponent(bucket.name)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const headers: Record<string, string> = { 'x-amz-request-id': ctx.requestId, 'x-amz-id-2': s3HostId(), etag: record.etag, location };
  if (versioned) headers['x-amz-version-id'] = record.versionId;
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect !== undefined) {
    try {
      const u = new URL(redirect);
      u.searchParams.set('bucket', bucket.name);
      u.searchParams.set('key', key);
      u.searchParams.set('etag', record.etag);
      return { status: 303, headers: { ...headers, location: u.toString() } };
    } catch {
      // Not a URL: S3 falls back to success_action_status.
    }
  }
  const status = fields.get('success_action_status');
  if (status === '200') return { status: 200, headers };
  if (status === '201') {
    const body = `${XML_DECLARATION}<PostResponse><Location>${escapeXml(location)}</Location><Bucket>${escapeXml(bucket.name)}</Bucket><Key>${escapeXml(key)}</Key><ETag>${escapeXml(record.etag)}</ETag></PostResponse>`;
    return { status: 201, headers: { ...headers, 'content-type': 'application/xml' }, body };
  }
  return { status: 204, headers };
}
