/**
 * Object annotations: named UTF-8 payloads (1 byte to 1 MiB, at most 1,000)
 * attached to one object version. PutObjectAnnotation, GetObjectAnnotation,
 * ListObjectAnnotations, DeleteObjectAnnotation; rules in annotation-rules.ts.
 *
 * Storage: one row per annotation in s3:ann:<bucket> under the version's
 * key and sequence number (model.ts), its bytes sealed like an object's
 * blobs (sse-frames.ts) under the parent version's data keys — so an
 * annotation has its parent's encryption, SSE-S3 when the parent has none —
 * inline (≤ 64 KiB, s3:data) or in a file. The version record counts its
 * annotations (`ObjectRecord.annotations`) in the same transactions, so the
 * 1,000 limit is one read and a version without annotations is dropped
 * without a scan. Whatever removes a version (delete, overwrite, lifecycle)
 * removes its annotations in the same transaction (`dropAnnotations`,
 * versions.ts) and frees their blobs after the commit.
 */
import type {
  AnnotationEntry,
  DeleteObjectAnnotationOutput,
  DeleteObjectAnnotationRequest,
  GetObjectAnnotationOutput,
  GetObjectAnnotationRequest,
  ListObjectAnnotationsOutput,
  ListObjectAnnotationsRequest,
  PutObjectAnnotationOutput,
  PutObjectAnnotationRequest,
} from '@aws-sdk/client-s3';
import { HTTP_REQUEST, type RestXmlInputExtras } from '../../aws/protocols/rest-xml.js';
import { header } from '../../aws/http.js';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx, WriteTx } from '../../storage/ports.js';
import { checkAccess } from '../../iam/authorize.js';
import {
  annotationRowPrefix,
  checkAnnotationName,
  checkAnnotationPrefix,
  decodeAnnotationToken,
  encodeAnnotationToken,
  MAX_ANNOTATIONS,
  MAX_PAYLOAD_BYTES,
  nameInRow,
  pageSize,
  utf8Checked,
} from './annotation-rules.js';
import { type InlineData, loadInline } from './blob-stream.js';
import { checksumMember, parseContentMd5 } from './checksums.js';
import { invalidArgument, noSuchBucket, preconditionFailed, s3Error } from './errors.js';
import {
  type AnnotationRecord,
  type BlobRef,
  type BucketRecord,
  modifiedAt,
  nsAnnotations,
  nsInline,
  type ObjectRecord,
  type SseRecord,
  type StoredChecksum,
} from './model.js';
import { checksumOutput, DEFAULT_ALGORITHM } from './objects-put.js';
import { checksumRequest, declaredLength, INLINE_MAX_BYTES, receiveBody } from './receive-body.js';
import { type Cipher, dataKeys, decryptedStream, etagHex, sealingBody } from './sse.js';
import { checkKey, getBucket, requireBucket, type S3 } from './state.js';
import { checkVersionIdFormat, readableVersion, settleFreed, updateVersion } from './versions.js';

type Body = AsyncIterable<Uint8Array>;

function versionOut(bucket: BucketRecord, rec: ObjectRecord): { ObjectVersionId?: string } {
  return bucket.versioning !== undefined ? { ObjectVersionId: rec.versionId } : {};
}

function noSuchAnnotation(name: string) {
  return s3Error('NoSuchAnnotation', 'The specified annotation does not exist on this object.', { AnnotationName: name });
}

/** x-amz-object-if-match: the parent version's ETag must be this one. */
function checkObjectIfMatch(rec: ObjectRecord, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const t = ifMatch.trim();
  if (t !== '*' && (t.startsWith('"') ? t : `"${t}"`) !== rec.etag) throw preconditionFailed('x-amz-object-if-match');
}

/** SSE-C objects cannot have annotations (the key never stays with S3). */
function checkParentEncryption(rec: ObjectRecord): void {
  if (rec.sse?.customer) throw s3Error('InvalidRequest', 'Objects encrypted with SSE-C cannot have annotations.');
}

