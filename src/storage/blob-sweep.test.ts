import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanAll, sweepOrphanBlobs } from './blob-sweep.js';
import { openEmbeddedStores } from './embedded.js';
import type { Stores } from './ports.js';

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

async function withStores(fn: (s: Stores) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hanul-sweep-'));
  const s = await openEmbeddedStores(dir);
  try {
    await fn(s);
  } finally {
    await s.metadata.close();
    await s.blobs.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const refs = async (tx: Parameters<typeof scanAll>[0], visit: (id: string) => void) => scanAll<string>(tx, 'refs', visit, 2);

describe('orphan blob sweep', () => {
  it('deletes unreferenced blobs past the grace period, in batches, and keeps referenced, young and in-use ones', async () => {
    await withStores(async ({ blobs, metadata }) => {
      const ids: string[] = [];
      for (let i = 0; i < 9; i++) ids.push((await blobs.write(once(new Uint8Array([i, i, i])))).id);
      // 0..3 referenced (paged 2 at a time), 4 in use, 5..8 orphans.
      await metadata.write(async (tx) => {
        for (const id of ids.slice(0, 4)) await tx.put('refs', id, id);
      });
      // Young blobs: nothing goes while the grace period covers them.
      const young = await sweepOrphanBlobs({ blobs, meta: metadata, referrers: [refs], graceMs: 60_000 });
      assert.deepEqual(young, { listed: 9, deleted: 0, bytes: 0 });

      const later = () => Date.now() + 120_000;
      const r = await sweepOrphanBlobs({ blobs, meta: metadata, referrers: [refs], graceMs: 60_000, now: later, batch: 2, inUse: (id) => id === ids[4] });
      assert.equal(r.deleted, 4);
      assert.equal(r.bytes, 12);
      for (const [i, id] of ids.entries()) assert.equal(await blobs.size(id), i <= 4 ? 3 : undefined, `blob ${i}`);

      // With no referrer left for them, the rest go too (the in-use one once released).
      const all = await sweepOrphanBlobs({ blobs, meta: metadata, referrers: [], graceMs: 60_000, now: later });
      assert.equal(all.deleted, 5);
    });
  });

  it('stops when aborted and deletes nothing', async () => {
    await withStores(async ({ blobs, metadata }) => {
      await blobs.write(once(new Uint8Array([1])));
      const ac = new AbortController();
      ac.abort();
      const r = await sweepOrphanBlobs({ blobs, meta: metadata, referrers: [], graceMs: 0, now: () => Date.now() + 1000, signal: ac.signal });
      assert.equal(r.deleted, 0);
    });
  });
});
