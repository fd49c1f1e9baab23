/**
 * The SQL behind one connection's KV operations. Statements are prepared once
 * per shape and cached: the shapes are few (which bounds are present,
 * direction), so the cache stays tiny.
 */
import type { ScanOptions } from '../ports.js';
import { assertWellFormed, checkLimit, toKeyRange, type RangeFilter } from '../key-range.js';
import type { Database, Statement } from './driver.js';

/**
 * A rowid table with its (ns, k) index, not a WITHOUT ROWID table keyed by
 * (ns, k) (schema 1). A WITHOUT ROWID table is an index b-tree: every cell,
 * interior ones too, holds the whole row, and SQLite compares a search key
 * with a row that spills onto overflow pages (values over ~1 KB on 4 KiB
 * pages: Kinesis record chunks, S3 objects stored inline) by reading all of
 * it first. Every lookup and insert read each large value on its search path
 * in full (a Kinesis PutRecords of 500 KiB read ~1 MB of overflow pages).
 * Here the index holds only (ns, k, rowid) and the rows are found by rowid.
 */
export function schema(table: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  ns TEXT NOT NULL,
  k  TEXT NOT NULL,
  v  BLOB NOT NULL,
  PRIMARY KEY (ns, k)
);
`;
}

interface Where {
  sql: string;
  params: string[];
  /** Part of the statement cache key. */
  shape: string;
  empty: boolean;
}

function where(ns: string, filter: RangeFilter | undefined): Where {
  assertWellFormed('namespace', ns);
  const range = toKeyRange(filter);
  let sql = 'ns = ?';
  let shape = '';
  const params = [ns];
  if (range.lower !== undefined) {
    sql += range.lower.inclusive ? ' AND k >= ?' : ' AND k > ?';
    shape += range.lower.inclusive ? 'L' : 'l';
    params.push(range.lower.key);
  }
  if (range.upper !== undefined) {
    sql += ' AND k < ?';
    shape += 'U';
    params.push(range.upper);
  }
  return { sql, params, shape, empty: range.empty };
}

export class KvStatements {
  private readonly cache = new Map<string, Statement>();
  private readonly getStmt: Statement;
  private readonly putStmt: Statement;
  private readonly deleteStmt: Statement;

  constructor(private readonly db: Database) {
    this.getStmt = db.prepare('SELECT v FROM kv WHERE ns = ? AND k = ?').pluck();
    // An upsert rewrites the row in place (same rowid, index untouched) where REPLACE would delete and reinsert both.
    this.putStmt = db.prepare('INSERT INTO kv (ns, k, v) VALUES (?, ?, ?) ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v');
    this.deleteStmt = db.prepare('DELETE FROM kv WHERE ns = ? AND k = ?');
  }

  private prepared(key: string, sql: () => string, configure?: (s: Statement) => void): Statement {
    let s = this.cache.get(key);
    if (s === undefined) {
      s = this.db.prepare(sql());
      configure?.(s);
      this.cache.set(key, s);
    }
    return s;
  }

  get(ns: string, key: string): Buffer | undefined {
    assertWellFormed('namespace', ns);
    assertWellFormed('key', key);
    return this.getStmt.get(ns, key) as Buffer | undefined;
  }

  put(ns: string, key: string, value: Buffer): void {
    assertWellFormed('namespace', ns);
    assertWellFormed('key', key);
    this.putStmt.run(ns, key, value);
  }

  delete(ns: string, key: string): boolean {
    assertWellFormed('namespace', ns);
    assertWellFormed('key', key);
    return this.deleteStmt.run(ns, key).changes > 0;
  }

  scan(ns: string, opts: ScanOptions = {}): Array<[string, Buffer]> {
    const limit = checkLimit(opts.limit);
    const w = where(ns, opts);
    if (w.empty || limit === 0) return [];
    const dir = opts.reverse === true ? 'DESC' : 'ASC';
    const s = this.prepared(
      `scan:${w.shape}:${dir}`,
      () => `SELECT k, v FROM kv WHERE ${w.sql} ORDER BY k ${dir} LIMIT ?`,
      (st) => st.raw(),
    );
    // LIMIT -1 is SQLite for "no limit": one statement serves both cases.
    return s.all(...w.params, limit ?? -1) as Array<[string, Buffer]>;
  }

  count(ns: string, filter: RangeFilter = {}): number {
    const w = where(ns, filter);
    if (w.empty) return 0;
    const s = this.prepared(`count:${w.shape}`, () => `SELECT count(*) FROM kv WHERE ${w.sql}`, (st) => st.pluck());
    return s.get(...w.params) as number;
  }

  deleteRange(ns: string, filter: RangeFilter): number {
    const w = where(ns, filter);
    if (w.empty) return 0;
    const s = this.prepared(`delete:${w.shape}`, () => `DELETE FROM kv WHERE ${w.sql}`);
    return s.run(...w.params).changes;
  }
}
