/**
 * UpdateObjectEncryption (PUT /<key>?encryption, S3 API of 2026-01-28): an
 * encrypted object's (or one version's) server-side encryption becomes
 * SSE-KMS under the key named, with or without an S3 Bucket Key, by
 * re-wrapping its data keys (sse-keys.ts). The stored bytes are neither read
 * nor rewritten: every blob's frame keys derive from the same data keys and
 * the blob's own salt (sse-frames.ts), so only the record's `sse` changes, in
 * one metadata transaction, in place (no new version); storage class,
 * Last-Modified, ETag, checksums, tags, lock and replication status stay.
 * The version's annotations share its data keys and take the new wrapping
 * in the same transaction.
 *
 * As AWS: SSE-S3 and SSE-KMS sources only (unencrypted, DSSE-KMS and SSE-C
 * refused), SSE-KMS the only target, a full key ARN of the bucket owner's
 * account, a request digest (Content-MD5 or a checksum) required, and an
 * Object Lock retention or legal hold refuses it. KMS is called as the
 * caller, so its key policies and grants decide: kms:Decrypt on the old key
 * (SSE-KMS sources), kms:Encrypt on the new one.
 */
import type { UpdateObjectEncryptionRequest, UpdateObjectEncryptionResponse } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { s3Error } from './errors.js';
import type { BucketRecord, ObjectRecord, SseRecord } from './model.js';
import { isLocked, requireChecksumHeader } from './object-lock.js';
import { dataKeys, kmsContext } from './sse.js';
import { checkKey, requireBucket, type S3 } from './state.js';
import { checkVersionIdFormat, readableVersion, rewrapAnnotations, updateVersion } from './versions.js';

/** SSEKMSEncryption.KMSKeyArn's pattern (the API reference); group 1 is the key's account. */
const KEY_ARN = /^arn:aws[-a-z0-9]*:kms:[-a-z0-9]*:([0-9]{12}):key\/.+$/;

/** Tries made when the object changes between reading it and committing (each re-wraps anew). */
const ATTEMPTS = 3;

interface Target {
  keyArn: string;
  account: string;
  bucketKey: boolean;
}

const invalid = (message: string) => s3Error('InvalidRequest', message);

/** The request's new encryption, checked; AWS's InvalidRequest messages. */
function target(input: UpdateObjectEncryptionRequest): Target {
  const kms = input.ObjectEncryption?.SSEKMS;
  if (kms === undefined) {
    throw invalid('Requests that modify an object encryption configuration require a valid new encryption type. Valid values are SSEKMS. Modify the request to specify SSE-KMS for the updated encryption type, and then try again.');
  }
  const arn = kms.KMSKeyArn;
  if (arn === undefined || arn.trim() === '') {
    throw invalid('Requests that modify an object\'s encryption type to SSE-KMS require an AWS KMS key Amazon Resource Name (ARN). Modify the request to specify a KMS key ARN, and then try again.');
  }
  const m = KEY_ARN.exec(arn);
  if (!m) {
    throw invalid('Requests that modify an object\'s encryption type to SSE-KMS require a valid AWS KMS key Amazon Resource Name (ARN). Confirm that you have a correctly formatted KMS key ARN in your request, and then try again.');
  }
  return { keyArn: arn, account: m[1] as string, bucketKey: kms.BucketKeyEnabled === true };
}

/** The source's encryption, if this operation can change it. */
function source(rec: ObjectRecord): SseRecord {
  const sse = rec.sse;
  if (!sse) {
    throw invalid('The UpdateObjectEncryption operation doesn\'t supported unencrypted source objects. Only source objects encrypted with SSE-S3 or SSE-KMS are supported.');
  }
  if (sse.customer || sse.algorithm === 'aws:kms:dsse') {
    throw invalid('The UpdateObjectEncryption operation doesn\'t support source objects with the encryption type DSSE-KMS or SSE-C. Only source objects encrypted with SSE-S3 or SSE-KMS are supported.');
  }
  return sse;
}

