/**
 * Version semantics, inside one metadata transaction each: what a new write,
 * a delete and a delete-by-version do to a key's current record (s3:obj) and
 * its noncurrent versions (s3:ver), for unversioned, Enabled and Suspended
 * buckets. Each returns the blobs that no record refers to any more; the
 * caller frees them after the commit.
 */
import type { ReadTx, WriteTx } from '../../storage/ports.js';
import { annotationRowPrefix, nameInRow } from './annotation-rules.js';
import { invalidArgument, noSuchKey, noSuchVersion, s3Error } from './errors.js';
import {
  type AnnotationRecord,
  type BlobRef,
  type BucketRecord,
  isVersionOf,
  makeVersionId,
  modifiedAt,
  nextSeq,
  nsAnnotations,
  nsInline,
  nsObjects,
  nsVersions,
  type ObjectRecord,
  SEP,
  type SseRecord,
  seqOfVersionId,
  versionKey,
} from './model.js';

/**
 * Deletes the inline data of freed refs inside the transaction (atomic with
 * the record change); returns the file blobs to free after the commit.
 */
export async function settleFreed(tx: WriteTx, bucket: string, freed: readonly BlobRef[]): Promise<BlobRef[]> {
  const files: BlobRef[] = [];
  for (const b of freed) {
    if (b.inline) await tx.delete(nsInline(bucket), b.id);
    else files.push(b);
  }
  return files;
}

/**
 * Removes a dropped version's annotation rows (annotations.ts) inside `tx`;
 * returns their blobs, to settle with the version's own. A version without
 * annotations costs no read.
 */
export async function dropAnnotations(tx: WriteTx, bucket: string, rec: ObjectRecord): Promise<BlobRef[]> {
  if (!rec.annotations) return [];
  const ns = nsAnnotations(bucket);
  const base = annotationRowPrefix(rec.key, rec.seq);
  const blobs: BlobRef[] = [];
  for (const e of await tx.scan<AnnotationRecord>(ns, { prefix: base })) {
    // A row of a longer object key sharing the prefix is not this version's.
    if (nameInRow(e.key, base) === undefined) continue;
    await tx.delete(ns, e.key);
    blobs.push(e.value.blob);
  }
  return blobs;
}

/**
 * A version's data keys were re-wrapped (UpdateObjectEncryption): its
 * annotations sealed under the same keys (`wrapped` as before) take the new
 * record, in the same transaction.
 */
export async function rewrapAnnotations(tx: WriteTx, bucket: string, rec: ObjectRecord, before: SseRecord, after: SseRecord): Promise<void> {
  if (!rec.annotations) return;
  const ns = nsAnnotations(bucket);
  const base = annotationRowPrefix(rec.key, rec.seq);
  const same = (w: readonly string[]) => w.length === before.wrapped.length && w.every((x, i) => x === before.wrapped[i]);
  for (const e of await tx.scan<AnnotationRecord>(ns, { prefix: base })) {
    if (nameInRow(e.key, base) === undefined || !same(e.value.sse.wrapped)) continue;
    await tx.put(ns, e.key, Object.assign({}, e.value, { sse: after }));
  }
}

/** A version leaves: its blobs and its annotations' go to `freed`. */
async function release(tx: WriteTx, bucket: string, rec: ObjectRecord, freed: BlobRef[]): Promise<void> {
  freed.push(...rec.blobs);
  if (rec.annotations) freed.push(...(await dropAnnotations(tx, bucket, rec)));
}

export interface VersionChange {
  record: ObjectRecord;
  freed: BlobRef[];
}

/** Noncurrent versions of exactly `key`, newest first (at most `limit`). */
export async function noncurrentVersions(tx: ReadTx, bucket: string, key: string, limit = Infinity, startAfter?: string): Promise<Array<{ storeKey: string; rec: ObjectRecord }>> {
  const out: Array<{ storeKey: string; rec: ObjectRecord }> = [];
  const ns = nsVersions(bucket);
  // Keys of longer object names can sort inside the range; skip them.
  let after = startAfter;
  for (;;) {
    const page = await tx.scan<ObjectRecord>(ns, { start: key + SEP, end: key + SEP + 'g', ...(after !== undefined ? { startAfter: after } : {}), limit: 256 });
    for (const e of page) {
      if (isVersionOf(e.key, key)) {
        out.push({ storeKey: e.key, rec: e.value });
        if (out.length >= limit) return out;
      }
    }
    if (page.length < 256) return out;
    after = (page[page.length - 1] as { key: string }).key;
  }
}

async function dropNoncurrentNull(tx: WriteTx, bucket: string, key: string, freed: BlobRef[]): Promise<void> {
  for (const { storeKey, rec } of await noncurrentVersions(tx, bucket, key)) {
    if (rec.versionId === 'null') {
      await tx.delete(nsVersions(bucket), storeKey);
      await release(tx, bucket, rec, freed);
    }
  }
}

