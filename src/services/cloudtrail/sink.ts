import type { Logger } from 'pino';
import type { AuditRecord, AuditSink } from '../../server/context.js';
import type { BlobStore, MetadataStore } from '../../storage/ports.js';
import { randomId } from '../../lib/ids.js';
import { toEvent } from './events.js';
import { NS_SEGMENT, SegmentBuilder, forgetSegment, timeKey, type Segment } from './segments.js';

/** CloudTrail event history keeps 90 days. */
export const HISTORY_MS = 90 * 86_400_000;

/**
 * The audit sink: record() only builds the event and queues it (no I/O on
 * the request path); every `tickMs` (or sooner when many are waiting) the
 * queued events become one segment: one blob write (fsync'd on libuv's
 * threads, not the event loop) and one metadata commit. A crash can lose
 * the last tick's events. flush() drains, for shutdown and for lookups.
 */
export class TrailRecorder implements AuditSink {
  private queue = new SegmentBuilder();
  /** A written segment's buffer, for the next one (at most one kept; up to 8 MiB). */
  private spare: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  recorded = 0;
  dropped = 0;

  constructor(
    private readonly meta: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly log: Logger,
    private readonly tickMs = 100,
    private readonly maxBatch = 5000,
  ) {}

  record(rec: AuditRecord): void {
    try {
      this.queue.add(toEvent(rec));
    } catch (e) {
      this.dropped++;
      this.log.error({ err: e }, 'cloudtrail: could not build an event');
      return;
    }
    if (this.queue.count >= this.maxBatch) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.tickMs);
      this.timer.unref();
    }
  }

  private async writeBatch(): Promise<void> {
    const batch = this.queue;
    if (batch.count === 0) return;
    this.queue = new SegmentBuilder(this.spare);
    this.spare = undefined;
    try {
      const seg = await batch.write(this.blobs);
      const written = batch.release();
      if (written.length <= 8 * 1024 * 1024) this.spare = written;
      await this.meta.write((tx) => tx.put(NS_SEGMENT, `${timeKey(seg.first)}:${randomId()}`, seg));
      this.recorded += batch.count;
    } catch (e) {
      this.dropped += batch.count;
      this.log.error({ err: e, events: batch.count }, 'cloudtrail: could not store events');
    }
  }

  /** Drops segments wholly older than the 90 days of event history; returns how many events went. */
  async prune(now: Date, batch = 100): Promise<number> {
    const cutoff = now.getTime() - HISTORY_MS;
    const old = (await this.meta.read((tx) => tx.scan<Segment>(NS_SEGMENT, { end: timeKey(cutoff), limit: batch }))).filter((e) => e.value.last < cutoff);
    if (old.length === 0) return 0;
    await this.meta.write(async (tx) => {
      for (const e of old) await tx.delete(NS_SEGMENT, e.key);
    });
    for (const e of old) {
      forgetSegment(e.value.blobId);
      await this.blobs.delete(e.value.blobId);
    }
    return old.reduce((n, e) => n + e.value.count, 0);
  }

  /** Resolves when everything recorded so far is durable. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.writeBatch());
    await this.writing;
  }
}
