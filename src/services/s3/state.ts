/**
 * What every S3 handler works with: the stores, the clock, the blob reaper,
 * and the small lookups all of them share (bucket by name, names' rules).
 */
import type { Logger } from 'pino';
import type { ServiceDefinition } from '../../aws/service.js';
import type { Config } from '../../config.js';
import type { Clock } from '../../lib/clock.js';
import type { RequestContext } from '../../server/context.js';
import type { BlobStore, MetadataStore, ReadTx } from '../../storage/ports.js';
import type { BlobReaper } from './blob-reaper.js';
import type { SseKeys } from './sse-keys.js';
import { noSuchBucket, s3Error } from './errors.js';
import { type BucketRecord, NS_BUCKETS } from './model.js';

export interface S3 {
  meta: MetadataStore;
  /** Recently read bucket records, for HeadBucket (see BucketCache). */
  buckets: BucketCache;
  blobs: BlobStore;
  reaper: BlobReaper;
  clock: Clock;
  config: Config;
  log: Logger;
  /** The S3 service definition, for handlers' extra IAM checks (s3:BypassGovernanceRetention). */
  service?: () => ServiceDefinition;
  /** The lifecycle worker, told when a configuration changes. */
  lifecycleWorker?: { poke(): void };
  /** Encryption at rest: the S3 master key, SSE-C proofs, KMS data keys (sse-keys.ts). */
  sse: SseKeys;
}

/**
 * Bucket records for HeadBucket, kept for a second: HeadBucket is a client's
 * cheapest probe and should not cost a metadata transaction each time. AWS
 * documents bucket configuration as eventually consistent; this node's own
 * changes invalidate at once, other nodes' show within the second.
 */
export class BucketCache {
  private readonly entries = new Map<string, { rec: BucketRecord; at: number }>();
  constructor(private readonly ttlMs = 1000) {}

  async get(s3: Pick<S3, 'meta'>, name: string): Promise<BucketRecord | undefined> {
    const now = performance.now();
    const hit = this.entries.get(name);
    if (hit && now - hit.at < this.ttlMs) return hit.rec;
    const rec = await s3.meta.read((tx) => getBucket(tx, name));
    if (rec) {
      if (this.entries.size >= 10_000) this.entries.clear();
      this.entries.set(name, { rec, at: now });
    } else {
      this.entries.delete(name);
    }
    return rec;
  }

  invalidate(name: string): void {
    this.entries.delete(name);
  }
}

export async function getBucket(tx: ReadTx, name: string): Promise<BucketRecord | undefined> {
  return tx.get<BucketRecord>(NS_BUCKETS, name);
}

/** The bucket, else NoSuchBucket; a bucket of another account is AccessDenied. */
export async function requireBucket(tx: ReadTx, name: string | undefined, ctx?: Pick<RequestContext, 'principal' | 'accountId'>): Promise<BucketRecord> {
  if (name === undefined || name === '') throw noSuchBucket('');
  return checkOwner(await getBucket(tx, name), name, ctx);
}

export function checkOwner(b: BucketRecord | undefined, name: string, ctx?: Pick<RequestContext, 'principal' | 'accountId'>): BucketRecord {
  if (!b) throw noSuchBucket(name);
  if (ctx && ctx.principal.type !== 'anonymous' && b.ownerAccount !== accountOf(ctx)) {
    throw s3Error('AccessDenied', 'Access Denied');
  }
  return b;
}

export function accountOf(ctx: Pick<RequestContext, 'principal' | 'accountId'>): string {
  return ctx.principal.type === 'anonymous' ? ctx.accountId : ctx.principal.accountId || ctx.accountId;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_LIKE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIX = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIX = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/** General purpose bucket naming rules. */
export function isValidBucketName(name: string): boolean {
  return (
    BUCKET_NAME.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !IP_LIKE.test(name) &&
    !RESERVED_PREFIX.some((p) => name.startsWith(p)) &&
    !RESERVED_SUFFIX.some((s) => name.endsWith(s))
  );
}

export const MAX_KEY_BYTES = 1024;

/** Object keys: 1..1024 UTF-8 bytes. */
export function checkKey(key: string | undefined): string {
  if (key === undefined || key === '') throw s3Error('InvalidArgument', 'An object key must be specified', { ArgumentName: 'key' });
  const size = Buffer.byteLength(key, 'utf8');
  if (size > MAX_KEY_BYTES) throw s3Error('KeyTooLongError', 'Your key is too long', { Size: size, MaxSizeAllowed: MAX_KEY_BYTES });
  return key;
}
