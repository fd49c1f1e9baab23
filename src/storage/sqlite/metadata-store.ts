/**
 * MetadataStore on SQLite (better-sqlite3), for embedded mode.
 *
 * Durability: WAL with synchronous=FULL, so COMMIT returns only after the WAL
 * is fsync'd; write() resolves after COMMIT. Writes go through one writer
 * connection and are group-committed (see group-commit.ts).
 *
 * Isolation: writes are serializable (one at a time, in queue order). read()
 * runs on a separate connection inside its own read transaction, so it sees
 * one snapshot: everything committed before its first statement, nothing of a
 * group still in progress. Every write whose promise resolved before read()
 * was called is visible.
 *
 * A write fn must not await store.write() (or anything but its tx): the
 * inner write queues behind the running group, which waits for the fn — a
 * deadlock. Awaiting store.read() inside works but reads committed state only.
 *
 * One process must open a database file once: a second store on the same file
 * in the same process would wait for the first one's write lock while
 * blocking the thread that must release it, and fail after the busy timeout.
 *
 * `beforeCommit` (the StreamLog's sync, storage/embedded.ts) runs right
 * before each group's COMMIT: bytes a row points to are durable before it.
 *
 * The thread blocks during each COMMIT's fsync (better-sqlite3 is
 * synchronous); group commit keeps that to one fsync per group.
 */
import { dirname, resolve } from 'node:path';
import type { MetadataStore, ReadTx, WriteTx } from '../ports.js';
import { StoreClosedError } from '../errors.js';
import { syncDir } from '../fs/sync-dir.js';
import { openDatabase, type Database, type Statement } from './driver.js';
import { GroupCommitter } from './group-commit.js';
import { KvStatements, schema } from './kv-statements.js';
import { SqliteTx } from './tx.js';

export interface SqliteMetadataStoreOptions {
  /** How long to wait for a lock held by another process (ms). Default 5000. */
  busyTimeoutMs?: number;
  /** Most write transactions per group commit. Default 256. */
  maxGroupSize?: number;
  /** Stop growing a group after this many ms. Default 5. */
  maxGroupMs?: number;
  /** Most concurrent read transactions (one connection each). Default 8. */
  maxReaders?: number;
  /** Page size of a new database file (a power of two, 512–65536); an existing file keeps its own. Default 4 KiB. */
  pageBytes?: number;
  /** Checkpoint once the WAL holds about this many bytes. Default 4 MB (SQLite's 1,000 pages at 4 KiB). */
  walCheckpointBytes?: number;
  /** Called synchronously before every COMMIT; throwing fails the group (GroupLimits.beforeCommit). */
  beforeCommit?: () => void;
}

/** 2: kv is a rowid table (1: WITHOUT ROWID; migrated on open, see kv-statements.ts). */
const SCHEMA_VERSION = 2;
/**
 * Page size of a new database file. Each page is one WAL frame — two pwrites
 * when committed, a pread and a pwrite when checkpointed — so a large value
 * (a Kinesis record chunk, ~128 KiB per shard per put) costs syscalls per
 * page. 16 KiB pages took 31% less CPU for a 500 KiB PutRecords commit (store
 * micro-benchmark) but made a 4 KiB S3 PutObject (inline, group-committed)
 * cost ~10% more server CPU in 8 of 8 interleaved pairs (bench/s3/small.js,
 * bench/README.md), and both share this one database: SQLite's 4 KiB stays the
 * default. The option is kept for a store that holds only large values.
 */
const DEFAULT_PAGE_BYTES = 4096;
/** WAL size at which the writer checkpoints: SQLite's default of 1,000 pages at its default 4 KiB. */
const DEFAULT_WAL_CHECKPOINT_BYTES = 4096 * 1000;
/** Upper bound of each reader's map of the database file (address space, not memory; pages beyond it are read with pread). */
const READER_MMAP_BYTES = 1024 ** 3;

interface Reader {
  db: Database;
  kv: KvStatements;
  begin: Statement;
  end: Statement;
}

/** Read connections, created on demand up to a bound. */
class ReaderPool {
  private readonly idle: Reader[] = [];
  private readonly waiters: Array<(r: Reader) => void> = [];
  private readonly all: Reader[] = [];
  private busy = 0;
  private drained: Array<() => void> = [];

  constructor(
    private readonly path: string,
    private readonly max: number,
    private readonly timeout: number,
  ) {}