/** The keys to seal a new annotation with: the parent version's (KMS asked as the caller), or a new SSE-S3 key. */
async function sealingKeys(s3: S3, ctx: RequestContext, bucket: BucketRecord, rec: ObjectRecord): Promise<{ sse: SseRecord; keys: Buffer[] }> {
  if (rec.sse) return { sse: rec.sse, keys: (await dataKeys(s3, ctx, bucket.name, rec.key, rec.sse, undefined)) as Buffer[] };
  const k = s3.sse.newS3Key(bucket.id);
  return { sse: { algorithm: 'AES256', wrapped: [k.wrapped] }, keys: [k.plain] };
}

function contentLength(headers: Readonly<Record<string, string | string[] | undefined>>): number | undefined {
  const raw = header({ headers }, 'content-length');
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function payloadSizeError(size: number | undefined) {
  if (size === 0) return s3Error('InvalidRequest', 'The annotation payload must be between 1 byte and 1 MiB.');
  return s3Error('EntityTooLarge', 'Your annotation payload exceeds the maximum allowed size of 1 MiB.', { ProposedSize: size, MaxSizeAllowed: MAX_PAYLOAD_BYTES });
}

export async function putObjectAnnotation(s3: S3, input: PutObjectAnnotationRequest & RestXmlInputExtras, ctx: RequestContext): Promise<PutObjectAnnotationOutput> {
  const key = checkKey(input.Key);
  const name = checkAnnotationName(input.AnnotationName);
  if (input.VersionId !== undefined) checkVersionIdFormat(input.VersionId);
  const req = input[HTTP_REQUEST];
  const headers = req?.headers ?? {};
  const md5 = parseContentMd5(input.ContentMD5);
  const checksum = checksumRequest(headers, input.ChecksumAlgorithm);
  const declared = declaredLength(headers, contentLength(headers));
  if (declared !== undefined && (declared === 0 || declared > MAX_PAYLOAD_BYTES)) throw payloadSizeError(declared);

  const bucket = await s3.buckets.require(s3, input.Bucket, ctx);
  const parent = await s3.meta.read((tx) => readableVersion(tx, bucket, key, input.VersionId));
  checkParentEncryption(parent);
  checkObjectIfMatch(parent, input.ObjectIfMatch);
  const { sse, keys } = await sealingKeys(s3, ctx, bucket, parent);
  const algorithm = checksum.algorithm ?? DEFAULT_ALGORITHM;
  let received;
  try {
    received = await receiveBody(s3, ctx, utf8Checked(input.AnnotationPayload as Body), {
      declared,
      inlineMax: INLINE_MAX_BYTES,
      maxBytes: MAX_PAYLOAD_BYTES,
      checksum,
      extraAlgorithms: [algorithm],
      contentMd5Hex: md5,
      seal: sealingBody(keys),
      ...(req ? { trailers: () => req.trailers() } : {}),
    });
  } catch (e) {
    if ((e as { code?: string }).code === 'EntityTooLarge') throw payloadSizeError(declared);
    throw e;
  }
  const { blob, digests, data } = received;
  const mine = blob.inline ? [] : [blob.id];
  if (digests.size === 0) {
    s3.reaper.discard(mine);
    throw payloadSizeError(0);
  }
  const stored: StoredChecksum = { algorithm, value: digests.checksums[algorithm] as string, type: 'FULL_OBJECT' };
  const rec: AnnotationRecord = {
    name,
    size: digests.size,
    etag: `"${etagHex(sse, digests.md5Hex, blob)}"`,
    lastModified: modifiedAt(s3.clock.nowMs()),
    blob,
    sse,
    checksum: stored,
  };
  let freed: BlobRef[];
  let version: ObjectRecord;
  try {
    ({ freed, version } = await s3.meta.write(async (tx) => {
      const b = await getBucket(tx, bucket.name);
      if (!b || b.id !== bucket.id) throw noSuchBucket(bucket.name);
      const cur = await readableVersion(tx, b, key, input.VersionId);
      // The object was replaced while the payload arrived: sealed under keys that are not its own.
      if (cur.seq !== parent.seq) throw s3Error('ConditionalRequestConflict', 'The object was modified while the annotation was uploaded. Please try again.');
      checkObjectIfMatch(cur, input.ObjectIfMatch);
      // UpdateObjectEncryption may have re-wrapped the same data keys meanwhile: keep the version's wrapping.
      if (parent.sse && cur.sse) rec.sse = cur.sse;
      const ns = nsAnnotations(b.name);
      const row = annotationRowPrefix(key, cur.seq) + name;
      const old = await tx.get<AnnotationRecord>(ns, row);
      const count = cur.annotations ?? 0;
      if (!old && count >= MAX_ANNOTATIONS) {
        throw s3Error('AnnotationLimitExceeded', `An object version can have at most ${MAX_ANNOTATIONS} annotations.`);
      }
      if (data) await tx.put(nsInline(b.name), blob.id, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      await tx.put(ns, row, rec);
      const v = old ? cur : await updateVersion(tx, b, key, input.VersionId, (r) => Object.assign({}, r, { annotations: count + 1 }));
      return { freed: old ? await settleFreed(tx, b.name, [old.blob]) : [], version: v };
    }));
  } catch (e) {
    s3.reaper.discard(mine);
    throw e;
  }
  s3.reaper.free(freed.map((f) => f.id));
  return {
    Key: key,
    AnnotationName: name,
    ETag: rec.etag,
    ...checksumOutput(stored),
    ServerSideEncryption: rec.sse.algorithm,
    ...versionOut(bucket, version),
  };
}

export async function getObjectAnnotation(s3: S3, input: GetObjectAnnotationRequest, ctx: RequestContext): Promise<GetObjectAnnotationOutput> {
  const key = checkKey(input.Key);
  const name = checkAnnotationName(input.AnnotationName);
  if (input.VersionId !== undefined) checkVersionIdFormat(input.VersionId);
  const found = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const parent = await readableVersion(tx, b, key, input.VersionId);
    const rec = await tx.get<AnnotationRecord>(nsAnnotations(b.name), annotationRowPrefix(key, parent.seq) + name);
    if (!rec) throw noSuchAnnotation(name);
    return { bucket: b, parent, rec, inline: await loadInline(tx, b.name, [rec.blob]) };
  });
  const { rec } = found;
  const keys = await dataKeys(s3, ctx, found.bucket.name, key, rec.sse, undefined);
  const out: GetObjectAnnotationOutput = {
    AnnotationPayload: decryptedStream(s3, [rec.blob], keys, undefined, found.inline),
    LastModified: rec.lastModified,
    ContentLength: rec.size,
    ETag: rec.etag,
    ServerSideEncryption: rec.sse.algorithm,
    ...versionOut(found.bucket, found.parent),
  };
  if (input.ChecksumMode === 'ENABLED') Object.assign(out, { [checksumMember(rec.checksum.algorithm)]: rec.checksum.value, ChecksumType: rec.checksum.type });
  return out;
}

