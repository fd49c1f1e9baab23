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
import { watchWrites } from '../../storage/watch-writes.js';

interface Entry {
  /** undefined: the stream has no policy, or does not exist. */
  policy: string | undefined;
  at: number;
}

export class StreamPolicyCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every invalidation: a lookup started before one must not fill the cache. */
  private generation = 0;

  constructor(private readonly ttlMs = 1000) {}

  async get(store: MetadataStore, name: string): Promise<string | undefined> {
    const now = performance.now();
    const hit = this.entries.get(name);
    if (hit && now - hit.at < this.ttlMs) return hit.policy;
    const generation = this.generation;
    const policy = await store.read(async (tx: ReadTx) => (await tx.get<StreamMeta>(NS_STREAM, name))?.policy);
    if (generation === this.generation) {
      if (this.entries.size >= 10_000) this.entries.clear();
      this.entries.set(name, { policy, at: now });
    }
    return policy;
  }

  invalidate(name: string): void {
    this.generation++;
    this.entries.delete(name);
  }

  invalidateAll(): void {
    this.generation++;
    this.entries.clear();
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
