/**
 * The flusher: watches every stream's buffer and delivers it when either
 * buffering hint is reached (SizeInMBs of data, or the oldest record has
 * waited IntervalInSeconds by hanul's clock — checked every tick, so a clock
 * advance triggers delivery too). A delivery reads buffered records in
 * arrival order, runs the processors, writes the objects, and only then
 * deletes the records it delivered: at least once, never lost. A failed
 * delivery keeps the records and retries with backoff.
 */
import type { RequestContext } from '../../server/context.js';
import type { FirehoseCore } from './core.js';
import { deliverHttp } from './http-endpoint.js';
import type { FirehoseMetrics } from './metrics.js';
import { gunzipAll } from './compress.js';
import { decodeChunk, nsBuffer, NS_STREAM, recordCount, splitRecords, type BufferedChunk, type DeliveryStreamMeta, type StoredChunk } from './model.js';
import { processRecords, type SourceRecord } from './processing.js';
import { roleContext } from './role.js';
import { deliverS3, deliversPackedGzip, writePackedGzip } from './s3-writer.js';

interface Pending {
  bytes: number;
  oldest: number | undefined;
  busy: boolean;
  /** Clock ms before which a failed delivery is not retried. */
  retryAt: number;
  failures: number;
  /** SizeInMBs in bytes as last read (puts check it without a store read; ticks refresh it). */
  sizeLimit?: number;
}

/** Chunks read per store read: memory stays near SizeInMBs plus one page, whatever the backlog. */
const PAGE = 16;

