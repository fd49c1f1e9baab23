/**
 * PutObject: validate everything cheap first, check conditions, stream the
 * body to a blob (hashing as it goes), verify, then commit the record in one
 * transaction. The response is sent only after both the bytes (fsync) and
 * the metadata (commit) are durable.
 */
import type { PutObjectOutput, PutObjectRequest } from '@aws-sdk/client-s3';
import { HTTP_REQUEST, type RestXmlInputExtras } from '../../aws/protocols/rest-xml.js';
import { header } from '../../aws/http.js';
import type { RequestContext } from '../../server/context.js';
import { checksumMember, parseContentMd5 } from './checksums.js';
import type { ChecksumAlgorithm, StoredChecksum } from './model.js';
import { checksumRequest, declaredLength, INLINE_MAX_BYTES, MAX_PUT_BYTES, receiveBody, storedContentEncoding } from './receive-body.js';
import { expirationOf } from './lifecycle-rules.js';
import { checkLockPermissions, lockForWrite, requireChecksumHeader, writeNeedsDigest } from './object-lock.js';
import { checkKey, type S3 } from './state.js';
import { aclField, requestedAcl, writerId } from './acl.js';
import { parseTaggingHeader } from './tagging.js';
import { etagHex, newCipher, sealingBody, sseHeaders, sseRequest } from './sse.js';
import {
  checkMetadata,
  checkStorageClass,
  checkWriteConditionHeaders,
  commitObject,
  entityHeaders,
  precheckWrite,
  type SeenState,
  tagsOf,
  type WriteConditions,
} from './write-object.js';

/** S3 gives every new object a CRC64NVME checksum when the client sends none. */
export const DEFAULT_ALGORITHM: ChecksumAlgorithm = 'CRC64NVME';

export function checksumOutput(c: StoredChecksum | undefined): Partial<PutObjectOutput> {
  if (!c) return {};
  return { [checksumMember(c.algorithm)]: c.value, ChecksumType: c.type };
}

export async function putObject(s3: S3, input: PutObjectRequest & RestXmlInputExtras, ctx: RequestContext): Promise<PutObjectOutput> {
  const key = checkKey(input.Key);
  const req = input[HTTP_REQUEST];
  const headers = req?.headers ?? {};
  const storageClass = checkStorageClass(input.StorageClass);
  const meta = checkMetadata(input.Metadata);
  const tags = parseTaggingHeader(input.Tagging);
  const md5 = parseContentMd5(input.ContentMD5);
  const cond: WriteConditions = { ifNoneMatch: input.IfNoneMatch, ifMatch: input.IfMatch };
  checkWriteConditionHeaders(cond);
  const checksum = checksumRequest(headers, input.ChecksumAlgorithm);
  const declared = declaredLength(headers, input.ContentLength);
  const sseReq = sseRequest(ctx, input);

  // The cached record is as last committed; commitObject checks again that the bucket is still this one.
  const bucket = await s3.buckets.require(s3, input.Bucket, ctx);
  const seen: SeenState | undefined =
    cond.ifMatch !== undefined || cond.ifNoneMatch !== undefined ? await s3.meta.read((tx) => precheckWrite(tx, bucket.name, key, cond)) : undefined;
  const acl = requestedAcl(bucket, input, 'object', writerId(ctx));
  const lock = lockForWrite(bucket, input, s3.clock.now());
  if (writeNeedsDigest(bucket, input)) requireChecksumHeader(input, 'Put Object', headers);
  await checkLockPermissions(s3, ctx, bucket.name, key, input);

  const cipher = await newCipher(s3, ctx, bucket, key, sseReq);
  const algorithm = checksum.algorithm ?? DEFAULT_ALGORITHM;
  const { blob, digests, data } = await receiveBody(s3, ctx, input.Body as NodeJS.ReadableStream & AsyncIterable<Uint8Array>, {
    declared,
    inlineMax: INLINE_MAX_BYTES,
    maxBytes: MAX_PUT_BYTES,
    checksum,
    extraAlgorithms: [algorithm],
    contentMd5Hex: md5,
    seal: cipher && sealingBody(cipher.keys),
    ...(req ? { trailers: () => req.trailers() } : {}),
  });
  const stored: StoredChecksum = { algorithm, value: digests.checksums[algorithm] as string, type: 'FULL_OBJECT' };
  const contentEncoding = storedContentEncoding(input.ContentEncoding);
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
      meta,
      checksum: stored,
      storageClass,
      ...(cipher ? { sse: cipher.sse } : {}),
      ...tagsOf(tags),
      ...aclField(acl),
      ...entityHeaders(input, contentEncoding, header({ headers }, 'expires')),
      ...lock,
    },
    { cond, ...(seen ? { seen } : {}) },
  );
  const out: PutObjectOutput = { ETag: record.etag, ...checksumOutput(stored), ...sseHeaders(cipher?.sse, bucket.name, key) };
  if (versioned) out.VersionId = record.versionId;
  const expiration = expirationOf(bucket.lifecycle, record);
  if (expiration !== undefined) out.Expiration = expiration;
  return out;
}
