/**
 * Multipart uploads: create, upload a part (streamed to its own blob, MD5 and
 * checksums computed on the way), abort, list parts. Completion lives in
 * multipart-complete.ts. A part's blob becomes part of the object as is:
 * completing never copies bytes.
 */
import { aclField, requestedAcl, writerId } from './acl.js';
import type {
  AbortMultipartUploadOutput,
  AbortMultipartUploadRequest,
  CreateMultipartUploadOutput,
  CreateMultipartUploadRequest,
  ListPartsOutput,
  ListPartsRequest,
  Part,
  UploadPartOutput,
  UploadPartRequest,
} from '@aws-sdk/client-s3';
import { header } from '../../aws/http.js';
import { HTTP_REQUEST, type RestXmlInputExtras } from '../../aws/protocols/rest-xml.js';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx } from '../../storage/ports.js';
import { checksumMember, fullObjectCapable, parseAlgorithm, parseContentMd5 } from './checksums.js';
import { invalidArgument, noSuchUpload, s3Error } from './errors.js';
import { type BucketRecord, type ChecksumAlgorithm, type ChecksumType, makeUploadId, modifiedAt, nsParts, nsUploads, owner, partKey, type PartRecord, SEP, type UploadRecord, uploadKey } from './model.js';
import { DEFAULT_ALGORITHM } from './objects-put.js';
import { checksumRequest, declaredLength, MAX_PUT_BYTES, receiveBody, storedContentEncoding } from './receive-body.js';
import { checkLockHeaders, checkLockPermissions, lockForWrite } from './object-lock.js';
import { accountOf, checkKey, getBucket, requireBucket, type S3 } from './state.js';
import { parseTaggingHeader } from './tagging.js';
import { checkMetadata, checkStorageClass, entityHeaders, storageClassOut, tagsOf } from './write-object.js';
import { customerKey, dataKeys, etagHex, newCipher, sealingBody, sseHeaders, sseRequest } from './sse.js';

export const MAX_PARTS = 10_000;
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export function checkPartNumber(n: number | undefined): number {
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > MAX_PARTS) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', String(n));
  }
  return n;
}

