/**
 * ListObjects (v1, marker) and ListObjectsV2 (continuation-token, start-after,
 * fetch-owner): one read transaction and, without a delimiter, one range scan
 * per page. Delete markers are never listed here.
 */
import type {
  ListObjectsOutput,
  ListObjectsRequest,
  ListObjectsV2Output,
  ListObjectsV2Request,
  _Object,
} from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { checkEncodingType, checkMaxKeys, decodeToken, encodeToken, urlEncodeKey, walkKeys, type WalkResult } from './key-walk.js';
import { nsObjects, type ObjectRecord, owner } from './model.js';
import { requireBucket, type S3 } from './state.js';
import { storageClassOut } from './write-object.js';

const live = (r: ObjectRecord) => !r.deleteMarker;

export function objectEntry(rec: ObjectRecord, key: string, withOwner: boolean): _Object {
  const o: _Object = {
    Key: key,
    LastModified: rec.lastModified,
    ETag: rec.etag,
    Size: rec.size,
    StorageClass: storageClassOut(rec.storageClass),
  };
  if (rec.checksum) {
    o.ChecksumAlgorithm = [rec.checksum.algorithm];
    o.ChecksumType = rec.checksum.type;
  }
  if (withOwner) o.Owner = owner(rec.ownerAccount);
  return o;
}

interface Page {
  walk: WalkResult<ObjectRecord>;
}

async function page(s3: S3, bucket: string | undefined, ctx: RequestContext, prefix: string, delimiter: string | undefined, after: string | undefined, max: number): Promise<Page & { name: string }> {
  return s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, bucket, ctx);
    const walk = await walkKeys<ObjectRecord>(tx, nsObjects(b.name), { prefix, delimiter: delimiter || undefined, after, max, include: live });
    return { walk, name: b.name };
  });
}

function lastOf(walk: WalkResult<ObjectRecord>): string | undefined {
  const last = walk.items[walk.items.length - 1];
  return last === undefined ? undefined : last.kind === 'key' ? last.key : last.prefix;
}

export async function listObjects(s3: S3, input: ListObjectsRequest, ctx: RequestContext): Promise<ListObjectsOutput> {
  const max = checkMaxKeys(input.MaxKeys);
  const url = checkEncodingType(input.EncodingType);
  const enc = (s: string) => (url ? urlEncodeKey(s) : s);
  const prefix = input.Prefix ?? '';
  const marker = input.Marker || undefined;
  const { walk, name } = await page(s3, input.Bucket, ctx, prefix, input.Delimiter, marker, max);
  const out: ListObjectsOutput = {
    Name: name,
    Prefix: enc(prefix),
    Marker: enc(input.Marker ?? ''),
    MaxKeys: input.MaxKeys ?? 1000,
    IsTruncated: walk.truncated,
  };
  if (input.Delimiter) out.Delimiter = enc(input.Delimiter);
  if (url) out.EncodingType = 'url';
  const contents: _Object[] = [];
  const prefixes: Array<{ Prefix: string }> = [];
  for (const it of walk.items) {
    if (it.kind === 'key') contents.push(objectEntry(it.value, enc(it.key), true));
    else prefixes.push({ Prefix: enc(it.prefix) });
  }
  if (contents.length > 0) out.Contents = contents;
  if (prefixes.length > 0) out.CommonPrefixes = prefixes;
  // S3 returns NextMarker only with a delimiter; without one clients use the last key.
  const last = lastOf(walk);
  if (walk.truncated && input.Delimiter && last !== undefined) out.NextMarker = enc(last);
  return out;
}

export async function listObjectsV2(s3: S3, input: ListObjectsV2Request, ctx: RequestContext): Promise<ListObjectsV2Output> {
  const max = checkMaxKeys(input.MaxKeys);
  const url = checkEncodingType(input.EncodingType);
  const enc = (s: string) => (url ? urlEncodeKey(s) : s);
  const prefix = input.Prefix ?? '';
  let after = input.StartAfter || undefined;
  if (input.ContinuationToken !== undefined) after = decodeToken(input.ContinuationToken);
  const { walk, name } = await page(s3, input.Bucket, ctx, prefix, input.Delimiter, after, max);
  const out: ListObjectsV2Output = {
    Name: name,
    Prefix: enc(prefix),
    MaxKeys: input.MaxKeys ?? 1000,
    KeyCount: walk.items.length,
    IsTruncated: walk.truncated,
  };
  if (input.Delimiter) out.Delimiter = enc(input.Delimiter);
  if (url) out.EncodingType = 'url';
  if (input.ContinuationToken !== undefined) out.ContinuationToken = input.ContinuationToken;
  if (input.StartAfter !== undefined) out.StartAfter = enc(input.StartAfter);
  const contents: _Object[] = [];
  const prefixes: Array<{ Prefix: string }> = [];
  for (const it of walk.items) {
    if (it.kind === 'key') contents.push(objectEntry(it.value, enc(it.key), input.FetchOwner === true));
    else prefixes.push({ Prefix: enc(it.prefix) });
  }
  if (contents.length > 0) out.Contents = contents;
  if (prefixes.length > 0) out.CommonPrefixes = prefixes;
  const last = lastOf(walk);
  if (walk.truncated && last !== undefined) out.NextContinuationToken = encodeToken(last);
  return out;
}
