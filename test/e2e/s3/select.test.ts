/**
 * S3 Select through the real SDK v3 (SelectObjectContentCommand, whose event
 * stream the SDK parses): CSV with headers, JSON LINES and DOCUMENT, GZIP,
 * aggregates, LIMIT, ScanRange, an SSE-KMS object, SSE-C, errors before the
 * stream (bad SQL, NoSuchKey, AccessDenied) and during it (CastFailed), and
 * several MB in bounded Records events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  PutObjectCommand,
  S3Client,
  SelectObjectContentCommand,
  type SelectObjectContentCommandInput,
} from '@aws-sdk/client-s3';
import { doc, failure, userWith } from '../iam/helpers.js';
import { collect, selectFixture } from './select-helpers.js';
import type { TestServer } from '../../support/hanul.js';

const Bucket = 'select-e2e';
const CSV = 'id,name,city,score\n1,ann,Oslo,31\n2,bob,"Rio, BR",25\n3,cy,Oslo,40\n4,dee,Lima,12\n';
const LINES = '{"id":1,"name":"ann","addr":{"city":"Oslo"}}\n{"id":2,"name":"bob","addr":{"city":"Rio"}}\n{"id":3,"name":"cy"}\n';


describe('s3 e2e: S3 Select (SelectObjectContent) with the SDK v3', () => {
  let server: TestServer;
  let s3: S3Client;
  let keyArn: string;
  const select = async (input: Partial<SelectObjectContentCommandInput>, client = s3) => {
    const r = await client.send(
      new SelectObjectContentCommand({ Bucket, Key: 'people.csv', ExpressionType: 'SQL', Expression: 'SELECT * FROM S3Object', InputSerialization: { CSV: { FileHeaderInfo: 'USE' } }, OutputSerialization: { CSV: {} }, ...input }),
    );
    return collect(r.Payload);
  };

  before(async () => {
    ({ server, s3, keyArn } = await selectFixture(Bucket));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'people.csv', Body: CSV }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'people.jsonl', Body: LINES }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'rules.json', Body: JSON.stringify({ Rules: [{ id: 'a', on: true }, { id: 'b', on: false }, { id: 'c', on: true }] }, null, 2) }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'people.csv.gz', Body: gzipSync(CSV) }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'kms.csv', Body: CSV, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
  });
  after(async () => {
    s3.destroy();
    await server.stop();
  });

  it('CSV with a header row: columns by name, WHERE, JSON output, Stats and End', async () => {
    const r = await select({ Expression: "SELECT s.name, s.city FROM S3Object s WHERE CAST(s.score AS INT) > 20 AND s.city <> 'Lima'", OutputSerialization: { JSON: {} } });
    assert.equal(r.records, '{"name":"ann","city":"Oslo"}\n{"name":"bob","city":"Rio, BR"}\n{"name":"cy","city":"Oslo"}\n');
    assert.deepEqual(r.events.slice(-2), ['Stats', 'End']);
    const len = Buffer.byteLength(CSV);
    assert.deepEqual(r.stats, { BytesScanned: len, BytesProcessed: len, BytesReturned: Buffer.byteLength(r.records) });
    const csvOut = await select({ Expression: 'SELECT _2, _3 FROM S3Object WHERE _1 = 2', OutputSerialization: { CSV: { QuoteFields: 'ALWAYS' } } });
    assert.equal(csvOut.records, '"bob","Rio, BR"\n');
  });

  it('JSON LINES and DOCUMENT (S3Object[*].path[*])', async () => {
    const lines = await select({ Key: 'people.jsonl', Expression: "SELECT s.id, s.addr.city FROM S3Object s WHERE s.name LIKE '%n%'", InputSerialization: { JSON: { Type: 'LINES' } }, OutputSerialization: { JSON: {} } });
    assert.equal(lines.records, '{"id":1,"city":"Oslo"}\n');
    const docOut = await select({ Key: 'rules.json', Expression: 'SELECT r.id FROM S3Object[*].Rules[*] r WHERE r."on" = true', InputSerialization: { JSON: { Type: 'DOCUMENT' } }, OutputSerialization: { CSV: {} } });
    assert.equal(docOut.records, 'a\nc\n');
  });

  it('GZIP input; aggregates; LIMIT', async () => {
    const gz = await select({ Key: 'people.csv.gz', Expression: "SELECT COUNT(*), SUM(CAST(score AS INT)), AVG(score), MIN(name), MAX(score) FROM S3Object WHERE city = 'Oslo' OR city = 'Lima'", InputSerialization: { CSV: { FileHeaderInfo: 'USE' }, CompressionType: 'GZIP' } });
    assert.equal(gz.records, '3,83,27.666666666666668,ann,40\n');
    assert.equal(gz.stats?.BytesProcessed, Buffer.byteLength(CSV));
    assert.ok((gz.stats?.BytesScanned ?? 0) > 0 && gz.stats?.BytesScanned !== Buffer.byteLength(CSV));
    const lim = await select({ Expression: 'SELECT id FROM S3Object LIMIT 2' });
    assert.equal(lim.records, '1\n2\n');
  });

  it('ScanRange: the records that start inside the range, read to their end', async () => {
    // Header is 19 bytes; "1,ann,Oslo,31\n" is 19..32, "2,bob,..." starts at 33.
    const mid = await select({ Expression: 'SELECT id FROM S3Object', InputSerialization: { CSV: { FileHeaderInfo: 'USE' } }, ScanRange: { Start: 20, End: 40 } });
    assert.equal(mid.records, '2\n');
    const fromRecord = await select({ Expression: 'SELECT name FROM S3Object', ScanRange: { Start: 33 } });
    assert.equal(fromRecord.records, 'bob\ncy\ndee\n');
    const tail = await select({ Expression: 'SELECT _1 FROM S3Object', InputSerialization: { CSV: { FileHeaderInfo: 'NONE' } }, ScanRange: { End: 15 } });
    assert.equal(tail.records, '4\n');
    const lines = await select({ Key: 'people.jsonl', Expression: 'SELECT s.id FROM S3Object s', InputSerialization: { JSON: { Type: 'LINES' } }, OutputSerialization: { JSON: {} }, ScanRange: { Start: 0, End: 0 } });
    assert.equal(lines.records, '{"id":1}\n');
  });

  it('an SSE-KMS object is read as GetObject reads it; SSE-C needs its key', async () => {
    const r = await select({ Key: 'kms.csv', Expression: "SELECT name FROM S3Object WHERE city = 'Lima'" });
    assert.equal(r.records, 'dee\n');
    const key = randomBytes(32);
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
    await s3.send(new PutObjectCommand({ Bucket, Key: 'ssec.csv', Body: CSV, ...ssec }));
    assert.equal((await select({ Key: 'ssec.csv', Expression: 'SELECT COUNT(*) FROM S3Object', ...ssec })).records, '4\n');
    const without = await failure(select({ Key: 'ssec.csv', Expression: 'SELECT COUNT(*) FROM S3Object' }));
    assert.equal(without.status, 400);
    assert.equal(without.name, 'InvalidRequest');
  });

  it('errors before the stream are S3 XML errors; a failure in it is an error event', async () => {
    const bad = await failure(select({ Expression: 'SELECT FROM S3Object' }));
    assert.equal(bad.name, 'ParseEmptySelect');
    assert.equal(bad.status, 400);
    const badType = await failure(select({ ExpressionType: 'XPATH' as 'SQL' }));
    assert.equal(badType.name, 'InvalidExpressionType');
    const conflict = await failure(select({ InputSerialization: { CSV: {}, JSON: { Type: 'LINES' } } }));
    assert.equal(conflict.name, 'ObjectSerializationConflict');
    const missing = await failure(select({ Key: 'nope.csv' }));
    assert.equal(missing.name, 'NoSuchKey');
    assert.equal(missing.status, 404);
    const midway = await failure(select({ Expression: 'SELECT CAST(name AS INT) FROM S3Object' }));
    assert.equal(midway.name, 'CastFailed');
  });

  it('AccessDenied without s3:GetObject; allowed with it', async () => {
    const listOnly = await userWith(server, 'sel-lister', [doc({ Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${Bucket}` })]);
    const reader = await userWith(server, 'sel-reader', [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${Bucket}/*` })]);
    const asLister = new S3Client({ ...server.clientConfig, credentials: listOnly, forcePathStyle: true });
    const asReader = new S3Client({ ...server.clientConfig, credentials: reader, forcePathStyle: true });
    const denied = await failure(select({ Expression: 'SELECT COUNT(*) FROM S3Object' }, asLister));
    assert.equal(denied.name, 'AccessDenied');
    assert.equal(denied.status, 403);
    assert.equal((await select({ Expression: 'SELECT COUNT(*) FROM S3Object' }, asReader)).records, '4\n');
    // Without s3:ListBucket a missing key is AccessDenied, as for GetObject.
    assert.equal((await failure(select({ Key: 'nope.csv' }, asReader))).name, 'AccessDenied');
    asLister.destroy();
    asReader.destroy();
  });

  it('several MB stream through in Records events of at most 256 KiB', async () => {
    const row = `${'x'.repeat(60)},${'y'.repeat(38)}\n`;
    const body = row.repeat(60_000); // ~6 MB
    await s3.send(new PutObjectCommand({ Bucket, Key: 'big.csv', Body: body }));
    const r = await select({ Key: 'big.csv', InputSerialization: { CSV: {} }, Expression: 'SELECT _2 FROM S3Object' });
    const want = `${'y'.repeat(38)}\n`;
    assert.equal(r.records.length, want.length * 60_000);
    assert.ok(r.records.startsWith(want) && r.records.endsWith(want));
    assert.ok(r.maxRecordsEvent <= 256 * 1024 + 64 * 1024, `largest Records event ${r.maxRecordsEvent}`);
    assert.ok(r.events.filter((e) => e === 'Records').length >= 8);
    assert.equal(r.stats?.BytesScanned, body.length);
  });
});