/** Up to `limit` annotations of one version, by name (UTF-8 byte order), after `after`, with `prefix`. */
async function annotationPage(tx: ReadTx, bucket: string, rec: ObjectRecord, prefix: string | undefined, after: string | undefined, limit: number): Promise<AnnotationRecord[]> {
  const ns = nsAnnotations(bucket);
  const base = annotationRowPrefix(rec.key, rec.seq);
  const out: AnnotationRecord[] = [];
  let startAfter = after !== undefined ? base + after : undefined;
  for (;;) {
    const page = await tx.scan<AnnotationRecord>(ns, { prefix: base + (prefix ?? ''), ...(startAfter !== undefined ? { startAfter } : {}), limit: limit + 1 });
    for (const e of page) {
      // Rows of a longer object key that happens to share the prefix are not this version's.
      if (nameInRow(e.key, base) === undefined) continue;
      out.push(e.value);
      if (out.length >= limit) return out;
    }
    if (page.length < limit + 1) return out;
    startAfter = (page[page.length - 1] as { key: string }).key;
  }
}

export async function listObjectAnnotations(s3: S3, input: ListObjectAnnotationsRequest, ctx: RequestContext): Promise<ListObjectAnnotationsOutput> {
  const key = checkKey(input.Key);
  if (input.VersionId !== undefined) checkVersionIdFormat(input.VersionId);
  const prefix = checkAnnotationPrefix(input.AnnotationPrefix);
  const max = pageSize(input.MaxAnnotationResults);
  const after = input.ContinuationToken !== undefined ? decodeAnnotationToken(input.ContinuationToken) : undefined;
  const { bucket, parent, rows } = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const p = await readableVersion(tx, b, key, input.VersionId);
    return { bucket: b, parent: p, rows: p.annotations ? await annotationPage(tx, b.name, p, prefix, after, max + 1) : [] };
  });
  const page = rows.slice(0, max);
  const entries: AnnotationEntry[] = page.map((r) => ({ AnnotationName: r.name, LastModified: r.lastModified, ETag: r.etag, ChecksumAlgorithm: [r.checksum.algorithm], Size: r.size }));
  const out: ListObjectAnnotationsOutput = {
    Annotations: entries,
    Bucket: bucket.name,
    Key: key,
    MaxAnnotationResults: max,
    AnnotationCount: entries.length,
    ...versionOut(bucket, parent),
  };
  if (prefix !== undefined) out.AnnotationPrefix = prefix;
  if (input.ContinuationToken !== undefined) out.ContinuationToken = input.ContinuationToken;
  const last = page[page.length - 1];
  if (rows.length > max && last) out.NextContinuationToken = encodeAnnotationToken(last.name);
  return out;
}

