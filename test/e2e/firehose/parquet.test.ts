/**
 * Record format conversion JSON → Parquet with the table given inline
 * (DatabaseName 'hanul-inline', TableName 'name:type,…'), read back with
 * hyparquet; records that do not fit the schema go to the error prefix;
 * ORC and a non-UNCOMPRESSED CompressionFormat are refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import * as f from '@aws-sdk/client-firehose';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { clients, createDeliveryRole, listKeys, readAll, readObject, s3Dest, waitActive } from './helpers.js';

const conversion = (serializer: f.Serializer, table = 'id:bigint,Level:string,score:double,ok:boolean,ts:timestamp'): f.DataFormatConversionConfiguration => ({
  Enabled: true,
  SchemaConfiguration: { DatabaseName: 'hanul-inline', TableName: table, RoleARN: 'arn:aws:iam::000000000000:role/firehose-delivery' },
  InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: { ColumnToJsonKeyMappings: { score: 'the.score' } } } },
  OutputFormatConfiguration: { Serializer: serializer },
});

describe('Firehose record format conversion (Parquet)', () => {
  let server: TestServer;
  let c: ReturnType<typeof clients>;
  before(async () => {
    server = await startHanul();
    c = clients(server);
    await createDeliveryRole(server.clientConfig);
    await c.s3.send(new CreateBucketCommand({ Bucket: 'pq-out' }));
  });
  after(async () => {
    await server.stop();
  });

  it('writes .parquet objects a Parquet reader reads back; misfits go to format-conversion-failed', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({
      DeliveryStreamName: 'pq',
      ExtendedS3DestinationConfiguration: s3Dest('pq-out', { Prefix: 'data/', ErrorOutputPrefix: 'err/', DataFormatConversionConfiguration: conversion({ ParquetSerDe: { Compression: 'GZIP' } }) }),
    }));
    await waitActive(c.firehose, 'pq');
    const good = [
      { id: 1, level: 'info', 'the.score': 1.5, ok: true, ts: 1_700_000_000 },
      { ID: '2', LEVEL: 'warn', ok: 'false', ts: '2024-01-02T03:04:05Z' },
    ];
    const badRecs = ['not json', JSON.stringify({ id: 'three', level: 'x' }), '[1,2]'];
    await c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'pq', Records: [...good.map((g) => JSON.stringify(g)), ...badRecs].map((r) => ({ Data: Buffer.from(r) })) }));
    const keys = await waitFor(async () => {
      const k = await listKeys(c.s3, 'pq-out');
      return k.some((x) => x.startsWith('data/')) && k.some((x) => x.startsWith('err/')) ? k : undefined;
    }, { what: 'parquet and error objects' });
    const key = keys.find((k) => k.startsWith('data/')) as string;
    assert.match(key, /^data\/\d{4}\/\d\d\/\d\d\/\d\d\/pq-1-[0-9-]+-[0-9a-f-]{36}\.parquet$/);
    const body = await readObject(c.s3, 'pq-out', key);
    const file = new Uint8Array(body).buffer;
    assert.equal(body.subarray(0, 4).toString(), 'PAR1');
    const meta = parquetMetadata(file);
    assert.deepEqual(meta.schema.slice(1).map((s) => s.name), ['id', 'Level', 'score', 'ok', 'ts']);
    assert.ok(meta.row_groups[0]?.columns.every((col) => col.meta_data?.codec === 'GZIP'));
    const rows = await parquetReadObjects({ file, compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) } });
    assert.deepEqual(rows.map((r) => [r['id'], r['Level'], r['score'], r['ok']]), [[1n, 'info', 1.5, true], [2n, 'warn', null, false]]);
    assert.equal((rows[0]?.['ts'] as Date).getTime(), 1_700_000_000_000);
    assert.equal((rows[1]?.['ts'] as Date).toISOString(), '2024-01-02T03:04:05.000Z');
    const errs = (await readAll(c.s3, 'pq-out', 'err/')).trim().split('\n').map((l) => JSON.parse(l) as { rawData: string; errorCode: string });
    assert.deepEqual(errs.map((e) => Buffer.from(e.rawData, 'base64').toString()).sort(), [...badRecs].sort());
    assert.ok(keys.filter((k) => k.startsWith('err/')).every((k) => k.startsWith('err/format-conversion-failed/')));
  });

  it('refuses ORC, a Glue table, and compression outside the Parquet file', async () => {
    const create = (conf: Partial<f.ExtendedS3DestinationConfiguration>) => c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'pq-bad', ExtendedS3DestinationConfiguration: s3Dest('pq-out', conf) }));
    const invalid = (re: RegExp) => (e: Error) => e.name === 'InvalidArgumentException' && re.test(e.message);
    await assert.rejects(create({ DataFormatConversionConfiguration: conversion({ OrcSerDe: {} }) }), invalid(/ORC .*not supported/));
    await assert.rejects(create({ DataFormatConversionConfiguration: { ...conversion({ ParquetSerDe: {} }), SchemaConfiguration: { DatabaseName: 'glue_db', TableName: 'logs' } } }), invalid(/hanul-inline/));
    await assert.rejects(create({ DataFormatConversionConfiguration: conversion({ ParquetSerDe: {} }, 'id:uuid') }), invalid(/TableName/));
    await assert.rejects(create({ CompressionFormat: 'GZIP', DataFormatConversionConfiguration: conversion({ ParquetSerDe: {} }) }), invalid(/UNCOMPRESSED/));
  });
});