  acquire(): Reader | Promise<Reader> {
    this.busy++;
    const r = this.idle.pop();
    if (r !== undefined) return r;
    if (this.all.length < this.max) {
      try {
        return this.create();
      } catch (error) {
        this.busy--;
        throw error;
      }
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(r: Reader): void {
    this.busy--;
    const next = this.waiters.shift();
    if (next !== undefined) {
      next(r);
      return;
    }
    this.idle.push(r);
    if (this.busy === 0) for (const d of this.drained.splice(0)) d();
  }

  whenIdle(): Promise<void> {
    return this.busy === 0 ? Promise.resolve() : new Promise((r) => this.drained.push(r));
  }

  closeAll(): void {
    for (const r of this.all) if (r.db.open) r.db.close();
  }

  private create(): Reader {
    const db = openDatabase(this.path, { fileMustExist: true, timeout: this.timeout });
    // A read connection must never write, even through a misused tx object.
    db.pragma('query_only = ON');
    // Read pages through a memory map: without it every read transaction re-reads the pages
    // it touches with pread (SQLite drops a reader's page cache whenever the WAL has moved on,
    // i.e. after any write), about eight syscalls per point lookup. Only reads go through the
    // map (SQLite writes with pwrite either way), so durability is unchanged.
    db.pragma(`mmap_size = ${READER_MMAP_BYTES}`);
    const reader = { db, kv: new KvStatements(db), begin: db.prepare('BEGIN DEFERRED'), end: db.prepare('COMMIT') };
    this.all.push(reader);
    return reader;
  }
}

class SqliteMetadataStore implements MetadataStore {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly writer: Database,
    private readonly committer: GroupCommitter,
    private readonly readers: ReaderPool,
  ) {}

  async read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw new StoreClosedError('metadata store');
    const r = await this.readers.acquire();
    const tx = new SqliteTx(r.kv);
    try {
      r.begin.run();
      return await fn(tx);
    } finally {
      tx.end();
      try {
        if (r.db.inTransaction) r.end.run();
      } finally {
        this.readers.release(r);
      }
    }
  }

  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(new StoreClosedError('metadata store'));
    return this.committer.submit(fn);
  }

  /** Waits for queued writes and running reads, then closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.committer.idle();
      await this.readers.whenIdle();
      this.readers.closeAll();
      this.writer.close();
    })();
    return this.closing;
  }

  /** Group-commit counters, for tests and metrics. */
  get stats(): { groups: number; transactions: number } {
    return { ...this.committer.stats };
  }
}

function initWriter(db: Database, pageBytes: number, walCheckpointBytes: number): void {
  // Only a database not yet created takes this (WAL fixes the page size); an older file keeps its own.
  db.pragma(`page_size = ${pageBytes}`);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`SQLite refused WAL mode (got ${String(mode)}): is the filesystem local?`);
  db.pragma('synchronous = FULL');
  // macOS fsync does not reach the platter without F_FULLFSYNC; ignored elsewhere.
  db.pragma('fullfsync = ON');
  db.pragma('checkpoint_fullfsync = ON');
  db.pragma('journal_size_limit = 67108864');
  // Checkpoint at ~4 MiB of WAL whatever the page size (SQLite counts pages: 1,000 by default).
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.round(walCheckpointBytes / pageSize))}`);
  db.pragma('cache_size = -32768');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`metadata schema version ${version} is newer than this hanul understands (${SCHEMA_VERSION})`);
  }
  const old = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'kv'").pluck().get() as string | undefined;
  if (old !== undefined && /WITHOUT\s+ROWID/i.test(old)) {
    // Schema 1 → 2: copy into the new shape and swap, in one transaction (a crash leaves either whole).
    try {
      db.exec(`BEGIN IMMEDIATE;
        DROP TABLE IF EXISTS kv_v2;
        ${schema('kv_v2')}
        INSERT INTO kv_v2 (ns, k, v) SELECT ns, k, v FROM kv ORDER BY ns, k;
        DROP TABLE kv;
        ALTER TABLE kv_v2 RENAME TO kv;
        PRAGMA user_version = ${SCHEMA_VERSION};
        COMMIT;`);
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
  db.exec(schema('kv'));
  if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

export async function openSqliteMetadataStore(
  path: string,
  opts: SqliteMetadataStoreOptions = {},
): Promise<MetadataStore> {
  if (path === '' || path === ':memory:') throw new TypeError('a file path is required (readers use their own connections)');
  const file = resolve(path);
  const timeout = opts.busyTimeoutMs ?? 5000;
  const writer = openDatabase(file, { timeout });
  try {
    initWriter(writer, opts.pageBytes ?? DEFAULT_PAGE_BYTES, opts.walCheckpointBytes ?? DEFAULT_WAL_CHECKPOINT_BYTES);
    // The database file may have just been created: make its name durable.
    await syncDir(dirname(file));
    const committer = new GroupCommitter(writer, new KvStatements(writer), {
      maxTx: opts.maxGroupSize ?? 256,
      maxMs: opts.maxGroupMs ?? 5,
      ...(opts.beforeCommit !== undefined ? { beforeCommit: opts.beforeCommit } : {}),
    });
    return new SqliteMetadataStore(writer, committer, new ReaderPool(file, opts.maxReaders ?? 8, timeout));
  } catch (error) {
    writer.close();
    throw error;
  }
}
