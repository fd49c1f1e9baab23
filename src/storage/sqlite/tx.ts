/**
 * The tx object handed to a transaction's fn. better-sqlite3 is synchronous,
 * so every method runs its statement at call time and returns a settled
 * promise; the async shape exists so the same services run on PostgreSQL.
 * Once its transaction ends the object refuses further use: a statement
 * issued late would otherwise land in whatever transaction runs next.
 */
import type { KvEntry, ScanOptions, StoredValue, WriteTx } from '../ports.js';
import type { RangeFilter } from '../key-range.js';
import { TransactionEndedError } from '../errors.js';
import { decodeValue, encodeValue } from '../value-codec.js';
import type { KvStatements } from './kv-statements.js';

export class SqliteTx implements WriteTx {
  private live = true;

  constructor(private readonly kv: KvStatements) {}

  end(): void {
    this.live = false;
  }

  private check(): void {
    if (!this.live) throw new TransactionEndedError();
  }

  async get<V = StoredValue>(ns: string, key: string): Promise<V | undefined> {
    this.check();
    const bytes = this.kv.get(ns, key);
    return bytes === undefined ? undefined : decodeValue<V>(bytes);
  }

  async scan<V = StoredValue>(ns: string, opts?: ScanOptions): Promise<KvEntry<V>[]> {
    this.check();
    return this.kv.scan(ns, opts).map(([key, bytes]) => ({ key, value: decodeValue<V>(bytes) }));
  }

  async count(ns: string, opts?: RangeFilter): Promise<number> {
    this.check();
    return this.kv.count(ns, opts);
  }

  async put(ns: string, key: string, value: StoredValue): Promise<void> {
    this.check();
    this.kv.put(ns, key, encodeValue(value));
  }

  async delete(ns: string, key: string): Promise<boolean> {
    this.check();
    return this.kv.delete(ns, key);
  }

  async deleteRange(ns: string, opts: RangeFilter): Promise<number> {
    this.check();
    return this.kv.deleteRange(ns, opts);
  }
}
