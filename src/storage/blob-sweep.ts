/**
 * Deletes orphan blobs: blobs that no metadata refers to. A crash leaves them
 * between a blob's write and its metadata commit, or between a commit that
 * stopped referring to a blob and the blob's deletion. They are garbage,
 * never a dangling reference; this sweep takes them back.
 *
 * Safety, in order:
 * - A blob still being written is not listed (it lives in the store's temp
 *   area until it is whole). A blob written but not yet committed is younger
 *   than `graceMs` (its age is its last write's time; a commit follows within
 *   milliseconds), so it is no candidate.
 * - Candidates are listed first, then every referrer walks its records in
 *   ONE snapshot read. A record moves a blob id between tables (part →
 *   object, current → noncurrent version) in one transaction, so the snapshot
 *   sees it in one place or the other, never in neither. A blob unreferenced
 *   in that snapshot and older than the grace period can gain no reference
 *   later: only new writes create references, and they reference new blobs.
 * - `inUse` is asked last, right before each delete (S3's readers still
 *   streaming the old bytes of an overwritten object).
 *
 * Bounded: at most `batch` candidates are held at once; each batch costs
 * one walk of the references. A service that stores blobs must declare them
 * (ServiceDefinition.blobRefs), else this sweep would take its blobs.
 */
import type { Logger } from 'pino';
import type { BlobStore, MetadataStore, ReadTx } from './ports.js';

/** Calls `visit` for every blob id the service's records refer to, in this snapshot. */
export type BlobReferrer = (tx: ReadTx, visit: (id: string) => void) => Promise<void>;

/** Visits every value of a namespace, a page at a time (inside one snapshot read). */
export async function scanAll<V>(tx: ReadTx, ns: string, each: (value: V) => void, page = 1000): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const rows = await tx.scan<V>(ns, { limit: page, ...(after !== undefined ? { startAfter: after } : {}) });
    for (const e of rows) each(e.value);
    if (rows.length < page) return;
    after = rows[rows.length - 1]?.key;
  }
}

export interface SweepOptions {
  blobs: BlobStore;
  meta: MetadataStore;
  referrers: readonly BlobReferrer[];
  /** Blobs written less than this long ago are never touched. */
  graceMs: number;
  /** Blobs in use right now (being read); skipped. */
  inUse?: (id: string) => boolean;
  /** Most candidates held in memory at once. */
  batch?: number;
  /** Wall clock (blob ages are file times, not hanul's movable clock). */
  now?: () => number;
  signal?: AbortSignal;
}

export interface SweepResult {
  listed: number;
  deleted: number;
  bytes: number;
}

export async function sweepOrphanBlobs(o: SweepOptions): Promise<SweepResult> {
  const result: SweepResult = { listed: 0, deleted: 0, bytes: 0 };
  if (o.blobs.list === undefined) return result;
  const batch = o.batch ?? 100_000;
  const cutoff = (o.now ?? Date.now)() - o.graceMs;
  let candidates = new Map<string, number>();
  const settle = async (): Promise<void> => {
    if (candidates.size === 0) return;
    const held = candidates;
    candidates = new Map();
    await o.meta.read(async (tx) => {
      for (const walk of o.referrers) {
        if (o.signal?.aborted === true) return;
        await walk(tx, (id) => void held.delete(id));
      }
    });
    if (o.signal?.aborted === true) return;
    for (const [id, size] of held) {
      if (o.inUse?.(id) === true) continue;
      await o.blobs.delete(id);
      result.deleted++;
      result.bytes += size;
    }
  };
  for await (const b of o.blobs.list()) {
    if (o.signal?.aborted === true) return result;
    result.listed++;
    if (b.createdAt.getTime() >= cutoff) continue;
    candidates.set(b.id, b.size);
    if (candidates.size >= batch) await settle();
  }
  await settle();
  return result;
}

/**
 * Runs the sweep at start and then every `intervalMs`, one at a time, in the
 * background; stop() aborts a running sweep and waits for it.
 */
export class BlobSweeper {
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Completed sweeps (for tests and metrics). */
  runs = 0;
  last: SweepResult | undefined;

  constructor(
    private readonly opts: Omit<SweepOptions, 'signal'>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.abort.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        this.schedule(this.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    const started = Date.now();
    try {
      const r = await sweepOrphanBlobs({ ...this.opts, signal: this.abort.signal });
      this.runs++;
      this.last = r;
      const line = { ...r, ms: Date.now() - started };
      if (r.deleted > 0) this.log.info(line, 'blob sweep: deleted orphan blobs');
      else this.log.debug(line, 'blob sweep: no orphans');
    } catch (e) {
      if (!this.abort.signal.aborted) this.log.warn({ err: e }, 'blob sweep failed (retried next interval)');
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }
}
