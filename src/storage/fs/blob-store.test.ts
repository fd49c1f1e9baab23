import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBlobStoreContract } from '../contract.suite.js';
import { openFsBlobStore } from './blob-store.js';

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}

runBlobStoreContract('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hanul-blobs-'));
  return {
    store: await openFsBlobStore(dir),
    reopen: () => openFsBlobStore(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
    inspect: async () => {
      const temp = await countFiles(join(dir, 'tmp'));
      return { temp, blobs: (await countFiles(dir)) - temp };
    },
    plantTempLeftover: async () => {
      await writeFile(join(dir, 'tmp', '0123456789abcdef0123456789abcdef'), 'half a blob');
    },
  };
});

describe('fs blob store', () => {
  it('lays blobs out as <id[0..2]>/<id[2..4]>/<id>, private to the server user', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-blobs-'));
    const store = await openFsBlobStore(dir);
    try {
      const { id } = await store.write((async function* () { yield Buffer.from('x'); })());
      assert.match(id, /^[0-9a-f]{32}$/);
      assert.deepEqual(await readdir(join(dir, id.slice(0, 2), id.slice(2, 4))), [id]);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a body given up after a few bytes never made a temp file or a shard directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-blobs-'));
    const store = await openFsBlobStore(dir);
    try {
      const ac = new AbortController();
      const w = store.write((async function* () {
        yield Buffer.from('x');
        yield Buffer.from('y');
        await new Promise(() => undefined); // a trickle that stops
      })(), { signal: ac.signal });
      // Let it take the two bytes.
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      ac.abort();
      await assert.rejects(w);
      assert.deepEqual(await readdir(dir), ['tmp']);
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('measures 4 KiB writes/s (each: write, fsync, rename, fsync dir)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-blobs-'));
    const store = await openFsBlobStore(dir);
    const data = Buffer.alloc(4096, 7);
    const one = (): Promise<unknown> => store.write((async function* () { yield data; })());
    try {
      let t0 = performance.now();
      for (let i = 0; i < 200; i++) await one();
      const seq = 200 / ((performance.now() - t0) / 1000);
      t0 = performance.now();
      await Promise.all(Array.from({ length: 32 }, async () => { for (let i = 0; i < 25; i++) await one(); }));
      const conc = 800 / ((performance.now() - t0) / 1000);
      t.diagnostic(`4 KiB blob writes: ${Math.round(seq)}/s sequential, ${Math.round(conc)}/s with 32 concurrent writers`);
      assert.equal(await countFiles(join(dir, 'tmp')), 0);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('measures 64 MiB write and read throughput', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-blobs-'));
    const store = await openFsBlobStore(dir);
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      let t0 = performance.now();
      const { id, size } = await store.write((async function* () { for (let i = 0; i < 1024; i++) yield chunk; })());
      const w = performance.now() - t0;
      t0 = performance.now();
      let got = 0;
      for await (const c of store.read(id)) got += c.length;
      const r = performance.now() - t0;
      assert.equal(got, size);
      t.diagnostic(`64 MiB: write ${Math.round(64000 / w)} MiB/s (incl. fsync), read ${Math.round(64000 / r)} MiB/s`);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
