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
import type { KvEntry, MetadataStore, ReadTx, ScanOptions, StoredValue, WriteTx } from '../../storage/ports.js';
import { NS_STREAM, type StreamMeta } from './model.js';

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

/** Forwards to a write transaction, noting which stream records it writes. */
class WatchedTx implements WriteTx {
  /** Stream names written; `true` after a range delete over the streams. */
  touched: Set<string> | true | undefined;
  constructor(private readonly tx: WriteTx) {}
  get<V = StoredValue>(ns: string, key: string): Promise<V | undefined> {
    return this.tx.get<V>(ns, key);
  }
  scan<V = StoredValue>(ns: string, opts?: ScanOptions): Promise<KvEntry<V>[]> {
    return this.tx.scan<V>(ns, opts);
  }
  count(ns: string, opts?: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number> {
    return this.tx.count(ns, opts);
  }
  put(ns: string, key: string, value: StoredValue): Promise<void> {
    if (ns === NS_STREAM) this.note(key);
    return this.tx.put(ns, key, value);
  }
  delete(ns: string, key: string): Promise<boolean> {
    if (ns === NS_STREAM) this.note(key);
    return this.tx.delete(ns, key);
  }
  deleteRange(ns: string, opts: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number> {
    if (ns === NS_STREAM) this.touched = true;
    return this.tx.deleteRange(ns, opts);
  }
  private note(name: string): void {
    if (this.touched === true) return;
    this.touched ??= new Set();
    this.touched.add(name);
  }
}

/**
 * Kinesis's view of the metadata store: the same store, except that a write
 * transaction which wrote stream records invalidates them in `cache` once it
 * has settled, before its caller resumes.
 */
export function watchStreamWrites(store: MetadataStore, cache: StreamPolicyCache): MetadataStore {
  const settle = (w: WatchedTx): void => {
    const t = w.touched;
    if (t === undefined) return;
    if (t === true) cache.invalidateAll();
    else for (const name of t) cache.invalidate(name);
  };
  return {
    read: (fn) => store.read(fn),
    write: <T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> => {
      let watched: WatchedTx | undefined;
      return store
        .write((tx) => fn((watched = new WatchedTx(tx))))
        .then(
          (v) => {
            if (watched) settle(watched);
            return v;
          },
          (e: unknown) => {
            if (watched) settle(watched);
            throw e;
          },
        );
    },
    close: () => store.close(),
  };
}
