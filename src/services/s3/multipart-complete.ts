/**
 * CompleteMultipartUpload: the listed parts must exist with matching ETags,
 * ascend, and all but the last be ≥ 5 MiB. The object's record lists the
 * part blobs in order (no byte is copied); its ETag is the MD5 of the part
 * MD5s plus `-N`, its checksum COMPOSITE (checksum of the part checksums) or
 * FULL_OBJECT (the part CRCs combined). Parts uploaded but not listed are
 * freed after the commit.
 */
import type { CompletedPart, CompleteMultipartUploadOutput, CompleteMultipartUploadRequest } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { ALGORITHMS, checkDigestFormat, checksumMember, checksumMismatch, combinedCrc, compositeChecksum, multipartEtag } from './checksums.js';
import { malformedXml, noSuchUpload, s3Error } from './errors.js';
import { type ChecksumAlgorithm, type ChecksumType, nsParts, nsUploads, type PartInfo, type PartRecord, SEP, type StoredChecksum, uploadKey } from './model.js';
import { checkPartNumber, MIN_PART_BYTES, partAlgorithm, requireUpload } from './multipart.js';
import { lockForCompletion } from './object-lock.js';
import { checkKey, requireBucket, type S3 } from './state.js';
import { sseHeaders } from './sse.js';
import { checkWriteConditionHeaders, commitObject, precheckWrite, type WriteConditions } from './write-object.js';

function normalizeEtag(e: string | undefined): string {
  const t = (e ?? '').trim();
  return t.startsWith('"') ? t : `"${t}"`;
}

function invalidPart(uploadId: string, p: CompletedPart) {
  return s3Error(
    'InvalidPart',
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    { UploadId: uploadId, PartNumber: p.PartNumber, ETag: p.ETag },
  );
}

/** The checksum value a CompletedPart carries for `alg`, if any. */
function partChecksum(p: CompletedPart, alg: ChecksumAlgorithm): string | undefined {
  return (p as Record<string, unknown>)[checksumMember(alg)] as string | undefined;
}

