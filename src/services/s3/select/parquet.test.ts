/**
 * S3 Select over Parquet, below the wire: the AsyncBuffer over ranged reads
 * (tail kept, other slices read and counted), the Parquet → S3 Select type
 * mapping, the columns a query reads, row groups chosen by scan range, the
 * codec / type / row-group-size refusals, and records read from real files
 * written by hyparquet-writer (only the needed column chunks are fetched).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { isAwsError } from '../../../aws/errors.js';
import type { Counters } from './output.js';
import { checkTypes, openParquet, parquetRecords, parquetValue, planRowGroups, queryColumns, RangedObject, resolveColumns, rowGroupStart, unsupportedReason, type ParquetSource } from './parquet.js';
import { parseSelect, type Value } from './sql.js';

const counters = (): Counters => ({ scanned: 0, processed: 0, returned: 0 });

async function code(f: () => unknown): Promise<string> {
  try {
    await f();
    return 'no error';
  } catch (e) {
    return isAwsError(e) ? e.code : `not an AwsError: ${(e as Error).message}`;
  }
}

/** A RangedObject over `bytes` whose ranged reads are recorded. */
function ranged(bytes: Buffer, tailBytes: number, c = counters()) {
  const reads: Array<[number, number]> = [];
  const tail = bytes.subarray(Math.max(0, bytes.length - tailBytes));
  const file = new RangedObject(bytes.length, tail, async (s, e) => {
    reads.push([s, e]);
    return bytes.subarray(s, e);
  }, c);
  return { file, reads, c };
}

function multiGroupFile(): Buffer {
  const n = 3000;
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Array.from({ length: n }, (_, i) => i), type: 'INT32' },
        { name: 'pad', data: Array.from({ length: n }, (_, i) => `${i}-${'p'.repeat(80)}-${i * 7919}`), type: 'STRING' },
      ],
      rowGroupSize: 1000,
    }),
  );
}

describe('S3 Select Parquet: the AsyncBuffer over ranged reads', () => {
  it('serves the tail from memory, reads the rest by range and counts it', async () => {
    const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    const { file, reads, c } = ranged(bytes, 30);
    assert.equal(file.byteLength, 100);
    assert.deepEqual([...new Uint8Array(await file.slice(80, 90))], [80, 81, 82, 83, 84, 85, 86, 87, 88, 89]);
    assert.deepEqual(reads, []);
    assert.deepEqual([...new Uint8Array(await file.slice(10, 13))], [10, 11, 12]);
    // A slice across the tail's start reads only the part before it.
    assert.deepEqual([...new Uint8Array(await file.slice(65, 75))], [65, 66, 67, 68, 69, 70, 71, 72, 73, 74]);
    assert.deepEqual(reads, [
      [10, 13],
      [65, 70],
    ]);
    assert.equal(c.scanned, 3 + 5);
    assert.equal((await file.slice(5, 5)).byteLength, 0);
    assert.equal((await file.slice(95)).byteLength, 5);
  });

  it('a short read (the object shrank) is ParquetParsingError', async () => {
    const file = new RangedObject(100, Buffer.alloc(10), async () => Buffer.alloc(3), counters());
    assert.equal(await code(() => file.slice(0, 50)), 'ParquetParsingError');
  });

  it('a body that is not Parquet is ParquetParsingError', async () => {
    const csv = Buffer.from('id,name\n1,ann\n');
    assert.equal(await code(() => openParquet(ranged(csv, 64).file)), 'ParquetParsingError');
    assert.equal(await code(() => openParquet(ranged(Buffer.from('PAR1'), 64).file)), 'ParquetParsingError');
  });
});

