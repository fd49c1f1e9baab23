import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quotasFor, Throttle } from './throttle.js';

const slowDown = (e: Error & { code?: string }): boolean => e.name === 'ServiceUnavailableException' && e.message === 'Slow down.';

describe('firehose DirectPut quotas', () => {
  it('uses the documented defaults by region', () => {
    assert.deepEqual(quotasFor('us-east-1'), { records: 500_000, requests: 2_000, bytes: 5 * 1024 * 1024 });
    assert.deepEqual(quotasFor('ap-south-1'), { records: 100_000, requests: 1_000, bytes: 1024 * 1024 });
  });

  it('refuses the call that passes requests/s, records/s or bytes/s in one second, per stream', () => {
    const t = new Throttle(quotasFor('us-east-1'));
    for (let i = 0; i < 2000; i++) t.take('a', 5_000, 1, 10);
    assert.throws(() => t.take('a', 5_999, 1, 10), slowDown);
    t.take('b', 5_999, 1, 10);
    t.take('a', 6_000, 1, 10);
    t.take('c', 7_000, 500, 4 * 1024 * 1024);
    assert.throws(() => t.take('c', 7_001, 1, 1024 * 1024 + 1), slowDown);
    const r = new Throttle(quotasFor('us-east-1'));
    for (let i = 0; i < 1000; i++) r.take('d', 9_000, 500, 1);
    assert.throws(() => r.take('d', 9_000, 1, 1), slowDown);
    // The first call of a second always passes (one 4 MiB batch where the quota is 1 MiB/s).
    new Throttle(quotasFor('sa-east-1')).take('e', 0, 500, 4 * 1024 * 1024);
    new Throttle(undefined).take('f', 0, 1e9, 1e12);
  });
});
