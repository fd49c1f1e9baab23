/**
 * RenameObject (directory buckets only): moves an object to a new key of the
 * same bucket in one transaction — the record moves, its bytes stay where
 * they are — with conditions on the source (x-amz-rename-source-if-*) and on
 * the destination (If-Match, If-None-Match: * to never overwrite, …). An
 * object it overwrites is freed as a delete would.
 */
import type { RenameObjectOutput, RenameObjectRequest } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { checkCopySourceConditions, etagMatches } from './conditions.js';
import { invalidArgument, noSuchKey, preconditionFailed, s3Error } from './errors.js';
import { type BlobRef, nsObjects, type ObjectRecord } from './model.js';
import { checkKey, requireBucket, type S3 } from './state.js';
import { settleFreed } from './versions.js';
import { isDirectoryName } from './directory.js';

/** `<bucket>/<key>` (or `/<bucket>/<key>`), URL-encoded; a bare key is taken as in this bucket. */
function sourceKey(bucket: string, raw: string | undefined): string {
  if (raw === undefined || raw === '') throw invalidArgument('x-amz-rename-source must be specified', 'x-amz-rename-source', '');
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw invalidArgument('Invalid x-amz-rename-source', 'x-amz-rename-source', raw);
  }
  const path = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  return checkKey(path.startsWith(`${bucket}/`) ? path.slice(bucket.length + 1) : path);
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

function checkDestination(dest: ObjectRecord | undefined, input: RenameObjectRequest): void {
  if (input.DestinationIfNoneMatch !== undefined && dest !== undefined && etagMatches(input.DestinationIfNoneMatch, dest.etag)) throw preconditionFailed('If-None-Match');
  const needsDest = input.DestinationIfMatch !== undefined || input.DestinationIfModifiedSince !== undefined || input.DestinationIfUnmodifiedSince !== undefined;
  if (!needsDest) return;
  if (dest === undefined) throw preconditionFailed(input.DestinationIfMatch !== undefined ? 'If-Match' : 'If-Modified-Since');
  if (input.DestinationIfMatch !== undefined && !etagMatches(input.DestinationIfMatch, dest.etag)) throw preconditionFailed('If-Match');
  if (input.DestinationIfUnmodifiedSince !== undefined && seconds(dest.lastModified) > seconds(input.DestinationIfUnmodifiedSince)) throw preconditionFailed('If-Unmodified-Since');
  if (input.DestinationIfModifiedSince !== undefined && seconds(dest.lastModified) <= seconds(input.DestinationIfModifiedSince)) throw preconditionFailed('If-Modified-Since');
}

export async function renameObject(s3: S3, input: RenameObjectRequest, ctx: RequestContext): Promise<RenameObjectOutput> {
  if (!isDirectoryName(input.Bucket)) throw s3Error('NotImplemented', 'RenameObject is supported only for directory buckets.');
  const key = checkKey(input.Key);
  const from = sourceKey(input.Bucket ?? '', input.RenameSource);
  const token = input.ClientToken;
  if (token !== undefined && (token.length > 64 || !/^[\x21-\x7e]*$/.test(token))) throw invalidArgument('Invalid client token', 'x-amz-client-token', token);
  let freed: BlobRef[] = [];
  await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    const ns = nsObjects(bucket.name);
    const src = await tx.get<ObjectRecord>(ns, from);
    if (src === undefined || src.deleteMarker === true) throw noSuchKey(from);
    checkCopySourceConditions(src, { ifMatch: input.SourceIfMatch, ifNoneMatch: input.SourceIfNoneMatch, ifModifiedSince: input.SourceIfModifiedSince, ifUnmodifiedSince: input.SourceIfUnmodifiedSince });
    if (from === key) return;
    // SSE-KMS without a bucket key binds the data key to the object's ARN, key name included.
    if (src.sse?.algorithm.startsWith('aws:kms') === true && src.sse.bucketKey !== true) {
      throw s3Error('InvalidRequest', 'hanul cannot rename an SSE-KMS object encrypted without an S3 Bucket Key.');
    }
    const dest = await tx.get<ObjectRecord>(ns, key);
    checkDestination(dest?.deleteMarker === true ? undefined : dest, input);
    if (dest !== undefined) freed = await settleFreed(tx, bucket.name, dest.blobs);
    await tx.put(ns, key, { ...src, key });
    await tx.delete(ns, from);
  });
  s3.reaper.free(freed.map((b) => b.id));
  return {};
}
