/**
 * GetObject, HeadObject, GetObjectAttributes: which version, archive state,
 * conditions (412/304), a single Range or a partNumber (206 / 416), the
 * response-* overrides, checksums with x-amz-checksum-mode: ENABLED, and the
 * body streamed from the blobs.
 */
import type {
  GetObjectAttributesOutput,
  GetObjectAttributesRequest,
  GetObjectOutput,
  GetObjectRequest,
  HeadObjectOutput,
  HeadObjectRequest,
  ObjectPart,
} from '@aws-sdk/client-s3';
import { HTTP_HEADERS, HTTP_STATUS, type RestXmlOutputExtras } from '../../aws/protocols/rest-xml.js';
import type { RequestContext } from '../../server/context.js';
import { type InlineData, loadInline } from './blob-stream.js';
import { checksumMember } from './checksums.js';
import { checkReadConditions, parseRange, type ResolvedRange } from './conditions.js';
import { invalidArgument, s3Error } from './errors.js';
import type { BucketRecord, ObjectRecord } from './model.js';
import { expirationOf } from './lifecycle-rules.js';
import { visibleLock } from './object-lock.js';
import { restoreHeader, restoredNow } from './restore.js';
import { checkKey, type S3 } from './state.js';
import { readableVersion } from './versions.js';
import { checkCustomer, customerKey, dataKeys, decryptedStream, inlinePlaintext, writeSseHeaders } from './sse.js';
import { isArchived, storageClassOut } from './write-object.js';

type ObjectHeaders = GetObjectOutput & HeadObjectOutput & RestXmlOutputExtras;

/** Headers every GET/HEAD of an object carries. */
export function objectHeaders(s3: S3, bucket: BucketRecord, rec: ObjectRecord): ObjectHeaders {
  const out: ObjectHeaders = {
    AcceptRanges: 'bytes',
    LastModified: rec.lastModified,
    ETag: rec.etag,
    ContentType: rec.contentType ?? 'binary/octet-stream',
    Metadata: rec.meta,
  };
  if (rec.contentEncoding !== undefined) out.ContentEncoding = rec.contentEncoding;
  if (rec.contentDisposition !== undefined) out.ContentDisposition = rec.contentDisposition;
  if (rec.contentLanguage !== undefined) out.ContentLanguage = rec.contentLanguage;
  if (rec.cacheControl !== undefined) out.CacheControl = rec.cacheControl;
  if (rec.websiteRedirectLocation !== undefined) out.WebsiteRedirectLocation = rec.websiteRedirectLocation;
  if (rec.expires !== undefined) out[HTTP_HEADERS] = { expires: rec.expires };
  if (rec.storageClass !== 'STANDARD') out.StorageClass = storageClassOut(rec.storageClass);
  if (bucket.versioning !== undefined) out.VersionId = rec.versionId;
  if (rec.tags && rec.tags.length > 0) out.TagCount = rec.tags.length;
  if (rec.replicationStatus !== undefined) out.ReplicationStatus = rec.replicationStatus;
  writeSseHeaders(out, rec.sse);
  if (rec.restore !== undefined) {
    const restore = restoreHeader(rec, s3.clock.now());
    if (restore !== undefined) out.Restore = restore;
  }
  return out;
}

interface ReadInput {
  Bucket?: string | undefined;
  Key?: string | undefined;
  VersionId?: string | undefined;
  IfMatch?: string | undefined;
  IfNoneMatch?: string | undefined;
  IfModifiedSince?: Date | undefined;
  IfUnmodifiedSince?: Date | undefined;
  Range?: string | undefined;
  PartNumber?: number | undefined;
  ChecksumMode?: string | undefined;
  SSECustomerAlgorithm?: string | undefined;
  SSECustomerKey?: string | undefined;
  SSECustomerKeyMD5?: string | undefined;
}

interface Plan {
  bucket: BucketRecord;
  rec: ObjectRecord;
  inline: InlineData | undefined;
  range: ResolvedRange | undefined;
  headers: ObjectHeaders;
}

