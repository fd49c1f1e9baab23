/**
 * SelectObjectContent (S3 Select): the request is checked and the SQL parsed
 * before anything is sent, so those failures are ordinary S3 XML errors; the
 * object is then read through GetObject (versions, SSE-S3/KMS/C, archive
 * state, conditions all as a GET), GZIP-inflated as it streams, split into
 * records, filtered and projected, and answered as an event stream: Records
 * events of at most 256 KiB, Progress if asked, Cont while nothing else is
 * sent, Stats and End. A failure once the stream began is an error message.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { SelectObjectContentRequest } from '@aws-sdk/client-s3';
import { isAwsError } from '../../../aws/errors.js';
import { rawResponse, type HttpResponse } from '../../../aws/http.js';
import { s3HostId } from '../../../lib/ids.js';
import type { RequestContext } from '../../../server/context.js';
import { s3Error } from '../errors.js';
import { getObject } from '../objects-get.js';
import type { S3 } from '../state.js';
import { Aggregates, csvHeader, evaluate, resolvePath, type CsvHeader, type EvalEnv, type Rec } from './eval.js';
import { contEvent, endEvent, errorEvent, progressEvent, recordsEvent, serializer, statsEvent, type Counters, type CsvOut, type JsonOut, type Row } from './output.js';
import { aligned, CsvReader, JsonDocumentReader, JsonLinesReader, type CsvOptions, type RecordReader } from './readers.js';
import { parseSelect, selectError, type Query, type Step, type Value } from './sql.js';

const BATCH_BYTES = 256 * 1024;
const KEEPALIVE_MS = 1000;

interface Plan {
  query: Query;
  input: { kind: 'csv'; csv: CsvOptions; header: 'USE' | 'IGNORE' | 'NONE' } | { kind: 'json'; lines: boolean };
  gzip: boolean;
  output: CsvOut | JsonOut;
  progress: boolean;
  scan: { start: number | undefined; end: number | undefined } | undefined;
}

const missing = (what: string) => selectError('MissingRequiredParameter', `The SelectRequest entity is missing a required parameter: ${what}. Check the service documentation and try again.`);
const badParam = (what: string) => selectError('InvalidRequestParameter', `The value of a parameter in SelectRequest element is invalid: ${what}. Check the service documentation and try again.`);

function oneChar(v: string | undefined, dflt: string, what: string, maxLen = 1): string {
  if (v === undefined) return dflt;
  if ([...v].length > maxLen || v.length === 0) throw badParam(what);
  return v;
}

function optByte(v: string | undefined, dflt: string | undefined, what: string): number | undefined {
  const s = v === undefined ? dflt : v;
  if (s === undefined || s === '') return undefined;
  const b = Buffer.from(oneChar(s, s, what), 'utf8');
  if (b.length !== 1) throw badParam(`${what} must be a single-byte character`);
  return b[0];
}

/** Checks the request as AWS does before answering 200; parses the SQL. */
export function planSelect(input: SelectObjectContentRequest): Plan {
  if (input.Expression === undefined || input.Expression === '') throw missing('Expression');
  if (input.ExpressionType === undefined) throw missing('ExpressionType');
  if (input.ExpressionType !== 'SQL') throw selectError('InvalidExpressionType', 'The ExpressionType value is not valid. Only SQL expressions are supported.');
  const inS = input.InputSerialization;
  const outS = input.OutputSerialization;
  if (!inS) throw missing('InputSerialization');
  if (!outS) throw missing('OutputSerialization');
  const inFormats = [inS.CSV, inS.JSON, inS.Parquet].filter((x) => x !== undefined).length;
  const outFormats = [outS.CSV, outS.JSON].filter((x) => x !== undefined).length;
  if (inFormats > 1 || outFormats > 1) {
    throw selectError('ObjectSerializationConflict', 'InputSerialization specifies more than one format (CSV, JSON, or Parquet), or OutputSerialization specifies more than one format (CSV or JSON). You can specify only one format for each.');
  }
  if (inFormats === 0) throw missing('InputSerialization format (CSV, JSON or Parquet)');
  if (outFormats === 0) throw missing('OutputSerialization format (CSV or JSON)');
  if (inS.Parquet !== undefined) throw s3Error('NotImplemented', 'S3 Select over Parquet objects is not implemented in hanul yet');
  const comp = inS.CompressionType ?? 'NONE';
  if (comp === 'BZIP2') throw s3Error('NotImplemented', 'S3 Select over BZIP2-compressed objects is not implemented in hanul yet; use GZIP or NONE');
  if (comp !== 'NONE' && comp !== 'GZIP') throw selectError('InvalidCompressionFormat', 'The file is not in a supported compression format. Only GZIP and BZIP2 are supported.');
  let inputPlan: Plan['input'];
  if (inS.CSV) {
    const c = inS.CSV;
    const header = c.FileHeaderInfo ?? 'NONE';
    if (header !== 'USE' && header !== 'IGNORE' && header !== 'NONE') throw selectError('InvalidFileHeaderInfo', 'The FileHeaderInfo is invalid. Only NONE, USE, and IGNORE are supported.');
    const quote = optByte(c.QuoteCharacter, '"', 'QuoteCharacter');
    inputPlan = {
      kind: 'csv',
      header,
      csv: {
        fieldDelimiter: Buffer.from(oneChar(c.FieldDelimiter, ',', 'FieldDelimiter'), 'utf8'),
        recordDelimiter: Buffer.from(oneChar(c.RecordDelimiter, '\n', 'RecordDelimiter', 2), 'utf8'),
        quote,
        escape: optByte(c.QuoteEscapeCharacter, c.QuoteCharacter ?? '"', 'QuoteEscapeCharacter') ?? quote,
        comment: optByte(c.Comments, '#', 'Comments'),
      },
    };
  } else {
    const t = inS.JSON?.Type ?? 'DOCUMENT';
    if (t !== 'DOCUMENT' && t !== 'LINES') throw selectError('InvalidJsonType', 'The JsonType is invalid. Only DOCUMENT and LINES are supported.');
    inputPlan = { kind: 'json', lines: t === 'LINES' };
  }
  let output: Plan['output'];
  if (outS.CSV) {
    const c = outS.CSV;
    const qf = c.QuoteFields ?? 'ASNEEDED';
    if (qf !== 'ALWAYS' && qf !== 'ASNEEDED') throw selectError('InvalidQuoteFields', 'The QuoteFields is invalid. Only ALWAYS and ASNEEDED are supported.');
    const quote = c.QuoteCharacter === undefined ? '"' : oneChar(c.QuoteCharacter, '"', 'QuoteCharacter');
    output = {
      kind: 'csv',
      always: qf === 'ALWAYS',
      fieldDelimiter: oneChar(c.FieldDelimiter, ',', 'FieldDelimiter'),
      recordDelimiter: oneChar(c.RecordDelimiter, '\n', 'RecordDelimiter', 2),
      quote,
      escape: c.QuoteEscapeCharacter === undefined ? quote : oneChar(c.QuoteEscapeCharacter, quote, 'QuoteEscapeCharacter'),
    };
  } else {
    output = { kind: 'json', recordDelimiter: oneChar(outS.JSON?.RecordDelimiter, '\n', 'RecordDelimiter', 2) };
  }
  let scan: Plan['scan'];
  if (input.ScanRange && (input.ScanRange.Start !== undefined || input.ScanRange.End !== undefined)) {
    const { Start: start, End: end } = input.ScanRange;
    if ((start !== undefined && (!Number.isInteger(start) || start < 0)) || (end !== undefined && (!Number.isInteger(end) || end < 0)) || (start !== undefined && end !== undefined && start > end)) {
      throw selectError('InvalidScanRange', 'The provided scan range is not valid: Start and End must be non-negative and Start no greater than End.');
    }
    if (comp !== 'NONE' || (inputPlan.kind === 'json' && !inputPlan.lines)) {
      throw selectError('UnsupportedScanRangeInput', 'Scan range queries are not supported on this type of object: only uncompressed CSV and JSON LINES objects can be scanned by range.');
    }
    scan = { start, end };
  }
  return { query: parseSelect(input.Expression), input: inputPlan, gzip: comp === 'GZIP', output, progress: input.RequestProgress?.Enabled === true, scan };
}

