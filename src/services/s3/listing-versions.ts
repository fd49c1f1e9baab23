/**
 * ListObjectVersions: keys in order, and for each key its versions newest
 * first (the current one from s3:obj, then s3:ver), delete markers included;
 * key-marker / version-id-marker resume inside a key's versions.
 */
import type { DeleteMarkerEntry, ListObjectVersionsOutput, ListObjectVersionsRequest, ObjectVersion } from '@aws-sdk/client-s3';
import type { ReadTx } from '../../storage/ports.js';
import type { RequestContext } from '../../server/context.js';
import { invalidArgument } from './errors.js';
import { checkEncodingType, checkMaxKeys, urlEncodeKey, walkKeys } from './key-walk.js';
import { nsObjects, type ObjectRecord, owner } from './model.js';
import { requireBucket, type S3 } from './state.js';
import { noncurrentVersions } from './versions.js';
import { storageClassOut } from './write-object.js';

type Item = { kind: 'version'; rec: ObjectRecord; latest: boolean } | { kind: 'prefix'; prefix: string };

async function versionsOf(tx: ReadTx, bucket: string, current: ObjectRecord, limit: number): Promise<ObjectRecord[]> {
  const older = await noncurrentVersions(tx, bucket, current.key, limit);
  return [current, ...older.map((v) => v.rec)];
}

export async function listObjectVersions(s3: S3, input: ListObjectVersionsRequest, ctx: RequestContext): Promise<ListObjectVersionsOutput> {
  const max = checkMaxKeys(input.MaxKeys);
  const url = checkEncodingType(input.EncodingType);
  const enc = (s: string) => (url ? urlEncodeKey(s) : s);
  const prefix = input.Prefix ?? '';
  const keyMarker = input.KeyMarker || undefined;
  const versionMarker = input.VersionIdMarker || undefined;
  if (versionMarker !== undefined && keyMarker === undefined) {
    throw invalidArgument('A version-id marker cannot be specified without a key marker.', 'version-id-marker', versionMarker);
  }
  const { items, truncated, name } = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const ns = nsObjects(b.name);
    const out: Item[] = [];
    const want = max + 1;
    // Resuming inside the key-marker's versions.
    if (keyMarker !== undefined && versionMarker !== undefined && keyMarker.startsWith(prefix)) {
      const cur = await tx.get<ObjectRecord>(ns, keyMarker);
      if (cur) {
        const all = await versionsOf(tx, b.name, cur, Infinity);
        const i = all.findIndex((r) => r.versionId === versionMarker);
        if (i < 0) throw invalidArgument('Invalid version id specified', 'version-id-marker', versionMarker);
        for (const r of all.slice(i + 1)) {
          if (out.length >= want) break;
          out.push({ kind: 'version', rec: r, latest: false });
        }
      }
    }
    let after = keyMarker;
    while (out.length < want) {
      // Keys come in pages; each key expands into its versions.
      const walk = await walkKeys<ObjectRecord>(tx, ns, { prefix, delimiter: input.Delimiter || undefined, after, max: Math.min(want - out.length, 1000) });
      for (const it of walk.items) {
        if (out.length >= want) break;
        if (it.kind === 'prefix') {
          out.push({ kind: 'prefix', prefix: it.prefix });
          after = it.prefix;
          continue;
        }
        const all = await versionsOf(tx, b.name, it.value, want - out.length);
        all.forEach((r, i) => {
          if (out.length < want) out.push({ kind: 'version', rec: r, latest: i === 0 });
        });
        after = it.key;
      }
      if (!walk.truncated) break;
    }
    const isTruncated = out.length > max;
    if (isTruncated) out.length = max;
    return { items: out, truncated: isTruncated, name: b.name };
  });

  const versions: ObjectVersion[] = [];
  const markers: DeleteMarkerEntry[] = [];
  for (const it of items) {
    if (it.kind !== 'version') continue;
    const r = it.rec;
    if (r.deleteMarker) {
      markers.push({ Owner: owner(r.ownerAccount), Key: enc(r.key), VersionId: r.versionId, IsLatest: it.latest, LastModified: r.lastModified });
    } else {
      const v: ObjectVersion = {
        ETag: r.etag,
        Size: r.size,
        StorageClass: storageClassOut(r.storageClass) as ObjectVersion['StorageClass'],
        Key: enc(r.key),
        VersionId: r.versionId,
        IsLatest: it.latest,
        LastModified: r.lastModified,
        Owner: owner(r.ownerAccount),
      };
      if (r.checksum) {
        v.ChecksumAlgorithm = [r.checksum.algorithm];
        v.ChecksumType = r.checksum.type;
      }
      versions.push(v);
    }
  }
  const out: ListObjectVersionsOutput = {
    Name: name,
    Prefix: enc(prefix),
    KeyMarker: enc(input.KeyMarker ?? ''),
    VersionIdMarker: input.VersionIdMarker ?? '',
    MaxKeys: input.MaxKeys ?? 1000,
    IsTruncated: truncated,
  };
  if (input.Delimiter) out.Delimiter = enc(input.Delimiter);
  if (url) out.EncodingType = 'url';
  if (versions.length > 0) out.Versions = versions;
  if (markers.length > 0) out.DeleteMarkers = markers;
  const prefixes = items.filter((i): i is Extract<Item, { kind: 'prefix' }> => i.kind === 'prefix').map((p) => ({ Prefix: enc(p.prefix) }));
  if (prefixes.length > 0) out.CommonPrefixes = prefixes;
  const last = items[items.length - 1];
  if (truncated && last) {
    if (last.kind === 'prefix') out.NextKeyMarker = enc(last.prefix);
    else {
      out.NextKeyMarker = enc(last.rec.key);
      out.NextVersionIdMarker = last.rec.versionId;
    }
  }
  return out;
}