export async function completeMultipartUpload(s3: S3, input: CompleteMultipartUploadRequest, ctx: RequestContext): Promise<CompleteMultipartUploadOutput> {
  const key = checkKey(input.Key);
  const listed = input.MultipartUpload?.Parts;
  if (!listed || listed.length === 0) {
    throw s3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  }
  if (listed.length > 10_000) throw malformedXml();
  const cond: WriteConditions = { ifNoneMatch: input.IfNoneMatch, ifMatch: input.IfMatch };
  checkWriteConditionHeaders(cond);

  const { bucket, upload, stored, seen } = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const u = await requireUpload(tx, b, key, input.UploadId);
    const rows = await tx.scan<PartRecord>(nsParts(b.name), { prefix: u.uploadId + SEP });
    const s = cond.ifMatch !== undefined || cond.ifNoneMatch !== undefined ? await precheckWrite(tx, b.name, key, cond) : undefined;
    return { bucket: b, upload: u, stored: new Map(rows.map((r) => [r.value.partNumber, r.value])), seen: s };
  });
  const uploadId = upload.uploadId;
  const alg = partAlgorithm(upload);
  const type: ChecksumType = upload.checksumType ?? 'FULL_OBJECT';

  // S3's order of complaints: the list's order, then each part, then sizes.
  let prev = 0;
  for (const p of listed) {
    const n = checkPartNumber(p.PartNumber);
    if (n <= prev) throw s3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', { UploadId: uploadId });
    prev = n;
  }
  const used: PartRecord[] = [];
  for (const p of listed) {
    const n = p.PartNumber as number;
    const rec = stored.get(n);
    if (!rec || normalizeEtag(p.ETag) !== rec.etag) throw invalidPart(uploadId, p);
    if (upload.checksumAlgorithm) {
      const given = partChecksum(p, upload.checksumAlgorithm);
      if (given !== undefined && given !== rec.checksums[upload.checksumAlgorithm]) throw invalidPart(uploadId, p);
      if (given === undefined && type === 'COMPOSITE') {
        throw s3Error('InvalidRequest', `The upload was created using a ${upload.checksumAlgorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${n} in the request.`);
      }
    }
    used.push(rec);
  }
  for (const [i, rec] of used.entries()) {
    if (i < used.length - 1 && rec.blob.size < MIN_PART_BYTES) {
      throw s3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
        ProposedSize: rec.blob.size,
        MinSizeAllowed: MIN_PART_BYTES,
        PartNumber: rec.partNumber,
        ETag: rec.etag,
      });
    }
  }
  const size = used.reduce((a, p) => a + p.blob.size, 0);
  if (input.MpuObjectSize !== undefined && input.MpuObjectSize !== size) {
    throw s3Error('InvalidRequest', `The provided 'x-amz-mp-object-size' header value ${input.MpuObjectSize} does not match what was computed: ${size}`);
  }
  const digests = used.map((p) => p.checksums[alg]);
  let checksum: StoredChecksum | undefined;
  if (digests.every((d): d is string => d !== undefined)) {
    const value =
      type === 'COMPOSITE' ? await compositeChecksum(alg, digests) : combinedCrc(alg, used.map((p, i) => ({ digestB64: digests[i] as string, size: p.blob.size })));
    checksum = { algorithm: alg, value, type };
  }
  // A full-object checksum the client computed itself must match ours.
  const claimedAlg = ALGORITHMS.find((a) => (input as unknown as Record<string, unknown>)[checksumMember(a)] !== undefined);
  if (claimedAlg) {
    const claimed = (input as unknown as Record<string, unknown>)[checksumMember(claimedAlg)] as string;
    if (type === 'FULL_OBJECT' || !claimed.includes('-')) {
      checkDigestFormat(claimedAlg, claimed);
      if (!checksum || claimedAlg !== checksum.algorithm || claimed !== checksum.value) throw checksumMismatch(claimedAlg);
    }
  }

  const parts: PartInfo[] = used.map((p) => ({ size: p.blob.size, etag: p.etag, ...(p.checksums[alg] !== undefined ? { checksum: p.checksums[alg] } : {}) }));
  const usedIds = new Set(used.map((p) => p.blob.id));
  let unused: string[] = [];
  const { record, versioned } = await commitObject(
    s3,
    ctx,
    bucket,
    {
      key,
      etag: multipartEtag(used.map((p) => p.md5)),
      size,
      blobs: used.map((p) => p.blob),
      parts,
      meta: upload.meta,
      ...(checksum ? { checksum } : {}),
      storageClass: upload.storageClass,
      ...(upload.sse ? { sse: upload.sse } : {}),
      ...(upload.tags ? { tags: upload.tags } : {}),
      ...(upload.acl ? { acl: upload.acl } : {}),
      ...entity(upload),
      ...lockForCompletion(bucket, upload, s3.clock.now()),
    },
    {
      cond,
      ...(seen ? { seen } : {}),
      discardOnFailure: false,
      inTx: async (tx, b) => {
        // The parts must still be the ones validated: a concurrent completion or re-upload wins otherwise.
        if (!(await tx.get(nsUploads(b.name), uploadKey(key, uploadId)))) throw noSuchUpload(uploadId);
        const now = await tx.scan<PartRecord>(nsParts(b.name), { prefix: uploadId + SEP });
        const byNumber = new Map(now.map((r) => [r.value.partNumber, r.value.blob.id]));
        for (const p of used) if (byNumber.get(p.partNumber) !== p.blob.id) throw invalidPart(uploadId, { PartNumber: p.partNumber, ETag: p.etag });
        unused = now.map((r) => r.value.blob.id).filter((id) => !usedIds.has(id));
        await tx.deleteRange(nsParts(b.name), { prefix: uploadId + SEP });
        await tx.delete(nsUploads(b.name), uploadKey(key, uploadId));
      },
    },
  );
  s3.reaper.free(unused);
  const out: CompleteMultipartUploadOutput = {
    Location: `/${bucket.name}/${key.split('/').map(encodeURIComponent).join('/')}`,
    Bucket: bucket.name,
    Key: key,
    ETag: record.etag,
    ...sseHeaders(upload.sse),
  };
  if (checksum && (upload.checksumAlgorithm || type === 'FULL_OBJECT')) Object.assign(out, { [checksumMember(checksum.algorithm)]: checksum.value, ChecksumType: checksum.type });
  if (versioned) out.VersionId = record.versionId;
  return out;
}

function entity(u: { contentType?: string; contentEncoding?: string; contentDisposition?: string; contentLanguage?: string; cacheControl?: string; expires?: string; websiteRedirectLocation?: string }) {
  const e: Record<string, string> = {};
  for (const k of ['contentType', 'contentEncoding', 'contentDisposition', 'contentLanguage', 'cacheControl', 'expires', 'websiteRedirectLocation'] as const) {
    const v = u[k];
    if (v !== undefined) e[k] = v;
  }
  return e;
}
