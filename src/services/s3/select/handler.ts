/**
 * SelectObjectContent (S3 Select): the request is checked and the SQL parsed
 * before anything is sent, so those failures are ordinary S3 XML errors; the
 * object is then read through GetObject (versions, SSE-S3/KMS/C, archive
 * state, conditions all as a GET). CSV and JSON stream through (GZIP-inflated,
 * split into records); a Parquet object is opened by its footer before the
 * response starts (a file that is not Parquet is an XML error), then read row
 * group by row group through ranged GETs of the same version. run.ts
 * evaluates the query and frames the event stream.
 */
import { Readable } from 'node:stream';
import type { GetObjectOutput, SelectObjectContentRequest } from '@aws-sdk/client-s3';
import { isAwsError } from '../../../aws/errors.js';
import { rawResponse, type HttpResponse } from '../../../aws/http.js';
import { s3HostId } from '../../../lib/ids.js';
import type { RequestContext } from '../../../server/context.js';
import { s3Error } from '../errors.js';
import { getObject } from '../objects-get.js';
import type { S3 } from '../state.js';
import type { Rec } from './eval.js';
import type { Counters } from './output.js';
import { checkTypes, openParquet, parquetError, parquetRecords, planRowGroups, queryColumns, RangedObject, resolveColumns, TAIL_BYTES } from './parquet.js';
import { CsvReader, type CsvOptions } from './readers.js';
import { expand, runQuery, textRecords, type InputPlan, type Plan, type Source } from './run.js';
import { parseSelect, selectError } from './sql.js';

export type { Plan, Source } from './run.js';

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
  const comp = inS.CompressionType ?? 'NONE';
  // A Parquet file's columns carry their own compression; the whole object is never compressed.
  if (inS.Parquet !== undefined && comp !== 'NONE') throw badParam('CompressionType must be NONE for Parquet objects (S3 Select reads GZIP and Snappy compressed columns)');
  if (comp === 'BZIP2') throw s3Error('NotImplemented', 'S3 Select over BZIP2-compressed objects is not implemented in hanul yet; use GZIP or NONE');
  if (comp !== 'NONE' && comp !== 'GZIP') throw selectError('InvalidCompressionFormat', 'The file is not in a supported compression format. Only GZIP and BZIP2 are supported.');
  let inputPlan: InputPlan;
  if (inS.Parquet !== undefined) {
    inputPlan = { kind: 'parquet' };
  } else if (inS.CSV) {
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
      throw selectError('UnsupportedScanRangeInput', 'Scan range queries are not supported on this type of object: only Parquet, uncompressed CSV and uncompressed JSON LINES objects can be scanned by range.');
    }
    scan = { start, end };
  }
  return { query: parseSelect(input.Expression), input: inputPlan, gzip: comp === 'GZIP', output, progress: input.RequestProgress?.Enabled === true, scan };
}

/** The object a select reads, as GetObject names it (with the SSE-C key if given). */
function objectOf(input: SelectObjectContentRequest) {
  return {
    Bucket: input.Bucket,
    Key: input.Key,
    SSECustomerAlgorithm: input.SSECustomerAlgorithm,
    SSECustomerKey: input.SSECustomerKey,
    SSECustomerKeyMD5: input.SSECustomerKeyMD5,
  };
}

/** Opens the object (or the part of it a scan range reads) through GetObject. */
async function openSource(s3: S3, input: SelectObjectContentRequest, ctx: RequestContext, plan: Plan): Promise<Source> {
  const base = objectOf(input);
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
  const out = await getObject(s3, { ...objectOf(input), Range: 'bytes=0-1048575' }, ctx);
  const body = out.Body as unknown;
  const chunks: AsyncIterable<Buffer> = body instanceof Uint8Array ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]) : (body as Readable);
  const reader = new CsvReader(csv);
  for await (const chunk of chunks) {
    for (const r of reader.push(chunk, false)) return r.value;
  }
  for (const r of reader.push(Buffer.alloc(0), true)) return r.value;
  return undefined;
}