/**
 * Makes `rec` the key's current version. Unversioned: replaces. Enabled: the
 * old current becomes noncurrent. Suspended: the new one is the 'null'
 * version, replacing any earlier 'null' version.
 *
 * `inlineData`: the bytes of rec's one inline blob, stored here. When they
 * replace an unversioned key's one inline blob, they take over its row (the
 * new blob keeps the old blob's id): SQLite rewrites the row in place instead
 * of inserting one row and deleting another (two index changes, an overflow
 * page allocated and one freed). A blob id is only a row key: the frame keys
 * and the SSE ETag come from the blob's own salt, and a reader sees the old
 * record with the old bytes or the new with the new, as every read is one
 * snapshot.
 */
export async function putVersion(
  tx: WriteTx,
  bucket: BucketRecord,
  rec: Omit<ObjectRecord, 'versionId' | 'seq'>,
  nowMs: number,
  inlineData?: Uint8Array,
): Promise<VersionChange> {
  const ns = nsObjects(bucket.name);
  const cur = await tx.get<ObjectRecord>(ns, rec.key);
  const seq = nextSeq(nowMs, cur?.seq);
  const freed: BlobRef[] = [];
  let versionId = 'null';
  let blobs = rec.blobs;
  const first = blobs[0];
  if (bucket.versioning === undefined) {
    const old = cur?.blobs[0];
    if (inlineData !== undefined && first?.inline && blobs.length === 1 && old?.inline && cur?.blobs.length === 1) {
      blobs = [Object.assign({}, first, { id: old.id })];
      if (cur.annotations) freed.push(...(await dropAnnotations(tx, bucket.name, cur)));
    } else if (cur) {
      freed.push(...cur.blobs);
      if (cur.annotations) freed.push(...(await dropAnnotations(tx, bucket.name, cur)));
    }
  } else {
    if (bucket.versioning === 'Enabled') versionId = makeVersionId(seq);
    if (cur) {
      if (bucket.versioning === 'Suspended' && cur.versionId === 'null') await release(tx, bucket.name, cur, freed);
      else await tx.put(nsVersions(bucket.name), versionKey(cur.key, cur.seq), cur);
    }
    if (bucket.versioning === 'Suspended' && cur && cur.versionId !== 'null') await dropNoncurrentNull(tx, bucket.name, rec.key, freed);
  }
  if (inlineData !== undefined && blobs[0]?.inline) await tx.put(nsInline(bucket.name), blobs[0].id, inlineData);
  // Not `{ ...rec, versionId, seq }`: a spread followed by more members is V8's slow path (write-object.ts).
  const record: ObjectRecord = Object.assign({}, rec, { versionId, seq, blobs });
  await tx.put(ns, rec.key, record);
  return { record, freed: await settleFreed(tx, bucket.name, freed) };
}

/**
 * Stores a replica (replication-worker.ts) under the source version's id and
 * sequence number: the current version when it is the newest, else among the
 * noncurrent ones. False when that version is already there (a retried task).
 */
export async function putReplica(tx: WriteTx, bucket: BucketRecord, source: ObjectRecord, inlineData?: Uint8Array): Promise<boolean> {
  // Annotations are not replicated (yet): the replica has none, whatever the source counts.
  const { annotations: _n, ...rec } = source;
  const ns = nsObjects(bucket.name);
  const cur = await tx.get<ObjectRecord>(ns, rec.key);
  if (cur?.seq === rec.seq || (await tx.get(nsVersions(bucket.name), versionKey(rec.key, rec.seq))) !== undefined) return false;
  if (inlineData !== undefined && rec.blobs[0]?.inline) await tx.put(nsInline(bucket.name), rec.blobs[0].id, inlineData);
  if (cur && cur.seq > rec.seq) {
    await tx.put(nsVersions(bucket.name), versionKey(rec.key, rec.seq), rec);
    return true;
  }
  if (cur) await tx.put(nsVersions(bucket.name), versionKey(cur.key, cur.seq), cur);
  await tx.put(ns, rec.key, rec);
  return true;
}

export interface DeleteResult {
  deleteMarker?: boolean;
  versionId?: string;
  freed: BlobRef[];
}

/** DeleteObject without a version id. */
export async function deleteCurrent(tx: WriteTx, bucket: BucketRecord, key: string, ownerAccount: string, now: Date): Promise<DeleteResult> {
  const ns = nsObjects(bucket.name);
  const cur = await tx.get<ObjectRecord>(ns, key);
  const freed: BlobRef[] = [];
  if (bucket.versioning === undefined) {
    if (cur) {
      await tx.delete(ns, key);
      await release(tx, bucket.name, cur, freed);
    }
    return { freed: await settleFreed(tx, bucket.name, freed) };
  }
  const seq = nextSeq(now.getTime(), cur?.seq);
  const versionId = bucket.versioning === 'Enabled' ? makeVersionId(seq) : 'null';
  if (cur) {
    if (bucket.versioning === 'Suspended' && cur.versionId === 'null') await release(tx, bucket.name, cur, freed);
    else await tx.put(nsVersions(bucket.name), versionKey(key, cur.seq), cur);
    if (bucket.versioning === 'Suspended' && cur.versionId !== 'null') await dropNoncurrentNull(tx, bucket.name, key, freed);
  }
  const marker: ObjectRecord = {
    key,
    versionId,
    seq,
    deleteMarker: true,
    lastModified: modifiedAt(now.getTime()),
    ownerAccount,
    etag: '',
    size: 0,
    blobs: [],
    meta: {},
    storageClass: 'STANDARD',
  };
  await tx.put(ns, key, marker);
  return { deleteMarker: true, versionId, freed: await settleFreed(tx, bucket.name, freed) };
}

