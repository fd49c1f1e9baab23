/**
 * DirectPut per-stream quotas, as AWS's defaults: in us-east-1, us-west-2
 * and eu-west-1 500,000 records/s, 2,000 requests/s and 5 MiB/s; elsewhere
 * 100,000 records/s, 1,000 requests/s and 1 MiB/s. A call that would pass
 * one in the current second answers ServiceUnavailableException "Slow down."
 * (the SDKs retry it). The first call of a second always passes, so one
 * 4 MiB batch is never refused outright. HANUL_FIREHOSE_LIMITS=off for load tests.
 */
import { firehoseError } from './errors.js';

export interface Quotas {
  records: number;
  requests: number;
  bytes: number;
}

const BIG_REGIONS = new Set(['us-east-1', 'us-west-2', 'eu-west-1']);

export function quotasFor(region: string): Quotas {
  return BIG_REGIONS.has(region)
    ? { records: 500_000, requests: 2_000, bytes: 5 * 1024 * 1024 }
    : { records: 100_000, requests: 1_000, bytes: 1024 * 1024 };
}

interface Window {
  second: number;
  records: number;
  requests: number;
  bytes: number;
}

export class Throttle {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly quotas: Quotas | undefined) {}

  /** Counts a put of `records` records and `bytes` bytes, or refuses it. */
  take(stream: string, nowMs: number, records: number, bytes: number): void {
    const q = this.quotas;
    if (!q) return;
    const second = Math.floor(nowMs / 1000);
    let w = this.windows.get(stream);
    if (!w || w.second !== second) {
      w = { second, records: 0, requests: 0, bytes: 0 };
      this.windows.set(stream, w);
    }
    if (w.requests > 0 && (w.requests + 1 > q.requests || w.records + records > q.records || w.bytes + bytes > q.bytes)) {
      throw firehoseError('ServiceUnavailableException', 'Slow down.');
    }
    w.requests++;
    w.records += records;
    w.bytes += bytes;
  }

  forget(stream: string): void {
    this.windows.delete(stream);
  }
}