async function planRead(s3: S3, input: ReadInput, ctx: RequestContext, method: 'GET' | 'HEAD'): Promise<Plan> {
  const key = checkKey(input.Key);
  if (input.PartNumber !== undefined && (!Number.isInteger(input.PartNumber) || input.PartNumber < 1 || input.PartNumber > 10000)) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', String(input.PartNumber));
  }
  if (input.PartNumber !== undefined && input.Range !== undefined) {
    throw s3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  }
  // Awaited only on a bucket-cache miss.
  const cached = s3.buckets.requireNow(s3, input.Bucket, ctx);
  const bucket = cached instanceof Promise ? await cached : cached;
  const { rec, inline } = await s3.meta.read(async (tx) => {
    const r = await readableVersion(tx, bucket, key, input.VersionId);
    return { rec: r, inline: method === 'GET' ? await loadInline(tx, bucket.name, r.blobs) : undefined };
  });
  if (method === 'GET' && isArchived(rec.storageClass) && !restoredNow(rec, s3.clock.now())) {
    throw s3Error('InvalidObjectState', "The operation is not valid for the object's storage class", { StorageClass: rec.storageClass });
  }
  checkCustomer(s3, rec.sse, customerKey(ctx, input.SSECustomerAlgorithm, input.SSECustomerKey, input.SSECustomerKeyMD5));
  checkReadConditions(rec, { ifMatch: input.IfMatch, ifNoneMatch: input.IfNoneMatch, ifModifiedSince: input.IfModifiedSince, ifUnmodifiedSince: input.IfUnmodifiedSince });
  const headers = objectHeaders(s3, bucket, rec);
  if (rec.lockMode !== undefined || rec.legalHold !== undefined || rec.eventHold !== undefined) Object.assign(headers, await visibleLock(s3, ctx, bucket.name, rec));
  // A lifecycle Expiration rule concerns the current version.
  const expiration = input.VersionId === undefined ? expirationOf(bucket.lifecycle, rec) : undefined;
  if (expiration !== undefined) headers.Expiration = expiration;
  let range: ResolvedRange | undefined;
  if (input.PartNumber !== undefined) {
    const count = rec.parts?.length ?? 1;
    if (input.PartNumber > count) {
      throw s3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable', { PartNumberRequested: input.PartNumber, ActualPartCount: count });
    }
    if (rec.parts) {
      let start = 0;
      for (let i = 0; i < input.PartNumber - 1; i++) start += (rec.parts[i] as { size: number }).size;
      const size = (rec.parts[input.PartNumber - 1] as { size: number }).size;
      range = { start, end: start + size - 1 };
      headers.PartsCount = count;
    }
  } else {
    range = parseRange(input.Range, rec.size);
  }
  if (range) {
    headers.ContentRange = `bytes ${range.start}-${range.end}/${rec.size}`;
    headers.ContentLength = range.end - range.start + 1;
    headers[HTTP_STATUS] = 206;
  } else {
    headers.ContentLength = rec.size;
    if (input.ChecksumMode === 'ENABLED' && rec.checksum) {
      Object.assign(headers, { [checksumMember(rec.checksum.algorithm)]: rec.checksum.value, ChecksumType: rec.checksum.type });
    }
  }
  return { bucket, rec, range, headers, inline };
}

/** response-* query overrides replace the stored headers in the response. */
function applyOverrides(h: ObjectHeaders, input: GetObjectRequest): void {
  if (input.ResponseContentType !== undefined) h.ContentType = input.ResponseContentType;
  if (input.ResponseContentLanguage !== undefined) h.ContentLanguage = input.ResponseContentLanguage;
  if (input.ResponseCacheControl !== undefined) h.CacheControl = input.ResponseCacheControl;
  if (input.ResponseContentDisposition !== undefined) h.ContentDisposition = input.ResponseContentDisposition;
  if (input.ResponseContentEncoding !== undefined) h.ContentEncoding = input.ResponseContentEncoding;
  if (input.ResponseExpires !== undefined) h[HTTP_HEADERS] = { ...h[HTTP_HEADERS], expires: input.ResponseExpires.toUTCString() };
}

