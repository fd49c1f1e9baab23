/**
 * jq for MetadataExtraction (dynamic partitioning), as AWS evaluates
 * MetadataExtractionQuery: one worker thread runs real jq (see
 * jq-worker.ts). Queries are compile-checked at CreateDeliveryStream /
 * UpdateDestination; records are evaluated in batches on the delivery path,
 * never on PutRecord.
 */
import { Worker } from 'node:worker_threads';
import { firehoseError } from './errors.js';
import type { JqRequest, JqResponse } from './jq-worker.js';

const WORKER = new URL('./jq-worker.js', import.meta.url);
/** Record text per jq run: jq-wasm's argv lives on its 1 MiB stack. */
export const ARG_BYTES = 192 * 1024;

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve(lines: string[]): void; reject(e: Error): void }>();

function start(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER);
  w.unref();
  w.on('message', (m: JqResponse) => {
    const p = waiting.get(m.id);
    waiting.delete(m.id);
    if ('error' in m) p?.reject(new Error(m.error));
    else p?.resolve(m.lines);
  });
  const fail = (e: Error): void => {
    worker = undefined;
    for (const p of waiting.values()) p.reject(e);
    waiting.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`jq worker exited (${code})`)));
  worker = w;
  return w;
}

function call(filter: string, records: string[]): Promise<string[]> {
  const id = ++nextId;
  const w = start();
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.postMessage({ id, filter, records } satisfies JqRequest);
  });
}

export async function stopJq(): Promise<void> {
  const w = worker;
  worker = undefined;
  await w?.terminate();
}

const checked = new Map<string, string | undefined>();

/** InvalidArgumentException for a query jq cannot compile. */
export async function checkJqQuery(query: string): Promise<void> {
  if (!checked.has(query)) {
    try {
      await call(query, []);
      checked.set(query, undefined);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (!/compile error/.test(msg)) throw e;
      checked.set(query, msg.split('\n')[0] ?? msg);
    }
  }
  const problem = checked.get(query);
  if (problem !== undefined) throw firehoseError('InvalidArgumentException', `Invalid MetadataExtractionQuery '${query}': ${problem}`);
}

export type JqResult = { outputs: unknown[] } | { error: string };

/** Runs the query on each record (texts that parse as JSON); one result per record, in order. */
export async function evaluate(query: string, records: string[]): Promise<JqResult[]> {
  const results: JqResult[] = [];
  let i = 0;
  while (i < records.length) {
    const batch: string[] = [];
    let bytes = 0;
    while (i < records.length && (batch.length === 0 || bytes + (records[i] as string).length <= ARG_BYTES)) {
      bytes += (records[i] as string).length;
      batch.push(records[i++] as string);
    }
    let lines: string[];
    try {
      lines = await call(query, batch);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      for (const _ of batch) results.push({ error });
      continue;
    }
    for (const line of lines) {
      const outputs = JSON.parse(line) as unknown[];
      const err = outputs.find((o): o is { __hanul_jq_error: unknown } => o !== null && typeof o === 'object' && '__hanul_jq_error' in o);
      results.push(err ? { error: `jq: error: ${String(err.__hanul_jq_error)}` } : { outputs });
    }
  }
  return results;
}
