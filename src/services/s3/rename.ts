/**
 * RenameObject (directory buckets only): moves an object to a new key of the
 * same bucket in one transaction — the record moves, its bytes stay where
 * they are — with conditions on the source (x-amz-rename-source-if-*) and on
 * the destination (If-Match, If-None-Match: * to never overwrite, …). An
 * object it overwrites is freed as a delete would.
 *
 * A client token (x-amz-client-token) makes it idempotent: a successful
 * rename records the token with a digest of its parameters in the same
 * transaction; a retry with the same token and parameters succeeds without
 * doing anything, one with other parameters is IdempotencyParameterMismatch.
 * Tokens are kept TOKEN_LIFETIME_MS (AWS does not say how long; an SDK's
 * retries are over within minutes) and swept per bucket as new ones come.
 */
import type { RenameObjectOutput, RenameObjectRequest } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import { checkCopySourceConditions, etagMatches } from './conditions.js';
import { invalidArgument, noSuchKey, preconditionFailed, s3Error } from './errors.js';
import { type BlobRef, nsObjects, nsRenameTokens, type ObjectRecord } from './model.js';
import { checkKey, requireBucket, type S3 } from './state.js';
import type { WriteTx } from '../../storage/ports.js';
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

const TOKEN_LIFETIME_MS = 24 * 3600 * 1000;
const SWEEP_EVERY_MS = 10 * 60 * 1000;
const lastSweep = new WeakMap<S3, Map<string, number>>();
type TokenRow = { digest: string; expiresAt: number };

/** The request's parameters, as a retry must repeat them. */
function paramsDigest(key: string, from: string, input: RenameObjectRequest): string {
  const t = (d: Date | undefined) => (d === undefined ? null : d.getTime());
  const params = [key, from, input.SourceIfMatch, input.SourceIfNoneMatch, t(input.SourceIfModifiedSince), t(input.SourceIfUnmodifiedSince), input.DestinationIfMatch, input.DestinationIfNoneMatch, t(input.DestinationIfModifiedSince), t(input.DestinationIfUnmodifiedSince)];
  return createHash('sha256').update(JSON.stringify(params)).digest('base64');
}

/** Whether this token already renamed with these parameters (true: nothing more to do); a token reused with others is refused. */
async function seenToken(tx: WriteTx, bucket: string, token: string, digest: string, now: number): Promise<boolean> {
  const row = await tx.get<TokenRow>(nsRenameTokens(bucket), token);
  if (row === undefined || row.expiresAt <= now) return false;
  if (row.digest !== digest) throw s3Error('IdempotencyParameterMismatch', 'Parameters on this idempotent request are inconsistent with parameters used in previous request(s).');
  return true;
}

async function recordToken(s3: S3, tx: WriteTx, bucket: string, token: string, digest: string, now: number): Promise<void> {
  let swept = lastSweep.get(s3);
  if (swept === undefined) lastSweep.set(s3, (swept = new Map()));
  if (now - (swept.get(bucket) ?? 0) >= SWEEP_EVERY_MS) {
    swept.set(bucket, now);
    for (const r of await tx.scan<TokenRow>(nsRenameTokens(bucket), {})) if (r.value.expiresAt <= now) await tx.delete(nsRenameTokens(bucket), r.key);
  }
  await tx.put(nsRenameTokens(bucket), token, { digest, expiresAt: now + TOKEN_LIFETIME_MS } satisfies TokenRow);
}

export async function renameObject(s3: S3, input: RenameObjectRequest, ctx: RequestContext): Promise<RenameObjectOutput> {
  if (!isDirectoryName(input.Bucket)) throw s3Error('NotImplemented', 'RenameObject is supported only for directory buckets.');
  const key = checkKey(input.Key);
  const from = sourceKey(input.Bucket ?? '', input.RenameSource);
  const token = input.ClientToken;
  if (token !== undefined && (token.length > 64 || !/^[\x21-\x7e]*$/.test(token))) throw invalidArgument('Invalid client token', 'x-amz-client-token', token);
  const digest = token === undefined ? '' : paramsDigest(key, from, input);
  const now = s3.clock.nowMs();
  let freed: BlobRef[] = [];
  await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    if (token !== undefined && (await seenToken(tx, bucket.name, token, digest, now))) return;
    const ns = nsObjects(bucket.name);
    const src = await tx.get<ObjectRecord>(ns, from);
    if (src === undefined || src.deleteMarker === true) throw noSuchKey(from);
    checkCopySourceConditions(src, { ifMatch: input.SourceIfMatch, ifNoneMatch: input.SourceIfNoneMatch, ifModifiedSince: input.SourceIfModifiedSince, ifUnmodifiedSince: input.SourceIfUnmodifiedSince });
    if (token !== undefined) await recordToken(s3, tx, bucket.name, token, digest, now);
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
