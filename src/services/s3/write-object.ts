/**
 * What every object write shares (PutObject, CopyObject, CompleteMultipartUpload,
 * POST Object): the stored attributes from request headers (entity headers,
 * user metadata within 2 KB, storage class, tags), conditional-write checks
 * (If-None-Match: * / If-Match) before the bytes arrive and again at commit,
 * and the commit itself: one metadata transaction, then the replaced blobs
 * are freed.
 */
import type { StorageClass } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx, WriteTx } from '../../storage/ports.js';
import { noSuchBucket, noSuchKey, preconditionFailed, s3Error } from './errors.js';
import type { BucketRecord, EntityHeaders, ObjectRecord, TagPair } from './model.js';
import { modifiedAt, nsObjects } from './model.js';
import { accountOf, getBucket, type S3 } from './state.js';
import { putVersion } from './versions.js';
import { queueReplication, replicationTargets } from './replication.js';

export const STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
  'EXPRESS_ONEZONE',
] as const;

export function checkStorageClass(sc: string | undefined): string {
  if (sc === undefined || sc === '') return 'STANDARD';
  if (!(STORAGE_CLASSES as readonly string[]).includes(sc)) {
    throw s3Error('InvalidStorageClass', 'The storage class you specified is not valid', { StorageClassRequested: sc });
  }
  return sc;
}

/** Archived classes need RestoreObject before their bytes can be read. */
export function isArchived(sc: string): boolean {
  return sc === 'GLACIER' || sc === 'DEEP_ARCHIVE';
}

const MAX_METADATA_BYTES = 2048;

/** User metadata: names lower-cased (HTTP), keys plus values at most 2 KB. */
export function checkMetadata(meta: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  let size = 0;
  for (const [k, v] of Object.entries(meta ?? {})) {
    const name = k.toLowerCase();
    out[name] = v;
    size += Buffer.byteLength(name) + Buffer.byteLength(v);
  }
  if (size > MAX_METADATA_BYTES) {
    throw s3Error('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.', { Size: size, MaxSizeAllowed: MAX_METADATA_BYTES });
  }
  return out;
}

export interface EntityInput {
  ContentType?: string | undefined;
  ContentEncoding?: string | undefined;
  ContentDisposition?: string | undefined;
  ContentLanguage?: string | undefined;
  CacheControl?: string | undefined;
  Expires?: Date | undefined;
  WebsiteRedirectLocation?: string | undefined;
}

/** The entity headers to store; `contentEncoding` is the one to keep (PUT and multipart drop aws-chunked: storedContentEncoding). */
export function entityHeaders(input: EntityInput, contentEncoding: string | undefined, rawExpires?: string): EntityHeaders {
  const e: EntityHeaders = {};
  if (input.ContentType !== undefined) e.contentType = input.ContentType;
  if (contentEncoding !== undefined) e.contentEncoding = contentEncoding;
  if (input.ContentDisposition !== undefined) e.contentDisposition = input.ContentDisposition;
  if (input.ContentLanguage !== undefined) e.contentLanguage = input.ContentLanguage;
  if (input.CacheControl !== undefined) e.cacheControl = input.CacheControl;
  if (rawExpires !== undefined) e.expires = rawExpires;
  else if (input.Expires !== undefined) e.expires = input.Expires.toUTCString();
  if (input.WebsiteRedirectLocation !== undefined) e.websiteRedirectLocation = input.WebsiteRedirectLocation;
  return e;
}

export function storageClassOut(sc: string): StorageClass {
  return sc as StorageClass;
}

export interface WriteConditions {
  ifNoneMatch?: string | undefined;
  ifMatch?: string | undefined;
}

/** What the precheck saw, so the commit can tell a failed condition (412) from a race (409). */
export interface SeenState {
  seq: number | undefined;
}

function normalizeEtag(e: string): string {
  const t = e.trim();
  return t.startsWith('"') ? t : `"${t}"`;
}

function etagListMatches(header: string, etag: string): boolean {
  return header.split(',').some((e) => e.trim() === '*' || normalizeEtag(e) === etag);
}

function live(rec: ObjectRecord | undefined): ObjectRecord | undefined {
  return rec && !rec.deleteMarker ? rec : undefined;
}

export function checkWriteConditionHeaders(c: WriteConditions): void {
  if (c.ifNoneMatch !== undefined && c.ifNoneMatch.trim() !== '*') {
    throw s3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
  }
}

