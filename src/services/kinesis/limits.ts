/**
 * Per-shard throughput limits, as AWS enforces them on provisioned streams:
 * writes 1 MiB/s and 1,000 records/s, reads 5 GetRecords calls/s and
 * 2 MiB/s. Token buckets hold one second's worth; a read may overdraw the
 * byte bucket (one GetRecords can return 10 MiB), and later reads wait until
 * it is positive again — "if a call returns 10 MiB, calls within the next 5
 * seconds throw". Time comes from the clock, so tests can refill buckets by
 * advancing it. State is per process and in memory: after a restart a shard
 * starts with full buckets, as after any quiet second.
 */
import type { Clock } from '../../lib/clock.js';

export const WRITE_BYTES_PER_SEC = 1024 * 1024;
export const WRITE_RECORDS_PER_SEC = 1000;
export const READ_CALLS_PER_SEC = 5;
export const READ_BYTES_PER_SEC = 2 * 1024 * 1024;

class Bucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly perSec: number,
    now: number,
  ) {
    this.tokens = perSec;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.perSec, this.tokens + ((now - this.last) * this.perSec) / 1000);
      this.last = now;
    }
  }

  /** Takes n if that many are there. */
  take(n: number, now: number): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Whether anything is left (for overdraft buckets). */
  positive(now: number): boolean {
    this.refill(now);
    return this.tokens > 0;
  }

  /** Takes n even past zero. */
  spend(n: number): void {
    this.tokens -= n;
  }

  /** Gives back tokens taken for work that did not happen. */
  refund(n: number): void {
    this.tokens = Math.min(this.perSec, this.tokens + n);
  }
}

interface ShardBuckets {
  writeBytes: Bucket;
  writeRecords: Bucket;
  readCalls: Bucket;
  readBytes: Bucket;
}

export class ShardLimits {
  private readonly shards = new Map<string, ShardBuckets>();

  constructor(
    private readonly clock: Clock,
    readonly enabled: boolean,
  ) {}

  private of(key: string): ShardBuckets {
    let b = this.shards.get(key);
    if (!b) {
      const now = this.clock.nowMs();
      b = {
        writeBytes: new Bucket(WRITE_BYTES_PER_SEC, now),
        writeRecords: new Bucket(WRITE_RECORDS_PER_SEC, now),
        readCalls: new Bucket(READ_CALLS_PER_SEC, now),
        readBytes: new Bucket(READ_BYTES_PER_SEC, now),
      };
      this.shards.set(key, b);
    }
    return b;
  }

  /** One record of `bytes` (data + partition key) into a shard: false → throttled. */
  tryWrite(key: string, bytes: number): boolean {
    if (!this.enabled) return true;
    const b = this.of(key);
    const now = this.clock.nowMs();
    if (!b.writeRecords.take(1, now)) return false;
    if (!b.writeBytes.take(bytes, now)) {
      b.writeRecords.refund(1);
      return false;
    }
    return true;
  }

  /** A GetRecords call may start: false → throttled. */
  tryRead(key: string): boolean {
    if (!this.enabled) return true;
    const b = this.of(key);
    const now = this.clock.nowMs();
    if (!b.readBytes.positive(now)) return false;
    return b.readCalls.take(1, now);
  }

  /** Bytes a GetRecords call returned. */
  readDone(key: string, bytes: number): void {
    if (this.enabled) this.of(key).readBytes.spend(bytes);
  }

  forget(prefix: string): void {
    for (const k of this.shards.keys()) if (k.startsWith(prefix)) this.shards.delete(k);
  }
}
