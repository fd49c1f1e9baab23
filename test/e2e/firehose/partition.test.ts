/**
 * Dynamic partitioning (MetadataExtraction, inline JSON parsing), record
 * deaggregation + AppendDelimiterToRecord, ZIP objects, and S3 backup of
 * the source records to a second bucket.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync, inflateRawSync } from 'node:zlib';
import * as f from '@aws-sdk/client-firehose';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { ROLE, clients, createDeliveryRole, listKeys, readAll, readObject, s3Dest, waitActive } from './helpers.js';

describe('Firehose dynamic partitioning, processors, ZIP and S3 backup', () => {
  let server: TestServer;
  let c: ReturnType<typeof clients>;
  before(async () => {
    server = await startHanul();
    c = clients(server);
    await createDeliveryRole(server.clientConfig);
    for (const b of ['dp-out', 'zip', 'zip-backup', 'cwlogs']) await c.s3.send(new CreateBucketCommand({ Bucket: b }));
  });
  after(async () => {
    await server.stop();
  });

  it('partitions by a real jq query; unpartitionable records go to the error prefix', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({
      DeliveryStreamName: 'dp',
      ExtendedS3DestinationConfiguration: s3Dest('dp-out', {
        BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 1 },
        Prefix: 'customer=!{partitionKeyFromQuery:customer}/kind=!{partitionKeyFromQuery:kind}/',
        ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/',
        DynamicPartitioningConfiguration: { Enabled: true },
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            { Type: 'MetadataExtraction', Parameters: [{ ParameterName: 'MetadataExtractionQuery', ParameterValue: '{customer: .customer | ascii_downcase, kind: .event.kind}' }, { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' }] },
            { Type: 'AppendDelimiterToRecord', Parameters: [{ ParameterName: 'Delimiter', ParameterValue: 'XG4=' }] },
          ],
        },
      }),
    }));
    await waitActive(c.firehose, 'dp');
    const recs = [
      { customer: 'acme', event: { kind: 'click' }, n: 1 },
      { customer: 'acme', event: { kind: 'view' }, n: 2 },
      { customer: 'zeta', event: { kind: 'click' }, n: 3 },
      { customer: 'ACME', event: { kind: 'click' }, n: 4 },
    ].map((r) => JSON.stringify(r));
    await c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'dp', Records: [...recs, 'not json', '{"customer":"x"}'].map((r) => ({ Data: Buffer.from(r) })) }));
    await waitFor(async () => (await listKeys(c.s3, 'dp-out')).length >= 4, { what: 'partitioned objects' });
    const keys = await listKeys(c.s3, 'dp-out');
    assert.deepEqual([...new Set(keys.map((k) => k.split('/').slice(0, 2).join('/')))].sort(), ['customer=acme/kind=click', 'customer=acme/kind=view', 'customer=zeta/kind=click', 'errors/partitioning-failed']);
    // 'XG4=' is base64 of the two characters \ and n: AWS appends the delimiter as given.
    assert.equal(await readAll(c.s3, 'dp-out', 'customer=acme/kind=click/'), `${recs[0]}\\n${recs[3]}\\n`);
    const errs = (await readAll(c.s3, 'dp-out', 'errors/')).trim().split('\n').map((l) => JSON.parse(l) as { rawData: string; errorCode: string });
    assert.deepEqual(errs.map((e) => Buffer.from(e.rawData, 'base64').toString()).sort(), ['not json', '{"customer":"x"}']);
    assert.ok(errs.every((e) => e.errorCode.startsWith('DynamicPartitioning.')));
    // A query jq cannot compile is refused at create and at update, as AWS does.
    const bad = '{customer: .customer | ascii_downcase';
    const proc = { Enabled: true, Processors: [{ Type: 'MetadataExtraction' as const, Parameters: [{ ParameterName: 'MetadataExtractionQuery' as const, ParameterValue: bad }, { ParameterName: 'JsonParsingEngine' as const, ParameterValue: 'JQ-1.6' }] }] };
    await assert.rejects(c.firehose.send(new f.CreateDeliveryStreamCommand({
      DeliveryStreamName: 'dp-bad',
      ExtendedS3DestinationConfiguration: s3Dest('dp-out', { BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 1 }, Prefix: 'c=!{partitionKeyFromQuery:customer}/', ErrorOutputPrefix: 'e/', DynamicPartitioningConfiguration: { Enabled: true }, ProcessingConfiguration: proc }),
    })), (e: Error) => e.name === 'InvalidArgumentException' && /MetadataExtractionQuery/.test(e.message));
    const desc = await c.firehose.send(new f.DescribeDeliveryStreamCommand({ DeliveryStreamName: 'dp' }));
    await assert.rejects(c.firehose.send(new f.UpdateDestinationCommand({
      DeliveryStreamName: 'dp', DestinationId: 'destinationId-000000000001', CurrentDeliveryStreamVersionId: desc.DeliveryStreamDescription?.VersionId,
      ExtendedS3DestinationUpdate: { ProcessingConfiguration: proc },
    })), (e: Error) => e.name === 'InvalidArgumentException');
  });

  it('deaggregates JSON records, appends newlines, writes ZIP, and backs the source up to a second bucket', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({
      DeliveryStreamName: 'zip',
      ExtendedS3DestinationConfiguration: s3Dest('zip', {
        CompressionFormat: 'ZIP',
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            { Type: 'RecordDeAggregation', Parameters: [{ ParameterName: 'SubRecordType', ParameterValue: 'JSON' }] },
            { Type: 'AppendDelimiterToRecord', Parameters: [] },
          ],
        },
        S3BackupMode: 'Enabled',
        S3BackupConfiguration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::zip-backup', Prefix: 'source/' },
      }),
    }));
    const d = await waitActive(c.firehose, 'zip');
    assert.equal(d.Destinations?.[0]?.ExtendedS3DestinationDescription?.S3BackupMode, 'Enabled');
    await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'zip', Record: { Data: Buffer.from('{"a":1}{"a":2}\n{"a":{"b":"}"}}') } }));
    const [key] = await waitFor(async () => {
      const k = await listKeys(c.s3, 'zip');
      return k.length > 0 ? k : undefined;
    });
    assert.match(key as string, /\.zip$/);
    const r = await c.s3.send(new GetObjectCommand({ Bucket: 'zip', Key: key }));
    const z = Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    const nameLen = z.readUInt16LE(26);
    const text = inflateRawSync(z.subarray(30 + nameLen, 30 + nameLen + z.readUInt32LE(18))).toString();
    assert.equal(text, '{"a":1}\n{"a":2}\n{"a":{"b":"}"}}\n');
    const backup = await waitFor(async () => {
      const k = await listKeys(c.s3, 'zip-backup');
      return k.length > 0 ? k : undefined;
    });
    // The backup has its own CompressionFormat (default UNCOMPRESSED) and gets the untransformed source.
    assert.match(backup[0] as string, /^source\/\d{4}\/\d\d\/\d\d\/\d\d\/zip-1-[0-9-]+-[0-9a-f-]{36}$/);
    assert.equal((await readObject(c.s3, 'zip-backup', backup[0] as string)).toString(), '{"a":1}{"a":2}\n{"a":{"b":"}"}}');
  });

  it('Decompression + CloudWatchLogProcessing turn CloudWatch Logs subscription data into log lines', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({
      DeliveryStreamName: 'cwlogs',
      ExtendedS3DestinationConfiguration: s3Dest('cwlogs', {
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            { Type: 'Decompression', Parameters: [{ ParameterName: 'CompressionFormat', ParameterValue: 'GZIP' }] },
            { Type: 'CloudWatchLogProcessing', Parameters: [{ ParameterName: 'DataMessageExtraction', ParameterValue: 'true' }] },
            { Type: 'AppendDelimiterToRecord', Parameters: [] },
          ],
        },
      }),
    }));
    await waitActive(c.firehose, 'cwlogs');
    const data = { messageType: 'DATA_MESSAGE', owner: '000000000000', logGroup: 'g', logStream: 's', logEvents: [{ id: '1', timestamp: 1, message: 'first line' }, { id: '2', timestamp: 2, message: 'second line' }] };
    const control = { messageType: 'CONTROL_MESSAGE', logEvents: [{ message: 'CWL CONTROL MESSAGE' }] };
    await c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'cwlogs', Records: [data, control].map((d) => ({ Data: gzipSync(JSON.stringify(d)) })) }));
    await waitFor(async () => (await readAll(c.s3, 'cwlogs')) === 'first line\nsecond line\n', { what: 'extracted log lines' });
  });
});
