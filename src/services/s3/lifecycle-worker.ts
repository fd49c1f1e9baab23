/**
 * The lifecycle worker: runs with the S3 service and applies every bucket's
 * lifecycle rules on hanul's clock. It scans on an interval, at once when a
 * configuration changes, and when the clock jumps (time travel), in bounded
 * batches — one metadata transaction per batch of keys, so requests keep
 * flowing and a crash mid-scan loses nothing (the next scan redoes the rest).
 *
 * Per key: noncurrent versions expire or move class (NoncurrentDays counted
 * from when the next version replaced them, NewerNoncurrentVersions kept),
 * the current version expires (a delete marker when versioned) or moves
 * class, and a delete marker left alone is removed (ExpiredObjectDeleteMarker).
 * Stale multipart uploads are aborted. Versions under Object Lock are never
 * removed.
 */
import type { Logger } from 'pino';
import type { WriteTx } from '../../storage/ports.js';
import {
  abortDue,
  currentExpiry,
  dueTransition,
  noncurrentExpired,
  noncurrentTransition,
  removesExpiredMarker,
} from './lifecycle-rules.js';
import { type BlobRef, type BucketRecord, NS_BUCKETS, nsObjects, nsParts, nsUploads, nsVersions, type ObjectRecord, type PartRecord, SEP, type UploadRecord } from './model.js';
import { isLocked } from './object-lock.js';
import type { S3 } from './state.js';
import { deleteCurrent, dropAnnotations, noncurrentVersions, settleFreed } from './versions.js';

export interface LifecycleStats {
  expired: number;
  transitioned: number;
  noncurrentExpired: number;
  markersRemoved: number;
  uploadsAborted: number;
}

const emptyStats = (): LifecycleStats => ({ expired: 0, transitioned: 0, noncurrentExpired: 0, markersRemoved: 0, uploadsAborted: 0 });

export interface WorkerOptions {
  /** A full scan at least this often (ms). */
  intervalMs: number;
  /** How often the worker looks for a clock jump or a poke (ms). */
  tickMs?: number;
  /** Keys per transaction. */
  batch?: number;
}

