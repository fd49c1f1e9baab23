/**
 * S3 Select over Apache Parquet objects, read with hyparquet. The object is
 * never read whole: its tail (the footer) is read once, then, row group by
 * row group, only the column chunks of the columns the SQL names, each
 * through a ranged GetObject (so SSE, versions and conditions apply as for
 * any read). As AWS documents: columns compressed with GZIP or Snappy (or
 * none), row groups of at most 512 MB uncompressed, the Parquet types S3
 * Select maps (ints, floats, DECIMAL, STRING/ENUM, BOOLEAN, DATE, TIMESTAMP
 * MILLIS/MICROS/NANOS, LIST, structs and maps as nested values); INT96
 * timestamps, INTERVAL, TIME, UUID, JSON and BSON are UnsupportedParquetType.
 * With a ScanRange, the row groups that start inside it are processed.
 */
import { gunzipSync } from 'node:zlib';
import { parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type ColumnData, type Compressors, type FileMetaData, type SchemaElement, type SchemaTree } from 'hyparquet';
import { isAwsError } from '../../../aws/errors.js';
import type { Counters } from './output.js';
import { selectError, subExprs, type Expr, type Query, type Value } from './sql.js';

/** AWS: "The maximum uncompressed row group size is 512 MB." */
export const MAX_ROW_GROUP_BYTES = 512 * 1024 * 1024;
/**
 * The values of one row group a query may decode (rows × columns read): 512 MB of 8-byte values. A row
 * group's declared byte size can be tiny while it holds millions of run-length-encoded rows (a
 * "Parquet bomb" that decodes to gigabytes of JavaScript values), so its row count is bounded too.
 */
export const MAX_ROW_GROUP_VALUES = MAX_ROW_GROUP_BYTES / 8;
/** How much of the object's end the first read takes: the footer of most files. */
export const TAIL_BYTES = 64 * 1024;
const ROWS_PER_BATCH = 1024;

/** Reads bytes [start, end) of the stored object. */
export type ReadRange = (start: number, end: number) => Promise<Buffer>;

export const parquetError = (detail?: string) =>
  selectError('ParquetParsingError', `An error occurred while parsing the Parquet file${detail ? ` (${detail})` : ''}. Check the file and try again.`);
const unsupportedType = (column: string, what: string) =>
  selectError('UnsupportedParquetType', `The specified Parquet type is not supported: column ${column} is ${what}.`);

/**
 * hyparquet's AsyncBuffer over ranged reads of the stored object. The tail
 * read when the object was opened serves every slice inside it; any other
 * slice is one ranged read, counted in BytesScanned.
 */
export class RangedObject implements AsyncBuffer {
  private readonly tailStart: number;

  constructor(
    readonly byteLength: number,
    private readonly tail: Buffer,
    private readonly read: ReadRange,
    private readonly c: Counters,
  ) {
    this.tailStart = byteLength - tail.length;
  }

  get tailLength(): number {
    return this.tail.length;
  }

  async slice(start: number, end: number = this.byteLength): Promise<ArrayBuffer> {
    const s = Math.max(0, start);
    const e = Math.min(end, this.byteLength);
    if (e <= s) return new ArrayBuffer(0);
    const parts: Buffer[] = [];
    if (s < this.tailStart) {
      const upTo = Math.min(e, this.tailStart);
      const b = await this.read(s, upTo);
      this.c.scanned += b.length;
      if (b.length !== upTo - s) throw parquetError('the object is shorter than its footer says');
      parts.push(b);
    }
    if (e > this.tailStart) parts.push(this.tail.subarray(Math.max(s, this.tailStart) - this.tailStart, e - this.tailStart));
    const b = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    const out = new ArrayBuffer(b.length);
    new Uint8Array(out).set(b);
    return out;
  }
}

export interface ParquetSource {
  file: RangedObject;
  metadata: FileMetaData;
  schema: SchemaTree;
}

/** Parses the footer (from the tail already read, or one more read when it is longer). */
export async function openParquet(file: RangedObject): Promise<ParquetSource> {
  try {
    const metadata = await parquetMetadataAsync(file, { initialFetchSize: file.tailLength, geoparquet: false });
    const schema = parquetSchema(metadata);
    for (const rg of metadata.row_groups) {
      for (const chunk of rg.columns) {
        const m = chunk.meta_data;
        if (!m || chunk.file_path) throw parquetError('a column chunk is missing or in another file');
        const start = Number(m.dictionary_page_offset || m.data_page_offset);
        if (start < 0 || start + Number(m.total_compressed_size) > file.byteLength) throw parquetError('a column chunk lies outside the object');
      }
    }
    return { file, metadata, schema };
  } catch (e) {
    if (isAwsError(e)) throw e;
    throw parquetError((e as Error).message);
  }
}

