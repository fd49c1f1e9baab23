import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { closedWithin, drip, rawRequest, rawSocket } from './kit.js';

describe('shield standard: admission with each service\'s throttling error', () => {
  let h: TestServer;
  before(async () => {
    h = await startHanul({ env: { HANUL_SHIELD_CLIENT_RPS: '5', HANUL_SHIELD_ALLOWLIST: '127.0.0.9/32' } });
  });
  after(() => h.stop());

  it('S3 answers 503 SlowDown past the per-client ceiling', async () => {
    const statuses: number[] = [];
    let last = '';
    for (let i = 0; i < 30 && !statuses.includes(503); i++) {
      const r = await rawRequest(h.port, { from: '127.0.0.3', path: '/' });
      statuses.push(r.status);
      last = r.body;
    }
    assert.ok(statuses.includes(503), `statuses ${statuses.join(',')}`);
    assert.match(last, /<Code>SlowDown<\/Code>/);
    assert.match(last, /Please reduce your request rate\./);
  });

  it('KMS (JSON) answers ThrottlingException, Kinesis ProvisionedThroughputExceededException', async () => {
    const handler = new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, localAddress: '127.0.0.4' }) });
    const kms = new KMSClient({ ...h.clientConfig, maxAttempts: 1, requestHandler: handler });
    const kinesis = new KinesisClient({ ...h.clientConfig, maxAttempts: 1, requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, localAddress: '127.0.0.5' }) }) });
    const first = async (send: () => Promise<unknown>): Promise<string> => {
      for (let i = 0; i < 30; i++) {
        try {
          await send();
        } catch (e) {
          return (e as Error).name;
        }
      }
      return 'none';
    };
    assert.equal(await first(() => kms.send(new ListKeysCommand({}))), 'ThrottlingException');
    assert.equal(await first(() => kinesis.send(new ListStreamsCommand({}))), 'ProvisionedThroughputExceededException');
    kms.destroy();
    kinesis.destroy();
  });

  it('an allowlisted client is never limited; the metrics count rejections by reason', async () => {
    for (let i = 0; i < 25; i++) assert.notEqual((await rawRequest(h.port, { from: '127.0.0.9', path: '/' })).status, 503);
    const m = await rawRequest(h.port, { from: '127.0.0.9', path: '/metrics' });
    assert.match(m.body, /hanul_shield_rejected_total\{reason="client-rate"\} [1-9]/);
    assert.match(m.body, /hanul_shield_admitted_total [1-9]/);
  });

  it('a client rejected for 2 s in a row is blocked: its new connections are held, unanswered', async () => {
    const from = '127.0.0.6';
    await waitFor(async () => {
      const r = await rawRequest(h.port, { from, path: '/', timeoutMs: 1000 }).catch(() => ({ status: -1 }));
      return r.status === -1;
    }, { timeoutMs: 8000, intervalMs: 50 });
    const held = await rawRequest(h.port, { from, path: '/', timeoutMs: 400 }).then(() => 'answered', (e: Error) => e.message);
    assert.equal(held, 'timeout');
    // Another client is unaffected.
    assert.equal((await rawRequest(h.port, { from: '127.0.0.9', path: '/_hanul/health' })).status, 200);
  });
});

describe('shield standard: socket watchdogs and connection caps', () => {
  let h: TestServer;
  before(async () => {
    h = await startHanul({
      env: { HANUL_SHIELD_HEADER_TIMEOUT_MS: '600', HANUL_SHIELD_WATCH_WINDOW_MS: '800', HANUL_SHIELD_BODY_MIN_RATE: '2000', HANUL_SHIELD_CLIENT_CONNECTIONS: '4' },
    });
  });
  after(() => h.stop());

  it('slow headers: a head dripped a byte at a time is cut at the head deadline', async () => {
    const s = await rawSocket(h.port, '127.0.0.3');
    drip(s, 'GET /_hanul/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + 'a'.repeat(200), 1, 50, 5000);
    const ms = await closedWithin(s, 3000);
    assert.ok(ms >= 400, `closed after ${ms} ms`);
  });

  it('a connection that never sends is cut at the head deadline too', async () => {
    const s = await rawSocket(h.port, '127.0.0.3');
    await closedWithin(s, 3000);
  });

  it('slow body: a body dripped below the minimum rate is cut', async () => {
    const s = await rawSocket(h.port, '127.0.0.4');
    s.write('PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n');
    drip(s, 'x'.repeat(100000), 10, 100, 6000);
    await closedWithin(s, 4000);
  });

  it('a 20 KB header → 431', async () => {
    const r = await rawRequest(h.port, { from: '127.0.0.5', path: '/', headers: { 'x-big': 'a'.repeat(20 * 1024) } });
    assert.equal(r.status, 431);
  });

  it('per-client connection cap: the 5th connection is held, the 4 others served', async () => {
    const socks = await Promise.all([1, 2, 3, 4].map(() => rawSocket(h.port, '127.0.0.7')));
    const fifth = await rawRequest(h.port, { from: '127.0.0.7', path: '/_hanul/health', timeoutMs: 400 }).then(() => 'answered', (e: Error) => e.message);
    assert.equal(fifth, 'timeout');
    for (const s of socks) s.destroy();
    await waitFor(async () => (await rawRequest(h.port, { from: '127.0.0.7', path: '/_hanul/health', timeoutMs: 1000 }).catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 5000, intervalMs: 100 });
  });
});

describe('shield off', () => {
  it('HANUL_SHIELD=off: no limits at all', async () => {
    const h = await startHanul({ env: { HANUL_SHIELD: 'off', HANUL_SHIELD_CLIENT_RPS: '2' } });
    try {
      for (let i = 0; i < 20; i++) assert.notEqual((await rawRequest(h.port, { from: '127.0.0.3', path: '/' })).status, 503);
      const m = await rawRequest(h.port, { from: '127.0.0.3', path: '/metrics' });
      assert.doesNotMatch(m.body, /hanul_shield_rejected_total/);
    } finally {
      await h.stop();
    }
  });
});
