/**
 * S3's storage layout on the MetadataStore. Keys are chosen so that each
 * listing is one range scan in UTF-8 byte order:
 *
 *   s3:bucket            <bucket>                       BucketRecord
 *   s3:obj:<bucket>      <key>                          ObjectRecord — the current version
 *                                                       (a delete marker in a versioned bucket)
 *   s3:ver:<bucket>      <key> \x01 <inverted seq>      ObjectRecord — noncurrent versions, newest first
 *   s3:mpu:<bucket>      <key> \x01 <uploadId>          UploadRecord
 *   s3:part:<bucket>     <uploadId> \x01 <part number>  PartRecord
 *   s3:data:<bucket>     <data id>                      Uint8Array — bytes of a small object
 *   s3:bcfg:<bucket>     <kind> \x01 <id>                 metrics / analytics / inventory / intelligent-tiering configuration
 *   s3:repl              <bucket> \x01 <key> \x01 <versionId> \x01 <destination>   ReplicationTask
 *   s3:ann:<bucket>      <key> \x01 <seq hex> \x01 <name>  AnnotationRecord — one version's annotations
 *
 * An unversioned bucket keeps one record per key in s3:obj and never writes
 * s3:ver; turning versioning on needs no migration (the old records simply
 * become 'null' versions). Object bytes live in the BlobStore under ids the
 * store chooses; a record lists the blobs to stream, in order.
 */
import type { CORSRule, LoggingEnabled, NotificationConfiguration, ReplicationConfiguration, WebsiteConfiguration } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { canonicalUserId } from '../../iam/ids.js';

export const NS_BUCKETS = 's3:bucket';
export const nsObjects = (bucket: string) => `s3:obj:${bucket}`;
export const nsVersions = (bucket: string) => `s3:ver:${bucket}`;
export const nsUploads = (bucket: string) => `s3:mpu:${bucket}`;
export const nsParts = (bucket: string) => `s3:part:${bucket}`;
export const nsInline = (bucket: string) => `s3:data:${bucket}`;
/** Object annotations (annotations.ts), per version: <key> SEP <seq, 14 hex digits> SEP <name> → AnnotationRecord. */
export const nsAnnotations = (bucket: string) => `s3:ann:${bucket}`;
/** A directory bucket's RenameObject client tokens (rename.ts). */
export const nsRenameTokens = (bucket: string) => `s3:rename-token:${bucket}`;
/** Versions waiting to be replicated: <bucket> SEP <key> SEP <versionId> SEP <destination bucket> → ReplicationTask. */
export const NS_REPLICATION = 's3:repl';

export interface ReplicationTask {
  bucket: string;
  key: string;
  versionId: string;
  destination: string;
  storageClass?: string;
  /** For an SSE-KMS source: the key the replica is encrypted under (the rule's ReplicaKmsKeyID). */
  replicaKmsKeyId?: string;
  /** The version is replicated already: only its tags changed (s3:ReplicateTags). */
  tagsOnly?: true;
}

/** A stored CORS rule: the SDK's shape, validated (cors.ts). */
export type CorsRule = CORSRule;
/** A stored website configuration: the SDK's shape, validated (website.ts). */
export type WebsiteConfig = WebsiteConfiguration;

export const SEP = '\u0001';

export type VersioningStatus = 'Enabled' | 'Suspended';

export interface TagPair {
  Key: string;
  Value: string;
}