/** Collects a GetObject body (a ranged read of bounded size) into one buffer. */
async function bodyOf(out: GetObjectOutput): Promise<Buffer> {
  const body = out.Body as unknown;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const parts: Buffer[] = [];
  for await (const chunk of body as Readable) parts.push(chunk as Buffer);
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/**
 * Opens a Parquet object: its tail is read (telling the size and the version
 * read); every later ranged read asks for that same version (VersionId in a
 * versioned bucket, IfMatch its ETag), so a query never mixes two objects.
 */
async function openParquetObject(s3: S3, input: SelectObjectContentRequest, ctx: RequestContext, c: Counters): Promise<RangedObject> {
  const base = objectOf(input);
  let first: GetObjectOutput;
  try {
    first = await getObject(s3, { ...base, Range: `bytes=-${TAIL_BYTES}` }, ctx);
  } catch (e) {
    // An empty object has no footer.
    if (isAwsError(e) && e.code === 'InvalidRange') throw parquetError('the object is empty');
    throw e;
  }
  const tail = await bodyOf(first);
  const size = Number(/\/(\d+)$/.exec(first.ContentRange ?? '')?.[1] ?? tail.length);
  c.scanned += tail.length;
  const pin = { IfMatch: first.ETag, ...(first.VersionId !== undefined ? { VersionId: first.VersionId } : {}) };
  const read = async (start: number, end: number) => bodyOf(await getObject(s3, { ...base, ...pin, Range: `bytes=${start}-${end - 1}` }, ctx));
  return new RangedObject(size, tail, read, c);
}

/** The Parquet side of a query, prepared before the response starts: footer, columns, types, row groups. */
async function parquetSource(s3: S3, input: SelectObjectContentRequest, ctx: RequestContext, plan: Plan, c: Counters): Promise<AsyncIterable<Rec[]>> {
  const src = await openParquet(await openParquetObject(s3, input, ctx, c));
  const columns = resolveColumns(src.schema, queryColumns(plan.query));
  checkTypes(src.schema, columns);
  const groups = planRowGroups(src, columns, plan.scan);
  const from = plan.query.from;
  return (async function* () {
    for await (const rows of parquetRecords(src, groups, columns, c)) {
      yield from.length === 0 ? rows.map((json) => ({ json })) : rows.flatMap((row) => expand(row, from).map((json) => ({ json })));
    }
  })();
}

export async function selectObjectContent(s3: S3, input: SelectObjectContentRequest, ctx: RequestContext): Promise<unknown> {
  const plan = planSelect(input);
  const c: Counters = { scanned: 0, processed: 0, returned: 0 };
  let events: AsyncIterable<Uint8Array>;
  if (plan.input.kind === 'parquet') {
    events = runQuery(plan, await parquetSource(s3, input, ctx, plan, c), c, ctx);
  } else {
    const source = await openSource(s3, input, ctx, plan);
    let header: string[] | undefined;
    if (plan.input.kind === 'csv' && plan.input.header !== 'NONE' && source.from > 0) header = await readHeader(s3, input, ctx, plan.input.csv);
    events = runQuery(plan, textRecords(plan, source, header, c), c, ctx);
  }
  return rawResponse(
    (): HttpResponse => ({
      status: 200,
      headers: { 'x-amz-request-id': ctx.requestId, 'x-amz-id-2': s3HostId() },
      body: events,
    }),
  );
}

/** The event stream of a CSV or JSON query over `source` (the unit tests' entry). */
export function selectEvents(plan: Plan, source: Source, headerFromStart: string[] | undefined, ctx: RequestContext): AsyncGenerator<Uint8Array> {
  const c: Counters = { scanned: 0, processed: 0, returned: 0 };
  return runQuery(plan, textRecords(plan, source, headerFromStart, c), c, ctx);
}
