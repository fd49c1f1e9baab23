import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { describe, it } from 'node:test';
import { runMetadataStoreContract } from '../contract.suite.js';
import type { MetadataStore } from '../ports.js';
import { openDatabase } from './driver.js';
import { openSqliteMetadataStore } from './metadata-store.js';

runMetadataStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hanul-sqlite-'));
  const path = join(dir, 'metadata.sqlite');
  return {
    store: await openSqliteMetadataStore(path),
    reopen: () => openSqliteMetadataStore(path),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

type WithStats = MetadataStore & { stats: { groups: number; transactions: number } };

describe('sqlite metadata store', () => {
  it('seeks the primary key for every scan shape (no full scans)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-sqlite-'));
    try {
      const store = await openSqliteMetadataStore(join(dir, 'm.sqlite'));
      await store.close();
      const db = openDatabase(join(dir, 'm.sqlite'), {});
      const shapes: Array<[string, string[]]> = [
        ['SELECT k, v FROM kv WHERE ns = ? AND k >= ? AND k < ? ORDER BY k DESC LIMIT ?', ['n', 'a', 'b']],
        ['SELECT count(*) FROM kv WHERE ns = ? AND k > ?', ['n', 'a']],
        ['DELETE FROM kv WHERE ns = ? AND k >= ? AND k < ?', ['n', 'a', 'b']],
      ];
      const plans = shapes.map(([sql, params]) => {
        const args = sql.includes('LIMIT') ? [...params, 1] : params;
        return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
      });
      db.close();
      for (const p of plans) assert.match(p, /SEARCH kv USING (COVERING )?INDEX sqlite_autoindex_kv\w* \(ns=\? AND k>\?( AND k<\?)?\)/, p);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('creates a new database with the page size asked for (4 KiB by default) and opens an older one as it is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-sqlite-'));
    const pageSize = (path: string): number => {
      const db = openDatabase(path, {});
      try {
        return db.pragma('page_size', { simple: true }) as number;
      } finally {
        db.close();
      }
    };
    try {
      const plain = join(dir, 'default.sqlite');
      const first = await openSqliteMetadataStore(plain);
      await first.write((tx) => tx.put('n', 'k', Buffer.alloc(100_000, 7)));
      await first.close();
      assert.equal(pageSize(plain), 4096);
      const fresh = join(dir, 'new.sqlite');
      const store = await openSqliteMetadataStore(fresh, { pageBytes: 16384 });
      await store.write((tx) => tx.put('n', 'k', Buffer.alloc(100_000, 7)));
      await store.close();
      assert.equal(pageSize(fresh), 16384);
      // An existing file keeps its page size whatever is asked.
      const again = await openSqliteMetadataStore(plain, { pageBytes: 16384 });
      await again.write((tx) => tx.put('n', 'k2', Buffer.alloc(100_000, 8)));
      assert.deepEqual(await again.read((tx) => tx.get('n', 'k')), Buffer.alloc(100_000, 7));
      await again.close();
      assert.equal(pageSize(plain), 4096);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('checkpoints at about 4 MB of WAL with 16 KiB pages too (the WAL file stays near that size)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-sqlite-'));
    const path = join(dir, 'm.sqlite');
    try {
      const store = await openSqliteMetadataStore(path, { pageBytes: 16384 });
      const value = Buffer.alloc(400_000, 1);
      // 16 MB in 40 commits: at SQLite's 1,000 pages (16 MB at 16 KiB) the WAL would reach ~16 MB.
      for (let i = 0; i < 40; i++) await store.write((tx) => tx.put('n', `k${String(i).padStart(2, '0')}`, value));
      const wal = (await stat(`${path}-wal`)).size;
      await store.close();
      assert.ok(wal < 6_000_000, `WAL grew to ${wal} bytes`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('migrates a schema 1 (WITHOUT ROWID) database on open, keeping every row', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-sqlite-'));
    const path = join(dir, 'm.sqlite');
    try {
      const v1 = openDatabase(path, {});
      v1.exec('CREATE TABLE kv (ns TEXT NOT NULL, k TEXT NOT NULL, v BLOB NOT NULL, PRIMARY KEY (ns, k)) WITHOUT ROWID; PRAGMA user_version = 1;');
      const ins = v1.prepare('INSERT INTO kv (ns, k, v) VALUES (?, ?, ?)');
      for (let i = 0; i < 50; i++) ins.run('n', `k${String(i).padStart(2, '0')}`, serialize({ i, big: 'x'.repeat(i * 100) }));
      v1.close();
      const store = await openSqliteMetadataStore(path);
      const rows = await store.read((tx) => tx.scan<{ i: number; big: string }>('n'));
      assert.equal(rows.length, 50);
      assert.deepEqual(rows[49], { key: 'k49', value: { i: 49, big: 'x'.repeat(4900) } });
      await store.write((tx) => tx.put('n', 'k00', { i: -1, big: '' }));
      assert.deepEqual(await store.read((tx) => tx.get('n', 'k00')), { i: -1, big: '' });
      await store.close();
      const db = openDatabase(path, { readonly: true });
      const sql = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'kv'").pluck().get() as string;
      const version = db.pragma('user_version', { simple: true });
      const tables = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get();
      db.close();
      assert.doesNotMatch(sql, /WITHOUT ROWID/i);
      assert.equal(version, 2);
      assert.equal(tables, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('settles a write only after its group committed (another connection sees it)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-sqlite-'));
    const path = join(dir, 'm.sqlite');
    const store = await openSqliteMetadataStore(path);
    const spy = openDatabase(path, { readonly: true });
    const visible = spy.prepare('SELECT count(*) FROM kv WHERE ns = ? AND k = ?').pluck();
    try {
      const seen = await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          // Checked synchronously in the continuation: nothing else can commit in between.
          store.write((tx) => tx.put('v', `k${i}`, i)).then(() => visible.get('v', `k${i}`)),
        ),
      );
      assert.deepEqual(seen, Array(64).fill(1));
    } finally {
      spy.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('group-commits concurrent writers (32 clients, 1 put per transaction)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-sqlite-'));
    const store = (await openSqliteMetadataStore(join(dir, 'm.sqlite'))) as WithStats;
    try {
      const clients = 32;
      const perClient = 150;
      const t0 = performance.now();
      // Closed-loop clients: each waits for its ack before the next write, like PutRecord callers.
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          for (let i = 0; i < perClient; i++) await store.write((tx) => tx.put('bench', `${c}/${i}`, { c, i, at: new Date() }));
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      const { groups, transactions } = store.stats;
      t.diagnostic(`${Math.round(transactions / secs)} write tx/s, ${transactions} tx in ${groups} commits (${(transactions / groups).toFixed(1)} per fsync)`);
      assert.equal(transactions, clients * perClient);
      assert.ok(transactions / groups >= 8, 'concurrent writers must share commits');
      assert.equal(await store.read((tx) => tx.count('bench')), clients * perClient);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
