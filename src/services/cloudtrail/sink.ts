import type { Logger } from 'pino';
import type { AuditRecord, AuditSink } from '../../server/context.js';
import type { MetadataStore } from '../../storage/ports.js';

/** CloudTrail event history keeps 90 days. */
export const HISTORY_MS = 90 * 86_400_000;
import { NS_EVENT, NS_INDEX, eventKey, indexedValues, toEvent, type StoredEvent } from './events.js';

/**
 * The audit sink: record() only builds the event and queues it (no I/O on
 * the request path); every `tickMs` (or sooner when many are waiting) all
 * queued events are written in one transaction. A commit is an fsync, so
 * batching by time rather than per event loop turn keeps commits to a few
 * per second under load; the price is that a crash can lose the last tick's
 * events. flush() drains, for shutdown and for lookups.
 */
export class TrailRecorder implements AuditSink {
  private queue: StoredEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  recorded = 0;
  dropped = 0;

  constructor(
    private readonly meta: MetadataStore,
    private readonly log: Logger,
    private readonly tickMs = 100,
    private readonly maxBatch = 2000,
  ) {}

  record(rec: AuditRecord): void {
    try {
      this.queue.push(toEvent(rec));
    } catch (e) {
      this.dropped++;
      this.log.error({ err: e }, 'cloudtrail: could not build an event');
      return;
    }
    if (this.queue.length >= this.maxBatch) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.tickMs);
      this.timer.unref();
    }
  }

  private async writeBatch(): Promise<void> {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    try {
      await this.meta.write(async (tx) => {
        for (const e of batch) {
          const k = eventKey(e);
          await tx.put(NS_EVENT, k, e);
          // The index key ends with the event key: the value can stay empty.
          for (const [attr, value] of indexedValues(e)) await tx.put(NS_INDEX, indexKey(attr, value, k), '');
        }
      });
      this.recorded += batch.length;
    } catch (e) {
      this.dropped += batch.length;
      this.log.error({ err: e, events: batch.length }, 'cloudtrail: could not store events');
    }
  }

  /**
   * Drops events older than the 90 days of event history (and their index
   * entries), a bounded batch per call; returns how many went.
   */
  async prune(now: Date, batch = 1000): Promise<number> {
    const cutoff = eventKey({ eventTime: new Date(now.getTime() - HISTORY_MS), eventId: '' });
    return this.meta.write(async (tx) => {
      const old = await tx.scan<StoredEvent>(NS_EVENT, { end: cutoff, limit: batch });
      for (const e of old) {
        for (const [attr, value] of indexedValues(e.value)) await tx.delete(NS_INDEX, indexKey(attr, value, e.key));
        await tx.delete(NS_EVENT, e.key);
      }
      return old.length;
    });
  }

  /** Resolves when everything recorded so far is durable. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.writeBatch());
    await this.writing;
  }
}

export function indexKey(attr: string, value: string, eventKeyStr: string): string {
  // Values are URI-encoded so the separator can never occur inside one (and no NUL reaches the store).
  return `${attr}|${encodeURIComponent(value)}|${eventKeyStr}`;
}