/** Finds a specific version (current or noncurrent); undefined when absent. */
export async function findVersion(tx: ReadTx, bucket: string, key: string, versionId: string): Promise<{ rec: ObjectRecord; current: boolean; storeKey?: string } | undefined> {
  const cur = await tx.get<ObjectRecord>(nsObjects(bucket), key);
  if (cur && cur.versionId === versionId) return { rec: cur, current: true };
  if (versionId === 'null') {
    const n = (await noncurrentVersions(tx, bucket, key)).find((v) => v.rec.versionId === 'null');
    return n ? { rec: n.rec, current: false, storeKey: n.storeKey } : undefined;
  }
  const seq = seqOfVersionId(versionId);
  if (seq === undefined) return undefined;
  const storeKey = versionKey(key, seq);
  const rec = await tx.get<ObjectRecord>(nsVersions(bucket), storeKey);
  return rec && rec.versionId === versionId ? { rec, current: false, storeKey } : undefined;
}

export function checkVersionIdFormat(versionId: string): void {
  if (versionId !== 'null' && seqOfVersionId(versionId) === undefined) {
    throw invalidArgument('Invalid version id specified', 'versionId', versionId);
  }
}

/** DeleteObject with a version id: permanent. The newest noncurrent version becomes current. */
export async function deleteVersion(tx: WriteTx, bucket: BucketRecord, key: string, versionId: string, guard?: (rec: ObjectRecord) => void): Promise<DeleteResult> {
  checkVersionIdFormat(versionId);
  const found = await findVersion(tx, bucket.name, key, versionId);
  if (!found) return { versionId, freed: [] };
  const { rec } = found;
  // Object Lock: a locked version stays (the guard throws).
  guard?.(rec);
  if (found.current) {
    const ns = nsObjects(bucket.name);
    await tx.delete(ns, key);
    const [next] = await noncurrentVersions(tx, bucket.name, key, 1);
    if (next) {
      await tx.delete(nsVersions(bucket.name), next.storeKey);
      await tx.put(ns, key, next.rec);
    }
  } else {
    await tx.delete(nsVersions(bucket.name), found.storeKey as string);
  }
  const gone: BlobRef[] = [];
  await release(tx, bucket.name, rec, gone);
  const res: DeleteResult = { versionId, freed: await settleFreed(tx, bucket.name, gone) };
  if (rec.deleteMarker) res.deleteMarker = true;
  return res;
}

/**
 * The record a GET/HEAD reads: the current version, or the one named. A
 * current delete marker is a 404 NoSuchKey with x-amz-delete-marker; naming a
 * delete marker is 405 MethodNotAllowed.
 */
export async function readableVersion(tx: ReadTx, bucket: BucketRecord, key: string, versionId: string | undefined): Promise<ObjectRecord> {
  if (versionId === undefined) {
    const cur = await tx.get<ObjectRecord>(nsObjects(bucket.name), key);
    if (!cur) throw noSuchKey(key);
    if (cur.deleteMarker) throw noSuchKey(key, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': cur.versionId });
    return cur;
  }
  checkVersionIdFormat(versionId);
  const found = await findVersion(tx, bucket.name, key, versionId);
  if (!found) throw noSuchVersion(key, versionId);
  if (found.rec.deleteMarker) {
    throw s3Error(
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
      { Method: 'GET', ResourceType: 'DeleteMarker' },
      { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionId, 'last-modified': found.rec.lastModified.toUTCString() },
    );
  }
  return found.rec;
}

/** Rewrites one version's record in place (wherever it lives). */
export async function updateVersion(tx: WriteTx, bucket: BucketRecord, key: string, versionId: string | undefined, change: (r: ObjectRecord) => ObjectRecord): Promise<ObjectRecord> {
  const rec = await readableVersion(tx, bucket, key, versionId);
  const next = change(rec);
  if (versionId === undefined) {
    await tx.put(nsObjects(bucket.name), key, next);
  } else {
    const found = await findVersion(tx, bucket.name, key, versionId);
    if (found?.current) await tx.put(nsObjects(bucket.name), key, next);
    else await tx.put(nsVersions(bucket.name), found?.storeKey ?? versionKey(key, rec.seq), next);
  }
  return next;
}