describe('S3 Select Parquet: types', () => {
  it('maps decoded values to S3 Select values', () => {
    const d = new Date('2024-01-02T03:04:05.678Z');
    assert.equal(parquetValue(42n), 42);
    assert.equal(parquetValue(-7n), -7);
    assert.equal(parquetValue(1.5), 1.5);
    assert.equal(parquetValue('x'), 'x');
    assert.equal(parquetValue(false), false);
    assert.equal(parquetValue(null), null);
    assert.equal(parquetValue(undefined), null);
    assert.equal(parquetValue(d), d);
    assert.deepEqual(parquetValue([1n, null, 'a']), [1, null, 'a']);
    assert.deepEqual(parquetValue(new Int32Array([1, 2])), [1, 2]);
    assert.deepEqual(parquetValue({ a: { b: [2n] }, t: d }), { a: { b: [2] }, t: d });
    assert.throws(() => parquetValue(new Uint8Array([1])), (e: unknown) => isAwsError(e) && e.code === 'UnsupportedParquetType');
    assert.throws(() => parquetValue(new Date(NaN)), (e: unknown) => isAwsError(e) && e.code === 'ParquetParsingError');
  });

  it('knows the Parquet types S3 Select cannot read', () => {
    const el = (e: Partial<SchemaElement>): SchemaElement => ({ name: 'c', ...e });
    assert.equal(unsupportedReason(el({ type: 'INT32' })), undefined);
    assert.equal(unsupportedReason(el({ type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' } })), undefined);
    assert.equal(unsupportedReason(el({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 8, converted_type: 'DECIMAL', scale: 2, precision: 18 })), undefined);
    assert.equal(unsupportedReason(el({ type: 'BYTE_ARRAY', converted_type: 'ENUM' })), undefined);
    assert.match(unsupportedReason(el({ type: 'INT96' })) ?? '', /INT96/);
    assert.equal(unsupportedReason(el({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } })), 'UUID');
    assert.equal(unsupportedReason(el({ type: 'INT32', converted_type: 'TIME_MILLIS' })), 'TIME_MILLIS');
    assert.equal(unsupportedReason(el({ type: 'BYTE_ARRAY', converted_type: 'JSON' })), 'JSON');
    assert.match(unsupportedReason(el({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 4 })) ?? '', /FIXED_LEN_BYTE_ARRAY/);
  });
});

describe('S3 Select Parquet: the columns a query reads', () => {
  const cols = (sql: string) => queryColumns(parseSelect(sql))?.map((c) => (c.quoted ? `"${c.name}"` : c.name));
  it('collects the first step of every path; whole records need every column', () => {
    assert.deepEqual(cols('SELECT s.a, UPPER(s."B") FROM S3Object s WHERE s.c.d > 1 AND x IS NOT NULL'), ['a', '"B"', 'c', 'x']);
    assert.deepEqual(cols('SELECT COUNT(*) FROM S3Object'), []);
    assert.deepEqual(cols('SELECT SUM(s.n), MAX(s.t) FROM S3Object s LIMIT 1'), ['n', 't']);
    assert.equal(cols('SELECT * FROM S3Object'), undefined);
    assert.equal(cols('SELECT s FROM S3Object s'), undefined);
    assert.equal(cols('SELECT r.id FROM S3Object[*].rules[*] r'), undefined);
  });

  it('matches unquoted names case-insensitively, quoted exactly, in schema order', async () => {
    const buf = Buffer.from(parquetWriteBuffer({ columnData: [
      { name: 'Id', data: [1], type: 'INT32' },
      { name: 'name', data: ['a'], type: 'STRING' },
      { name: 'City', data: ['b'], type: 'STRING' },
    ] }));
    const src = await openParquet(ranged(buf, 1 << 16).file);
    const q = (sql: string) => resolveColumns(src.schema, queryColumns(parseSelect(sql)));
    assert.deepEqual(q('SELECT s.city, s.ID FROM S3Object s'), ['Id', 'City']);
    assert.deepEqual(q('SELECT s."city" FROM S3Object s'), []);
    assert.deepEqual(q('SELECT s."City" FROM S3Object s'), ['City']);
    assert.deepEqual(q('SELECT * FROM S3Object'), ['Id', 'name', 'City']);
  });
});

describe('S3 Select Parquet: reading records', () => {
  it('reads only the chosen columns, row group by row group', async () => {
    const bytes = multiGroupFile();
    const { file, reads, c } = ranged(bytes, 4096);
    const src = await openParquet(file);
    assert.equal(src.metadata.row_groups.length, 3);
    const columns = resolveColumns(src.schema, queryColumns(parseSelect('SELECT s.id FROM S3Object s')));
    assert.deepEqual(columns, ['id']);
    const groups = planRowGroups(src, columns, undefined);
    assert.deepEqual(groups, [0, 1, 2]);
    let n = 0;
    let sum = 0;
    for await (const batch of parquetRecords(src, groups, columns, c)) {
      for (const r of batch) {
        assert.deepEqual(Object.keys(r as object), ['id']);
        sum += (r as { id: number }).id;
        n++;
      }
    }
    assert.equal(n, 3000);
    assert.equal(sum, (2999 * 3000) / 2);
    // Every read lies inside an `id` column chunk; the `pad` chunks are never fetched.
    const idChunks = src.metadata.row_groups.map((rg) => {
      const m = rg.columns[0]?.meta_data;
      const s = Number(m?.dictionary_page_offset || m?.data_page_offset);
      return [s, s + Number(m?.total_compressed_size)];
    });
    for (const [s, e] of reads) assert.ok(idChunks.some(([a, b]) => s >= (a as number) && e <= (b as number)), `read ${s}-${e} outside the id chunks`);
    assert.ok(c.scanned < bytes.length / 4, `scanned ${c.scanned} of ${bytes.length}`);
    assert.ok(c.processed > 0);
  });

  it('COUNT(*) reads no column data; a scan range picks the row groups that start in it', async () => {
    const bytes = multiGroupFile();
    const { file, reads, c } = ranged(bytes, 4096);
    const src = await openParquet(file);
    let n = 0;
    for await (const batch of parquetRecords(src, [0, 1, 2], [], c)) n += batch.length;
    assert.equal(n, 3000);
    assert.deepEqual(reads, []);
    const second = rowGroupStart(src.metadata, 1);
    const third = rowGroupStart(src.metadata, 2);
    assert.deepEqual(planRowGroups(src, [], { start: second, end: second }), [1]);
    assert.deepEqual(planRowGroups(src, [], { start: second - 1, end: third }), [1, 2]);
    assert.deepEqual(planRowGroups(src, [], { start: second + 1, end: third - 1 }), []);
    assert.deepEqual(planRowGroups(src, [], { start: third, end: undefined }), [2]);
    assert.deepEqual(planRowGroups(src, [], { start: undefined, end: bytes.length - third }), [2]);
  });

  it('maps DECIMAL, DATE, TIMESTAMP, INT64, LIST and structs; GZIP columns; refuses other codecs, types and oversized row groups', async () => {
    const schema: NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']> = [
      { name: 'root', num_children: 6 },
      { name: 'big', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'price', type: 'INT64', converted_type: 'DECIMAL', scale: 2, precision: 10, repetition_type: 'OPTIONAL' },
      { name: 'day', type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
      { name: 'at', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type: 'OPTIONAL' },
      { name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'addr', repetition_type: 'OPTIONAL', num_children: 1 },
      { name: 'city', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ];
    const buf = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'big', data: [9007199254740991n, -3n] },
          { name: 'price', data: [12.34, null] },
          { name: 'day', data: [new Date('2024-02-29T00:00:00Z'), null] },
          { name: 'at', data: [1700000000123456n, null] },
          { name: 'tags', data: [['a', 'b'], null] },
          { name: 'addr', data: [{ city: 'Oslo' }, null] },
        ],
        schema,
        codec: 'GZIP',
        compressors: { GZIP: (b: Uint8Array) => gzipSync(b) },
      }),
    );
    const src: ParquetSource = await openParquet(ranged(buf, 1 << 16).file);
    const columns = resolveColumns(src.schema, undefined);
    checkTypes(src.schema, columns);
    const rows: Value[] = [];
    for await (const batch of parquetRecords(src, planRowGroups(src, columns, undefined), columns, counters())) rows.push(...batch);
    assert.deepEqual(rows, [
      { big: 9007199254740991, price: 12.34, day: new Date('2024-02-29T00:00:00Z'), at: new Date(1700000000123), tags: ['a', 'b'], addr: { city: 'Oslo' } },
      { big: -3, price: null, day: null, at: null, tags: null, addr: null },
    ]);

    // Other codecs than GZIP and Snappy are refused for the columns read.
    const zstd = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'a', data: [1], type: 'INT32' }, { name: 'b', data: [1], type: 'INT32', codec: 'ZSTD' }], compressors: { ZSTD: (b: Uint8Array) => b } }));
    const zsrc = await openParquet(ranged(zstd, 1 << 16).file);
    assert.equal(await code(() => planRowGroups(zsrc, ['a', 'b'], undefined)), 'ParquetUnsupportedCompressionCodec');
    assert.equal(await code(() => planRowGroups(zsrc, ['a'], undefined)), 'no error');
    // UUID (and INT96, TIME, JSON…) columns are UnsupportedParquetType when the query reads them.
    const uuid = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'id', data: [1], type: 'INT32' }, { name: 'u', data: [new Uint8Array(16)], type: 'UUID' }] }));
    const usrc = await openParquet(ranged(uuid, 1 << 16).file);
    assert.equal(await code(() => checkTypes(usrc.schema, ['id', 'u'])), 'UnsupportedParquetType');
    assert.equal(await code(() => checkTypes(usrc.schema, ['id'])), 'no error');
    // Row groups above 512 MB uncompressed.
    const rg = src.metadata.row_groups[0];
    if (rg) rg.total_byte_size = 600n * 1024n * 1024n;
    assert.equal(await code(() => planRowGroups(src, columns, undefined)), 'OverMaxParquetBlockSize');
    // A small declared size over a row count that would decode to gigabytes (run-length encoded) is refused too.
    if (rg) {
      rg.total_byte_size = 1000n;
      rg.num_rows = 80_000_000n;
    }
    assert.equal(await code(() => planRowGroups(src, columns, undefined)), 'OverMaxParquetBlockSize');
    if (rg) rg.num_rows = 1_000_000n;
    assert.equal(await code(() => planRowGroups(src, ['big'], undefined)), 'no error');
  });

  it('columns of many pages (and a nested one) line up row by row', async () => {
    const n = 5000;
    const bytes = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'a', data: Array.from({ length: n }, (_, i) => i), type: 'INT32' },
          { name: 's', data: Array.from({ length: n }, (_, i) => `v${i}`), type: 'STRING' },
        ],
        pageSize: 512,
        rowGroupSize: n,
      }),
    );
    const src = await openParquet(ranged(bytes, 1 << 20).file);
    let i = 0;
    for await (const batch of parquetRecords(src, [0], ['a', 's'], counters())) {
      for (const r of batch) {
        assert.deepEqual(r, { a: i, s: `v${i}` });
        i++;
      }
    }
    assert.equal(i, n);
  });

  it('a corrupt column chunk is ParquetParsingError while reading', async () => {
    const bytes = multiGroupFile();
    const src0 = await openParquet(ranged(bytes, 4096).file);
    const m = src0.metadata.row_groups[1]?.columns[1]?.meta_data;
    const at = Number(m?.dictionary_page_offset || m?.data_page_offset);
    const bad = Buffer.from(bytes);
    bad.fill(0xff, at, at + 64);
    const src = await openParquet(ranged(bad, 4096).file);
    let n = 0;
    const err = await code(async () => {
      for await (const batch of parquetRecords(src, [0, 1, 2], ['id', 'pad'], counters())) n += batch.length;
    });
    assert.equal(err, 'ParquetParsingError');
    assert.equal(n, 1000);
  });
});
