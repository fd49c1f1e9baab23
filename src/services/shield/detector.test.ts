import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../config.js';
import { manualClock } from '../../lib/clock.js';
import { createProtection } from '../../server/shield/protection.js';
import { openEmbeddedStores } from '../../storage/embedded.js';
import { Detector } from './detector.js';
import { K, NS, ShieldStore } from './store.js';

const ALB = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/hanul/x';

/** Drives the detector's per-second step by hand (no timers, no layer). */
async function setup(aggregation: string, auto?: 'Block' | 'Count') {
  const dir = await mkdtemp(join(tmpdir(), 'shield-det-'));
  const stores = await openEmbeddedStores(dir);
  const store = new ShieldStore(stores.metadata);
  await store.write(async (tx) => {
    await tx.put(NS, K.subscription, { AutoRenew: 'ENABLED', StartTime: new Date(0), EndTime: new Date(8e15) });
    await tx.put(NS, K.protection('a'), { Id: 'a', Name: 'a', ResourceArn: ALB, ...(auto ? { ApplicationLayerAutomaticResponseConfiguration: { Status: 'ENABLED', Action: { [auto]: {} } } } : {}) });
    await tx.put(NS, K.protection('b'), { Id: 'b', Name: 'b', ResourceArn: 'arn:aws:s3:::site' });
    await tx.put(NS, K.group('g'), { ProtectionGroupId: 'g', ProtectionGroupArn: 'arn:aws:shield::000000000000:protection-group/g', Aggregation: aggregation, Pattern: 'ARBITRARY', Members: [ALB, 'arn:aws:s3:::site', 'arn:aws:s3:::unprotected'] });
  });
  // The real protection layer (its rules are what the automatic response installs).
  const layer = auto ? createProtection(parseConfig({})) : undefined;
  const d = new Detector(store, manualClock(), ALB, layer, { floor: 50, k: 3, sustainSeconds: 2, quietSeconds: 2, slowFloor: 3, surge: 5 });
  await d.reload();
  const driver = d as unknown as { observe(s: object): void; tick(): Promise<void> };
  const second = async (n: number, path: string) => {
    for (let i = 0; i < n; i++) driver.observe({ address: `10.0.0.${i % 7}`, hostname: 'localhost', path, userAgent: 'ua', referer: '', service: 's3' });
    await driver.tick();
  };
  return { d, second, store, layer, close: async () => { d.stop(); layer?.close(); await stores.metadata.close(); await stores.blobs.close(); await rm(dir, { recursive: true, force: true }); } };
}

describe('shield detector', () => {
  it('an attack starts after sustained traffic above the floor, on the resource and its group; ends when quiet; stored', async () => {
    const { d, second, close } = await setup('SUM');
    try {
      await second(10, '/site/a');
      await second(80, '/site/a');
      assert.equal(d.live().length, 0);
      await second(80, '/site/a');
      const live = d.live().map((a) => a.ResourceArn).sort();
      assert.deepEqual(live, [ALB, 'arn:aws:s3:::site', 'arn:aws:shield::000000000000:protection-group/g'].sort());
      const site = d.live().find((a) => a.ResourceArn === 'arn:aws:s3:::site');
      assert.equal(site?.AttackProperties?.find((p) => p.AttackPropertyIdentifier === 'DESTINATION_URL')?.TopContributors?.[0]?.Name, '/site/a');
      await second(0, '/');
      await second(0, '/');
      assert.equal(d.live().length, 0);
    } finally {
      await close();
    }
  });

  it('MEAN over the two protected members halves the group rate: below the floor, no group attack', async () => {
    const { d, second, close } = await setup('MEAN');
    try {
      for (let i = 0; i < 3; i++) await second(80, '/elsewhere');
      const arns = d.live().map((a) => a.ResourceArn);
      assert.deepEqual(arns, [ALB]);
      assert.ok(!arns.includes('arn:aws:shield::000000000000:protection-group/g'));
    } finally {
      await close();
    }
  });
});

describe('shield detector: surges and the automatic response', () => {
  const flood = { hostname: 'localhost', path: '/x', userAgent: 'ua', referer: '', service: 's3' };

  it('traffic over surge × the threshold within a second is an attack at once, before the tick', async () => {
    const { d, close } = await setup('SUM');
    try {
      const driver = d as unknown as { observe(s: object): void };
      for (let i = 0; i < 251; i++) driver.observe({ address: '10.0.0.1', hostname: 'localhost', path: '/site/a', userAgent: 'ua', referer: '', service: 's3' });
      assert.ok(d.live().some((a) => a.ResourceArn === ALB));
    } finally {
      await close();
    }
  });

  it('Count: the rule matches (counted in DescribeAttack and the metrics) but refuses nothing; switched to Block it refuses', async () => {
    const { d, second, store, layer, close } = await setup('SUM', 'Count');
    try {
      await second(300, '/x');
      const live = () => d.live().find((a) => a.ResourceArn === ALB);
      assert.match(live()?.Mitigations?.[0]?.MitigationName ?? '', /\/Count\//);
      // 30 requests in a row from one source: past the rule's rate, yet none refused.
      for (let i = 0; i < 30; i++) assert.equal(layer?.admit('10.0.0.99', { ...flood, address: '10.0.0.99' }), undefined);
      const counted = live()?.AttackCounters?.find((c) => c.Name === 'AutomaticResponseCounted');
      assert.ok((counted?.Sum ?? 0) >= 20, JSON.stringify(counted));
      assert.ok((layer?.counters.snapshot()['rule-count'] ?? 0) >= 20);
      await store.write((tx) => tx.put(NS, K.protection('a'), { Id: 'a', Name: 'a', ResourceArn: ALB, ApplicationLayerAutomaticResponseConfiguration: { Status: 'ENABLED', Action: { Block: {} } } }));
      await d.reload();
      assert.match(live()?.Mitigations?.[0]?.MitigationName ?? '', /\/Block\//);
      const verdicts = Array.from({ length: 30 }, () => layer?.admit('10.0.0.98', { ...flood, address: '10.0.0.98' }));
      assert.ok(verdicts.some((v) => v !== undefined), 'Block refuses past the rule rate');
      assert.equal(verdicts[0], undefined, 'the first requests (under the rate) pass');
    } finally {
      await close();
    }
  });
});
