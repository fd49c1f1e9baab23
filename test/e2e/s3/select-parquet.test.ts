/**
 * S3 Select over Parquet objects through the real SDK v3
 * (SelectObjectContentCommand, its Payload event stream iterated): files
 * written by hyparquet-writer with Snappy and GZIP column chunks; columns by
 * name, WHERE on ints, strings, booleans and timestamps, aggregates, LIMIT,
 * CSV and JSON output with nested values; a multi-row-group file of which
 * only the needed column chunks are read (BytesScanned) and a ScanRange picks
 * row groups; an SSE-KMS object; errors: a file that is not Parquet, a
 * corrupt column chunk, CompressionType GZIP with Parquet, an unsupported
 * type.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  SelectObjectContentCommand,
  type SelectObjectContentCommandInput,
} from '@aws-sdk/client-s3';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { collect, selectFixture } from './select-helpers.js';
import { failure, type TestServer } from '../../support/hanul.js';

const Bucket = 'select-parquet';
type WriteOptions = Parameters<typeof parquetWriteBuffer>[0];

const SCHEMA: NonNullable<WriteOptions['schema']> = [
  { name: 'root', num_children: 8 },
  { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
  { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'score', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  { name: 'active', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  { name: 'joined', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' },
  { name: 'price', type: 'INT64', converted_type: 'DECIMAL', scale: 2, precision: 12, repetition_type: 'OPTIONAL' },
  { name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'addr', repetition_type: 'OPTIONAL', num_children: 1 },
  { name: 'city', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
];

function people(codec: 'SNAPPY' | 'GZIP'): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: [1n, 2n, 3n, 4n] },
        { name: 'name', data: ['ann', 'bob', 'cy', null] },
        { name: 'score', data: [31.5, 25, 40, 12] },
        { name: 'active', data: [true, false, true, true] },
        { name: 'joined', data: [new Date('2021-03-01T10:00:00Z'), new Date('2022-07-15T00:00:00Z'), new Date('2023-01-02T08:30:00Z'), null] },
        { name: 'price', data: [9.99, 120.5, null, 3] },
        { name: 'tags', data: [['a', 'b'], [], null, ['c']] },
        { name: 'addr', data: [{ city: 'Oslo' }, { city: 'Rio, BR' }, { city: 'Oslo' }, null] },
      ],
      schema: SCHEMA,
      codec,
      ...(codec === 'GZIP' ? { compressors: { GZIP: (b: Uint8Array) => gzipSync(b) } } : {}),
    }),
  );
}

/** 3 row groups of 2,000 rows: a small int column beside a wide text one (pseudo-random, so it does not compress away). */
function multi(): Buffer {
  const n = 6000;
  let x = 12345;
  const noise = () => {
    let out = '';
    for (let i = 0; i < 12; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      out += x.toString(36);
    }
    return out;
  };
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'n', data: Array.from({ length: n }, (_, i) => i), type: 'INT32' },
        { name: 'text', data: Array.from({ length: n }, (_, i) => `row ${i} ${noise()}`), type: 'STRING' },
      ],
      rowGroupSize: 2000,
    }),
  );
}


