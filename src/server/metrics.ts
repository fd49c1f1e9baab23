import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the edge; services may register more on `registry`. */
export interface Metrics {
  registry: Registry;
  observe(service: string, operation: string, status: number, seconds: number, bytesIn: number, bytesOut: number): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hanul_' });
  const labelNames = ['service', 'operation', 'status'] as const;
  // prom-client hashes the label values on every inc()/observe(), even through a child from
  // labels(). The counters are therefore counted here, in the cached children below, and handed
  // to prom-client when it collects (before every /metrics read), so the exposition is the same.
  const flush = (): void => {
    for (const byOp of children.values()) {
      for (const byStatus of byOp.values()) {
        for (const c of byStatus.values()) {
          if (c.pendingRequests > 0) c.requests.inc(c.pendingRequests);
          c.pendingRequests = 0;
        }
      }
    }
    for (const b of bytes.values()) {
      if (b.pendingIn > 0) b.bytesIn.inc(b.pendingIn);
      if (b.pendingOut > 0) b.bytesOut.inc(b.pendingOut);
      b.pendingIn = 0;
      b.pendingOut = 0;
    }
  };
  const requests = new Counter({ name: 'hanul_requests_total', help: 'Requests by service, operation and status', labelNames, registers: [registry], collect: flush });
  const bounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  const latency = new Histogram({
    name: 'hanul_request_duration_seconds',
    help: 'Request latency by service and operation',
    labelNames: ['service', 'operation'] as const,
    buckets: bounds,
    registers: [registry],
    collect: () => flushLatency(),
  });
  // The latency histogram likewise: prom-client's observe() validates and hashes the labels and
  // allocates per call. Each label set's totals are kept here (the sum added in the same order
  // prom-client would add it, so it renders the same) and written into prom-client's own entry
  // for that label set when it collects.
  type Entry = { labels: object; bucketValues: Record<string, number>; sum: number; count: number };
  type Latency = { labels: { service: string; operation: string }; buckets: Float64Array; sum: number; count: number; flushed: number; entry: Entry | undefined };
  const latencies: Latency[] = [];
  const hashMap = (): Record<string, Entry> | undefined => (latency as unknown as { hashMap?: Record<string, Entry> }).hashMap;
  const sameLabels = (a: object, b: Latency['labels']): boolean => (a as Latency['labels']).service === b.service && (a as Latency['labels']).operation === b.operation;
  const observeLatency = (l: Latency, seconds: number): void => {
    // As prom-client's observe: the first bucket whose bound is ≥ the value (none above the last; +Inf is the count).
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= (bounds[i] as number)) {
        (l.buckets[i] as number)++;
        break;
      }
    }
    l.sum += seconds;
    l.count++;
  };
  const flushLatency = (): void => {
    for (const l of latencies) {
      if (l.count === l.flushed) continue;
      let e = l.entry;
      const map = hashMap();
      if (e === undefined || map === undefined || !Object.values(map).includes(e)) {
        // prom-client's entry for these labels: made by one observation, then overwritten below.
        latency.observe(l.labels, 0);
        e = map === undefined ? undefined : Object.values(map).find((x) => sameLabels(x.labels, l.labels));
        l.entry = e;
      }
      if (e === undefined) continue;
      e.sum = l.sum;
      e.count = l.count;
      for (let i = 0; i < bounds.length; i++) e.bucketValues[bounds[i] as number] = l.buckets[i] as number;
      l.flushed = l.count;
    }
  };
  const bytesInC = new Counter({ name: 'hanul_bytes_in_total', help: 'Request body bytes received', labelNames: ['service'] as const, registers: [registry], collect: flush });
  const bytesOutC = new Counter({ name: 'hanul_bytes_out_total', help: 'Response body bytes sent', labelNames: ['service'] as const, registers: [registry], collect: flush });
  // The children per label set are cached (hot path), in nested maps: no key string is built per request.
  type Bytes = { bytesIn: ReturnType<typeof bytesInC.labels>; bytesOut: ReturnType<typeof bytesOutC.labels>; pendingIn: number; pendingOut: number };
  type Children = { requests: ReturnType<typeof requests.labels>; latency: Latency; bytes: Bytes; pendingRequests: number };
  const children = new Map<string, Map<string, Map<number, Children>>>();
  const bytes = new Map<string, Bytes>();
  let cached = 0;
  let lastService = '';
  let lastOperation = '';
  let lastStatus = 0;
  let lastChildren: Children | undefined;
  /** Counted on the cached children; flushed to prom-client when scraped. */
  const pend = (c: Children, seconds: number, bytesIn: number, bytesOut: number): void => {
    c.pendingRequests++;
    observeLatency(c.latency, seconds);
    c.bytes.pendingIn += bytesIn;
    c.bytes.pendingOut += bytesOut;
  };
  return {
    registry,
    observe(service, operation, status, seconds, bytesIn, bytesOut) {
      // A run of one operation (the common case under load) skips the three map lookups.
      const last = lastChildren;
      if (last !== undefined && service === lastService && operation === lastOperation && status === lastStatus) {
        pend(last, seconds, bytesIn, bytesOut);
        return;
      }
      let byOp = children.get(service);
      if (!byOp) children.set(service, (byOp = new Map()));
      let byStatus = byOp.get(operation);
      if (!byStatus) byOp.set(operation, (byStatus = new Map()));
      let c = byStatus.get(status);
      if (!c) {
        let b = bytes.get(service);
        if (!b) {
          b = { bytesIn: bytesInC.labels(service), bytesOut: bytesOutC.labels(service), pendingIn: 0, pendingOut: 0 };
          if (bytes.size < 10_000) bytes.set(service, b);
        }
        // One latency series per service and operation, shared by the statuses' children.
        let l: Latency | undefined = byStatus.values().next().value?.latency;
        if (l === undefined && cached < 10_000) {
          l = { labels: { service, operation }, buckets: new Float64Array(bounds.length), sum: 0, count: 0, flushed: 0, entry: undefined };
          latencies.push(l);
        }
        if (cached < 10_000 && l !== undefined) {
          c = { requests: requests.labels(service, operation, String(status)), latency: l, bytes: b, pendingRequests: 0 };
          cached++;
          byStatus.set(status, c);
        } else {
          // Past the cap nothing is cached, so nothing would flush: counted directly (a tracked latency series stays tracked).
          requests.labels(service, operation, String(status)).inc();
          if (l !== undefined) observeLatency(l, seconds);
          else latency.observe({ service, operation }, seconds);
          if (bytesIn > 0) b.bytesIn.inc(bytesIn);
          if (bytesOut > 0) b.bytesOut.inc(bytesOut);
          return;
        }
      }
      lastService = service;
      lastOperation = operation;
      lastStatus = status;
      lastChildren = c;
      pend(c, seconds, bytesIn, bytesOut);
    },
  };
}
