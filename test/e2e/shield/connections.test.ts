import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as sh from '@aws-sdk/client-shield';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { endpointArn } from '../../../src/services/shield/resources.js';
import { rawRequest, rawSocket } from './kit.js';

/** An h2c session from a chosen loopback address. */
function h2From(port: number, from: string): http2.ClientHttp2Session {
  if (!from.startsWith('127.')) throw new Error('loopback only');
  const s = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => net.connect({ host: '127.0.0.1', port, localAddress: from }) });
  s.on('error', () => undefined);
  return s;
}

/** Opens `n` streams and cancels each at once (CVE-2023-44487); resolves with the GOAWAY code, if one came. */
function rapidReset(port: number, from: string, n: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = h2From(port, from);
    let code: number | undefined;
    s.on('goaway', (c) => (code = c));
    s.on('close', () => resolve(code));
    s.on('connect', () => {
      for (let i = 0; i < n && !s.destroyed && !s.closed; i++) {
        const st = s.request({ ':path': '/_hanul/health' });
        st.on('error', () => undefined);
        st.close(http2.constants.NGHTTP2_CANCEL);
      }
    });
    // Bounded: the session is given up after 3 s whatever happened.
    setTimeout(() => s.destroy(), 3000).unref();
  });
}

describe('shield: HTTP/2 limits and connection-level attack vectors', () => {
  let h: TestServer;
  let c: sh.ShieldClient;
  let alb: string;
  before(async () => {
    h = await startHanul({ env: { HANUL_SHIELD_HEADER_TIMEOUT_MS: '300', HANUL_SHIELD_H2_RESET_RATE: '50', HANUL_SHIELD_H2_MAX_STREAMS: '64' } });
    c = new sh.ShieldClient({ ...h.clientConfig, maxAttempts: 1 });
    alb = endpointArn(h.region, '000000000000');
    await c.send(new sh.CreateSubscriptionCommand({}));
    await c.send(new sh.CreateProtectionCommand({ Name: 'api', ResourceArn: alb }));
  });
  after(async () => {
    c.destroy();
    await h.stop();
  });

  it('advertises the configured SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    const s = h2From(h.port, '127.0.0.20');
    const settings = await new Promise<http2.Settings>((resolve) => s.once('remoteSettings', resolve));
    s.destroy();
    assert.equal(settings.maxConcurrentStreams, 64);
  });

  it('rapid reset: a connection cancelling streams past the rate gets GOAWAY ENHANCE_YOUR_CALM; normal h2 requests are untouched', async () => {
    const code = await rapidReset(h.port, '127.0.0.21', 200);
    assert.equal(code, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    const m = await rawRequest(h.port, { from: '127.0.0.22', path: '/metrics' });
    assert.match(m.body, /hanul_shield_rejected_total\{reason="h2-rapid-reset"\} [1-9]/);
    // 60 ordinary requests at once on one session (more than the reset rate, within its 64 streams) are all answered.
    const s = h2From(h.port, '127.0.0.23');
    await new Promise((resolve) => s.once('remoteSettings', resolve));
    const statuses = await Promise.all(
      Array.from({ length: 60 }, () => new Promise<number>((resolve) => {
        const st = s.request({ ':path': '/_hanul/health' });
        st.on('response', (hd) => resolve(Number(hd[':status'])));
        st.on('error', () => resolve(-1));
        st.resume();
      })),
    );
    s.close();
    assert.deepEqual([...new Set(statuses)], [200]);
  });

  it('slow headers and rapid resets show in ListAttacks/DescribeAttack as connection vectors, with their sources', async () => {
    const t0 = Date.now();
    let stop = false;
    // Bounded attackers: slow heads from 127.0.0.30-33 and rapid-reset sessions from 127.0.0.40, at most 12 s.
    const slow = (async () => {
      for (let round = 0; !stop && Date.now() - t0 < 12_000; round++) {
        await Promise.all(Array.from({ length: 6 }, async (_, i) => {
          const sock = await rawSocket(h.port, `127.0.0.${30 + (i % 4)}`).catch(() => undefined);
          sock?.on('error', () => undefined);
          sock?.write('GET / HTTP/1.1\r\nHost: x\r\n');
          if (sock) await new Promise((r) => sock.once('close', r));
        }));
      }
    })();
    const resets = (async () => {
      while (!stop && Date.now() - t0 < 12_000) await rapidReset(h.port, '127.0.0.40', 120);
    })();
    try {
      const summary = await waitFor(async () => {
        const s = (await c.send(new sh.ListAttacksCommand({ ResourceArns: [alb] }))).AttackSummaries ?? [];
        return s.find((a) => a.AttackVectors?.some((v) => v.VectorType === 'SLOW_HEADERS') && a.AttackVectors.some((v) => v.VectorType === 'HTTP2_RAPID_RESET'));
      }, { timeoutMs: 14_000, intervalMs: 300 });
      const a = (await c.send(new sh.DescribeAttackCommand({ AttackId: summary.AttackId }))).Attack;
      const net = a?.AttackProperties?.find((p) => p.AttackLayer === 'NETWORK' && p.AttackPropertyIdentifier === 'SOURCE_IP_ADDRESS');
      const names = (net?.TopContributors ?? []).map((x) => x.Name);
      assert.ok(names.includes('127.0.0.40'), JSON.stringify(net));
      assert.ok(names.some((n) => /^127\.0\.0\.3[0-3]$/.test(n ?? '')), JSON.stringify(net));
    } finally {
      stop = true;
      await Promise.all([slow, resets]);
    }
  });
});