export type Source = { body: AsyncIterable<Buffer>; from: number; alignFirst: boolean };

/** Opens the object (or the part of it a scan range reads) through GetObject. */
async function openSource(s3: S3, input: SelectObjectContentRequest, ctx: RequestContext, plan: Plan): Promise<Source> {
  const base = {
    Bucket: input.Bucket,
    Key: input.Key,
    SSECustomerAlgorithm: input.SSECustomerAlgorithm,
    SSECustomerKey: input.SSECustomerKey,
    SSECustomerKeyMD5: input.SSECustomerKeyMD5,
  };
  let range: string | undefined;
  const scan = plan.scan;
  if (scan?.start !== undefined && scan.start > 0) range = `bytes=${scan.start - 1}-`;
  else if (scan?.start === undefined && scan?.end !== undefined) range = `bytes=-${scan.end + 1}`;
  let out;
  try {
    out = await getObject(s3, { ...base, ...(range ? { Range: range } : {}) }, ctx);
  } catch (e) {
    // A scan range past the end of the object (or over an empty one) selects nothing.
    if (isAwsError(e) && e.code === 'InvalidRange') return { body: Readable.from([]), from: 0, alignFirst: false };
    throw e;
  }
  let from = 0;
  let alignFirst = false;
  const cr = /^bytes (\d+)-\d+\/(\d+)$/.exec(out.ContentRange ?? '');
  if (range && cr) {
    from = Number(cr[1]);
    const size = Number(cr[2]);
    // The first byte read is the one before the scan range: it tells whether a record starts at the range's start.
    alignFirst = scan?.start !== undefined ? true : Math.max(0, size - (scan?.end ?? 0)) > 0;
  }
  const body = out.Body as unknown;
  const stream = body instanceof Uint8Array ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]) : (body as Readable);
  return { body: stream, from, alignFirst };
}

