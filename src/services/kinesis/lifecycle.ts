/**
 * Background work: ending transitional states (CREATING → ACTIVE, UPDATING →
 * ACTIVE with the reshard/mode/encryption change applied, DELETING → gone;
 * consumers CREATING → ACTIVE, DELETING → gone) after the configured delay,
 * and trimming records older than the retention period.
 *
 * With a stream log, a sweep after each trim (and at start) frees log
 * segments no record row refers to any more (storage/stream-log-sweep.ts).
 *
 * Timers drive the transitions; timestamps come from the clock. The pending
 * change is stored with the stream, so a restart picks up where it stopped
 * (start() reschedules whatever is still pending).
 */
import type { ReadTx } from '../../storage/ports.js';
import { StreamLogSweeper, type LogSweepResult } from '../../storage/stream-log-sweep.js';
import { LANE_PREFIX, laneOf, type ChunkRow } from './chunks.js';
import type { KinesisCore } from './core.js';
import { indexAtTimestamp } from './iterators.js';
import { NS_CONSUMER, NS_SEQ, NS_STREAM, recordNs, type ConsumerMeta, type StreamMeta } from './model.js';
import { hexOfHashKey, recordKey } from './seq.js';
import { applyMerge, applyScale, applySplit, openShardTotal } from './shards.js';

export class Lifecycle {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private trimTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly sweeper: StreamLogSweeper | undefined;

  constructor(private readonly core: KinesisCore) {
    core.schedule = (name) => this.schedule(`s:${name}`);
    if (core.streamLog) this.sweeper = new StreamLogSweeper(core.streamLog, core.store, oldestSegments, LANE_PREFIX);
  }

