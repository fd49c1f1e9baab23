/** Delivery metrics on /metrics (when the app hands the registry over). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface FirehoseMetrics {
  recordsIn: Counter<'stream'>;
  bytesIn: Counter<'stream'>;
  recordsOut: Counter<'stream'>;
  bytesOut: Counter<'stream'>;
  failures: Counter<'stream'>;
  sourceFailures: Counter<'stream'>;
  latency: Histogram<'stream'>;
  backlog: Gauge<'stream'>;
}

export function firehoseMetrics(registry: Registry | undefined, backlog: () => Array<[string, number]>): FirehoseMetrics {
  const registers = registry ? [registry] : [];
  const labelNames = ['stream'] as const;
  return {
    recordsIn: new Counter({ name: 'hanul_firehose_records_in_total', help: 'Records accepted by PutRecord/PutRecordBatch/Kinesis source', labelNames, registers }),
    bytesIn: new Counter({ name: 'hanul_firehose_bytes_in_total', help: 'Record bytes accepted', labelNames, registers }),
    recordsOut: new Counter({ name: 'hanul_firehose_records_delivered_total', help: 'Records delivered to the destination', labelNames, registers }),
    bytesOut: new Counter({ name: 'hanul_firehose_bytes_delivered_total', help: 'Record bytes delivered (before compression)', labelNames, registers }),
    failures: new Counter({ name: 'hanul_firehose_delivery_failures_total', help: 'Delivery attempts that failed (records stay buffered and are retried)', labelNames, registers }),
    sourceFailures: new Counter({ name: 'hanul_firehose_source_failures_total', help: 'Kinesis source polls that failed (the role may not read, the stream is gone); retried on the next poll', labelNames, registers }),
    latency: new Histogram({
      name: 'hanul_firehose_delivery_latency_seconds', help: 'Arrival to delivery, per record', labelNames, registers,
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    }),
    backlog: new Gauge({
      name: 'hanul_firehose_backlog_age_seconds', help: 'Age of the oldest buffered record', labelNames, registers,
      collect() {
        this.reset();
        for (const [stream, age] of backlog()) this.set({ stream }, age);
      },
    }),
  };
}
