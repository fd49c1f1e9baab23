import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { createMetrics } from './metrics.js';

/** The edge's series as prom-client renders them when counted directly (how metrics.ts counted before). */
async function reference(calls: [string, string, number, number, number, number][]): Promise<string> {
  const registry = new Registry();
  const requests = new Counter({ name: 'hanul_requests_total', help: 'Requests by service, operation and status', labelNames: ['service', 'operation', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'hanul_request_duration_seconds', help: 'Request latency by service and operation', labelNames: ['service', 'operation'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });
  const bytesIn = new Counter({ name: 'hanul_bytes_in_total', help: 'Request body bytes received', labelNames: ['service'], registers: [registry] });
  const bytesOut = new Counter({ name: 'hanul_bytes_out_total', help: 'Response body bytes sent', labelNames: ['service'], registers: [registry] });
  for (const [service, operation, status, seconds, bin, bout] of calls) {
    requests.labels(service, operation, String(status)).inc();
    latency.labels(service, operation).observe(seconds);
    if (bin > 0) bytesIn.labels(service).inc(bin);
    if (bout > 0) bytesOut.labels(service).inc(bout);
  }
  return registry.metrics();
}

const edgeSeries = (text: string) => text.split('\n\n').filter((block) => /# TYPE hanul_(requests_total|request_duration_seconds|bytes_in_total|bytes_out_total) /.test(block)).join('\n\n');

test('counted requests render exactly as prom-client counting each call renders them, at every scrape', async () => {
  const m = createMetrics();
  const calls: [string, string, number, number, number, number][] = [
    ['s3', 'HeadBucket', 200, 0.0004, 0, 0],
    ['s3', 'PutObject', 200, 0.02, 4096, 0],
    ['kms', 'Encrypt', 400, 0.003, 120, 80],
    ['s3', 'HeadBucket', 200, 0.7, 0, 0],
    ['s3', 'HeadBucket', 404, 0.001, 0, 0],
  ];
  for (const c of calls.slice(0, 3)) m.observe(...c);
  assert.equal(edgeSeries(await m.registry.metrics()), edgeSeries(await reference(calls.slice(0, 3))));
  for (const c of calls.slice(3)) m.observe(...c);
  assert.equal(edgeSeries(await m.registry.metrics()), edgeSeries(await reference(calls)));
  const json = await m.registry.getMetricsAsJSON();
  const requests = json.find((x) => x.name === 'hanul_requests_total');
  assert.equal(requests?.values.find((v) => v.labels['operation'] === 'HeadBucket' && v.labels['status'] === '200')?.value, 2);
});
