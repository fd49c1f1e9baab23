/**
 * Record format conversion, JSON → Apache Parquet (hyparquet-writer). AWS
 * reads the schema from a Glue table; hanul has no Glue, so the table is
 * given inline: SchemaConfiguration.DatabaseName `hanul-inline` and TableName
 * a Hive column list without spaces, `id:bigint,level:string,ts:timestamp`.
 * Types: string/varchar/char, tinyint/smallint/int, bigint, float, double,
 * boolean, timestamp. Input is read as the OpenX JSON SerDe reads it (keys
 * case-insensitive unless CaseInsensitive is false, ColumnToJsonKeyMappings,
 * ConvertDotsInJsonKeysToUnderscores) or the Hive JSON SerDe (exact keys). A
 * missing key is null; a record that is not a JSON object or holds a value
 * the column type cannot take fails to `format-conversion-failed`. ORC
 * output is refused at create/update.
 */
import { gzipSync } from 'node:zlib';
import type { DataFormatConversionConfiguration } from '@aws-sdk/client-firehose';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { firehoseError } from './errors.js';

export const INLINE_DATABASE = 'hanul-inline';

type ColType = 'STRING' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';
const TYPES: Record<string, ColType> = {
  string: 'STRING', varchar: 'STRING', char: 'STRING',
  tinyint: 'INT32', smallint: 'INT32', int: 'INT32', integer: 'INT32',
  bigint: 'INT64', float: 'FLOAT', double: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP',
};

export interface Column {
  name: string;
  type: ColType;
}

function bad(msg: string): never {
  throw firehoseError('InvalidArgumentException', msg);
}

export function parseColumns(table: string): Column[] {
  const cols: Column[] = [];
  for (const part of table.split(',')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*):([a-z]+)(?:\(\d+\))?$/.exec(part);
    const type = m ? TYPES[m[2] as string] : undefined;
    if (!m || !type) bad(`SchemaConfiguration.TableName '${table}': each column is name:type with type one of ${Object.keys(TYPES).join(', ')} (hanul takes the table inline, there is no Glue).`);
    if (cols.some((c) => c.name.toLowerCase() === (m[1] as string).toLowerCase())) bad(`SchemaConfiguration.TableName '${table}': column ${m[1]} is repeated.`);
    cols.push({ name: m[1] as string, type });
  }
  return cols;
}

/** CreateDeliveryStream / UpdateDestination checks. */
export function checkConversion(c: DataFormatConversionConfiguration | undefined, compression: string | undefined): void {
  if (!c || c.Enabled === false) return;
  const ser = c.OutputFormatConfiguration?.Serializer;
  if (ser?.OrcSerDe) bad('ORC output (OrcSerDe) is not supported by hanul; use ParquetSerDe.');
  if (!ser?.ParquetSerDe) bad('OutputFormatConfiguration.Serializer must specify ParquetSerDe.');
  const de = c.InputFormatConfiguration?.Deserializer;
  if (!de?.OpenXJsonSerDe && !de?.HiveJsonSerDe) bad('InputFormatConfiguration.Deserializer must specify OpenXJsonSerDe or HiveJsonSerDe.');
  const sc = c.SchemaConfiguration;
  if (sc?.DatabaseName !== INLINE_DATABASE || !sc.TableName) bad(`SchemaConfiguration must name DatabaseName '${INLINE_DATABASE}' and give the columns inline in TableName, e.g. 'id:bigint,level:string' (hanul has no Glue Data Catalog).`);
  parseColumns(sc.TableName);
  if (compression !== undefined && compression !== 'UNCOMPRESSED') bad('CompressionFormat must be UNCOMPRESSED when record format conversion is enabled; set ParquetSerDe.Compression instead.');
}

function convert(v: unknown, t: ColType): unknown {
  if (v === null || v === undefined) return null;
  switch (t) {
    case 'STRING':
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      break;
    case 'INT32':
    case 'INT64': {
      const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
      if (typeof n === 'number' && Number.isInteger(n)) {
        if (t === 'INT32' && (n < -(2 ** 31) || n >= 2 ** 31)) break;
        return t === 'INT64' ? BigInt(n) : n;
      }
      break;
    }
    case 'FLOAT':
    case 'DOUBLE': {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n === 'number' && !Number.isNaN(n)) return n;
      break;
    }
    case 'TIMESTAMP': {
      // Epoch seconds or milliseconds, or a date-time string.
      const ms = typeof v === 'number' ? (Math.abs(v) < 1e11 ? v * 1000 : v) : typeof v === 'string' ? Date.parse(v) : NaN;
      if (!Number.isNaN(ms)) return new Date(ms);
      break;
    }
  }
  throw new Error(`The value ${JSON.stringify(v)} cannot be converted to ${t}.`);
}

export interface Converted {
  /** The Parquet file, when any record converted. */
  file?: Buffer;
  /** Indexes of records that did not fit the schema, with the reason. */
  failed: Array<{ index: number; message: string }>;
}

export function toParquet(c: DataFormatConversionConfiguration, datas: Uint8Array[]): Converted {
  const cols = parseColumns(c.SchemaConfiguration?.TableName ?? '');
  const openx = c.InputFormatConfiguration?.Deserializer?.OpenXJsonSerDe;
  const caseInsensitive = openx ? openx.CaseInsensitive !== false : false;
  const dots = openx?.ConvertDotsInJsonKeysToUnderscores === true;
  const mapping = openx?.ColumnToJsonKeyMappings ?? {};
  const data: unknown[][] = cols.map(() => []);
  const failed: Converted['failed'] = [];
  for (const [index, d] of datas.entries()) {
    try {
      const doc = JSON.parse(Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString()) as unknown;
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('The record is not a JSON object.');
      const fields = new Map<string, unknown>();
      for (const [k, v] of Object.entries(doc)) {
        let key = dots ? k.replace(/\./g, '_') : k;
        if (caseInsensitive) key = key.toLowerCase();
        if (!fields.has(key)) fields.set(key, v);
      }
      const row = cols.map((col) => {
        const jsonKey = mapping[col.name] ?? col.name;
        return convert(fields.get(caseInsensitive ? jsonKey.toLowerCase() : jsonKey), col.type);
      });
      for (const [i, v] of row.entries()) (data[i] as unknown[]).push(v);
    } catch (e) {
      failed.push({ index, message: e instanceof Error ? e.message : String(e) });
    }
  }
  if ((data[0]?.length ?? 0) === 0) return { failed };
  const ser = c.OutputFormatConfiguration?.Serializer?.ParquetSerDe ?? {};
  const codec = ser.Compression ?? 'SNAPPY';
  const file = parquetWriteBuffer({
    columnData: cols.map((col, i) => ({ name: col.name, type: col.type, data: data[i] as never, nullable: true })),
    codec,
    compressors: { GZIP: (input: Uint8Array) => gzipSync(input) },
    ...(ser.PageSizeBytes ? { pageSize: ser.PageSizeBytes } : {}),
    createdBy: 'hanul firehose',
  });
  return { file: Buffer.from(file), failed };
}
