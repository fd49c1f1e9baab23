import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHanul, type TestServer } from '../../support/hanul.js';
import { rawRequest } from './kit.js';

/** Header values only: every request still goes to 127.0.0.1. */
describe('shield: X-Forwarded-For only from trusted proxies', () => {
  let h: TestServer;
  before(async () => {
    h = await startHanul({ env: { HANUL_SHIELD_CLIENT_RPS: '3', HANUL_SHIELD_TRUSTED_PROXIES: '127.0.0.20/32' } });
  });
  after(() => h.stop());

  const statuses = async (from: string, xff: (i: number) => string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await rawRequest(h.port, { from, path: '/', headers: { 'x-forwarded-for': xff(i) } })).status);
    return out;
  };

  it('behind a trusted proxy, each forwarded client has its own limit', async () => {
    const one = await statuses('127.0.0.20', () => '198.51.100.1', 12);
    assert.ok(one.includes(503), one.join(','));
    // A different forwarded client through the same proxy is not limited by the first one's use.
    const other = await statuses('127.0.0.20', () => '198.51.100.2', 3);
    assert.ok(!other.includes(503), other.join(','));
  });

  it('from an untrusted peer, X-Forwarded-For is ignored: rotating it does not escape the limit', async () => {
    const s = await statuses('127.0.0.21', (i) => `203.0.113.${i + 1}`, 12);
    assert.ok(s.includes(503), s.join(','));
  });
});
