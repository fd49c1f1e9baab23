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
  return {
    registry,
    observe(service, operation, status, seconds, bytesIn, bytesOut) {
      requests.inc({ service, operation, status: String(status) });
      latency.observe({ service, operation }, seconds);
      if (bytesIn > 0) bytesInC.inc({ service }, bytesIn);
      if (bytesOut > 0) bytesOutC.inc({ service }, bytesOut);
    },
  };
}