export async function getObject(s3: S3, input: GetObjectRequest, ctx: RequestContext): Promise<GetObjectOutput & RestXmlOutputExtras> {
  const plan = await planRead(s3, input, ctx, 'GET');
  applyOverrides(plan.headers, input);
  // Awaited only for SSE-KMS: SSE-S3 (the default) and SSE-C keys are opened at once.
  const opening = dataKeys(s3, ctx, plan.bucket.name, plan.rec.key, plan.rec.sse, customerKey(ctx, input.SSECustomerAlgorithm, input.SSECustomerKey, input.SSECustomerKeyMD5));
  const keys = opening instanceof Promise ? await opening : opening;
  // A small object's bytes are already here (read with its record): sent as one buffer, no stream.
  const whole = plan.inline && inlinePlaintext(plan.rec.blobs, keys, plan.range, plan.inline, s3.sse.frames);
  plan.headers.Body = whole ? (whole as unknown as GetObjectOutput['Body']) : decryptedStream(s3, plan.rec.blobs, keys, plan.range, plan.inline);
  return plan.headers;
}

export async function headObject(s3: S3, input: HeadObjectRequest, ctx: RequestContext): Promise<HeadObjectOutput & RestXmlOutputExtras> {
  const plan = await planRead(s3, input, ctx, 'HEAD');
  applyOverrides(plan.headers, input);
  return plan.headers;
}

export async function getObjectAttributes(s3: S3, input: GetObjectAttributesRequest, ctx: RequestContext): Promise<GetObjectAttributesOutput> {
  const key = checkKey(input.Key);
  const wanted = new Set(input.ObjectAttributes ?? []);
  if (wanted.size === 0) throw s3Error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes' });
  for (const a of wanted) {
    if (!['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'].includes(a)) {
      throw s3Error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes', ArgumentValue: a });
    }
  }
  const bucket = await s3.buckets.require(s3, input.Bucket, ctx);
  const rec = await s3.meta.read((tx) => readableVersion(tx, bucket, key, input.VersionId));
  checkCustomer(s3, rec.sse, customerKey(ctx, input.SSECustomerAlgorithm, input.SSECustomerKey, input.SSECustomerKeyMD5));
  const out: GetObjectAttributesOutput = { LastModified: rec.lastModified };
  if (bucket.versioning !== undefined) out.VersionId = rec.versionId;
  if (wanted.has('ETag')) out.ETag = rec.etag.replace(/"/g, '');
  if (wanted.has('StorageClass')) out.StorageClass = storageClassOut(rec.storageClass);
  if (wanted.has('ObjectSize')) out.ObjectSize = rec.size;
  if (wanted.has('Checksum') && rec.checksum) {
    out.Checksum = { [checksumMember(rec.checksum.algorithm)]: rec.checksum.value, ChecksumType: rec.checksum.type };
  }
  if (wanted.has('ObjectParts') && rec.parts) {
    const max = input.MaxParts ?? 1000;
    const marker = input.PartNumberMarker !== undefined ? Number(input.PartNumberMarker) : 0;
    const all = rec.parts.map((p, i) => ({ n: i + 1, p })).filter((x) => x.n > marker);
    const page = all.slice(0, max);
    const alg = rec.checksum?.algorithm;
    const parts: ObjectPart[] = page.map(({ n, p }) => ({ PartNumber: n, Size: p.size, ...(alg && p.checksum ? { [checksumMember(alg)]: p.checksum } : {}) }));
    out.ObjectParts = {
      TotalPartsCount: rec.parts.length,
      PartNumberMarker: String(marker),
      MaxParts: max,
      IsTruncated: all.length > max,
      Parts: parts,
      ...(all.length > max && page.length > 0 ? { NextPartNumberMarker: String((page[page.length - 1] as { n: number }).n) } : {}),
    };
  }
  return out;
}
