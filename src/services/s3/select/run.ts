/**
 * Runs a planned S3 Select query over a source of records and produces the
 * event stream: Records events of at most 256 KiB, Progress if asked, Cont
 * while the source takes long (a slow scan, a large Parquet row group), Stats
 * and End; a failure once the stream began is an error message. Sources: text
 * (CSV, JSON — GZIP-inflated as they stream, split into records, a scan range
 * honoured) here, Parquet row groups in parquet.ts.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { isAwsError } from '../../../aws/errors.js';
import type { RequestContext } from '../../../server/context.js';
import { Aggregates, csvHeader, evaluate, resolvePath, type CsvHeader, type EvalEnv, type Rec } from './eval.js';
import { contEvent, endEvent, errorEvent, progressEvent, recordsEvent, serializer, statsEvent, type Counters, type CsvOut, type JsonOut, type Row } from './output.js';
import { aligned, CsvReader, JsonDocumentReader, JsonLinesReader, MAX_RECORD_BYTES, overMaxRecord, type CsvOptions, type RecordReader } from './readers.js';
import { selectError, type Query, type Step, type Value } from './sql.js';

const BATCH_BYTES = 256 * 1024;
const KEEPALIVE_MS = 1000;

export type InputPlan = { kind: 'csv'; csv: CsvOptions; header: 'USE' | 'IGNORE' | 'NONE' } | { kind: 'json'; lines: boolean } | { kind: 'parquet' };

export interface Plan {
  query: Query;
  input: InputPlan;
  gzip: boolean;
  output: CsvOut | JsonOut;
  progress: boolean;
  scan: { start: number | undefined; end: number | undefined } | undefined;
}

export type Source = { body: AsyncIterable<Buffer>; from: number; alignFirst: boolean };

function columnName(e: Query['items'] extends (infer I)[] | undefined ? I : never, i: number): string {
  if (e.alias !== undefined) return e.alias;
  if (e.e.k === 'path') {
    const last = e.e.steps[e.e.steps.length - 1];
    if (last && 'name' in last) return last.name;
  }
  return `_${i + 1}`;
}

/** FROM S3Object[*].a[*]: the rows one record stands for. */
export function expand(v: Value, steps: Step[]): Value[] {
  let cur: Value[] = [v];
  for (const s of steps) {
    const next: Value[] = [];
    for (const x of cur) {
      if ('star' in s) {
        if (Array.isArray(x)) next.push(...x);
        else if (x !== undefined) next.push(x);
      } else {
        const y = resolvePath({ json: x }, [s]);
        if (y !== undefined) next.push(y);
      }
    }
    cur = next;
  }
  return cur;
}

async function* decompressed(body: AsyncIterable<Buffer>, gzip: boolean, c: Counters): AsyncGenerator<Buffer> {
  async function* counted() {
    for await (const chunk of body) {
      c.scanned += chunk.length;
      yield chunk;
    }
  }
  if (!gzip) {
    for await (const chunk of counted()) {
      c.processed += chunk.length;
      yield chunk;
    }
    return;
  }
  const gunzip = createGunzip();
  const piping = pipeline(Readable.from(counted()), gunzip);
  piping.catch(() => undefined);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      c.processed += chunk.length;
      yield chunk;
    }
  } catch (e) {
    if (isAwsError(e)) throw e;
    throw selectError('InvalidCompressionFormat', 'The file is not in a supported compression format: it could not be decompressed as GZIP.');
  } finally {
    gunzip.destroy();
  }
}

/**
 * The records of a CSV or JSON body, a chunk's worth at a time: CSV header
 * handling, JSON FROM paths expanded, a scan range's end honoured (records
 * that start after it are not read).
 */
export async function* textRecords(plan: Plan, source: Source, headerFromStart: string[] | undefined, c: Counters): AsyncGenerator<Rec[]> {
  const input = plan.input;
  if (input.kind === 'parquet') throw new Error('textRecords: a Parquet plan');
  const q = plan.query;
  const endAt = plan.scan?.end !== undefined && plan.scan.start !== undefined ? plan.scan.end : undefined;
  let reader: RecordReader<string[] | Value> = input.kind === 'csv' ? new CsvReader(input.csv) : input.lines ? new JsonLinesReader() : new JsonDocumentReader();
  if (source.alignFirst) reader = aligned(reader, input.kind === 'csv' ? input.csv.recordDelimiter : Buffer.from('\n'));
  let header: CsvHeader | undefined = headerFromStart ? csvHeader(headerFromStart) : undefined;
  let firstCsv = input.kind === 'csv' && input.header !== 'NONE' && !headerFromStart;
  const useHeader = input.kind === 'csv' && input.header === 'USE';

  const add = (value: string[] | Value, out: Rec[]): void => {
    if (input.kind === 'csv') {
      const fields = value as string[];
      if (firstCsv) {
        firstCsv = false;
        if (useHeader) header = csvHeader(fields);
        return;
      }
      out.push({ csv: fields, header });
      return;
    }
    for (const row of expand(value, q.from)) out.push({ json: row });
  };
  /** The records `chunk` completes; `stop` when the scan range ended. A parse failure keeps what came before it. */
  const take = (chunk: Buffer, final: boolean): { out: Rec[]; stop: boolean; err?: Error } => {
    const out: Rec[] = [];
    try {
      for (const r of reader.push(chunk, final)) {
        if (endAt !== undefined && source.from + r.start > endAt) return { out, stop: true };
        add(r.value, out);
      }
    } catch (err) {
      return { out, stop: true, err: err as Error };
    }
    return { out, stop: false };
  };

  for await (const chunk of decompressed(source.body, plan.gzip, c)) {
    const r = take(chunk, false);
    if (r.out.length > 0) yield r.out;
    if (r.err !== undefined) throw r.err;
    if (r.stop) return;
  }
  const r = take(Buffer.alloc(0), true);
  if (r.out.length > 0) yield r.out;
  if (r.err !== undefined) throw r.err;
}

