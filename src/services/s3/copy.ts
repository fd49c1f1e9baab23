/**
 * CopyObject and UploadPartCopy. The source (x-amz-copy-source, optionally a
 * version and for parts a byte range) is resolved and checked against the
 * x-amz-copy-source-if-* conditions in one read; its bytes are streamed into
 * a new blob with fresh hashes (no buffering), then committed like a PUT.
 */
import { aclField, requestedAcl, writerId } from './acl.js';
import type { CopyObjectOutput, CopyObjectRequest, UploadPartCopyOutput, UploadPartCopyRequest } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { type InlineData, loadInline } from './blob-stream.js';
import { copySourceCustomerKey, customerKey, dataKeys, decryptedStream, etagHex, hasSse, newCipher, sealingBody, sseHeaders, sseRequest } from './sse.js';
import { checksumMember, parseAlgorithm } from './checksums.js';
import { checkCopySourceConditions } from './conditions.js';
import { invalidArgument, s3Error } from './errors.js';
import { type BucketRecord, type ChecksumAlgorithm, modifiedAt, type ObjectRecord, type PartRecord, type StoredChecksum } from './model.js';
import { checkPartNumber, commitPart, partAlgorithm, requireUpload } from './multipart.js';
import { DEFAULT_ALGORITHM } from './objects-put.js';
import { INLINE_MAX_BYTES, MAX_PUT_BYTES, receiveBody } from './receive-body.js';
import { restoredNow } from './restore.js';
import { checkLockPermissions, lockForWrite } from './object-lock.js';
import { checkKey, requireBucket, type S3 } from './state.js';
import { parseTaggingHeader } from './tagging.js';
import { readableVersion } from './versions.js';
import { annotationDirective, type CarriedAnnotations, carryAnnotations } from './annotations.js';
import type { WriteTx } from '../../storage/ports.js';
import {
  checkMetadata,
  checkStorageClass,
  checkWriteConditionHeaders,
  commitObject,
  entityHeaders,
  isArchived,
  precheckWrite,
  type SeenState,
  storageClassOut,
  tagsOf,
  type WriteConditions,
} from './write-object.js';

export interface CopySource {
  bucket: string;
  key: string;
  versionId: string | undefined;
}

/** `bucket/key[?versionId=…]`, URL-encoded, with or without a leading slash. */
export function parseCopySource(raw: string | undefined): CopySource {
  if (raw === undefined || raw === '') throw invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', raw);
  let s = raw.startsWith('/') ? raw.slice(1) : raw;
  let versionId: string | undefined;
  const q = s.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(s.slice(q + 1));
    versionId = params.get('versionId') ?? undefined;
    s = s.slice(0, q);
  }
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1) {
    throw invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', raw);
  }
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(s.slice(0, slash));
    key = decodeURIComponent(s.slice(slash + 1));
  } catch {
    throw invalidArgument('Invalid copy source object key', 'x-amz-copy-source', raw);
  }
  return { bucket, key: checkKey(key), versionId };
}

interface SourceConditions {
  CopySourceIfMatch?: string | undefined;
  CopySourceIfNoneMatch?: string | undefined;
  CopySourceIfModifiedSince?: Date | undefined;
  CopySourceIfUnmodifiedSince?: Date | undefined;
}

async function readSource(s3: S3, ctx: RequestContext, src: CopySource, c: SourceConditions): Promise<{ bucket: BucketRecord; rec: ObjectRecord; inline: InlineData | undefined }> {
  const found = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, src.bucket, ctx);
    const rec = await readableVersion(tx, b, src.key, src.versionId);
    return { bucket: b, rec, inline: await loadInline(tx, b.name, rec.blobs) };
  });
  if (isArchived(found.rec.storageClass) && !restoredNow(found.rec, s3.clock.now())) {
    throw s3Error('InvalidObjectState', "The operation is not valid for the object's storage class", { StorageClass: found.rec.storageClass });
  }
  checkCopySourceConditions(found.rec, {
    ifMatch: c.CopySourceIfMatch,
    ifNoneMatch: c.CopySourceIfNoneMatch,
    ifModifiedSince: c.CopySourceIfModifiedSince,
    ifUnmodifiedSince: c.CopySourceIfUnmodifiedSince,
  });
  return found;
}

function sourceVersionOut(b: BucketRecord, rec: ObjectRecord): { CopySourceVersionId?: string } {
  return b.versioning !== undefined ? { CopySourceVersionId: rec.versionId } : {};
}