export async function deleteObjectAnnotation(s3: S3, input: DeleteObjectAnnotationRequest, ctx: RequestContext): Promise<DeleteObjectAnnotationOutput> {
  const key = checkKey(input.Key);
  const name = checkAnnotationName(input.AnnotationName);
  if (input.VersionId !== undefined) checkVersionIdFormat(input.VersionId);
  const { freed, out } = await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const cur = await readableVersion(tx, b, key, input.VersionId);
    checkObjectIfMatch(cur, input.ObjectIfMatch);
    const ns = nsAnnotations(b.name);
    const row = annotationRowPrefix(key, cur.seq) + name;
    const old = await tx.get<AnnotationRecord>(ns, row);
    // Deleting an annotation that is not there succeeds, as DeleteObject does (the API models no error for it).
    if (!old) return { freed: [], out: versionOut(b, cur) };
    await tx.delete(ns, row);
    const left = (cur.annotations ?? 1) - 1;
    await updateVersion(tx, b, key, input.VersionId, (r) => {
      const { annotations: _n, ...rest } = r;
      return left > 0 ? Object.assign(rest, { annotations: left }) : rest;
    });
    return { freed: await settleFreed(tx, b.name, [old.blob]), out: versionOut(b, cur) };
  });
  s3.reaper.free(freed.map((f) => f.id));
  return out;
}

/** CopyObject's x-amz-object-annotation-directive: COPY (the default) or EXCLUDE. */
export function annotationDirective(raw: string | undefined): 'COPY' | 'EXCLUDE' {
  if (raw === undefined || raw === 'COPY' || raw === 'EXCLUDE') return raw ?? 'COPY';
  throw invalidArgument('Unknown annotation directive.', 'x-amz-object-annotation-directive', raw);
}

/** A copy's annotations, re-sealed under the destination's keys, to commit with its new version. */
export interface CarriedAnnotations {
  count: number;
  /** Writes the rows (and inline bytes) for the committed version, inside its transaction. */
  write(tx: WriteTx, bucket: string, version: ObjectRecord): Promise<void>;
  /** Deletes the copies' files when the commit failed. */
  discard(): void;
}

/**
 * CopyObject with AnnotationDirective COPY: the source version's annotations
 * (one snapshot) are opened and sealed again under the destination's data
 * keys (its cipher; SSE-S3 when it has none), before the commit. Needs
 * s3:GetObjectAnnotation on the source and s3:PutObjectAnnotation on the
 * destination, as AWS documents; an SSE-C destination cannot take them.
 */