function locked(): Error {
  return s3Error(
    'AccessDenied',
    'The encryption type for the specified object can\'t be updated because that object is protected by S3 Object Lock. If the object has a governance-mode retention period or a legal hold, you must first remove the Object Lock status on the object before you issue your UpdateObjectEncryption request. You can\'t use the UpdateObjectEncryption operation with objects that have an Object Lock compliance mode retention period applied to them.',
  );
}

/** Same stored version, same keys: nothing changed it since it was read. */
function unchanged(a: ObjectRecord, b: ObjectRecord): boolean {
  return a.seq === b.seq && a.versionId === b.versionId && JSON.stringify(a.sse) === JSON.stringify(b.sse);
}

class Changed extends Error {}

export async function updateObjectEncryption(s3: S3, input: UpdateObjectEncryptionRequest, ctx: RequestContext): Promise<UpdateObjectEncryptionResponse> {
  const key = checkKey(input.Key);
  // The SDK always sends one (the operation's httpChecksum is required).
  requireChecksumHeader(input, 'UpdateObjectEncryption', undefined, 'requests');
  const want = target(input);
  const versionId = input.VersionId;
  if (versionId !== undefined) checkVersionIdFormat(versionId);
  const bucket = await s3.buckets.require(s3, input.Bucket, ctx);
  // By default AWS restricts the new key to the bucket owner's account (cross-account keys only by arrangement with AWS Support).
  if (want.account !== bucket.ownerAccount) {
    throw s3Error('AccessDenied', 'The AWS KMS key in the request must be owned by the same account as the bucket. Modify the request to specify a KMS key from the same account, and then try again.');
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await updateOnce(s3, ctx, bucket, key, versionId, want);
      return {};
    } catch (e) {
      if (!(e instanceof Changed) || attempt >= ATTEMPTS) {
        if (e instanceof Changed) throw s3Error('ConditionalRequestConflict', 'A conflicting operation is currently in progress against this resource. Please try again.');
        throw e;
      }
    }
  }
}

/** One read → unwrap → wrap → commit; Changed when the version changed in between. */
async function updateOnce(s3: S3, ctx: RequestContext, bucket: BucketRecord, key: string, versionId: string | undefined, want: Target): Promise<void> {
  const rec = await s3.meta.read((tx) => readableVersion(tx, bucket, key, versionId));
  const old = source(rec);
  if (isLocked(rec, s3.clock.now())) throw locked();
  // The plaintext data keys: SSE-S3 opened with the S3 master key, SSE-KMS by KMS Decrypt as the caller.
  const plain = await dataKeys(s3, ctx, bucket.name, key, old, undefined);
  if (!plain) throw s3Error('InternalError', 'We encountered an internal error. Please try again.');
  const shape: Pick<SseRecord, 'context' | 'bucketKey'> = {
    // A caller's own encryption context stays with the object (KMS needs it to decrypt).
    ...(old.context !== undefined ? { context: old.context } : {}),
    ...(want.bucketKey ? { bucketKey: true as const } : {}),
  };
  const made = await s3.sse.encrypt(ctx, want.keyArn, plain, kmsContext(bucket.name, key, shape));
  const next: SseRecord = { algorithm: 'aws:kms', wrapped: made.wrapped, kmsKeyArn: made.keyArn, ...shape };
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, bucket.name, ctx);
    if (b.id !== bucket.id) throw new Changed();
    const updated = await updateVersion(tx, b, key, versionId, (cur) => {
      if (!unchanged(cur, rec)) throw new Changed();
      // Only the encryption changes: not a spread with a member after it (V8's slow path, write-object.ts).
      return Object.assign({}, cur, { sse: next });
    });
    // The version's annotations are sealed under the same data keys: they follow it to the new key.
    await rewrapAnnotations(tx, b.name, updated, old, next);
  });
}