/** The checksum type an upload uses: CRC64NVME is FULL_OBJECT only, every algorithm but the CRCs COMPOSITE only. */
function checksumTypeFor(alg: ChecksumAlgorithm | undefined, raw: string | undefined): ChecksumType | undefined {
  if (raw !== undefined && raw !== 'COMPOSITE' && raw !== 'FULL_OBJECT') {
    throw invalidArgument('Value for x-amz-checksum-type header is invalid.', 'x-amz-checksum-type', raw);
  }
  if (alg === undefined) {
    if (raw !== undefined) throw s3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return undefined;
  }
  const type = raw ?? (alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (type === 'COMPOSITE' && alg === 'CRC64NVME') throw s3Error('InvalidRequest', 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
  if (type === 'FULL_OBJECT' && !fullObjectCapable(alg)) {
    throw s3Error('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${alg.toLowerCase()} checksum algorithm.`);
  }
  return type;
}

export async function createMultipartUpload(s3: S3, input: CreateMultipartUploadRequest, ctx: RequestContext): Promise<CreateMultipartUploadOutput> {
  const key = checkKey(input.Key);
  const storageClass = checkStorageClass(input.StorageClass);
  const meta = checkMetadata(input.Metadata);
  const tags = parseTaggingHeader(input.Tagging);
  const algorithm = parseAlgorithm(input.ChecksumAlgorithm);
  const checksumType = checksumTypeFor(algorithm, input.ChecksumType);
  const sseReq = sseRequest(ctx, input);
  const target = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  const cipher = await newCipher(s3, ctx, target, key, sseReq);
  const now = s3.clock.now();
  checkLockHeaders(input, now);
  await checkLockPermissions(s3, ctx, input.Bucket ?? '', key, input);
  const upload: UploadRecord = {
    key,
    uploadId: makeUploadId(now.getTime()),
    initiated: now,
    ownerAccount: accountOf(ctx),
    meta,
    storageClass,
    ...tagsOf(tags),
    ...entityHeaders(input, storedContentEncoding(input.ContentEncoding)),
  };
  if (algorithm) upload.checksumAlgorithm = algorithm;
  if (checksumType) upload.checksumType = checksumType;
  if (cipher) upload.sse = cipher.sse;
  const bucket = await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    Object.assign(upload, aclField(requestedAcl(b, input, 'object', writerId(ctx))));
    // Only the explicit lock headers are kept: a default retention applies when the upload completes.
    const { objectLock, ...rest } = b;
    const lock = lockForWrite(objectLock ? { ...rest, objectLock: { enabled: true } } : rest, input, now);
    Object.assign(upload, lock);
    await tx.put(nsUploads(b.name), uploadKey(key, upload.uploadId), upload);
    return b;
  });
  const out: CreateMultipartUploadOutput = { Bucket: bucket.name, Key: key, UploadId: upload.uploadId, ...sseHeaders(upload.sse, bucket.name, key) };
  if (algorithm) out.ChecksumAlgorithm = algorithm;
  if (checksumType) out.ChecksumType = checksumType;
  return out;
}

/** The upload, else NoSuchUpload. */
export async function requireUpload(tx: ReadTx, bucket: BucketRecord, key: string, uploadId: string | undefined): Promise<UploadRecord> {
  const id = uploadId ?? '';
  const u = id === '' || id.includes(SEP) ? undefined : await tx.get<UploadRecord>(nsUploads(bucket.name), uploadKey(key, id));
  if (!u) throw noSuchUpload(id);
  return u;
}

/** The algorithms a part of this upload is hashed with (the upload's, else S3's default). */
export function partAlgorithm(u: UploadRecord): ChecksumAlgorithm {
  return u.checksumAlgorithm ?? DEFAULT_ALGORITHM;
}

/** Stores a part record, replacing an earlier upload of the same number; frees the replaced blob. */
export async function commitPart(s3: S3, bucket: BucketRecord, key: string, uploadId: string, part: PartRecord): Promise<void> {
  let replaced: string | undefined;
  try {
    await s3.meta.write(async (tx) => {
      const b = await getBucket(tx, bucket.name);
      if (!b || b.id !== bucket.id) throw noSuchUpload(uploadId);
      await requireUpload(tx, b, key, uploadId);
      const pk = partKey(uploadId, part.partNumber);
      replaced = (await tx.get<PartRecord>(nsParts(b.name), pk))?.blob.id;
      await tx.put(nsParts(b.name), pk, part);
    });
  } catch (e) {
    s3.reaper.discard([part.blob.id]);
    throw e;
  }
  if (replaced !== undefined) s3.reaper.free([replaced]);
}

export async function uploadPart(s3: S3, input: UploadPartRequest & RestXmlInputExtras, ctx: RequestContext): Promise<UploadPartOutput> {
  const key = checkKey(input.Key);
  const partNumber = checkPartNumber(input.PartNumber);
  const req = input[HTTP_REQUEST];
  const headers = req?.headers ?? {};
  const md5 = parseContentMd5(input.ContentMD5);
  const checksum = checksumRequest(headers, input.ChecksumAlgorithm);
  const declared = declaredLength(headers, input.ContentLength);
  const { bucket, upload } = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    return { bucket: b, upload: await requireUpload(tx, b, key, input.UploadId) };
  });
  const alg = partAlgorithm(upload);
  if (upload.checksumAlgorithm && checksum.algorithm && checksum.algorithm !== upload.checksumAlgorithm) {
    throw s3Error(
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${checksum.algorithm.toLowerCase()}`,
    );
  }
  const keys = await dataKeys(s3, ctx, bucket.name, key, upload.sse, customerKey(ctx, input.SSECustomerAlgorithm, input.SSECustomerKey, input.SSECustomerKeyMD5));
  const { blob, digests } = await receiveBody(s3, ctx, input.Body as AsyncIterable<Uint8Array>, {
    declared,
    seal: keys && sealingBody(keys),
    maxBytes: MAX_PUT_BYTES,
    checksum,
    extraAlgorithms: [alg],
    contentMd5Hex: md5,
    ...(req ? { trailers: () => req.trailers() } : {}),
  });
  const tag = etagHex(upload.sse, digests.md5Hex, blob);
  const part: PartRecord = {
    partNumber,
    blob,
    etag: `"${tag}"`,
    md5: tag,
    lastModified: modifiedAt(s3.clock.nowMs()),
    checksums: digests.checksums,
  };
  await commitPart(s3, bucket, key, upload.uploadId, part);
  const out: UploadPartOutput = { ETag: part.etag, ...sseHeaders(upload.sse) };
  const shown = upload.checksumAlgorithm ?? checksum.algorithm;
  if (shown && digests.checksums[shown]) Object.assign(out, { [checksumMember(shown)]: digests.checksums[shown] });
  return out;
}

export async function abortMultipartUpload(s3: S3, input: AbortMultipartUploadRequest, ctx: RequestContext): Promise<AbortMultipartUploadOutput> {
  const key = checkKey(input.Key);
  const freed = await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const u = await requireUpload(tx, b, key, input.UploadId);
    const parts = await tx.scan<PartRecord>(nsParts(b.name), { prefix: u.uploadId + SEP });
    await tx.deleteRange(nsParts(b.name), { prefix: u.uploadId + SEP });
    await tx.delete(nsUploads(b.name), uploadKey(key, u.uploadId));
    return parts.map((p) => p.value.blob.id);
  });
  s3.reaper.free(freed);
  return {};
}

export async function listParts(s3: S3, input: ListPartsRequest, ctx: RequestContext): Promise<ListPartsOutput> {
  const key = checkKey(input.Key);
  const max = input.MaxParts ?? 1000;
  if (!Number.isInteger(max) || max < 0) throw invalidArgument('Argument max-parts must be an integer between 0 and 2147483647', 'max-parts', String(max));
  const marker = input.PartNumberMarker !== undefined ? Number(input.PartNumberMarker) : 0;
  if (!Number.isInteger(marker) || marker < 0) {
    throw invalidArgument('Argument part-number-marker must be an integer between 0 and 2147483647', 'part-number-marker', String(input.PartNumberMarker));
  }
  const { bucket, upload, parts } = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const u = await requireUpload(tx, b, key, input.UploadId);
    const rows = await tx.scan<PartRecord>(nsParts(b.name), {
      prefix: u.uploadId + SEP,
      ...(marker > 0 ? { startAfter: partKey(u.uploadId, Math.min(marker, MAX_PARTS)) } : {}),
      limit: Math.min(max, 1000) + 1,
    });
    return { bucket: b, upload: u, parts: rows.map((r) => r.value) };
  });
  const limit = Math.min(max, 1000);
  const truncated = parts.length > limit;
  const page = parts.slice(0, limit);
  const alg = upload.checksumAlgorithm;
  const out: ListPartsOutput = {
    Bucket: bucket.name,
    Key: key,
    UploadId: upload.uploadId,
    PartNumberMarker: String(marker),
    MaxParts: max,
    IsTruncated: truncated,
    Parts: page.map((p): Part => {
      const part: Part = { PartNumber: p.partNumber, LastModified: p.lastModified, ETag: p.etag, Size: p.blob.size };
      if (alg && p.checksums[alg]) Object.assign(part, { [checksumMember(alg)]: p.checksums[alg] });
      return part;
    }),
    Initiator: { ID: owner(upload.ownerAccount).ID, DisplayName: owner(upload.ownerAccount).DisplayName },
    Owner: owner(upload.ownerAccount),
    StorageClass: storageClassOut(upload.storageClass),
  };
  const last = page[page.length - 1];
  if (truncated && last) out.NextPartNumberMarker = String(last.partNumber);
  if (alg) out.ChecksumAlgorithm = alg;
  if (upload.checksumType) out.ChecksumType = upload.checksumType;
  return out;
}

export { header };