export interface BucketRecord {
  name: string;
  /** Changes when a bucket is deleted and created again: commits check it. */
  id: string;
  region: string;
  createdAt: Date;
  ownerAccount: string;
  /** An S3 Express One Zone directory bucket (directory.ts): the zone its name carries. */
  directory?: { zone: string; locationType: 'AvailabilityZone' | 'LocalZone' };
  versioning?: VersioningStatus;
  tags?: TagPair[];
  /**
   * ABAC (abac.ts): present only while Enabled, so the authorizer's hot path tests one field. Then the
   * bucket's tags are `aws:ResourceTag/*` and `s3:BucketTag/*` of every request on it, and change only
   * through S3 Control's TagResource / UntagResource.
   */
  abac?: 'Enabled';
  /** Validated lifecycle rules (lifecycle.ts), applied by the lifecycle worker. */
  lifecycle?: LifecycleConfig;
  /** Object Lock enabled (never turned off again) and its default retention. */
  objectLock?: ObjectLockSettings;
  /** Set once PutBucketVersioning named MfaDelete (with a valid x-amz-mfa). */
  mfaDelete?: 'Enabled' | 'Disabled';
  /** Default encryption (PutBucketEncryption); absent means SSE-S3, as AWS since 2023. */
  encryption?: BucketEncryption;
  /** PutBucketCors (cors.ts). */
  cors?: CorsRule[];
  /** PutBucketWebsite (website.ts). */
  website?: WebsiteConfig;
  /** The bucket policy (JSON text, as put); access control (bucket-policy.ts). */
  policy?: string;
  /** Block Public Access settings; absent = none configured (public-access.ts). */
  publicAccessBlock?: PublicAccessBlock;
  /**
   * Object Ownership (ownership.ts). Absent on records written before it
   * existed: treated as BucketOwnerEnforced; 'none' after DeleteBucketOwnershipControls.
   */
  ownership?: ObjectOwnershipSetting | 'none';
  /** Grants beyond the owner's implicit FULL_CONTROL (acl.ts); absent = private. */
  acl?: StoredGrant[];
  /** Transfer Acceleration state (bucket-settings.ts); absent = never set. */
  accelerate?: 'Enabled' | 'Suspended';
  /**
   * Requester Pays (bucket-settings.ts): present only when the requester pays, so the
   * authorizer's hot path checks this one field (s3-authz.ts) and nothing else.
   */
  requestPayer?: 'Requester';
  /** PutBucketNotificationConfiguration as stored: only configurations naming no destination (notification.ts). */
  notification?: NotificationConfiguration;
  /** Server access logging (logging.ts); records delivered by access-log.ts. */
  logging?: LoggingEnabled;
  /** A replication configuration (replication.ts). Never written while replication is not built. */
  replication?: ReplicationConfiguration;
}

export type ObjectOwnershipSetting = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export type AclPermission = 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';

/** One ACL grant: to a canonical user id, or to a group URI (AllUsers, AuthenticatedUsers, LogDelivery). */
export interface StoredGrant {
  id?: string;
  uri?: string;
  permission: AclPermission;
}

export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** An event hold's duration: how long a version stays locked once its hold is released. */
export interface EventHoldDuration {
  days?: number;
  years?: number;
}

export interface ObjectLockSettings {
  enabled: true;
  defaultRetention?: { mode: LockMode; days?: number; years?: number };
  /** New versions start under an event hold of this duration (unless their write names its own lock). */
  defaultEventHold?: EventHoldDuration;
}

/** The lock of one object version (or of an upload, applied when it completes). */
export interface ObjectLockFields {
  lockMode?: LockMode;
  lockRetainUntil?: Date;
  legalHold?: 'ON' | 'OFF';
  /** An event hold: locked while ON; released (OFF), retained for its duration from then on. */
  eventHold?: 'ON' | 'OFF';
  eventHoldDuration?: EventHoldDuration;
}

export interface LifecycleFilter {
  prefix?: string;
  tags?: TagPair[];
  sizeGreaterThan?: number;
  sizeLessThan?: number;
  /** Whether the rule carried an ObjectSize* filter (overrides the 128 KB transition default). */
  hasSizeFilter?: true;
}

export interface LifecycleTransition {
  days?: number;
  date?: Date;
  storageClass: string;
}