// ---------------------------------------------------------------- columns the query reads

export interface ColumnRef {
  name: string;
  quoted: boolean;
}

/** The top-level columns the query names (first step of every path); undefined when it needs whole records. */
export function queryColumns(q: Query): ColumnRef[] | undefined {
  if (q.items === undefined || q.from.length > 0) return undefined;
  const out: ColumnRef[] = [];
  let all = false;
  const walk = (e: Expr | undefined): void => {
    if (e === undefined || all) return;
    if (e.k !== 'path') return subExprs(e).forEach(walk);
    const first = e.steps[0];
    if (first === undefined || !('name' in first)) all = true;
    else out.push({ name: first.name, quoted: first.quoted });
  };
  for (const it of q.items) walk(it.e);
  walk(q.where);
  return all ? undefined : out;
}

/** The file's top-level column names the query reads, in schema order (unquoted names match case-insensitively, as the evaluator resolves them). */
export function resolveColumns(schema: SchemaTree, wanted: ColumnRef[] | undefined): string[] {
  const names = schema.children.map((c) => c.element.name);
  if (wanted === undefined) return names;
  return names.filter((n) => wanted.some((w) => (w.quoted ? w.name === n : w.name.toLowerCase() === n.toLowerCase())));
}

// ---------------------------------------------------------------- types

const UNSUPPORTED_CONVERTED = new Set(['INTERVAL', 'TIME_MILLIS', 'TIME_MICROS', 'JSON', 'BSON']);
const UNSUPPORTED_LOGICAL = new Set(['INTERVAL', 'TIME', 'UUID', 'JSON', 'BSON', 'VARIANT', 'GEOMETRY', 'GEOGRAPHY', 'FILE']);

/** Why S3 Select cannot read this schema element, if it cannot. */
export function unsupportedReason(el: SchemaElement): string | undefined {
  if (el.type === 'INT96') return 'INT96 (timestamps saved as INT96 are not supported)';
  if (el.converted_type && UNSUPPORTED_CONVERTED.has(el.converted_type)) return el.converted_type;
  if (el.logical_type && UNSUPPORTED_LOGICAL.has(el.logical_type.type)) return el.logical_type.type;
  if (el.type === 'FIXED_LEN_BYTE_ARRAY' && el.converted_type !== 'DECIMAL' && el.logical_type?.type !== 'DECIMAL' && el.logical_type?.type !== 'FLOAT16') {
    return 'FIXED_LEN_BYTE_ARRAY without a DECIMAL annotation';
  }
  return undefined;
}

/** Refuses, before anything is sent, columns of types S3 Select does not map. */
export function checkTypes(schema: SchemaTree, columns: string[]): void {
  const visit = (node: SchemaTree, top: string): void => {
    const why = unsupportedReason(node.element);
    if (why) throw unsupportedType(top, why);
    for (const c of node.children) visit(c, top);
  };
  for (const child of schema.children) if (columns.includes(child.element.name)) visit(child, child.element.name);
}

const CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', 'GZIP']);

/** The offset where a row group's first column chunk begins (where it "starts", for ScanRange). */
export function rowGroupStart(metadata: FileMetaData, g: number): number {
  const rg = metadata.row_groups[g];
  let min = Infinity;
  for (const chunk of rg?.columns ?? []) {
    const m = chunk.meta_data;
    if (m) min = Math.min(min, Number(m.dictionary_page_offset || m.data_page_offset));
  }
  return min;
}

/** The row groups a query reads: all, or those that start inside the scan range; their sizes and codecs checked. */
export function planRowGroups(src: ParquetSource, columns: string[], scan: { start: number | undefined; end: number | undefined } | undefined): number[] {
  const size = src.file.byteLength;
  let lo = 0;
  let hi = Infinity;
  if (scan) {
    if (scan.start !== undefined) {
      lo = scan.start;
      hi = scan.end ?? Infinity;
    } else if (scan.end !== undefined) {
      lo = Math.max(0, size - scan.end);
    }
  }
  const groups: number[] = [];
  src.metadata.row_groups.forEach((rg, g) => {
    const at = rowGroupStart(src.metadata, g);
    if (scan && !(at >= lo && at <= hi)) return;
    if (Number(rg.total_byte_size) > MAX_ROW_GROUP_BYTES) {
      throw selectError('OverMaxParquetBlockSize', `The Parquet file is above the max row group size: row group ${g} holds ${rg.total_byte_size} bytes uncompressed; the limit is 512 MB.`);
    }
    if (Number(rg.num_rows) * Math.max(1, columns.length) > MAX_ROW_GROUP_VALUES) {
      throw selectError('OverMaxParquetBlockSize', `The Parquet file is above the max row group size: row group ${g} holds ${rg.num_rows} rows of ${columns.length} columns to read; hanul decodes at most ${MAX_ROW_GROUP_VALUES} values of one row group.`);
    }
    for (const chunk of rg.columns) {
      const m = chunk.meta_data;
      if (m && columns.includes(m.path_in_schema[0] as string) && !CODECS.has(m.codec)) {
        throw selectError('ParquetUnsupportedCompressionCodec', `The specified Parquet compression codec is not supported: column ${m.path_in_schema.join('.')} is compressed with ${m.codec}; only GZIP and Snappy are.`);
      }
    }
    groups.push(g);
  });
  return groups;
}