describe('s3 e2e: S3 Select over Parquet with the SDK v3', () => {
  let server: TestServer;
  let s3: S3Client;
  const multiBytes = multi();
  const select = async (input: Partial<SelectObjectContentCommandInput>) => {
    const r = await s3.send(
      new SelectObjectContentCommand({
        Bucket,
        Key: 'people.parquet',
        ExpressionType: 'SQL',
        Expression: 'SELECT * FROM S3Object',
        InputSerialization: { Parquet: {} },
        OutputSerialization: { JSON: {} },
        ...input,
      }),
    );
    return collect(r.Payload);
  };

  before(async () => {
    let keyArn: string;
    ({ server, s3, keyArn } = await selectFixture(Bucket));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'people.parquet', Body: people('SNAPPY') }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'people-gzip.parquet', Body: people('GZIP') }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'multi.parquet', Body: multiBytes }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'kms.parquet', Body: people('SNAPPY'), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'not.parquet', Body: 'id,name\n1,ann\n' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'uuid.parquet', Body: Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'id', data: [1], type: 'INT32' }, { name: 'u', data: [new Uint8Array(16).fill(7)], type: 'UUID' }] })) }));
    // A column chunk of the second row group overwritten: the footer is fine, the data is not.
    const bad = Buffer.from(multiBytes);
    const m = parquetMetadata(bad).row_groups[1]?.columns[1]?.meta_data;
    const at = Number(m?.dictionary_page_offset || m?.data_page_offset);
    bad.fill(0xff, at, at + 64);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'corrupt.parquet', Body: bad }));
  });
  after(async () => {
    s3.destroy();
    await server.stop();
  });

  it('SELECT *: every Parquet type as JSON (nested values kept), then Stats and End', async () => {
    const r = await select({});
    assert.equal(
      r.records,
      [
        '{"id":1,"name":"ann","score":31.5,"active":true,"joined":"2021-03-01T10:00:00Z","price":9.99,"tags":["a","b"],"addr":{"city":"Oslo"}}',
        '{"id":2,"name":"bob","score":25,"active":false,"joined":"2022-07-15T00:00:00Z","price":120.5,"tags":[],"addr":{"city":"Rio, BR"}}',
        '{"id":3,"name":"cy","score":40,"active":true,"joined":"2023-01-02T08:30:00Z","price":null,"tags":null,"addr":{"city":"Oslo"}}',
        '{"id":4,"name":null,"score":12,"active":true,"joined":null,"price":3,"tags":["c"],"addr":null}',
        '',
      ].join('\n'),
    );
    assert.deepEqual(r.events.slice(-2), ['Stats', 'End']);
    assert.equal(r.stats?.BytesReturned, Buffer.byteLength(r.records));
    assert.ok((r.stats?.BytesScanned ?? 0) > 0 && (r.stats?.BytesProcessed ?? 0) > 0);
  });

  it('columns by name; WHERE on ints, strings, booleans, timestamps; CSV output', async () => {
    const ints = await select({ Expression: 'SELECT s.name, s.addr.city FROM S3Object s WHERE s.id > 1 AND s.id <= 3', OutputSerialization: { CSV: {} } });
    assert.equal(ints.records, 'bob,"Rio, BR"\ncy,Oslo\n');
    const strings = await select({ Expression: "SELECT s.id FROM S3Object s WHERE s.name LIKE '%n%' OR s.addr.city = 'Oslo'", OutputSerialization: { CSV: {} } });
    assert.equal(strings.records, '1\n3\n');
    const bools = await select({ Expression: 'SELECT s.ID AS n, s.tags[0] AS first FROM S3Object s WHERE s.active = true AND s.name IS NOT NULL' });
    assert.equal(bools.records, '{"n":1,"first":"a"}\n{"n":3}\n');
    const ts = await select({ Expression: "SELECT s.name, EXTRACT(YEAR FROM s.joined) AS y FROM S3Object s WHERE s.joined > CAST('2022-01-01T00:00:00Z' AS TIMESTAMP)", OutputSerialization: { CSV: {} } });
    assert.equal(ts.records, 'bob,2022\ncy,2023\n');
    const decimals = await select({ Expression: 'SELECT s.id, s.price * 2 AS twice FROM S3Object s WHERE s.price < 100' });
    assert.equal(decimals.records, '{"id":1,"twice":19.98}\n{"id":4,"twice":6}\n');
  });

  it('COUNT, SUM, AVG, MIN, MAX; LIMIT; GZIP-compressed column chunks read the same', async () => {
    for (const Key of ['people.parquet', 'people-gzip.parquet']) {
      const agg = await select({ Key, Expression: 'SELECT COUNT(*), SUM(s.score), AVG(s.id), MIN(s.joined), MAX(s.name) FROM S3Object s WHERE s.active', OutputSerialization: { CSV: {} } });
      assert.equal(agg.records, '3,83.5,2.6666666666666665,2021-03-01T10:00:00Z,cy\n', Key);
      const lim = await select({ Key, Expression: 'SELECT s.id FROM S3Object s LIMIT 2', OutputSerialization: { CSV: {} } });
      assert.equal(lim.records, '1\n2\n', Key);
    }
  });

  it('a multi-row-group file: only the needed column chunks are read; ScanRange picks the row groups that start in it', async () => {
    const size = multiBytes.length;
    const sum = await select({ Key: 'multi.parquet', Expression: 'SELECT COUNT(*), SUM(s.n) FROM S3Object s WHERE s.n >= 1000', OutputSerialization: { CSV: {} } });
    assert.equal(sum.records, `5000,${(5999 * 6000) / 2 - (999 * 1000) / 2}\n`);
    const scanned = sum.stats?.BytesScanned ?? 0;
    assert.ok(scanned > 0 && scanned < size / 4, `BytesScanned ${scanned} of a ${size}-byte object`);
    const wide = await select({ Key: 'multi.parquet', Expression: "SELECT COUNT(*) FROM S3Object s WHERE s.text LIKE 'row 4%'", OutputSerialization: { CSV: {} } });
    assert.equal(wide.records, '1111\n');
    assert.ok((wide.stats?.BytesScanned ?? 0) > size / 2, 'the text column is read when the query needs it');
    const count = await select({ Key: 'multi.parquet', Expression: 'SELECT COUNT(*) FROM S3Object', OutputSerialization: { CSV: {} } });
    assert.equal(count.records, '6000\n');
    assert.ok((count.stats?.BytesScanned ?? 0) < 70 * 1024, 'COUNT(*) reads the footer only');

    const meta = parquetMetadata(multiBytes);
    const start = (g: number) => {
      const m = meta.row_groups[g]?.columns[0]?.meta_data;
      return Number(m?.dictionary_page_offset || m?.data_page_offset);
    };
    const second = await select({ Key: 'multi.parquet', Expression: 'SELECT MIN(s.n), MAX(s.n), COUNT(*) FROM S3Object s', OutputSerialization: { CSV: {} }, ScanRange: { Start: start(1) - 10, End: start(1) + 10 } });
    assert.equal(second.records, '2000,3999,2000\n');
    const last = await select({ Key: 'multi.parquet', Expression: 'SELECT MIN(s.n), COUNT(*) FROM S3Object s', OutputSerialization: { CSV: {} }, ScanRange: { End: size - start(2) } });
    assert.equal(last.records, '4000,2000\n');
    const none = await select({ Key: 'multi.parquet', Expression: 'SELECT s.n FROM S3Object s', OutputSerialization: { CSV: {} }, ScanRange: { Start: start(2) + 1 } });
    assert.equal(none.records, '');
    assert.deepEqual(none.events.slice(-2), ['Stats', 'End']);
  });

  it('an SSE-KMS object, an SSE-C object (with its key), the current version in a versioned bucket', async () => {
    const r = await select({ Key: 'kms.parquet', Expression: "SELECT s.name FROM S3Object s WHERE s.addr.city = 'Oslo'", OutputSerialization: { CSV: {} } });
    assert.equal(r.records, 'ann\ncy\n');
    const key = randomBytes(32);
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
    await s3.send(new PutObjectCommand({ Bucket, Key: 'ssec.parquet', Body: multiBytes, ...ssec }));
    assert.equal((await select({ Key: 'ssec.parquet', Expression: 'SELECT MAX(s.n) FROM S3Object s', OutputSerialization: { CSV: {} }, ...ssec })).records, '5999\n');
    assert.equal((await failure(select({ Key: 'ssec.parquet' }))).name, 'InvalidRequest');
    await s3.send(new CreateBucketCommand({ Bucket: 'select-parquet-versions' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'select-parquet-versions', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'select-parquet-versions', Key: 'p.parquet', Body: people('GZIP') }));
    await s3.send(new PutObjectCommand({ Bucket: 'select-parquet-versions', Key: 'p.parquet', Body: multiBytes }));
    // Column chunks are read by range from the version whose footer was read.
    const v = await select({ Bucket: 'select-parquet-versions', Key: 'p.parquet', Expression: 'SELECT COUNT(*), SUM(s.n) FROM S3Object s', OutputSerialization: { CSV: {} } });
    assert.equal(v.records, `6000,${(5999 * 6000) / 2}\n`);
    assert.ok((v.stats?.BytesScanned ?? 0) > 64 * 1024);
  });

  it('errors: not Parquet, CompressionType with Parquet, unsupported types before the stream; a corrupt chunk in it', async () => {
    const notParquet = await failure(select({ Key: 'not.parquet' }));
    assert.equal(notParquet.name, 'ParquetParsingError');
    assert.equal(notParquet.status, 400);
    const gz = await failure(select({ InputSerialization: { Parquet: {}, CompressionType: 'GZIP' } }));
    assert.equal(gz.name, 'InvalidRequestParameter');
    assert.equal(gz.status, 400);
    const uuid = await failure(select({ Key: 'uuid.parquet' }));
    assert.equal(uuid.name, 'UnsupportedParquetType');
    assert.equal(uuid.status, 400);
    assert.equal((await select({ Key: 'uuid.parquet', Expression: 'SELECT s.id FROM S3Object s', OutputSerialization: { CSV: {} } })).records, '1\n');
    const missing = await failure(select({ Key: 'nope.parquet' }));
    assert.equal(missing.name, 'NoSuchKey');
    // The footer is sound, so the response starts; the damaged row group ends it with an error message.
    const corrupt = await failure(select({ Key: 'corrupt.parquet', Expression: 'SELECT s.text FROM S3Object s' }));
    assert.equal(corrupt.name, 'ParquetParsingError');
  });
});
