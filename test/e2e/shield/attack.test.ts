import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as sh from '@aws-sdk/client-shield';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { endpointArn } from '../../../src/services/shield/resources.js';
import { p99, range, type FloodResult, type LegitResult } from '../../../bench/shield/load.js';
import { inWorker } from '../../../bench/shield/worker.js';

// Clients in worker threads: the server's event loop is then the server's alone.
const flood = (o: Parameters<typeof import('../../../bench/shield/load.js').flood>[0]) => inWorker<FloodResult>('flood', o);
const legit = (o: Parameters<typeof import('../../../bench/shield/load.js').legit>[0]) => inWorker<LegitResult>('legit', o);
import { rawRequest } from './kit.js';

/** Bounded, loopback-only floods: protection must keep the legitimate client served. */
describe('shield under load (short)', () => {
  let h: TestServer;
  let c: sh.ShieldClient;
  let alb: string;
  before(async () => {
    // A low detection floor: on a starved machine a loopback flood may not reach the default 100/s.
    h = await startHanul({ env: { HANUL_SHIELD_BLOCK_SECONDS: '20', HANUL_SHIELD_ATTACK_FLOOR: '40' } });
    c = new sh.ShieldClient({ ...h.clientConfig, maxAttempts: 1 });
    alb = endpointArn(h.region, '000000000000');
    await c.send(new sh.CreateSubscriptionCommand({}));
    await c.send(new sh.CreateProtectionCommand({ Name: 'api', ResourceArn: alb }));
    await c.send(new sh.EnableApplicationLayerAutomaticResponseCommand({ ResourceArn: alb, Action: { Block: {} } }));
  });
  after(async () => {
    c.destroy();
    await h.stop();
  });

  it('distributed flood from 40 addresses: detected as REQUEST_FLOOD with its top contributors, blocked by an automatic rule, lifted after', async (t) => {
    const t0 = Date.now();
    const good = legit({ port: h.port, from: '127.0.0.2', rps: 20, durationMs: 7000 });
    const bad = flood({ port: h.port, sources: range(10, 40), connections: 40, durationMs: 6000, path: '/flood-target' });
    const summary = await waitFor(async () => (await c.send(new sh.ListAttacksCommand({ ResourceArns: [alb] }))).AttackSummaries?.[0], { timeoutMs: 10_000, intervalMs: 250 });
    const detectedMs = Date.now() - t0;
    assert.ok(detectedMs <= 10_000, `detected after ${detectedMs} ms`);
    assert.equal(summary.AttackVectors?.[0]?.VectorType, 'REQUEST_FLOOD');
    // While the attack lasts, the automatic rule refuses the flood's signature with S3's SlowDown.
    // (The rule is rate-based: a source is refused once it sends the signature faster than 3/s.)
    const during = await waitFor(async () => {
      const r = await rawRequest(h.port, { from: '127.0.0.11', path: '/flood-target', headers: { 'user-agent': 'flood/1.0' } });
      return r.status === 503 ? r : undefined;
    }, { timeoutMs: 3000, intervalMs: 20 });
    assert.match(during.body, /SlowDown/);
    const [g, b] = await Promise.all([good, bad]);
    t.diagnostic(`detected ${detectedMs} ms; legit ${g.ok}/${g.sent} p99 ${p99(g.latenciesMs).toFixed(1)} ms; attackers served ${b.served}/${b.sent}`);
    const detail = (await c.send(new sh.DescribeAttackCommand({ AttackId: summary.AttackId }))).Attack;
    const ua = detail?.AttackProperties?.find((p) => p.AttackPropertyIdentifier === 'SOURCE_USER_AGENT');
    assert.equal(ua?.TopContributors?.[0]?.Name, 'flood/1.0');
    const url = detail?.AttackProperties?.find((p) => p.AttackPropertyIdentifier === 'DESTINATION_URL');
    assert.equal(url?.TopContributors?.[0]?.Name, '/flood-target');
    const ips = detail?.AttackProperties?.find((p) => p.AttackPropertyIdentifier === 'SOURCE_IP_ADDRESS');
    // The attackers (127.0.0.10-49) fill the table; on a starved machine the legitimate client may rank among them.
    const attackers = (ips?.TopContributors ?? []).filter((x) => /^127\.0\.0\.(1\d|[2-4]\d)$/.test(x.Name ?? ''));
    assert.ok(attackers.length >= 9, JSON.stringify(ips?.TopContributors));
    assert.match(detail?.Mitigations?.[0]?.MitigationName ?? '', /Block\/SOURCE_USER_AGENT=flood\/1\.0/);
    assert.ok(detail?.AttackCounters?.some((x) => x.Unit === 'REQUESTS' && (x.Max ?? 0) > 40));
    // ≥ 99% is the target (bench/shield); on a machine starved by other work a few 5 s timeouts are the machine's.
    assert.ok(g.ok / g.sent >= 0.95, `legitimate success ${g.ok}/${g.sent}`);
    // Served only until detection (~3 s of 6).
    assert.ok(b.served < b.sent * 0.75, `attackers served ${b.served}/${b.sent}`);
    // The rule is lifted once the attack has ended.
    const ended = await waitFor(async () => (await c.send(new sh.DescribeAttackCommand({ AttackId: summary.AttackId }))).Attack?.EndTime, { timeoutMs: 12_000, intervalMs: 500 });
    assert.ok(ended);
    // A source sending the signature faster than the rule's rate is no longer refused.
    for (let i = 0; i < 8; i++) {
      const after = await rawRequest(h.port, { from: '127.0.0.50', path: '/flood-target', headers: { 'user-agent': 'flood/1.0' } });
      assert.notEqual(after.status, 503);
    }
  });

  it('single-source flood (64 connections): the source is blocked within 5 s, the legitimate client keeps being served', async (t) => {
    const t0 = Date.now();
    const good = legit({ port: h.port, from: '127.0.0.2', rps: 20, durationMs: 4000 });
    const bad = flood({ port: h.port, sources: ['127.0.0.3'], connections: 64, durationMs: 4000, userAgent: 'single/1.0', timeoutMs: 500 });
    await waitFor(async () => /hanul_shield_active_blocks [1-9]/.test((await rawRequest(h.port, { from: '127.0.0.2', path: '/metrics' })).body), { timeoutMs: 8000, intervalMs: 200 });
    const blockedMs = Date.now() - t0;
    const [g, b] = await Promise.all([good, bad]);
    t.diagnostic(`blocked ${blockedMs} ms; legit ${g.ok}/${g.sent} p99 ${p99(g.latenciesMs).toFixed(1)} ms; attacker served ${b.served}/${b.sent}`);
    assert.ok(blockedMs <= 5000, `blocked after ${blockedMs} ms`);
    // ≥ 99% is the target (bench/shield); on a machine starved by other work a few 5 s timeouts are the machine's.
    assert.ok(g.ok / g.sent >= 0.95, `legitimate success ${g.ok}/${g.sent}`);
    assert.ok(b.served < b.sent * 0.5, `attacker served ${b.served}/${b.sent}`);
  });
});
