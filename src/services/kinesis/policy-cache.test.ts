import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { MetadataStore } from '../../storage/ports.js';
import { openSqliteMetadataStore } from '../../storage/sqlite/metadata-store.js';
import { NS_STREAM } from './model.js';
import { StreamPolicyCache, watchStreamWrites } from './policy-cache.js';

async function withStore(fn: (meta: MetadataStore, cache: StreamPolicyCache) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hanul-policy-cache-'));
  const inner = await openSqliteMetadataStore(join(dir, 'meta.db'));
  // A TTL far beyond the test: only invalidation can make a change visible.
  const cache = new StreamPolicyCache(60 * 60_000);
  const meta = watchStreamWrites(inner, cache);
  try {
    await fn(meta, cache);
  } finally {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const stream = (policy?: string) => ({ name: 's', id: 'id', ...(policy !== undefined ? { policy } : {}) });

describe('kinesis stream policy cache', () => {
  it('shows every committed write of a stream record at once', async () => {
    await withStore(async (meta, cache) => {
      assert.equal(await cache.get(meta, 's'), undefined);
      await meta.write((tx) => tx.put(NS_STREAM, 's', stream('{"v":1}')));
      assert.equal(await cache.get(meta, 's'), '{"v":1}');
      await meta.write((tx) => tx.put(NS_STREAM, 's', stream('{"v":2}')));
      assert.equal(await cache.get(meta, 's'), '{"v":2}');
      await meta.write((tx) => tx.put(NS_STREAM, 's', stream()));
      assert.equal(await cache.get(meta, 's'), undefined);
      await meta.write((tx) => tx.put(NS_STREAM, 's', stream('{"v":3}')));
      assert.equal(await cache.get(meta, 's'), '{"v":3}');
      await meta.write(async (tx) => void (await tx.delete(NS_STREAM, 's')));
      assert.equal(await cache.get(meta, 's'), undefined);
      await meta.write((tx) => tx.put(NS_STREAM, 's', stream('{"v":4}')));
      await meta.write(async (tx) => void (await tx.deleteRange(NS_STREAM, {})));
      assert.equal(await cache.get(meta, 's'), undefined);
    });
  });

  it('a rolled-back write leaves the committed policy', async () => {
    await withStore(async (meta, cache) => {
      await meta.write((tx) => tx.put(NS_STREAM, 's', stream('{"v":1}')));
      assert.equal(await cache.get(meta, 's'), '{"v":1}');
      await assert.rejects(
        meta.write(async (tx) => {
          await tx.put(NS_STREAM, 's', stream('{"v":2}'));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await cache.get(meta, 's'), '{"v":1}');
    });
  });

  it('a lookup concurrent with a write leaves the cache showing the write once it is acknowledged', async () => {
    await withStore(async (meta, cache) => {
      await meta.write((tx) => tx.put(NS_STREAM, 's', stream('{"v":1}')));
      const lookup = cache.get(meta, 's');
      const write = meta.write((tx) => tx.put(NS_STREAM, 's', stream('{"v":2}')));
      await Promise.all([lookup, write]);
      assert.equal(await cache.get(meta, 's'), '{"v":2}');
    });
  });
});
