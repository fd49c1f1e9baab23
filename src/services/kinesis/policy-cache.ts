/**
 * Stream resource policies as of the last committed change, for the
 * authorizer: it asks for the stream's policy on every call (a policy can
 * grant on its own and its Deny binds even root), and reading it from the
 * store cost a read transaction and a decode of the whole StreamMeta per
 * PutRecords (≈ 5% of the write path's CPU).
 *
 * Exact on this node, as S3's BucketCache: Kinesis's store is wrapped by
 * `watchStreamWrites`, which drops a stream's entry after every transaction
 * that wrote its record has settled (committed or rolled back), before that
 * write's caller continues, so a PutResourcePolicy / DeleteStream that was
 * acknowledged is seen by every later call. A lookup racing such a commit may
 * read the old record; the generation counter keeps it from being cached. The
 * TTL only bounds how long another node's change (a shared store, cluster
 * mode) can go unseen.
 */
import type { MetadataStore, ReadTx } from '../../storage/ports.js';
import { NS_STREAM, type StreamMeta } from './model.js';
import { WatchedCache, watchWrites } from '../../storage/watch-writes.js';

export class StreamPolicyCache {
  private readonly policies: WatchedCache<string | undefined>;
  constructor(ttlMs = 1000) {
    this.policies = new WatchedCache(ttlMs);
  }

  /** undefined: the stream has no policy, or does not exist. */
  get(store: MetadataStore, name: string): Promise<string | undefined> {
    return this.policies.get(name, () => store.read(async (tx: ReadTx) => (await tx.get<StreamMeta>(NS_STREAM, name))?.policy));
  }

  invalidate(name: string): void {
    this.policies.invalidate(name);
  }

  invalidateAll(): void {
    this.policies.invalidateAll();
  }
}

/**
 * Kinesis's view of the metadata store: the same store, except that a write
 * transaction which wrote stream records invalidates them in `cache` once it
 * has settled, before its caller resumes.
 */
export function watchStreamWrites(store: MetadataStore, cache: StreamPolicyCache): MetadataStore {
  return watchWrites(store, NS_STREAM, cache);
}
