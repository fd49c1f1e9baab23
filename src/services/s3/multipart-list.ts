/**
 * ListMultipartUploads: uploads in progress by key, then by initiation time
 * (upload ids sort by time), with key-marker / upload-id-marker, prefix,
 * delimiter → CommonPrefixes, max-uploads.
 */
import type { ListMultipartUploadsOutput, ListMultipartUploadsRequest, MultipartUpload } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { checkEncodingType, checkMaxKeys, urlEncodeKey, walkKeys } from './key-walk.js';
import { nsUploads, owner, SEP, type UploadRecord, uploadKey } from './model.js';
import { requireBucket, type S3 } from './state.js';
import { storageClassOut } from './write-object.js';

export async function listMultipartUploads(s3: S3, input: ListMultipartUploadsRequest, ctx: RequestContext): Promise<ListMultipartUploadsOutput> {
  const max = checkMaxKeys(input.MaxUploads, 'max-uploads');
  const url = checkEncodingType(input.EncodingType);
  const enc = (s: string) => (url ? urlEncodeKey(s) : s);
  const prefix = input.Prefix ?? '';
  const keyMarker = input.KeyMarker || undefined;
  // With only a key marker, every upload of that key is skipped.
  let after: string | undefined;
  if (keyMarker !== undefined) after = input.UploadIdMarker ? uploadKey(keyMarker, input.UploadIdMarker) : keyMarker + SEP + '\uffff';
  const { walk, name } = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const w = await walkKeys<UploadRecord>(tx, nsUploads(b.name), { prefix, delimiter: input.Delimiter || undefined, after, max });
    return { walk: w, name: b.name };
  });
  const uploads: MultipartUpload[] = [];
  const prefixes: Array<{ Prefix: string }> = [];
  for (const it of walk.items) {
    if (it.kind === 'prefix') {
      // A delimiter inside the upload id part cannot happen: ids are [A-Za-z0-9_-].
      prefixes.push({ Prefix: enc(it.prefix) });
      continue;
    }
    const u = it.value;
    const m: MultipartUpload = {
      UploadId: u.uploadId,
      Key: enc(u.key),
      Initiated: u.initiated,
      StorageClass: storageClassOut(u.storageClass),
      Owner: owner(u.ownerAccount),
      Initiator: { ID: owner(u.ownerAccount).ID, DisplayName: owner(u.ownerAccount).DisplayName },
    };
    if (u.checksumAlgorithm) m.ChecksumAlgorithm = u.checksumAlgorithm;
    if (u.checksumType) m.ChecksumType = u.checksumType;
    uploads.push(m);
  }
  const out: ListMultipartUploadsOutput = {
    Bucket: name,
    KeyMarker: enc(input.KeyMarker ?? ''),
    UploadIdMarker: input.UploadIdMarker ?? '',
    Prefix: enc(prefix),
    MaxUploads: input.MaxUploads ?? 1000,
    IsTruncated: walk.truncated,
  };
  if (input.Delimiter) out.Delimiter = enc(input.Delimiter);
  if (url) out.EncodingType = 'url';
  if (uploads.length > 0) out.Uploads = uploads;
  if (prefixes.length > 0) out.CommonPrefixes = prefixes;
  const last = walk.items[walk.items.length - 1];
  if (walk.truncated && last) {
    if (last.kind === 'prefix') out.NextKeyMarker = enc(last.prefix);
    else {
      out.NextKeyMarker = enc(last.value.key);
      out.NextUploadIdMarker = last.value.uploadId;
    }
  }
  return out;
}
