import type { Logger } from 'pino';
import type { AuditRecord, AuditSink } from '../../server/context.js';
import type { MetadataStore } from '../../storage/ports.js';
import { NS_EVENT, NS_INDEX, eventKey, indexedValues, toEvent, type StoredEvent } from './events.js';

/**
 * The audit sink: record() only builds the event and queues it (no I/O on
 * the request path); all events queued in one tick are written in one
 * transaction (group commit). flush() drains, for shutdown and tests.
 */
export class TrailRecorder implements AuditSink {
  private queue: StoredEvent[] = [];
  private scheduled = false;
  private writing: Promise<void> = Promise.resolve();
  recorded = 0;
  dropped = 0;

  constructor(
    private readonly meta: MetadataStore,
    private readonly log: Logger,
  ) {}

  record(rec: AuditRecord): void {
    try {
      this.queue.push(toEvent(rec));
    } catch (e) {
      this.dropped++;
      this.log.error({ err: e }, 'cloudtrail: could not build an event');
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.writing = this.writing.then(() => this.writeBatch());
      });
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

  /** Resolves when everything recorded so far is durable. */
  async flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writeBatch());
    await this.writing;
  }
}

export function indexKey(attr: string, value: string, eventKeyStr: string): string {
  // Values are URI-encoded so the separator can never occur inside one (and no NUL reaches the store).
  return `${attr}|${encodeURIComponent(value)}|${eventKeyStr}`;
}