export interface LifecycleRule {
  id: string;
  enabled: boolean;
  filter: LifecycleFilter;
  /** How the filter was written (Filter element or the legacy Prefix), so GET returns it the same way. */
  legacyPrefix?: true;
  filterKind?: 'Prefix' | 'Tag' | 'And' | 'ObjectSizeGreaterThan' | 'ObjectSizeLessThan' | 'Empty';
  expiration?: { days?: number; date?: Date; expiredObjectDeleteMarker?: boolean };
  transitions?: LifecycleTransition[];
  noncurrentExpiration?: { days: number; newerNoncurrentVersions?: number };
  noncurrentTransitions?: Array<{ days: number; storageClass: string; newerNoncurrentVersions?: number }>;
  abortIncompleteDays?: number;
}

export interface LifecycleConfig {
  rules: LifecycleRule[];
  transitionDefaultMinimumObjectSize: 'all_storage_classes_128K' | 'varies_by_storage_class';
}

export interface BlobRef {
  id: string;
  size: number;
  /**
   * The bytes live in s3:data:<bucket> under `id`, written in the same
   * transaction as the record: small objects cost one group-committed
   * metadata write instead of a file with two fsyncs.
   */
  inline?: true;
  /** Encrypted (see sse-frames.ts): base64 salt of the blob's frame keys; `size` stays the plaintext size. */
  enc?: string;
}

/** How an object (or an upload's parts) is encrypted at rest; the data keys only ever wrapped (see sse-keys.ts). */
export interface SseRecord {
  /** x-amz-server-side-encryption; SSE-C objects say AES256 with `customer` set. */
  algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
  /** Wrapped data keys, base64, one per layer (DSSE: two): sealed by the S3 key, or KMS ciphertext blobs. Empty for SSE-C. */
  wrapped: string[];
  kmsKeyArn?: string;
  /** The caller's encryption context (JSON), without aws:s3:arn. */
  context?: string;
  bucketKey?: true;
  /** SSE-C: the key MD5 the client sent, and a salted HMAC of the key that proves a later key is the same one. */
  customer?: { keyMd5: string; salt: string; mac: string };
}

/** PutBucketEncryption's rule as stored. */
export interface BucketEncryption {
  algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
  kmsKeyId?: string;
  bucketKey: boolean;
}

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'MD5' | 'SHA1' | 'SHA256' | 'SHA512' | 'XXHASH64' | 'XXHASH3' | 'XXHASH128';
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64 of the digest; a COMPOSITE value has the `-N` suffix. */
  value: string;
  type: ChecksumType;
}

export interface PartInfo {
  size: number;
  etag: string;
  checksum?: string;
}

export interface RestoreState {
  tier: string;
  /** When the restored copy becomes readable (clock time). */
  readyAt: Date;
  /** When the restored copy goes away again. */
  expiresAt: Date;
  days: number;
}

/** HTTP entity headers S3 stores with an object and returns on GET/HEAD. */
export interface EntityHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  websiteRedirectLocation?: string;
}

export interface ObjectRecord extends EntityHeaders, ObjectLockFields {
  key: string;
  /** 'null' for unversioned writes and writes while suspended. */
  versionId: string;
  /** Orders the versions of one key (larger is newer). */
  seq: number;
  deleteMarker?: true;
  lastModified: Date;
  ownerAccount: string;
  /** Quoted, as in the ETag header. */
  etag: string;
  size: number;
  blobs: BlobRef[];
  /** Present for objects made by CompleteMultipartUpload. */
  parts?: PartInfo[];
  meta: Record<string, string>;
  checksum?: StoredChecksum;
  storageClass: string;
  tags?: TagPair[];
  restore?: RestoreState;
  sse?: SseRecord;
  /** Object ACL grants beyond the owner's FULL_CONTROL (acl.ts); absent = private. */
  acl?: StoredGrant[];
  /** x-amz-replication-status: a source version's progress, or REPLICA on the copy (replication-worker.ts). */
  replicationStatus?: 'PENDING' | 'COMPLETED' | 'FAILED' | 'REPLICA';
  /**
   * How many annotations this version has (rows in s3:ann, annotations.ts), kept in the same
   * transactions as the rows: absent = none, so dropping a version without any costs no scan.
   */
  annotations?: number;
}

