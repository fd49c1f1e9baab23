import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { MetadataStore } from '../../storage/ports.js';
import { openSqliteMetadataStore } from '../../storage/sqlite/metadata-store.js';
import { type BucketRecord, NS_BUCKETS } from './model.js';
import { BucketCache, watchBucketWrites } from './state.js';

function bucket(name: string, versioning?: 'Enabled'): BucketRecord {
  return { name, id: `id-${name}`, region: 'us-east-1', createdAt: new Date(0), ownerAccount: '000000000000', ...(versioning ? { versioning } : {}) };
}

async function withStore(fn: (meta: MetadataStore, cache: BucketCache) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hanul-bucket-cache-'));
  const inner = await openSqliteMetadataStore(join(dir, 'meta.db'));
  // A TTL far beyond the test: only invalidation can make a change visible.
  const cache = new BucketCache(60 * 60_000);
  const meta = watchBucketWrites(inner, cache);
  try {
    await fn(meta, cache);
  } finally {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('s3 bucket cache', () => {
  it('shows every committed write of a bucket record at once, whoever wrote it', async () => {
    await withStore(async (meta, cache) => {
      const s3 = { meta };
      assert.equal(await cache.get(s3, 'b'), undefined);
      await meta.write((tx) => tx.put(NS_BUCKETS, 'b', bucket('b')));
      assert.equal((await cache.get(s3, 'b'))?.versioning, undefined);
      await meta.write((tx) => tx.put(NS_BUCKETS, 'b', bucket('b', 'Enabled')));
      assert.equal((await cache.get(s3, 'b'))?.versioning, 'Enabled');
      await meta.write(async (tx) => void (await tx.delete(NS_BUCKETS, 'b')));
      assert.equal(await cache.get(s3, 'b'), undefined);
      await meta.write((tx) => tx.put(NS_BUCKETS, 'c', bucket('c')));
      assert.ok(await cache.get(s3, 'c'));
      await meta.write(async (tx) => void (await tx.deleteRange(NS_BUCKETS, {})));
      assert.equal(await cache.get(s3, 'c'), undefined);
    });
  });

  it('keeps nothing of a rolled-back write', async () => {
    await withStore(async (meta, cache) => {
      const s3 = { meta };
      await meta.write((tx) => tx.put(NS_BUCKETS, 'b', bucket('b')));
      assert.ok(await cache.get(s3, 'b'));
      await assert.rejects(
        meta.write(async (tx) => {
          await tx.put(NS_BUCKETS, 'b', bucket('b', 'Enabled'));
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal((await cache.get(s3, 'b'))?.versioning, undefined);
    });
  });

  it('does not cache what a lookup read before a write committed', async () => {
    await withStore(async (meta, cache) => {
      await meta.write((tx) => tx.put(NS_BUCKETS, 'b', bucket('b')));
      // A reader whose snapshot predates the write: it finishes only after the write committed.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const slow: MetadataStore = {
        read: (fn) =>
          meta.read(async (tx) => {
            const v = await fn(tx);
            await gate;
            return v;
          }),
        write: (fn) => meta.write(fn),
        close: () => meta.close(),
      };
      const stale = cache.get({ meta: slow }, 'b');
      await meta.write((tx) => tx.put(NS_BUCKETS, 'b', bucket('b', 'Enabled')));
      release();
      assert.equal((await stale)?.versioning, undefined);
      assert.equal((await cache.get({ meta }, 'b'))?.versioning, 'Enabled');
    });
  });

  it('hands out frozen records, so no handler changes the shared copy', async () => {
    await withStore(async (meta, cache) => {
      await meta.write((tx) => tx.put(NS_BUCKETS, 'b', bucket('b')));
      const b = (await cache.get({ meta }, 'b')) as BucketRecord;
      assert.throws(() => Object.assign(b, { versioning: 'Enabled' }), TypeError);
    });
  });
  it('getNow / requireNow: the record at once on a hit, a Promise on a miss or after a write', async () => {
    await withStore(async (meta, cache) => {
      const s3 = { meta };
      await meta.write((tx) => tx.put(NS_BUCKETS, 'b', bucket('b')));
      const miss = cache.getNow(s3, 'b');
      assert.ok(miss instanceof Promise);
      assert.equal((await miss)?.name, 'b');
      const hit = cache.getNow(s3, 'b');
      assert.ok(!(hit instanceof Promise));
      assert.equal(hit?.name, 'b');
      const owner = { principal: { type: 'root', arn: 'arn:aws:iam::000000000000:root', accountId: '000000000000', userId: '000000000000' }, accountId: '000000000000' } as const;
      assert.equal((cache.requireNow(s3, 'b', owner) as BucketRecord).name, 'b');
      const other = { principal: { type: 'user', arn: 'arn:aws:iam::111111111111:user/x', accountId: '111111111111', userId: 'AIDAX' }, accountId: '000000000000' } as const;
      assert.throws(() => cache.requireNow(s3, 'b', other), (e: { code?: string }) => e.code === 'AccessDenied');
      assert.throws(() => cache.requireNow(s3, '', owner), (e: { code?: string }) => e.code === 'NoSuchBucket');
      await assert.rejects(cache.require(s3, 'b', other), (e: { code?: string }) => e.code === 'AccessDenied');
      // A missing bucket is never cached: always a read.
      const none = cache.getNow(s3, 'none');
      assert.ok(none instanceof Promise);
      assert.equal(await none, undefined);
      await assert.rejects(async () => cache.requireNow(s3, 'none', owner), (e: { code?: string }) => e.code === 'NoSuchBucket');
      await meta.write((tx) => tx.put(NS_BUCKETS, 'b', bucket('b', 'Enabled')));
      const after = cache.getNow(s3, 'b');
      assert.ok(after instanceof Promise);
      assert.equal((await after)?.versioning, 'Enabled');
    });
  });
});