  /** `key` is 's:<stream name>' or 'c:<consumer key>'. */
  schedule(key: string, delayMs = this.core.opts.stateDelayMs): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(key));
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.track(key.startsWith('s:') ? this.finishStream(key.slice(2)) : this.finishConsumer(key.slice(2)));
    }, delayMs);
    t.unref();
    this.timers.set(key, t);
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((e: unknown) => this.core.log.error({ err: e }, 'kinesis background step failed'));
    this.running.add(q);
    void q.finally(() => this.running.delete(q));
  }

  /** Resolves once no transition is pending or running (tests). */
  async idle(): Promise<void> {
    while (this.timers.size > 0 || this.running.size > 0) {
      await Promise.all([...this.running]);
      if (this.timers.size > 0) await new Promise((r) => setTimeout(r, 5));
    }
  }

  async start(): Promise<void> {
    const now = this.core.clock.nowMs();
    const [streams, consumers] = await this.core.store.read(async (tx) => [await tx.scan<StreamMeta>(NS_STREAM), await tx.scan<ConsumerMeta>(NS_CONSUMER)] as const);
    for (const { value: s } of streams) if (s.pending) this.schedule(`s:${s.name}`, Math.min(this.core.opts.stateDelayMs, Math.max(0, (s.dueMs ?? now) - now)));
    for (const { key, value: c } of consumers) if (c.status !== 'ACTIVE') this.schedule(`c:${key}`, Math.min(this.core.opts.stateDelayMs, Math.max(0, (c.dueMs ?? now) - now)));
    this.track(this.sweepLog());
    this.trimTimer = setInterval(() => {
      if (this.running.size === 0) this.track(this.trim().then(() => this.sweepLog()));
    }, this.core.opts.trimIntervalMs);
    this.trimTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    clearInterval(this.trimTimer);
    await Promise.all([...this.running]);
  }

  async finishStream(name: string): Promise<void> {
    const core = this.core;
    let deletedId: string | undefined;
    await core.store.write(async (tx) => {
      const s = await tx.get<StreamMeta>(NS_STREAM, name);
      const p = s?.pending;
      if (!s || !p) return;
      const now = core.clock.nowMs();
      switch (p.kind) {
        case 'delete':
          for (const sh of s.shards) await tx.deleteRange(recordNs(s.id, sh.ix), {});
          await tx.deleteRange(NS_SEQ, { prefix: `${s.id}/` });
          await tx.deleteRange(NS_CONSUMER, { prefix: `${s.id}/` });
          await tx.delete(NS_STREAM, name);
          deletedId = s.id;
          return;
        case 'split':
          await applySplit(tx, s, p.shard, p.newStart, now);
          break;
        case 'merge':
          await applyMerge(tx, s, p.shard, p.adjacent, now);
          break;
        case 'scale':
          await applyScale(tx, s, p.target, now);
          break;
        case 'mode':
          s.mode = p.mode;
          break;
        case 'encryption':
          s.encryption = { type: p.type, ...(p.keyId !== undefined ? { keyId: p.keyId } : {}), ...(p.ref !== undefined ? { ref: p.ref } : {}) };
          if (p.ref !== undefined && p.blob !== undefined && p.keyId !== undefined) s.dataKeys = { ...s.dataKeys, [p.ref]: { keyId: p.keyId, blob: p.blob } };
          break;
        case 'create':
        case 'none':
          break;
      }
      delete s.pending;
      delete s.dueMs;
      s.status = 'ACTIVE';
      await tx.put(NS_STREAM, name, s);
    });
    if (deletedId !== undefined) core.forgetStream(deletedId);
  }

  /**
   * On-demand scaling: a shard that ran past its own write limit is split at
   * its midpoint after the state delay (once at a time per shard), as long
   * as the account's shard limit allows. The stream stays ACTIVE meanwhile.
   */
  autoSplit(name: string, streamId: string, shardIx: number): void {
    const key = `a:${streamId}/${shardIx}`;
    if (this.stopped || this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.track(
        this.core.store
          .write(async (tx) => {
            const s = await tx.get<StreamMeta>(NS_STREAM, name);
            const sh = s?.shards.find((x) => x.ix === shardIx && x.closedMs === undefined);
            if (!s || s.id !== streamId || s.mode !== 'ON_DEMAND' || s.status !== 'ACTIVE' || !sh || sh.start === sh.end) return;
            if ((await openShardTotal(tx)) + 1 > this.core.opts.shardLimit) return;
            const mid = (BigInt(`0x${sh.start}`) + BigInt(`0x${sh.end}`) + 1n) / 2n;
            await applySplit(tx, s, shardIx, hexOfHashKey(mid), this.core.clock.nowMs());
            await tx.put(NS_STREAM, name, s);
          })
          .finally(() => this.timers.delete(key)),
      );
    }, this.core.opts.stateDelayMs);
    t.unref();
    this.timers.set(key, t);
  }

  async finishConsumer(key: string): Promise<void> {
    await this.core.store.write(async (tx) => {
      const c = await tx.get<ConsumerMeta>(NS_CONSUMER, key);
      if (!c) return;
      if (c.status === 'DELETING') {
        await tx.delete(NS_CONSUMER, key);
      } else if (c.status === 'CREATING') {
        c.status = 'ACTIVE';
        delete c.dueMs;
        await tx.put(NS_CONSUMER, key, c);
      }
    });
  }

  /** Frees log segments no record row refers to (a segment goes in the second sweep that finds it free). */
  async sweepLog(): Promise<LogSweepResult | undefined> {
    return this.stopped ? undefined : this.sweeper?.sweep();
  }

  /**
   * Removes records older than each stream's retention period, and closed
   * shards whose records have all expired (AWS stops listing them too).
   */
  async trim(): Promise<number> {
    const core = this.core;
    const streams = await core.store.read((tx) => tx.scan<StreamMeta>(NS_STREAM));
    let removed = 0;
    for (const { value: snapshot } of streams) {
      if (snapshot.status === 'DELETING' || snapshot.status === 'CREATING') continue;
      const horizon = core.clock.nowMs() - snapshot.retentionHours * 3_600_000;
      for (const sh of snapshot.shards) {
        removed += await core.store.write(async (tx) => {
          const cut = await indexAtTimestamp(tx, snapshot, sh, horizon);
          return cut > 0 ? tx.deleteRange(recordNs(snapshot.id, sh.ix), { end: recordKey(cut) }) : 0;
        });
      }
      if (snapshot.shards.some((sh) => sh.closedMs !== undefined && sh.closedMs < horizon)) {
        await core.store.write(async (tx) => {
          const s = await tx.get<StreamMeta>(NS_STREAM, snapshot.name);
          if (!s || s.id !== snapshot.id) return;
          const keep = [];
          for (const sh of s.shards) {
            const gone = sh.closedMs !== undefined && sh.closedMs < horizon && (await tx.count(recordNs(s.id, sh.ix))) === 0;
            if (gone) await tx.delete(NS_SEQ, `${s.id}/${sh.ix}`);
            else keep.push(sh);
          }
          if (keep.length !== s.shards.length) {
            s.shards = keep;
            s.version++;
            await tx.put(NS_STREAM, s.name, s);
          }
        });
      }
    }
    return removed;
  }
}

/**
 * Each stream's lane → the lowest log segment its rows point to. A shard's
 * rows point to ever later segments (the log appends in put order), so its
 * first row that points anywhere says it; rows older builds wrote inline
 * come first and point nowhere. After a few pages of those, the whole lane
 * is kept (0) rather than scanning on.
 */
async function oldestSegments(tx: ReadTx): Promise<Map<string, number>> {
  const keep = new Map<string, number>();
  for (const { value: s } of await tx.scan<StreamMeta>(NS_STREAM)) {
    let min = Infinity;
    for (const sh of s.shards) {
      let after: string | undefined;
      for (let page = 0; ; page++) {
        const limit = page === 0 ? 1 : 256;
        const rows = await tx.scan<ChunkRow>(recordNs(s.id, sh.ix), { limit, ...(after !== undefined ? { startAfter: after } : {}) });
        const found = rows.find((r) => !(r.value instanceof Uint8Array));
        if (found && !(found.value instanceof Uint8Array)) {
          min = Math.min(min, found.value.log.segment);
          break;
        }
        if (rows.length < limit) break;
        if (page >= 4) {
          min = 0;
          break;
        }
        after = rows[rows.length - 1]?.key;
      }
    }
    keep.set(laneOf(s.id), min);
  }
  return keep;
}