export async function carryAnnotations(
  s3: S3,
  ctx: RequestContext,
  src: { bucket: BucketRecord; rec: ObjectRecord },
  dest: { bucket: BucketRecord; key: string; cipher: Cipher | undefined },
): Promise<CarriedAnnotations | undefined> {
  if (!src.rec.annotations) return undefined;
  // As AWS: COPY (also by default) into a directory bucket is 501; EXCLUDE copies without them.
  if (dest.bucket.directory) throw s3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'x-amz-object-annotation-directive' });
  const service = s3.service?.();
  if (service) {
    await checkAccess(ctx, service, { action: 's3:GetObjectAnnotation', resource: `arn:aws:s3:::${src.bucket.name}/${src.rec.key}` });
    await checkAccess(ctx, service, { action: 's3:PutObjectAnnotation', resource: `arn:aws:s3:::${dest.bucket.name}/${dest.key}` });
  }
  if (dest.cipher?.sse.customer) throw s3Error('InvalidRequest', 'Objects encrypted with SSE-C cannot have annotations. Use x-amz-object-annotation-directive: EXCLUDE to copy without them.');
  const rows = await s3.meta.read(async (tx) => {
    const out: Array<{ rec: AnnotationRecord; inline: InlineData | undefined }> = [];
    const base = annotationRowPrefix(src.rec.key, src.rec.seq);
    for (const e of await tx.scan<AnnotationRecord>(nsAnnotations(src.bucket.name), { prefix: base })) {
      if (nameInRow(e.key, base) !== undefined) out.push({ rec: e.value, inline: await loadInline(tx, src.bucket.name, [e.value.blob]) });
    }
    return out;
  });
  let sse: SseRecord;
  let keys: Buffer[];
  if (dest.cipher) ({ sse, keys } = dest.cipher);
  else {
    const k = s3.sse.newS3Key(dest.bucket.id);
    sse = { algorithm: 'AES256', wrapped: [k.wrapped] };
    keys = [k.plain];
  }
  // Most rows share their parent's keys: open each wrapping once (one KMS call, not one per annotation).
  const opened = new Map<string, Buffer[] | undefined>();
  const made: Array<{ rec: AnnotationRecord; data: Buffer | undefined }> = [];
  const discard = () => s3.reaper.discard(made.filter((m) => !m.rec.blob.inline).map((m) => m.rec.blob.id));
  const now = modifiedAt(s3.clock.nowMs());
  try {
    for (const { rec, inline } of rows) {
      const wrapping = rec.sse.wrapped.join(',');
      if (!opened.has(wrapping)) opened.set(wrapping, await dataKeys(s3, ctx, src.bucket.name, src.rec.key, rec.sse, undefined));
      const { blob, digests, data } = await receiveBody(s3, ctx, decryptedStream(s3, [rec.blob], opened.get(wrapping), undefined, inline), {
        declared: rec.size,
        inlineMax: INLINE_MAX_BYTES,
        maxBytes: MAX_PAYLOAD_BYTES,
        checksum: { algorithm: undefined, value: undefined, trailer: undefined },
        extraAlgorithms: [rec.checksum.algorithm],
        contentMd5Hex: undefined,
        seal: sealingBody(keys),
      });
      made.push({
        rec: { ...rec, blob, sse, etag: `"${etagHex(sse, digests.md5Hex, blob)}"`, lastModified: now, checksum: { ...rec.checksum, value: digests.checksums[rec.checksum.algorithm] as string } },
        data,
      });
    }
  } catch (e) {
    discard();
    throw e;
  }
  return {
    count: made.length,
    async write(tx, bucket, version) {
      const base = annotationRowPrefix(version.key, version.seq);
      for (const { rec, data } of made) {
        if (data) await tx.put(nsInline(bucket), rec.blob.id, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        await tx.put(nsAnnotations(bucket), base + rec.name, rec);
      }
    },
    discard,
  };
}