export class Flusher {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly core: FirehoseCore,
    private readonly metrics: FirehoseMetrics,
  ) {}

  /** Rebuilds buffer sizes from storage (after a restart buffered records are delivered). */
  async start(): Promise<void> {
    const streams = await this.core.store.read((tx) => tx.scan<DeliveryStreamMeta>(NS_STREAM));
    for (const { key } of streams) {
      const p = this.state(key);
      for await (const r of this.pages(nsBuffer(key))) {
        p.bytes += r.value.bytes;
        p.oldest = Math.min(p.oldest ?? Infinity, r.value.at);
      }
    }
    this.timer = setInterval(() => this.tick(), this.core.opts.tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.inflight]);
  }

  private state(name: string): Pending {
    let p = this.pending.get(name);
    if (!p) {
      p = { bytes: 0, oldest: undefined, busy: false, retryAt: 0, failures: 0 };
      this.pending.set(name, p);
    }
    return p;
  }

  /** Records committed: account for them, deliver at once if the size hint is reached. */
  added(name: string, bytes: number, at: number, count: number): void {
    const p = this.state(name);
    p.bytes += bytes;
    p.oldest = Math.min(p.oldest ?? Infinity, at);
    this.metrics.recordsIn.inc({ stream: name }, count);
    this.metrics.bytesIn.inc({ stream: name }, bytes);
    if (p.sizeLimit === undefined || p.bytes >= p.sizeLimit) this.tick(name);
  }

  forget(name: string): void {
    this.pending.delete(name);
  }

  /** Backlog age of the oldest undelivered record, by stream (for /metrics). */
  backlogAges(): Array<[string, number]> {
    const now = this.core.clock.nowMs();
    return [...this.pending].map(([n, p]) => [n, p.oldest === undefined ? 0 : Math.max(0, now - p.oldest) / 1000]);
  }

  private tick(only?: string): void {
    if (this.stopped) return;
    const now = this.core.clock.nowMs();
    for (const [name, p] of this.pending) {
      if (only !== undefined && name !== only) continue;
      if (p.busy || p.oldest === undefined || now < p.retryAt) continue;
      const job = this.maybeDeliver(name, p, now).finally(() => this.inflight.delete(job));
      this.inflight.add(job);
    }
  }

  private async maybeDeliver(name: string, p: Pending, now: number): Promise<void> {
    p.busy = true;
    try {
      const meta = await this.core.store.read((tx) => tx.get<DeliveryStreamMeta>(NS_STREAM, name));
      if (!meta) {
        this.pending.delete(name);
        return;
      }
      // A DELETING stream's buffered records go with it, as AWS's do.
      if (meta.deletingSince !== undefined) return;
      const hints = meta.s3?.BufferingHints ?? meta.http?.BufferingHints ?? {};
      const sizeLimit = (hints.SizeInMBs ?? 5) * 1024 * 1024;
      p.sizeLimit = sizeLimit;
      const intervalMs = (hints.IntervalInSeconds ?? 300) * 1000;
      while (p.oldest !== undefined && !this.stopped && (p.bytes >= sizeLimit || this.core.clock.nowMs() - p.oldest >= intervalMs)) {
        await this.deliverOnce(meta, sizeLimit, p);
      }
      p.failures = 0;
    } catch (e) {
      p.failures++;
      const backoff = Math.min(30_000, 500 * 2 ** Math.min(p.failures, 6));
      p.retryAt = now + backoff;
      this.metrics.failures.inc({ stream: name });
      this.core.log.warn({ err: e, stream: name, failures: p.failures }, 'firehose delivery failed; records stay buffered');
    } finally {
      p.busy = false;
    }
  }

  /** One buffer's worth: read, process, write, then delete what was written. */
  private async deliverOnce(meta: DeliveryStreamMeta, sizeLimit: number, p: Pending): Promise<void> {
    const ns = nsBuffer(meta.name);
    const chunks: Array<{ key: string; value: BufferedChunk }> = [];
    let bytes = 0;
    // Whole chunks: an object may pass SizeInMBs by at most one put (≤ 4 MiB).
    for await (const r of this.pages(ns)) {
      if (chunks.length > 0 && bytes + r.value.bytes > sizeLimit) break;
      chunks.push(r);
      bytes += r.value.bytes;
    }
    if (chunks.length === 0) {
      p.bytes = 0;
      p.oldest = undefined;
      return;
    }
    let count = 0;
    if (deliversPackedGzip(meta) && chunks.every((c) => c.value.packed)) {
      // The records were compressed when put: the object is their gzip members back to back.
      const members: Uint8Array[] = [];
      let at = Infinity;
      for (const { value: c } of chunks) {
        members.push(await this.packedGzip(meta, c));
        at = Math.min(at, c.at);
        count += recordCount(c);
      }
      await writePackedGzip(this.core, meta, members, at, await roleContext(this.core, meta.s3?.RoleARN, 'Deliver'));
    } else {
      const take: SourceRecord[] = [];
      for (const r of chunks) {
        const records = await this.records(meta, r.value);
        for (const [i, data] of records.entries()) {
          const kinesis = r.value.kinesis?.[i];
          take.push({ key: r.key, data, at: kinesis?.approximateArrivalTimestamp ?? r.value.at, ...(kinesis ? { kinesis } : {}) });
        }
      }
      count = take.length;
      // Processing (Lambda) runs as the service; objects are written as the destination's role.
      const processed = await processRecords(this.core, meta, take, this.ctx());
      const ctx = await roleContext(this.core, meta.http ? meta.http.S3Configuration?.RoleARN : meta.s3?.RoleARN, 'Deliver');
      if (meta.http) await deliverHttp(this.core, meta, take, processed, ctx);
      else await deliverS3(this.core, meta, take, processed, ctx);
    }
    await this.core.store.write(async (tx) => {
      for (const c of chunks) await tx.delete(ns, c.key);
    });
    const latencyBase = this.core.clock.nowMs();
    for (const { value: c } of chunks) {
      for (let i = 0, n = recordCount(c); i < n; i++) {
        this.metrics.latency.observe({ stream: meta.name }, Math.max(0, latencyBase - (c.kinesis?.[i]?.approximateArrivalTimestamp ?? c.at)) / 1000);
      }
    }
    this.metrics.bytesOut.inc({ stream: meta.name }, bytes);
    this.metrics.recordsOut.inc({ stream: meta.name }, count);
    p.bytes = Math.max(0, p.bytes - bytes);
    const next = await this.core.store.read((tx) => tx.scan<StoredChunk>(ns, { limit: 1 }));
    p.oldest = next[0] ? decodeChunk(next[0].value).at : undefined;
    if (p.oldest === undefined) p.bytes = 0;
  }

  /** A chunk's records in plaintext: unsealed, unpacked. */
  private async records(meta: DeliveryStreamMeta, c: BufferedChunk): Promise<Uint8Array[]> {
    if (c.packed) return splitRecords(await gunzipAll(await this.packedGzip(meta, c)), c.packed.lengths);
    const ref = c.ref;
    if (!ref) return c.records;
    const out: Uint8Array[] = [];
    for (const d of c.records) out.push(await this.core.encryption!.open(meta, ref, d, this.ctx()));
    return out;
  }

  /** A packed chunk's gzip member, unsealed. */
  private async packedGzip(meta: DeliveryStreamMeta, c: BufferedChunk): Promise<Uint8Array> {
    const gzip = (c.packed as NonNullable<BufferedChunk['packed']>).gzip;
    return c.ref ? this.core.encryption!.open(meta, c.ref, gzip, this.ctx()) : gzip;
  }

  /** A stream's buffered chunks in arrival order, PAGE at a time. */
  private async *pages(ns: string): AsyncGenerator<{ key: string; value: BufferedChunk }> {
    let after: string | undefined;
    for (;;) {
      const rows = await this.core.store.read((tx) => tx.scan<StoredChunk>(ns, { limit: PAGE, ...(after !== undefined ? { startAfter: after } : {}) }));
      for (const r of rows) yield { key: r.key, value: decodeChunk(r.value) };
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]?.key;
    }
  }

  private ctx(): RequestContext {
    return this.core.backgroundCtx('Deliver');
  }
}