/** A Parquet value (as hyparquet decodes it) as an S3 Select value. */
export function parquetValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw parquetError('a timestamp is out of range');
    return v;
  }
  if (Array.isArray(v)) return v.map(parquetValue);
  if (v instanceof Uint8Array) throw selectError('UnsupportedParquetType', 'The specified Parquet type is not supported: un-annotated binary values cannot be queried.');
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, parquetValue);
  if (typeof v === 'object') {
    const out: { [k: string]: Value } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = parquetValue(x);
    return out;
  }
  throw selectError('UnsupportedParquetType', `The specified Parquet type is not supported (${typeof v}).`);
}

/** Sets a row's member from a column's decoded chunks; rows are asked for in increasing order. */
function columnReader(name: string, chunks: ColumnData[]): (row: Record<string, unknown>, r: number) => void {
  chunks.sort((a, b) => a.rowStart - b.rowStart);
  let k = 0;
  return (row, r) => {
    while (k < chunks.length && (chunks[k] as ColumnData).rowEnd <= r) k++;
    const c = chunks[k];
    if (c === undefined || r < c.rowStart) throw parquetError(`column ${name} has no value for row ${r}`);
    row[name] = c.columnData[r - c.rowStart];
  };
}

/** A decoded row as an S3 Select record, converted in place (only values that are not already S3 Select values are touched). */
export function parquetRow(row: Record<string, unknown>): Value {
  for (const k in row) {
    const v = row[k];
    const t = typeof v;
    if (t === 'number' || t === 'string' || t === 'boolean' || v === null) continue;
    row[k] = parquetValue(v);
  }
  return row as Value;
}

/** AWS reads GZIP and Snappy columns; hyparquet decodes Snappy itself, node's zlib GZIP (bounded by the page's declared size). */
const compressors: Compressors = {
  GZIP: (input, outputLength) => gunzipSync(input, { maxOutputLength: Math.max(outputLength, 1) }),
};

/**
 * The records of the chosen row groups, a batch at a time: each a row object
 * of the selected columns. A row group's column chunks are read when it is
 * reached; BytesProcessed counts their uncompressed size.
 */
export async function* parquetRecords(src: ParquetSource, groups: number[], columns: string[], c: Counters): AsyncGenerator<Value[]> {
  const { metadata } = src;
  const starts: number[] = [];
  let at = 0;
  for (const rg of metadata.row_groups) {
    starts.push(at);
    at += Number(rg.num_rows);
  }
  c.processed += metadata.metadata_length;
  for (const g of groups) {
    const rg = metadata.row_groups[g];
    if (!rg) continue;
    const rows = Number(rg.num_rows);
    if (rows === 0) continue;
    if (columns.length === 0) {
      // COUNT(*) and constant selects need no column data.
      for (let i = 0; i < rows; i += ROWS_PER_BATCH) yield Array.from({ length: Math.min(ROWS_PER_BATCH, rows - i) }, () => ({}));
      continue;
    }
    for (const chunk of rg.columns) {
      const m = chunk.meta_data;
      if (m && columns.includes(m.path_in_schema[0] as string)) c.processed += Number(m.total_uncompressed_size);
    }
    const rowStart = starts[g] as number;
    // Column-oriented as hyparquet decodes it; rows are built a batch at a time.
    const chunks = new Map<string, ColumnData[]>(columns.map((n) => [n, []]));
    try {
      await parquetRead({ file: src.file, metadata, columns, rowStart, rowEnd: rowStart + rows, compressors, geoparquet: false, onChunk: (d) => chunks.get(d.columnName)?.push(d) });
    } catch (e) {
      if (isAwsError(e)) throw e;
      throw parquetError((e as Error).message);
    }
    const readers = columns.map((n) => columnReader(n, chunks.get(n) ?? []));
    for (let i = 0; i < rows; i += ROWS_PER_BATCH) {
      const batch: Value[] = [];
      for (let r = rowStart + i, end = Math.min(rowStart + rows, r + ROWS_PER_BATCH); r < end; r++) {
        const row: Record<string, unknown> = {};
        for (const read of readers) read(row, r);
        batch.push(parquetRow(row));
      }
      yield batch;
    }
  }
}
