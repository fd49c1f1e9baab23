/**
 * A metadata store that tells a cache which records of one namespace a write
 * transaction wrote, once that transaction has settled (committed or rolled
 * back) and before its caller resumes: what keeps S3's bucket cache and
 * Kinesis's stream-policy cache exact on this node.
 */
import type { KvEntry, MetadataStore, ScanOptions, StoredValue, WriteTx } from './ports.js';

/** What a watched write invalidates. */
export interface WriteWatcher {
  invalidate(key: string): void;
  invalidateAll(): void;
}

/** Forwards to a write transaction, noting which keys of `ns` it writes. */
class WatchedTx implements WriteTx {
  /** Keys written; `true` after a range delete over the namespace. */
  touched: Set<string> | true | undefined;
  constructor(
    private readonly tx: WriteTx,
    private readonly ns: string,
  ) {}
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
    if (ns === this.ns) this.note(key);
    return this.tx.put(ns, key, value);
  }
  delete(ns: string, key: string): Promise<boolean> {
    if (ns === this.ns) this.note(key);
    return this.tx.delete(ns, key);
  }
  deleteRange(ns: string, opts: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number> {
    if (ns === this.ns) this.touched = true;
    return this.tx.deleteRange(ns, opts);
  }
  private note(key: string): void {
    if (this.touched === true) return;
    this.touched ??= new Set();
    this.touched.add(key);
  }
}

/** `store`, except that every settled write transaction that wrote keys of `ns` invalidates them in `watcher`. */
export function watchWrites(store: MetadataStore, ns: string, watcher: WriteWatcher): MetadataStore {
  const settle = (w: WatchedTx): void => {
    const t = w.touched;
    if (t === undefined) return;
    if (t === true) watcher.invalidateAll();
    else for (const key of t) watcher.invalidate(key);
  };
  return {
    read: (fn) => store.read(fn),
    write: <T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> => {
      let watched: WatchedTx | undefined;
      return store
        .write((tx) => fn((watched = new WatchedTx(tx, ns))))
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

/**
 * Records by key as of the last settled write, for a store handle made by
 * `watchWrites` (which calls invalidate / invalidateAll): exact on this node.
 * A lookup racing a commit may load the old record; the generation counter
 * keeps it from being cached. The TTL only bounds how long another node's
 * change (a shared store, cluster mode) can go unseen.
 */
export class WatchedCache<V> implements WriteWatcher {
  private readonly entries = new Map<string, { value: V; at: number }>();
  /** Bumped by every invalidation: a lookup started before one must not fill the cache. */
  private generation = 0;

  /** `keep` says which loaded values are cached (and returns the form cached). */
  constructor(
    private readonly ttlMs: number,
    private readonly keep: (value: V) => { value: V } | undefined = (value) => ({ value }),
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const v = this.getNow(key, load);
    return v instanceof Promise ? v : Promise.resolve(v);
  }

  /**
   * As `get`, but a cached value comes back as is, not in a Promise: a caller
   * on a hot path awaits only a real load (no promise, no microtask turn on a hit).
   */
  getNow(key: string, load: () => Promise<V>): V | Promise<V> {
    const now = performance.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    return this.load(key, load, now);
  }

  private async load(key: string, load: () => Promise<V>, now: number): Promise<V> {
    const generation = this.generation;
    const loaded = await load();
    if (generation !== this.generation) return loaded;
    const kept = this.keep(loaded);
    if (kept === undefined) {
      this.entries.delete(key);
      return loaded;
    }
    if (this.entries.size >= 10_000) this.entries.clear();
    this.entries.set(key, { value: kept.value, at: now });
    return kept.value;
  }

  invalidate(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }

  invalidateAll(): void {
    this.generation++;
    this.entries.clear();
  }
}