export class LifecycleWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastOffset: number;
  private lastScan = 0;
  private pending = true;
  private stopped = false;
  private readonly batch: number;
  private readonly log: Logger;

  constructor(
    private readonly s3: Pick<S3, 'meta' | 'clock' | 'log' | 'reaper'>,
    private readonly opts: WorkerOptions,
  ) {
    this.batch = opts.batch ?? 100;
    this.lastOffset = s3.clock.offsetMs();
    this.log = s3.log.child({ component: 's3-lifecycle' });
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  /** A configuration changed: scan at the next tick. */
  poke(): void {
    this.pending = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (this.running || this.stopped) return;
    const offset = this.s3.clock.offsetMs();
    const jumped = Math.abs(offset - this.lastOffset) >= 1000;
    if (!this.pending && !jumped && Date.now() - this.lastScan < this.opts.intervalMs) return;
    this.pending = false;
    this.lastOffset = offset;
    this.lastScan = Date.now();
    this.running = this.runOnce()
      .then((s) => {
        if (Object.values(s).some((n) => n > 0)) this.log.info({ ...s }, 'lifecycle applied');
      })
      .catch((e: unknown) => this.log.error({ err: e }, 'lifecycle scan failed'))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** One full pass over every bucket with a lifecycle configuration. */
  async runOnce(): Promise<LifecycleStats> {
    const stats = emptyStats();
    const buckets = await this.s3.meta.read((tx) => tx.scan<BucketRecord>(NS_BUCKETS, {}));
    for (const { value: b } of buckets) {
      if (this.stopped) break;
      if (!b.lifecycle) continue;
      await this.scanObjects(b, stats);
      await this.scanUploads(b, stats);
    }
    return stats;
  }

  /** The bucket as it is now, or undefined when it went away, was re-created or lost its rules. */
  private async current(tx: WriteTx, b: BucketRecord): Promise<BucketRecord | undefined> {
    const now = await tx.get<BucketRecord>(NS_BUCKETS, b.name);
    return now && now.id === b.id && now.lifecycle ? now : undefined;
  }

  private async scanObjects(b0: BucketRecord, stats: LifecycleStats): Promise<void> {
    let after: string | undefined;
    for (;;) {
      if (this.stopped) return;
      const freed: BlobRef[] = [];
      const res = await this.s3.meta.write(async (tx) => {
        freed.length = 0;
        const b = await this.current(tx, b0);
        if (!b) return undefined;
        const page = await tx.scan<ObjectRecord>(nsObjects(b.name), { ...(after !== undefined ? { startAfter: after } : {}), limit: this.batch });
        const now = this.s3.clock.now();
        for (const e of page) freed.push(...(await applyToKey(tx, b, e.value, now, stats)));
        return { n: page.length, last: page[page.length - 1]?.key };
      });
      this.s3.reaper.free(freed.map((f) => f.id));
      if (!res || res.n < this.batch || res.last === undefined) return;
      after = res.last;
    }
  }

  private async scanUploads(b0: BucketRecord, stats: LifecycleStats): Promise<void> {
    let after: string | undefined;
    for (;;) {
      if (this.stopped) return;
      const freed: string[] = [];
      const res = await this.s3.meta.write(async (tx) => {
        freed.length = 0;
        const b = await this.current(tx, b0);
        if (!b) return undefined;
        const page = await tx.scan<UploadRecord>(nsUploads(b.name), { ...(after !== undefined ? { startAfter: after } : {}), limit: this.batch });
        const now = this.s3.clock.now();
        for (const { key, value: u } of page) {
          if (!abortDue(b.lifecycle, u.key, u.initiated, now)) continue;
          const parts = await tx.scan<PartRecord>(nsParts(b.name), { prefix: u.uploadId + SEP });
          freed.push(...parts.map((p) => p.value.blob.id));
          await tx.deleteRange(nsParts(b.name), { prefix: u.uploadId + SEP });
          await tx.delete(nsUploads(b.name), key);
          stats.uploadsAborted++;
        }
        return { n: page.length, last: page[page.length - 1]?.key };
      });
      this.s3.reaper.free(freed);
      if (!res || res.n < this.batch || res.last === undefined) return;
      after = res.last;
    }
  }
}

/** Applies the bucket's rules to one key (all its versions) inside `tx`; returns blobs to free after commit. */
export async function applyToKey(tx: WriteTx, b: BucketRecord, cur: ObjectRecord, now: Date, stats: LifecycleStats): Promise<BlobRef[]> {
  const cfg = b.lifecycle;
  const key = cur.key;
  const removed: BlobRef[] = [];
  const files: BlobRef[] = [];
  let remaining = 0;
  if (b.versioning !== undefined) {
    // Each noncurrent version became noncurrent when the next newer one was written.
    let since = cur.lastModified;
    let newer = 0;
    for (const { storeKey, rec } of await noncurrentVersions(tx, b.name, key)) {
      const subject = { key, size: rec.size, tags: rec.tags, since, newer, storageClass: rec.storageClass };
      since = rec.lastModified;
      if (noncurrentExpired(cfg, subject, now) && !isLocked(rec, now)) {
        await tx.delete(nsVersions(b.name), storeKey);
        removed.push(...rec.blobs, ...(await dropAnnotations(tx, b.name, rec)));
        stats.noncurrentExpired++;
        continue;
      }
      newer++;
      remaining++;
      const to = rec.deleteMarker ? undefined : noncurrentTransition(cfg, subject, now);
      if (to !== undefined) {
        await tx.put(nsVersions(b.name), storeKey, { ...rec, storageClass: to });
        stats.transitioned++;
      }
    }
  }
  if (cur.deleteMarker) {
    if (remaining === 0 && removesExpiredMarker(cfg, key)) {
      await tx.delete(nsObjects(b.name), key);
      stats.markersRemoved++;
    }
  } else {
    const exp = currentExpiry(cfg, cur);
    if (exp && exp.at <= now) {
      if (b.versioning === undefined) {
        await tx.delete(nsObjects(b.name), key);
        removed.push(...cur.blobs, ...(await dropAnnotations(tx, b.name, cur)));
        stats.expired++;
      } else if (!(b.versioning === 'Suspended' && cur.versionId === 'null' && isLocked(cur, now))) {
        // Versioned: expiring the current version adds a delete marker; the data stays as a noncurrent version.
        files.push(...(await deleteCurrent(tx, b, key, cur.ownerAccount, now)).freed);
        stats.expired++;
      }
    } else {
      const to = dueTransition(cfg, cur, now);
      if (to !== undefined) {
        await tx.put(nsObjects(b.name), key, { ...cur, storageClass: to });
        stats.transitioned++;
      }
    }
  }
  return [...files, ...(await settleFreed(tx, b.name, removed))];
}