/** The CSV header of an object read from a scan range that starts past it: the object's first record. */
async function readHeader(s3: S3, input: SelectObjectContentRequest, ctx: RequestContext, csv: CsvOptions): Promise<string[] | undefined> {
  const out = await getObject(s3, { Bucket: input.Bucket, Key: input.Key, SSECustomerAlgorithm: input.SSECustomerAlgorithm, SSECustomerKey: input.SSECustomerKey, SSECustomerKeyMD5: input.SSECustomerKeyMD5, Range: 'bytes=0-1048575' }, ctx);
  const body = out.Body as unknown;
  const chunks: AsyncIterable<Buffer> = body instanceof Uint8Array ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]) : (body as Readable);
  const reader = new CsvReader(csv);
  for await (const chunk of chunks) {
    for (const r of reader.push(chunk, false)) return r.value;
  }
  for (const r of reader.push(Buffer.alloc(0), true)) return r.value;
  return undefined;
}

export async function selectObjectContent(s3: S3, input: SelectObjectContentRequest, ctx: RequestContext): Promise<unknown> {
  const plan = planSelect(input);
  const source = await openSource(s3, input, ctx, plan);
  let header: string[] | undefined;
  if (plan.input.kind === 'csv' && plan.input.header !== 'NONE' && source.from > 0) header = await readHeader(s3, input, ctx, plan.input.csv);
  return rawResponse(
    (): HttpResponse => ({
      status: 200,
      headers: { 'x-amz-request-id': ctx.requestId, 'x-amz-id-2': s3HostId() },
      body: selectEvents(plan, source, header, ctx),
    }),
  );
}

function columnName(e: Query['items'] extends (infer I)[] | undefined ? I : never, i: number): string {
  if (e.alias !== undefined) return e.alias;
  if (e.e.k === 'path') {
    const last = e.e.steps[e.e.steps.length - 1];
    if (last && 'name' in last) return last.name;
  }
  return `_${i + 1}`;
}

