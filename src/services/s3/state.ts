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
import { WatchedCache, watchWrites } from '../../storage/watch-writes.js';

export interface S3 {
  meta: MetadataStore;
  /** Bucket records as last committed (see BucketCache). */
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
  /** The replication worker, told when versions are queued (replication-worker.ts). */
  replicationWorker?: { poke(): void };
  /** Server access log delivery (access-log.ts), told when a bucket's logging changes. */
  accessLog?: { setSource(bucket: string, on: boolean): void };
  /** Encryption at rest: the S3 master key, SSE-C proofs, KMS data keys (sse-keys.ts). */
  sse: SseKeys;
}

/**
 * Bucket records (configuration, policy, ACL, Block Public Access, encryption,
 * versioning, lock) as of the last committed change, so a request does not
 * read them from the metadata store each time: every object operation needs
 * its bucket, and its authorization needs it once more.
 *
 * Exact on this node, not eventually consistent: S3's store is wrapped by
 * `watchBucketWrites`, which invalidates a bucket after every committed
 * transaction that wrote its record (whichever code path wrote it), before
 * that write's caller continues. A read racing such a commit may fetch the
 * old record; the generation counter keeps it from being cached. The TTL
 * only bounds how long another node's change (a shared store, cluster mode)
 * can go unseen.
 */
export class BucketCache {
  // Shared by concurrent requests: frozen, so a handler cannot change one in place by mistake. A missing bucket is not cached.
  private readonly records: WatchedCache<BucketRecord | undefined>;
  constructor(ttlMs = 1000) {
    this.records = new WatchedCache(ttlMs, (rec) => (rec ? { value: Object.freeze(rec) } : undefined));
  }

  get(s3: Pick<S3, 'meta'>, name: string): Promise<BucketRecord | undefined> {
    return this.records.get(name, () => s3.meta.read((tx) => getBucket(tx, name)));
  }

  /** As `get`, but a cached record comes back at once (not in a Promise): hot paths await only a real read. */
  getNow(s3: Pick<S3, 'meta'>, name: string): BucketRecord | undefined | Promise<BucketRecord | undefined> {
    return this.records.getNow(name, () => s3.meta.read((tx) => getBucket(tx, name)));
  }

  /** The bucket, else NoSuchBucket; a bucket of another account is AccessDenied (as requireBucket). */
  async require(s3: Pick<S3, 'meta'>, name: string | undefined, ctx?: Pick<RequestContext, 'principal' | 'accountId'>): Promise<BucketRecord> {
    return this.requireNow(s3, name, ctx);
  }

  /** As `require`, but a cached bucket comes back at once (errors are thrown, not returned as a rejection). */
  requireNow(s3: Pick<S3, 'meta'>, name: string | undefined, ctx?: Pick<RequestContext, 'principal' | 'accountId'>): BucketRecord | Promise<BucketRecord> {
    if (name === undefined || name === '') throw noSuchBucket('');
    const b = this.getNow(s3, name);
    return b instanceof Promise ? b.then((rec) => checkOwner(rec, name, ctx)) : checkOwner(b, name, ctx);
  }

  invalidate(name: string): void {
    this.records.invalidate(name);
  }

  invalidateAll(): void {
    this.records.invalidateAll();
  }
}

/**
 * S3's view of the metadata store: the same store, except that a write
 * transaction which wrote bucket records invalidates them in `cache` once
 * it has settled (committed or rolled back), before its caller resumes.
 */
export function watchBucketWrites(store: MetadataStore, cache: BucketCache): MetadataStore {
  return watchWrites(store, NS_BUCKETS, cache);
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