const TICK = Symbol('tick');

/** Evaluates the query over `records` and yields the event stream's messages. */
export async function* runQuery(plan: Plan, records: AsyncIterable<Iterable<Rec>>, c: Counters, ctx: RequestContext): AsyncGenerator<Uint8Array> {
  const q = plan.query;
  const env: EvalEnv = { now: ctx.clock.now() };
  const write = serializer(plan.output);
  const agg = q.aggs.length > 0 ? new Aggregates(q) : undefined;
  const names = q.items?.map((it, i) => columnName(it, i));
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let emitted = 0;
  let lastEvent = Date.now();
  const limit = q.limit;

  /** Records events of BATCH_BYTES each (a record may continue in the next one, as S3 splits them); `all` sends the rest too. */
  const flush = function* (all: boolean) {
    if (pendingBytes === 0 || (!all && pendingBytes < BATCH_BYTES)) return;
    const buf = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    let off = 0;
    while (buf.length - off >= BATCH_BYTES || (all && off < buf.length)) {
      const piece = buf.subarray(off, off + BATCH_BYTES);
      off += piece.length;
      c.returned += piece.length;
      yield recordsEvent(piece);
      if (plan.progress) yield progressEvent(c);
    }
    pending = off < buf.length ? [buf.subarray(off)] : [];
    pendingBytes = buf.length - off;
    lastEvent = Date.now();
  };
  const emit = (row: Row): boolean => {
    const b = Buffer.from(write(row), 'utf8');
    // A result record, like an input one, is at most 1 MiB.
    if (b.length > MAX_RECORD_BYTES) throw overMaxRecord();
    pending.push(b);
    pendingBytes += b.length;
    emitted++;
    return limit !== undefined && emitted >= limit;
  };
  const project = (rec: Rec): Row => {
    if (names && q.items) return { names, values: q.items.map((it) => evaluate(it.e, rec, env)) };
    if ('csv' in rec) return { names: rec.csv.map((_, i) => rec.header?.names[i] ?? `_${i + 1}`), values: rec.csv };
    const v = rec.json;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)) return { names: Object.keys(v), values: Object.values(v) };
    return { names: ['_1'], values: [v] };
  };
  /** One input row; true when the query is done (LIMIT reached). */
  const take = (rec: Rec): boolean => {
    if (q.where) {
      const w = evaluate(q.where, rec, env);
      if (w !== true && !(typeof w === 'string' && w.toLowerCase() === 'true')) return false;
    }
    if (agg) {
      agg.add(rec, env);
      return false;
    }
    return emit(project(rec));
  };

  const it = records[Symbol.asyncIterator]();
  let finished = false;
  try {
    let done = limit === 0;
    while (!done) {
      const next = it.next();
      let r: IteratorResult<Iterable<Rec>> | typeof TICK;
      // While the source is slow, keep the connection alive as S3 does.
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const tick = new Promise<typeof TICK>((res) => {
          timer = setTimeout(() => res(TICK), Math.max(0, KEEPALIVE_MS - (Date.now() - lastEvent)));
        });
        try {
          r = await Promise.race([next, tick]);
        } finally {
          clearTimeout(timer);
        }
        if (r !== TICK) break;
        yield plan.progress ? progressEvent(c) : contEvent();
        lastEvent = Date.now();
      }
      if (r.done) {
        finished = true;
        break;
      }
      for (const rec of r.value) {
        if (take(rec)) {
          done = true;
          break;
        }
        if (pendingBytes >= BATCH_BYTES) yield* flush(false);
      }
    }
    if (agg) {
      env.aggValues = agg.values();
      if (limit !== 0) emit({ names: names ?? [], values: (q.items ?? []).map((item) => evaluate(item.e, { json: null }, env)) });
    }
    const before = pendingBytes;
    yield* flush(true);
    if (plan.progress && before === 0) yield progressEvent(c);
    yield statsEvent(c);
    yield endEvent();
  } catch (e) {
    if (isAwsError(e)) {
      yield errorEvent(e.code, e.message);
      return;
    }
    ctx.log?.error({ err: e, requestId: ctx.requestId }, 'S3 Select failed');
    yield errorEvent('InternalError', 'We encountered an internal error. Please try again.');
  } finally {
    // Stop the source (a LIMIT reached, a failure, the client gone): it closes what it reads.
    if (!finished) await it.return?.(undefined).catch(() => undefined);
  }
}