export async function copyObject(s3: S3, input: CopyObjectRequest, ctx: RequestContext): Promise<CopyObjectOutput> {
  const key = checkKey(input.Key);
  const src = parseCopySource(input.CopySource);
  const directive = input.MetadataDirective ?? 'COPY';
  const tagDirective = input.TaggingDirective ?? 'COPY';
  const annotationsDirective = annotationDirective(input.AnnotationDirective);
  if (directive !== 'COPY' && directive !== 'REPLACE') throw invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  if (tagDirective !== 'COPY' && tagDirective !== 'REPLACE') throw invalidArgument('Unknown tagging directive.', 'x-amz-tagging-directive', tagDirective);
  const requestedClass = input.StorageClass !== undefined ? checkStorageClass(input.StorageClass) : undefined;
  const meta = directive === 'REPLACE' ? checkMetadata(input.Metadata) : undefined;
  const tags = tagDirective === 'REPLACE' ? (parseTaggingHeader(input.Tagging) ?? []) : undefined;
  const requestedAlg = parseAlgorithm(input.ChecksumAlgorithm);
  const cond: WriteConditions = { ifNoneMatch: input.IfNoneMatch, ifMatch: input.IfMatch };
  checkWriteConditionHeaders(cond);
  const sseReq = sseRequest(ctx, input);
  const sourceKey = copySourceCustomerKey(ctx, input);

  const source = await readSource(s3, ctx, src, input);
  const same = src.bucket === input.Bucket && src.key === key && (src.versionId === undefined || src.versionId === source.rec.versionId);
  if (same && directive === 'COPY' && (requestedClass === undefined || requestedClass === source.rec.storageClass) && input.WebsiteRedirectLocation === undefined && requestedAlg === undefined && !hasSse(sseReq)) {
    throw s3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  if (source.rec.size > MAX_PUT_BYTES) {
    throw s3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PUT_BYTES}`);
  }
  const { bucket, seen } = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const s: SeenState | undefined = cond.ifMatch !== undefined || cond.ifNoneMatch !== undefined ? await precheckWrite(tx, b.name, key, cond) : undefined;
    return { bucket: b, seen: s };
  });
  // The copy gets the ACL the request names (S3 does not copy the source's).
  const acl = requestedAcl(bucket, input, 'object', writerId(ctx));
  // The copy's lock comes from this request's headers (or the destination's default), never from the source.
  const lock = lockForWrite(bucket, input, s3.clock.now());
  await checkLockPermissions(s3, ctx, bucket.name, key, input);
  const alg: ChecksumAlgorithm = requestedAlg ?? source.rec.checksum?.algorithm ?? DEFAULT_ALGORITHM;
  const sourceKeys = await dataKeys(s3, ctx, source.bucket.name, source.rec.key, source.rec.sse, sourceKey);
  const cipher = await newCipher(s3, ctx, bucket, key, sseReq);
  const { blob, digests, data } = await receiveBody(s3, ctx, decryptedStream(s3, source.rec.blobs, sourceKeys, undefined, source.inline), {
    seal: cipher && sealingBody(cipher.keys),
    declared: source.rec.size,
    maxBytes: MAX_PUT_BYTES,
    checksum: { algorithm: undefined, value: undefined, trailer: undefined },
    extraAlgorithms: [alg],
    contentMd5Hex: undefined,
    inlineMax: INLINE_MAX_BYTES,
  });
  const checksum: StoredChecksum = { algorithm: alg, value: digests.checksums[alg] as string, type: 'FULL_OBJECT' };
  const from = source.rec;
  let carried: CarriedAnnotations | undefined;
  try {
    carried = annotationsDirective === 'COPY' ? await carryAnnotations(s3, ctx, source, { bucket, key, cipher }) : undefined;
  } catch (e) {
    if (!blob.inline) s3.reaper.discard([blob.id]);
    throw e;
  }
  const entity =
    directive === 'REPLACE'
      ? entityHeaders(input, input.ContentEncoding)
      : {
          ...(from.contentType !== undefined ? { contentType: from.contentType } : {}),
          ...(from.contentEncoding !== undefined ? { contentEncoding: from.contentEncoding } : {}),
          ...(from.contentDisposition !== undefined ? { contentDisposition: from.contentDisposition } : {}),
          ...(from.contentLanguage !== undefined ? { contentLanguage: from.contentLanguage } : {}),
          ...(from.cacheControl !== undefined ? { cacheControl: from.cacheControl } : {}),
          ...(from.expires !== undefined ? { expires: from.expires } : {}),
        };
  if (input.WebsiteRedirectLocation !== undefined) Object.assign(entity, { websiteRedirectLocation: input.WebsiteRedirectLocation });
  const { record, versioned } = await commitObject(
    s3,
    ctx,
    bucket,
    {
      key,
      etag: `"${etagHex(cipher?.sse, digests.md5Hex, blob)}"`,
      size: digests.size,
      blobs: [blob],
      ...(data ? { inlineData: data } : {}),
      meta: meta ?? from.meta,
      ...(cipher ? { sse: cipher.sse } : {}),
      checksum,
      // An archived source copies into STANDARD unless a class is named.
      storageClass: requestedClass ?? (isArchived(from.storageClass) ? 'STANDARD' : from.storageClass),
      ...tagsOf(tags ?? from.tags),
      ...aclField(acl),
      ...entity,
      ...lock,
      ...(carried ? { annotations: carried.count } : {}),
    },
    { cond, ...(seen ? { seen } : {}), ...(carried ? { afterPut: (tx: WriteTx, b: BucketRecord, r: ObjectRecord) => carried.write(tx, b.name, r) } : {}) },
  ).catch((e: unknown) => {
    carried?.discard();
    throw e;
  });
  const out: CopyObjectOutput = {
    CopyObjectResult: { ETag: record.etag, LastModified: record.lastModified, [checksumMember(alg)]: checksum.value, ChecksumType: 'FULL_OBJECT' },
    ...sourceVersionOut(source.bucket, source.rec),
    ...sseHeaders(cipher?.sse, bucket.name, key),
  };
  if (versioned) out.VersionId = record.versionId;
  return out;
}

/** x-amz-copy-source-range: `bytes=first-last`, both inclusive, within the source. */
function parseCopyRange(raw: string | undefined, size: number): { start: number; end: number } | undefined {
  if (raw === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(raw.trim());
  if (!m) {
    throw invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      'x-amz-copy-source-range',
      raw,
    );
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start || end >= size) {
    throw s3Error('InvalidArgument', `Range specified is not valid for source object of size: ${size}`, { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: raw });
  }
  return { start, end };
}

export async function uploadPartCopy(s3: S3, input: UploadPartCopyRequest, ctx: RequestContext): Promise<UploadPartCopyOutput> {
  const key = checkKey(input.Key);
  const partNumber = checkPartNumber(input.PartNumber);
  const src = parseCopySource(input.CopySource);
  const sourceKey = copySourceCustomerKey(ctx, input);
  const given = customerKey(ctx, input.SSECustomerAlgorithm, input.SSECustomerKey, input.SSECustomerKeyMD5);
  const { bucket, upload } = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    return { bucket: b, upload: await requireUpload(tx, b, key, input.UploadId) };
  });
  const source = await readSource(s3, ctx, src, input);
  const range = parseCopyRange(input.CopySourceRange, source.rec.size);
  const length = range ? range.end - range.start + 1 : source.rec.size;
  if (length > MAX_PUT_BYTES) throw s3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PUT_BYTES}`);
  const alg = partAlgorithm(upload);
  const sourceKeys = await dataKeys(s3, ctx, source.bucket.name, source.rec.key, source.rec.sse, sourceKey);
  const keys = await dataKeys(s3, ctx, bucket.name, key, upload.sse, given);
  const { blob, digests } = await receiveBody(s3, ctx, decryptedStream(s3, source.rec.blobs, sourceKeys, range, source.inline), {
    seal: keys && sealingBody(keys),
    declared: length,
    maxBytes: MAX_PUT_BYTES,
    checksum: { algorithm: undefined, value: undefined, trailer: undefined },
    extraAlgorithms: [alg],
    contentMd5Hex: undefined,
  });
  const tag = etagHex(upload.sse, digests.md5Hex, blob);
  const part: PartRecord = { partNumber, blob, etag: `"${tag}"`, md5: tag, lastModified: modifiedAt(s3.clock.nowMs()), checksums: digests.checksums };
  await commitPart(s3, bucket, key, upload.uploadId, part);
  const result: Record<string, unknown> = { ETag: part.etag, LastModified: part.lastModified };
  if (upload.checksumAlgorithm) result[checksumMember(upload.checksumAlgorithm)] = digests.checksums[upload.checksumAlgorithm];
  return { CopyPartResult: result, ...sourceVersionOut(source.bucket, source.rec), ...sseHeaders(upload.sse) };
}

export { storageClassOut };
