/**
 * Deletes blobs that metadata no longer points to, after the metadata commit,
 * without pulling them from under a reader: a GET that read the old record a
 * moment before an overwrite keeps streaming the old bytes. Deletion waits
 * until no reader holds the blob and a short grace period has passed (a
 * reader registers right after its read transaction, so the grace covers
 * that gap). A crash before deletion leaves an orphan blob: garbage, never a
 * dangling reference.
 */
import type { Logger } from 'pino';
import type { BlobStore } from '../../storage/ports.js';

const GRACE_MS = 2000;

export class BlobReaper {
  private readonly readers = new Map<string, number>();
  private readonly waiting = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly deleting = new Set<Promise<void>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly log: Logger,
  ) {}

  /** Marks blobs as being read; call the returned function exactly once when done. */
  acquire(ids: readonly string[]): () => void {
    for (const id of ids) this.readers.set(id, (this.readers.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of ids) {
        const n = (this.readers.get(id) ?? 1) - 1;
        if (n > 0) {
          this.readers.set(id, n);
        } else {
          this.readers.delete(id);
          if (this.waiting.has(id)) this.later([id]);
        }
      }
    };
  }

  /** Whether a reader streams this blob or its deletion is pending here. */
  holds(id: string): boolean {
    return this.readers.has(id) || this.waiting.has(id);
  }

  /** Deletes these blobs once nobody reads them. */
  free(ids: readonly string[]): void {
    if (ids.length > 0) this.later(ids);
  }

  /** Deletes now (for blobs no metadata ever referred to, e.g. a failed upload's). */
  discard(ids: readonly string[]): void {
    for (const id of ids) this.remove(id);
  }

  private later(ids: readonly string[]): void {
    for (const id of ids) this.waiting.add(id);
    const t = setTimeout(() => {
      this.timers.delete(t);
      for (const id of ids) if (this.waiting.has(id) && !this.readers.has(id)) this.remove(id);
    }, GRACE_MS);
    t.unref();
    this.timers.add(t);
  }

  private remove(id: string): void {
    this.waiting.delete(id);
    const p = this.blobs.delete(id).catch((e: unknown) => this.log.warn({ err: e, blob: id }, 's3: blob delete failed (left as an orphan)'));
    this.deleting.add(p);
    void p.finally(() => this.deleting.delete(p));
  }

  /** On shutdown: delete what waits (readers are gone), then wait for the deletes. */
  async flush(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const id of [...this.waiting]) if (!this.readers.has(id)) this.remove(id);
    await Promise.allSettled([...this.deleting]);
  }
}