/** One annotation of one object version (annotations.ts). Its bytes are sealed like an object's (sse-frames.ts). */
export interface AnnotationRecord {
  name: string;
  /** Plaintext size. */
  size: number;
  /** Quoted, as in the ETag header. */
  etag: string;
  lastModified: Date;
  /** Inline (in s3:data, ≤ 64 KiB) or a file; always encrypted (`enc` set). */
  blob: BlobRef;
  /** The keys the blob is sealed with: the parent version's, or SSE-S3 for an unencrypted parent. */
  sse: SseRecord;
  checksum: StoredChecksum;
}

export interface UploadRecord extends EntityHeaders, ObjectLockFields {
  key: string;
  uploadId: string;
  initiated: Date;
  ownerAccount: string;
  meta: Record<string, string>;
  storageClass: string;
  tags?: TagPair[];
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  /** Every part is encrypted under these keys; completion takes them over unchanged. */
  sse?: SseRecord;
  /** The ACL the completed object gets (x-amz-acl / x-amz-grant-* on CreateMultipartUpload). */
  acl?: StoredGrant[];
}

export interface PartRecord {
  partNumber: number;
  blob: BlobRef;
  /** Quoted hex MD5. */
  etag: string;
  md5: string;
  lastModified: Date;
  /** base64 digests by algorithm. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

const MAX_SEQ = 2 ** 53 - 1;
let lastSeq = 0;

/** A version sequence number: increasing in this process and above `after` (the key's newest). */
export function nextSeq(nowMs: number, after = 0): number {
  lastSeq = Math.max(lastSeq + 1, nowMs * 1000, after + 1);
  return lastSeq;
}

export function versionKey(key: string, seq: number): string {
  return `${key}${SEP}${(MAX_SEQ - seq).toString(16).padStart(14, '0')}`;
}

/** Whether a scanned s3:ver key belongs to exactly `key` (not to a longer key sharing the prefix). */
export function isVersionOf(storeKey: string, key: string): boolean {
  return storeKey.length === key.length + 15 && storeKey.charCodeAt(key.length) === 1;
}

/** Version ids carry their sequence number, so a lookup by id is one get. */
export function makeVersionId(seq: number): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(seq));
  return b.toString('base64url') + randomBytes(12).toString('base64url');
}

/** The sequence number inside a version id, or undefined when it is not one of ours. */
export function seqOfVersionId(versionId: string): number | undefined {
  if (versionId.length !== 27 || !/^[A-Za-z0-9_-]+$/.test(versionId)) return undefined;
  const b = Buffer.from(versionId.slice(0, 11), 'base64url');
  if (b.length !== 8) return undefined;
  const n = Number(b.readBigUInt64BE());
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Upload ids sort by creation time (ListMultipartUploads order within a key). */
export function makeUploadId(nowMs: number): string {
  return nowMs.toString(36).padStart(9, '0') + randomBytes(24).toString('base64url');
}

export function uploadKey(key: string, uploadId: string): string {
  return `${key}${SEP}${uploadId}`;
}

export function partKey(uploadId: string, partNumber: number): string {
  return `${uploadId}${SEP}${String(partNumber).padStart(5, '0')}`;
}

/** Last-Modified has second precision on S3 (listings show .000Z): stored that way so every view agrees. */
export function modifiedAt(nowMs: number): Date {
  return new Date(nowMs - (nowMs % 1000));
}

export { canonicalUserId };

export function owner(accountId: string): { ID: string; DisplayName: string } {
  return { ID: canonicalUserId(accountId), DisplayName: 'hanul' };
}
