/**
 * Serializes write transactions on the one writer connection and commits them
 * in groups. Each queued transaction runs in its own SAVEPOINT inside one
 * outer BEGIN IMMEDIATE … COMMIT, so a group of N writers pays one fsync
 * instead of N. Nobody's promise settles before the COMMIT has returned: an
 * acknowledged write is durable, and a failed group rejects every member.
 *
 * Only one fn runs at a time: the next one starts after the previous one's
 * promise settled, so nothing interleaves inside a savepoint even though fn
 * awaits (its awaits resolve on microtasks, since tx methods are synchronous).
 */
import type { WriteTx } from '../ports.js';
import type { Database, Statement } from './driver.js';
import type { KvStatements } from './kv-statements.js';
import { SqliteTx } from './tx.js';

interface Pending {
  fn: (tx: WriteTx) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { pending: Pending; ok: true; value: unknown } | { pending: Pending; ok: false; error: unknown };

export interface GroupLimits {
  /** Most transactions per COMMIT. */
  maxTx: number;
  /** Stop adding transactions to a group after this long (ms), to bound latency. */
  maxMs: number;
  /**
   * Runs right before each COMMIT, synchronously (the StreamLog's sync: bytes
   * the group's rows point to become durable before the rows do). If it
   * throws, the group rolls back and every member fails.
   */
  beforeCommit?: () => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private draining = false;
  private idleWaiters: Array<() => void> = [];
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackTo: Statement;
  /** Counters for tests and metrics: how well grouping works. */
  readonly stats = { groups: 0, transactions: 0 };

  constructor(
    private readonly db: Database,
    private readonly kv: KvStatements,
    private readonly limits: GroupLimits,
  ) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT tx');
    this.release = db.prepare('RELEASE tx');
    this.rollbackTo = db.prepare('ROLLBACK TO tx');
  }

  submit<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // Starting on the next turn lets every writer that arrived in this I/O
        // phase join the first group.
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Resolves once every queued transaction has settled. */
  idle(): Promise<void> {
    if (!this.draining) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        await this.runGroup();
        // Yield to I/O between groups: a steady stream of writers must not
        // starve the event loop, and the writers that arrive meanwhile make
        // the next group bigger.
        if (this.queue.length > 0) await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.draining = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async runGroup(): Promise<void> {
    try {
      this.begin.run();
    } catch (error) {
      // Another process holds the write lock past the busy timeout, or the
      // disk failed: everything waiting now would fail the same way.
      for (const p of this.queue.splice(0)) p.reject(error);
      return;
    }
    const outcomes: Outcome[] = [];
    const t0 = performance.now();
    while (this.queue.length > 0 && outcomes.length < this.limits.maxTx && performance.now() - t0 < this.limits.maxMs) {
      const pending = this.queue.shift() as Pending;
      const outcome = await this.runOne(pending);
      outcomes.push(outcome);
      if (!this.db.inTransaction) {
        // SQLite rolled the whole transaction back (e.g. SQLITE_FULL, I/O
        // error): the earlier members of this group are lost too.
        const error = outcome.ok ? new Error('transaction group was rolled back') : outcome.error;
        this.settle(outcomes, true, error);
        return;
      }
    }
    try {
      this.limits.beforeCommit?.();
      this.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.rollback.run();
      this.settle(outcomes, true, error);
      return;
    }
    this.stats.groups++;
    this.stats.transactions += outcomes.length;
    this.settle(outcomes, false, undefined);
  }

  private async runOne(pending: Pending): Promise<Outcome> {
    this.savepoint.run();
    const tx = new SqliteTx(this.kv);
    try {
      const value = await pending.fn(tx);
      tx.end();
      this.release.run();
      return { pending, ok: true, value };
    } catch (error) {
      tx.end();
      if (this.db.inTransaction) {
        this.rollbackTo.run();
        this.release.run();
      }
      return { pending, ok: false, error };
    }
  }

  /** `failed`: the group did not commit, so no member succeeded. */
  private settle(outcomes: Outcome[], failed: boolean, groupError: unknown): void {
    for (const o of outcomes) {
      if (!o.ok) o.pending.reject(o.error);
      else if (failed) o.pending.reject(groupError);
      else o.pending.resolve(o.value);
    }
  }
}
