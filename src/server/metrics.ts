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
  const requests = new Counter({ name: 'hanul_requests_total', help: 'Requests by service, operation and status', labelNames, registers: [registry] });
  const latency = new Histogram({
    name: 'hanul_request_duration_seconds',
    help: 'Request latency by service and operation',
    labelNames: ['service', 'operation'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const bytesInC = new Counter({ name: 'hanul_bytes_in_total', help: 'Request body bytes received', labelNames: ['service'] as const, registers: [registry] });
  const bytesOutC = new Counter({ name: 'hanul_bytes_out_total', help: 'Response body bytes sent', labelNames: ['service'] as const, registers: [registry] });
  // prom-client hashes a label object on every call; the children per label set are cached
  // instead (hot path), in nested maps: no key string is built per request.
  type Children = { requests: ReturnType<typeof requests.labels>; latency: ReturnType<typeof latency.labels>; bytesIn: ReturnType<typeof bytesInC.labels>; bytesOut: ReturnType<typeof bytesOutC.labels> };
  const children = new Map<string, Map<string, Map<number, Children>>>();
  let cached = 0;
  return {
    registry,
    observe(service, operation, status, seconds, bytesIn, bytesOut) {
      let byOp = children.get(service);
      if (!byOp) children.set(service, (byOp = new Map()));
      let byStatus = byOp.get(operation);
      if (!byStatus) byOp.set(operation, (byStatus = new Map()));
      let c = byStatus.get(status);
      if (!c) {
        c = {
          requests: requests.labels(service, operation, String(status)),
          latency: latency.labels(service, operation),
          bytesIn: bytesInC.labels(service),
          bytesOut: bytesOutC.labels(service),
        };
        if (cached < 10_000) {
          cached++;
          byStatus.set(status, c);
        }
      }
      c.requests.inc();
      c.latency.observe(seconds);
      if (bytesIn > 0) c.bytesIn.inc(bytesIn);
      if (bytesOut > 0) c.bytesOut.inc(bytesOut);
    },
  };
}
