/**
 * Frees StreamLog segments no metadata row refers to any more: a lane whose
 * owner is gone (a deleted stream), and a live lane's segments older than
 * its oldest referenced one (records past retention, trimmed).
 *
 * Safety, in order:
 * - `mark` first, then an empty write transaction: every write transaction
 *   that was running or queued at the mark has settled (committed or failed)
 *   once it commits, since the embedded store runs them one at a time in
 *   order. Appends happen only inside such transactions, so every append
 *   numbered ≤ mark is either committed — and visible to the snapshot read
 *   that follows — or never will be.
 * - The referrer reads each live lane's oldest referenced segment in that one
 *   snapshot. A segment below it (or of a dead lane) and not appended to
 *   since the mark can gain no reference: new rows name only the segment a
 *   lane appends to now (deleteSegment refuses one appended after the mark).
 * - A segment is deleted only when two sweeps in a row found it free, so a
 *   reader that took a pointer from a snapshot older than the rows' deletion
 *   has long finished (Kinesis readers resolve pointers in the same turn as
 *   their scan anyway).
 */
import type { MetadataStore, ReadTx, StreamLog } from './ports.js';

/** Every live lane (of the sweeper's prefix) → the lowest segment any row refers to (Infinity: none, 0: keep all). */
export type LaneReferrer = (tx: ReadTx) => Promise<Map<string, number>>;

export interface LogSweepResult {
  /** Free in this sweep (deleted, or waiting for the next one). */
  free: number;
  deleted: number;
  bytes: number;
}

export class StreamLogSweeper {
  private waiting = new Set<string>();
  private running: Promise<LogSweepResult> | undefined;

  constructor(
    private readonly log: StreamLog,
    private readonly meta: MetadataStore,
    private readonly referrer: LaneReferrer,
    /** Only lanes whose names start with this are this sweeper's (their owner's referrer knows them all). */
    private readonly prefix = '',
  ) {}

  /** One sweep; concurrent callers share the running one. */
  sweep(): Promise<LogSweepResult> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<LogSweepResult> {
    const result: LogSweepResult = { free: 0, deleted: 0, bytes: 0 };
    const mark = this.log.mark();
    await this.meta.write(() => Promise.resolve());
    const keep = await this.meta.read(this.referrer);
    const next = new Set<string>();
    for (const s of this.log.list()) {
      if (s.lastAppend > mark || !s.lane.startsWith(this.prefix)) continue;
      const from = keep.get(s.lane);
      if (from !== undefined && s.segment >= from) continue;
      result.free++;
      const id = `${s.lane}/${s.segment}`;
      if (!this.waiting.has(id)) {
        next.add(id);
      } else if (await this.log.deleteSegment(s.lane, s.segment, mark)) {
        result.deleted++;
        result.bytes += s.bytes;
      }
    }
    this.waiting = next;
    return result;
  }
}
