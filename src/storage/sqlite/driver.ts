/**
 * The slice of better-sqlite3 this adapter uses. The package ships no types
 * and @types/better-sqlite3 is not a dependency, so we describe what we call
 * and load it through createRequire (it is CommonJS).
 */
import { createRequire } from 'node:module';

export interface RunResult {
  changes: number;
}

export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  /** Return only the first column. */
  pluck(on?: boolean): this;
  /** Return rows as arrays instead of objects. */
  raw(on?: boolean): this;
}

export interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): this;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): this;
  readonly inTransaction: boolean;
  readonly open: boolean;
}

export interface DatabaseOptions {
  readonly?: boolean;
  fileMustExist?: boolean;
  /** Busy timeout in ms: how long to wait for a lock another connection holds. */
  timeout?: number;
}

type DatabaseConstructor = new (filename: string, options?: DatabaseOptions) => Database;

const require = createRequire(import.meta.url);

export function openDatabase(filename: string, options: DatabaseOptions): Database {
  const Ctor = require('better-sqlite3') as DatabaseConstructor;
  return new Ctor(filename, options);
}
