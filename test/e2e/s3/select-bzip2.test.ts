/**
 * S3 Select over BZIP2-compressed objects through the real SDK v3, on files
 * the machine's `bzip2` wrote: CSV with a header and WHERE (Stats count the
 * compressed and the uncompressed bytes), JSON LINES, an SSE-KMS object, a
 * multi-stream file (what `pbzip2` writes), a corrupt file (TruncatedInput in
 * the stream, the server still answering after it), ScanRange refused.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, type S3Client, SelectObjectContentCommand, type SelectObjectContentCommandInput } from '@aws-sdk/client-s3';
import { failure } from '../iam/helpers.js';
import { collect, selectFixture } from './select-helpers.js';
import type { TestServer } from '../../support/hanul.js';

const Bucket = 'select-bzip2';
const CSV = 'id,name,city,score\n1,ann,Oslo,31\n2,bob,"Rio, BR",25\n3,cy,Oslo,40\n4,dee,Lima,12\n';
const LINES = '{"id":1,"name":"ann","addr":{"city":"Oslo"}}\n{"id":2,"name":"bob","addr":{"city":"Rio"}}\n{"id":3,"name":"cy"}\n';
const bzip2 = (data: string | Buffer, level = 9): Buffer => execFileSync('/usr/bin/bzip2', [`-${level}`, '-c'], { input: data });
const BZ = { CSV: { FileHeaderInfo: 'USE' as const }, CompressionType: 'BZIP2' as const };

describe('s3 e2e: S3 Select over BZIP2 objects with the SDK v3', () => {
  let server: TestServer;
  let s3: S3Client;
  let keyArn: string;
  const csvBz = bzip2(CSV);
  // ~1.4 MB of CSV at -1 (100 kB blocks): many blocks, then a second and third stream.
  const rows = Array.from({ length: 60000 }, (_, i) => `${i},n${(i * 7919) % 100003}\n`).join('');
  const multi = Buffer.concat([bzip2(`id,v\n${rows}`, 1), bzip2('60000,last\n'), bzip2('60001,after\n', 5)]);
  const select = async (input: Partial<SelectObjectContentCommandInput>) => {
    const r = await s3.send(
      new SelectObjectContentCommand({ Bucket, Key: 'people.csv.bz2', ExpressionType: 'SQL', Expression: 'SELECT * FROM S3Object', InputSerialization: BZ, OutputSerialization: { CSV: {} }, ...input }),
    );
    return collect(r.Payload);
  };

  before(async () => {
    ({ server, s3, keyArn } = await selectFixture(Bucket));
    const put = (Key: string, Body: Buffer, extra = {}) => s3.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));
    await put('people.csv.bz2', csvBz);
    await put('people.jsonl.bz2', bzip2(LINES));
    await put('kms.csv.bz2', csvBz, { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn });
    await put('multi.csv.bz2', multi);
    const corrupt = Buffer.from(csvBz);
    corrupt[corrupt.length >> 1] = (corrupt[corrupt.length >> 1] as number) ^ 0x5a;
    await put('corrupt.csv.bz2', corrupt);
    await put('plain.csv', Buffer.from(CSV));
  });
  after(async () => {
    s3.destroy();
    await server.stop();
  });

  it('CSV with a header row and WHERE; Stats count compressed bytes scanned and uncompressed bytes processed', async () => {
    const r = await select({ Expression: "SELECT s.name, s.city FROM S3Object s WHERE CAST(s.score AS INT) > 20 AND s.city <> 'Lima'", OutputSerialization: { JSON: {} } });
    assert.equal(r.records, '{"name":"ann","city":"Oslo"}\n{"name":"bob","city":"Rio, BR"}\n{"name":"cy","city":"Oslo"}\n');
    assert.deepEqual(r.events.slice(-2), ['Stats', 'End']);
    assert.deepEqual(r.stats, { BytesScanned: csvBz.length, BytesProcessed: Buffer.byteLength(CSV), BytesReturned: Buffer.byteLength(r.records) });
    const agg = await select({ Expression: "SELECT COUNT(*), SUM(CAST(score AS INT)) FROM S3Object WHERE city = 'Oslo'" });
    assert.equal(agg.records, '2,71\n');
  });

  it('JSON LINES', async () => {
    const r = await select({ Key: 'people.jsonl.bz2', Expression: "SELECT s.id, s.addr.city FROM S3Object s WHERE s.name LIKE '%n%'", InputSerialization: { JSON: { Type: 'LINES' }, CompressionType: 'BZIP2' }, OutputSerialization: { JSON: {} } });
    assert.equal(r.records, '{"id":1,"city":"Oslo"}\n');
  });

  it('an SSE-KMS encrypted bzip2 object is decrypted, then inflated', async () => {
    const r = await select({ Key: 'kms.csv.bz2', Expression: "SELECT name FROM S3Object WHERE city = 'Lima'" });
    assert.equal(r.records, 'dee\n');
    assert.equal(r.stats?.BytesScanned, csvBz.length);
  });

  it('a multi-block, multi-stream file (bzip2 streams back to back, as pbzip2 writes) reads as one', async () => {
    const r = await select({ Key: 'multi.csv.bz2', Expression: "SELECT COUNT(*), MAX(CAST(id AS INT)) FROM S3Object WHERE v <> 'x'" });
    assert.equal(r.records, '60002,60001\n');
    assert.equal(r.stats?.BytesScanned, multi.length);
    assert.equal(r.stats?.BytesProcessed, Buffer.byteLength(`id,v\n${rows}60000,last\n60001,after\n`));
    const tail = await select({ Key: 'multi.csv.bz2', Expression: "SELECT v FROM S3Object WHERE CAST(id AS INT) >= 59999" });
    assert.equal(tail.records, `n${(59999 * 7919) % 100003}\nlast\nafter\n`);
  });

  it('a corrupt or uncompressed object is TruncatedInput in the stream; the server keeps answering', async () => {
    const bad = await failure(select({ Key: 'corrupt.csv.bz2' }));
    assert.equal(bad.name, 'TruncatedInput');
    assert.match(bad.message, /decompression failed/);
    const plain = await failure(select({ Key: 'plain.csv' }));
    assert.equal(plain.name, 'TruncatedInput');
    // The same object as GZIP: the same code.
    assert.equal((await failure(select({ Key: 'people.csv.bz2', InputSerialization: { CSV: {}, CompressionType: 'GZIP' } }))).name, 'TruncatedInput');
    assert.equal((await select({ Expression: 'SELECT COUNT(*) FROM S3Object' })).records, '4\n');
  });

  it('ScanRange is refused on a BZIP2 object; an unknown CompressionType is InvalidCompressionFormat', async () => {
    const scan = await failure(select({ ScanRange: { Start: 0, End: 100 } }));
    assert.equal(scan.name, 'UnsupportedScanRangeInput');
    assert.equal(scan.status, 400);
    const zstd = await failure(select({ InputSerialization: { CSV: {}, CompressionType: 'ZSTD' as 'BZIP2' } }));
    assert.equal(zstd.name, 'InvalidCompressionFormat');
    assert.equal(zstd.status, 400);
    const parquet = await failure(select({ InputSerialization: { Parquet: {}, CompressionType: 'BZIP2' } }));
    assert.equal(parquet.name, 'InvalidRequestParameter');
  });
});