/** FROM S3Object[*].a[*]: the rows one record stands for. */
function expand(v: Value, steps: Step[]): Value[] {
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

export async function* selectEvents(plan: Plan, source: Source, headerFromStart: string[] | undefined, ctx: RequestContext): AsyncGenerator<Uint8Array> {
  const c: Counters = { scanned: 0, processed: 0, returned: 0 };
  const q = plan.query;
  const env: EvalEnv = { now: ctx.clock.now() };
  const write = serializer(plan.output);
  const agg = q.aggs.length > 0 ? new Aggregates(q) : undefined;
  const names = q.items?.map((it, i) => columnName(it, i));
  let batch: string[] = [];
  let batchBytes = 0;
  let emitted = 0;
  let lastEvent = Date.now();
  const limit = q.limit;
  const endAt = plan.scan?.end !== undefined && plan.scan.start !== undefined ? plan.scan.end : undefined;

  let reader: RecordReader<string[] | Value>;
  let header: CsvHeader | undefined = headerFromStart ? csvHeader(headerFromStart) : undefined;
  let firstCsv = plan.input.kind === 'csv' && plan.input.header !== 'NONE' && !headerFromStart;
  if (plan.input.kind === 'csv') reader = new CsvReader(plan.input.csv);
  else reader = plan.input.lines ? new JsonLinesReader() : new JsonDocumentReader();
  if (source.alignFirst) reader = aligned(reader, plan.input.kind === 'csv' ? plan.input.csv.recordDelimiter : Buffer.from('\n'));
  const useHeader = plan.input.kind === 'csv' && plan.input.header === 'USE';

  const flush = function* () {
    if (batchBytes === 0) return;
    const payload = Buffer.from(batch.join(''), 'utf8');
    c.returned += payload.length;
    batch = [];
    batchBytes = 0;
    yield recordsEvent(payload);
    if (plan.progress) yield progressEvent(c);
    lastEvent = Date.now();
  };
  const emit = (row: Row): boolean => {
    const s = write(row);
    batch.push(s);
    batchBytes += s.length;
    emitted++;
    return limit !== undefined && emitted >= limit;
  };
  const project = (rec: Rec): Row => {
    if (names && q.items) return { names, values: q.items.map((it) => evaluate(it.e, rec, env)) };
    if ('csv' in rec) return { names: rec.csv.map((_, i) => header?.names[i] ?? `_${i + 1}`), values: rec.csv };
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

  try {
    let done = limit === 0;
    if (!done) {
      outer: for await (const chunk of decompressed(source.body, plan.gzip, c)) {
        for (const r of reader.push(chunk, false)) {
          if (endAt !== undefined && source.from + r.start > endAt) {
            done = true;
            break outer;
          }
          if (handle(r.value)) {
            done = true;
            break outer;
          }
          if (batchBytes >= BATCH_BYTES) yield* flush();
        }
        if (Date.now() - lastEvent >= KEEPALIVE_MS) {
          yield plan.progress ? progressEvent(c) : contEvent();
          lastEvent = Date.now();
        }
      }
      if (!done) {
        for (const r of reader.push(Buffer.alloc(0), true)) {
          if (endAt !== undefined && source.from + r.start > endAt) break;
          if (handle(r.value)) break;
          if (batchBytes >= BATCH_BYTES) yield* flush();
        }
      }
    }
    if (agg) {
      env.aggValues = agg.values();
      if (limit !== 0) emit({ names: names ?? [], values: (q.items ?? []).map((it) => evaluate(it.e, { json: null }, env)) });
    }
    const before = batchBytes;
    yield* flush();
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
  }

  function handle(value: string[] | Value): boolean {
    if (plan.input.kind === 'csv') {
      const fields = value as string[];
      if (firstCsv) {
        firstCsv = false;
        if (useHeader) header = csvHeader(fields);
        return false;
      }
      return take({ csv: fields, header });
    }
    for (const row of expand(value, q.from)) if (take({ json: row })) return true;
    return false;
  }
}