/** Before the bytes stream: fail fast on conditions that already fail. */
export async function precheckWrite(tx: ReadTx, bucket: string, key: string, c: WriteConditions): Promise<SeenState> {
  const cur = live(await tx.get<ObjectRecord>(nsObjects(bucket), key));
  evaluate(cur, key, c, undefined);
  return { seq: cur?.seq };
}

function evaluate(cur: ObjectRecord | undefined, key: string, c: WriteConditions, seen: SeenState | undefined): void {
  const raced = seen !== undefined && cur?.seq !== seen.seq;
  if (c.ifNoneMatch !== undefined && cur) {
    if (raced) throw conflict();
    throw preconditionFailed('If-None-Match');
  }
  if (c.ifMatch !== undefined) {
    if (!cur) {
      if (raced) throw conflict();
      throw noSuchKey(key);
    }
    if (!etagListMatches(c.ifMatch, cur.etag)) {
      if (raced) throw conflict();
      throw preconditionFailed('If-Match');
    }
  }
}

function conflict() {
  return s3Error('ConditionalRequestConflict', 'A conflicting conditional operation is currently in progress against this resource. Please try again.');
}

export type NewObject = Omit<ObjectRecord, 'versionId' | 'seq' | 'lastModified' | 'ownerAccount'> & {
  /** Bytes of an inline blob (blobs[0].inline), stored in the same transaction; not part of the record. */
  inlineData?: Buffer;
};

export interface CommitOptions {
  cond?: WriteConditions;
  seen?: SeenState;
  /** More changes in the same transaction (CompleteMultipartUpload drops its upload). */
  inTx?: (tx: WriteTx, bucket: BucketRecord) => Promise<void>;
  /** Whether the new blobs are this write's own, to delete if the commit fails (not an upload's parts). */
  discardOnFailure?: boolean;
  /** More changes once the version is written, in the same transaction (CopyObject writes the annotations it carries). */
  afterPut?: (tx: WriteTx, bucket: BucketRecord, record: ObjectRecord) => Promise<void>;
}

/**
 * Commits a new object version in one transaction: the bucket must still be
 * the one the write started on, and conditions must still hold. Replaced
 * blobs are freed after the commit; on failure the new blobs are discarded.
 */
export async function commitObject(
  s3: S3,
  ctx: RequestContext,
  bucket: { name: string; id: string },
  obj: NewObject,
  opts: CommitOptions = {},
): Promise<{ record: ObjectRecord; versioned: boolean }> {
  const cond = opts.cond ?? {};
  try {
    const { change, versioned, queued } = await s3.meta.write(async (tx) => {
      const b = await getBucket(tx, bucket.name);
      if (!b || b.id !== bucket.id) throw noSuchBucket(bucket.name);
      if (cond.ifMatch !== undefined || cond.ifNoneMatch !== undefined) {
        evaluate(live(await tx.get<ObjectRecord>(nsObjects(b.name), obj.key)), obj.key, cond, opts.seen ?? { seq: undefined });
      }
      if (opts.inTx) await opts.inTx(tx, b);
      const { inlineData, ...fields } = obj;
      const bytes = inlineData && obj.blobs[0]?.inline ? new Uint8Array(inlineData.buffer, inlineData.byteOffset, inlineData.byteLength) : undefined;
      // Object.assign, not `{ ...fields, … }`: V8 (Node 20) builds a spread followed by more members on a slow path (µs per record).
      const rec = Object.assign({}, fields, { lastModified: modifiedAt(s3.clock.nowMs()), ownerAccount: accountOf(ctx) });
      // Replication: one field test for every other bucket; a matching rule queues the version in this transaction.
      const targets = b.replication !== undefined ? replicationTargets(b.replication, rec) : undefined;
      if (targets !== undefined && targets.length > 0) rec.replicationStatus = 'PENDING';
      const change = await putVersion(tx, b, rec, s3.clock.nowMs(), bytes);
      if (opts.afterPut) await opts.afterPut(tx, b, change.record);
      if (targets !== undefined && targets.length > 0) await queueReplication(tx, b.name, change.record, targets);
      return { change, versioned: b.versioning !== undefined, queued: targets !== undefined && targets.length > 0 };
    });
    if (queued) s3.replicationWorker?.poke();
    s3.reaper.free(change.freed.map((f) => f.id));
    return { record: change.record, versioned };
  } catch (e) {
    if (opts.discardOnFailure !== false) s3.reaper.discard(obj.blobs.filter((b) => !b.inline).map((b) => b.id));
    throw e;
  }
}

export function tagsOf(tags: TagPair[] | undefined): { tags?: TagPair[] } {
  return tags && tags.length > 0 ? { tags } : {};
}
