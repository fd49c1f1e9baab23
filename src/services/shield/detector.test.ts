import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { manualClock } from '../../lib/clock.js';
import { openEmbeddedStores } from '../../storage/embedded.js';
import { Detector } from './detector.js';
import { K, NS, ShieldStore } from './store.js';

const ALB = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/hanul/x';

/** Drives the detector's per-second step by hand (no timers, no layer). */
async function setup(aggregation: string) {
  const dir = await mkdtemp(join(tmpdir(), 'shield-det-'));
  const stores = await openEmbeddedStores(dir);
  const store = new ShieldStore(stores.metadata);
  await store.write(async (tx) => {
    await tx.put(NS, K.subscription, { AutoRenew: 'ENABLED', StartTime: new Date(0), EndTime: new Date(8e15) });
    await tx.put(NS, K.protection('a'), { Id: 'a', Name: 'a', ResourceArn: ALB });
    await tx.put(NS, K.protection('b'), { Id: 'b', Name: 'b', ResourceArn: 'arn:aws:s3:::site' });
    await tx.put(NS, K.group('g'), { ProtectionGroupId: 'g', ProtectionGroupArn: 'arn:aws:shield::000000000000:protection-group/g', Aggregation: aggregation, Pattern: 'ARBITRARY', Members: [ALB, 'arn:aws:s3:::site', 'arn:aws:s3:::unprotected'] });
  });
  const d = new Detector(store, manualClock(), ALB, undefined, { floor: 50, k: 3, sustainSeconds: 2, quietSeconds: 2, slowFloor: 3 });
  await d.reload();
  const driver = d as unknown as { observe(s: object): void; tick(): Promise<void> };
  const second = async (n: number, path: string) => {
    for (let i = 0; i < n; i++) driver.observe({ address: `10.0.0.${i % 7}`, hostname: 'localhost', path, userAgent: 'ua', referer: '', service: 's3' });
    await driver.tick();
  };
  return { d, second, close: async () => { await stores.metadata.close(); await stores.blobs.close(); await rm(dir, { recursive: true, force: true }); } };
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
