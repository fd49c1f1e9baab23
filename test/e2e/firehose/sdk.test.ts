/** Data Firehose through @aws-sdk/client-firehose: API, limits, DirectPut → S3 delivery (GZIP, prefixes, hints). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import * as f from '@aws-sdk/client-firehose';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { clients, createDeliveryRole, listKeys, readAll, readObject, s3Dest, waitActive } from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('Firehose with the AWS SDK', () => {
  let server: TestServer;
  let c: ReturnType<typeof clients>;
  before(async () => {
    server = await startHanul();
    c = clients(server);
    await createDeliveryRole(server.clientConfig);
    for (const b of ['fh-gzip', 'fh-plain', 'fh-size', 'fh-clock', 'fh-custom', 'fh-packed']) await c.s3.send(new CreateBucketCommand({ Bucket: b }));
  });
  after(async () => {
    await server.stop();
  });

  it('creates a DirectPut stream: CREATING then ACTIVE, described, listed', async () => {
    const r = await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'gz', ExtendedS3DestinationConfiguration: s3Dest('fh-gzip', { CompressionFormat: 'GZIP' }) }));
    assert.equal(r.DeliveryStreamARN, 'arn:aws:firehose:us-east-1:000000000000:deliverystream/gz');
    const d = await waitActive(c.firehose, 'gz');
    assert.equal(d.VersionId, '1');
    assert.equal(d.DeliveryStreamType, 'DirectPut');
    const dest = d.Destinations?.[0];
    assert.equal(dest?.DestinationId, 'destinationId-000000000001');
    assert.equal(dest?.ExtendedS3DestinationDescription?.CompressionFormat, 'GZIP');
    assert.deepEqual(dest?.ExtendedS3DestinationDescription?.BufferingHints, { IntervalInSeconds: 1, SizeInMBs: 1 });
    const l = await c.firehose.send(new f.ListDeliveryStreamsCommand({}));
    assert.ok(l.DeliveryStreamNames?.includes('gz'));
    await assert.rejects(c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'gz', ExtendedS3DestinationConfiguration: s3Dest('fh-gzip') })), { name: 'ResourceInUseException' });
  });

  it('delivers PutRecordBatch records as one GZIP object under YYYY/MM/DD/HH/ named as AWS names it', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `{"n":${i}}\n`);
    const out = await c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'gz', Records: lines.map((l) => ({ Data: enc(l) })) }));
    assert.equal(out.FailedPutCount, 0);
    assert.equal(out.RequestResponses?.length, 200);
    assert.ok(out.RequestResponses?.every((r) => typeof r.RecordId === 'string' && r.RecordId.length > 20));
    const keys = await waitFor(async () => {
      const k = await listKeys(c.s3, 'fh-gzip');
      return k.length > 0 ? k : undefined;
    }, { what: 'delivered object' });
    assert.equal(keys.length, 1);
    const now = new Date(server.clock.nowMs());
    const p2 = (n: number) => String(n).padStart(2, '0');
    const hour = `${now.getUTCFullYear()}/${p2(now.getUTCMonth() + 1)}/${p2(now.getUTCDate())}/${p2(now.getUTCHours())}/`;
    assert.ok(keys[0]?.startsWith(hour), keys[0]);
    assert.match(keys[0] as string, /^\d{4}\/\d\d\/\d\d\/\d\d\/gz-1-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{36}\.gz$/);
    assert.equal((await readObject(c.s3, 'fh-gzip', keys[0] as string)).toString(), lines.join(''));
  });

  it('PutRecord on an uncompressed stream with a custom prefix', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({
      DeliveryStreamName: 'custom',
      ExtendedS3DestinationConfiguration: s3Dest('fh-custom', { Prefix: "logs/year=!{timestamp:yyyy}/!{firehose:random-string}/", ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/' }),
    }));
    await waitActive(c.firehose, 'custom');
    const r = await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'custom', Record: { Data: enc('hello') } }));
    assert.ok(r.RecordId);
    const keys = await waitFor(async () => ((await listKeys(c.s3, 'fh-custom')).length > 0 ? listKeys(c.s3, 'fh-custom') : undefined));
    assert.match(keys[0] as string, new RegExp(`^logs/year=${new Date(server.clock.nowMs()).getUTCFullYear()}/[a-z0-9]{11}/custom-1-`));
    assert.equal(await readAll(c.s3, 'fh-custom'), 'hello');
  });

  it('delivers as soon as SizeInMBs is reached, and when the clock passes IntervalInSeconds', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'size', ExtendedS3DestinationConfiguration: s3Dest('fh-size', { BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 900 } }) }));
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'clock', ExtendedS3DestinationConfiguration: s3Dest('fh-clock', { BufferingHints: { SizeInMBs: 128, IntervalInSeconds: 900 } }) }));
    await waitActive(c.firehose, 'size');
    await waitActive(c.firehose, 'clock');
    const big = Buffer.alloc(200 * 1024, 'x');
    await c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'size', Records: Array.from({ length: 6 }, () => ({ Data: big })) }));
    await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'clock', Record: { Data: enc('tick') } }));
    await waitFor(async () => (await listKeys(c.s3, 'fh-size')).length >= 1, { what: 'size-triggered delivery' });
    assert.equal((await listKeys(c.s3, 'fh-clock')).length, 0, 'the interval has not passed');
    server.clock.advance(900_000);
    await waitFor(async () => (await readAll(c.s3, 'fh-clock')) === 'tick', { what: 'interval-triggered delivery' });
  });

  it('answers AWS errors and limits', async () => {

    await assert.rejects(c.firehose.send(new f.DescribeDeliveryStreamCommand({ DeliveryStreamName: 'nope' })), (e: Error) => e.name === 'ResourceNotFoundException' && /Firehose nope under account 000000000000 not found/.test(e.message));
    await assert.rejects(c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'gz', Records: Array.from({ length: 501 }, () => ({ Data: enc('x') })) })), { name: 'ValidationException' });
    await assert.rejects(c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'gz', Record: { Data: Buffer.alloc(1_024_001) } })), (e: Error) => e.name === 'ValidationException' && e.message.includes("Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at 'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000"));
    await assert.rejects(c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'gz', Records: [{ Data: enc('ok') }, { Data: Buffer.alloc(1_024_001) }, { Data: Buffer.alloc(1_024_002) }] })), (e: Error) => e.name === 'ValidationException' && /^2 validation errors detected: .*'records\.2\.member\.data'.*; .*'records\.3\.member\.data'/.test(e.message));
    await assert.rejects(c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'gz', Records: Array.from({ length: 5 }, () => ({ Data: Buffer.alloc(1_000_000) })) })), (e: Error) => e.name === 'InvalidArgumentException' && e.message === 'Records size exceeds 4 MB limit');
    await assert.rejects(c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'bad', ExtendedS3DestinationConfiguration: s3Dest('fh-gzip', { BufferingHints: { SizeInMBs: 129 } }) })), { name: 'ValidationException' });
    await assert.rejects(c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'bad', ExtendedS3DestinationConfiguration: s3Dest('fh-gzip', { Prefix: 'a/!{timestamp:yyyy}/' }) })), (e: Error) => e.name === 'InvalidArgumentException' && /ErrorOutputPrefix/.test(e.message));
    await assert.rejects(c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'bad', ExtendedS3DestinationConfiguration: s3Dest('fh-gzip', { Prefix: 'a/!{firehose:error-output-type}/', ErrorOutputPrefix: 'e/' }) })), { name: 'InvalidArgumentException' });
    await assert.rejects(c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'bad name!', ExtendedS3DestinationConfiguration: s3Dest('fh-gzip') })), { name: 'ValidationException' });
    await assert.rejects(c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'bad', ExtendedS3DestinationConfiguration: s3Dest('fh-gzip', { BucketARN: 'bucket' }) })), { name: 'InvalidArgumentException' });
  });

  it('UpdateDestination checks CurrentDeliveryStreamVersionId and increments the version', async () => {
    await assert.rejects(c.firehose.send(new f.UpdateDestinationCommand({ DeliveryStreamName: 'gz', CurrentDeliveryStreamVersionId: '7', DestinationId: 'destinationId-000000000001', ExtendedS3DestinationUpdate: { Prefix: 'x/' } })), { name: 'ConcurrentModificationException' });
    await c.firehose.send(new f.UpdateDestinationCommand({ DeliveryStreamName: 'gz', CurrentDeliveryStreamVersionId: '1', DestinationId: 'destinationId-000000000001', ExtendedS3DestinationUpdate: { Prefix: 'v2/' } }));
    const d = await waitActive(c.firehose, 'gz');
    assert.equal(d.VersionId, '2');
    assert.equal(d.Destinations?.[0]?.ExtendedS3DestinationDescription?.Prefix, 'v2/');
    assert.equal(d.Destinations?.[0]?.ExtendedS3DestinationDescription?.CompressionFormat, 'GZIP');
    await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'gz', Record: { Data: enc('after-update') } }));
    const keys = await waitFor(async () => {
      const k = await listKeys(c.s3, 'fh-gzip', 'v2/');
      return k.length > 0 ? k : undefined;
    });
    assert.match(keys[0] as string, /^v2\/\d{4}\/\d\d\/\d\d\/\d\d\/gz-2-/);
  });

  it('tags, untags and lists tags; deletes', async () => {
    await c.firehose.send(new f.TagDeliveryStreamCommand({ DeliveryStreamName: 'custom', Tags: [{ Key: 'team', Value: 'logs' }, { Key: 'env', Value: 'dev' }] }));
    await c.firehose.send(new f.UntagDeliveryStreamCommand({ DeliveryStreamName: 'custom', TagKeys: ['env'] }));
    const t = await c.firehose.send(new f.ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'custom' }));
    assert.deepEqual(t.Tags, [{ Key: 'team', Value: 'logs' }]);
    assert.equal(t.HasMoreTags, false);
    await c.firehose.send(new f.DeleteDeliveryStreamCommand({ DeliveryStreamName: 'custom' }));
    // DELETING until the removal finishes: puts are refused, then the stream is gone.
    const d = await c.firehose.send(new f.DescribeDeliveryStreamCommand({ DeliveryStreamName: 'custom' }));
    assert.equal(d.DeliveryStreamDescription?.DeliveryStreamStatus, 'DELETING');
    await assert.rejects(c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'custom', Record: { Data: enc('late') } })), (e: Error) => e.name === 'ResourceNotFoundException' && /DELETING/.test(e.message));
    await waitFor(async () => {
      try {
        await c.firehose.send(new f.DescribeDeliveryStreamCommand({ DeliveryStreamName: 'custom' }));
        return undefined;
      } catch (e) {
        return (e as Error).name === 'ResourceNotFoundException';
      }
    }, { what: 'stream removed' });
  });

  it('encrypts buffered records with KMS and still delivers them', async () => {
    await c.firehose.send(new f.StartDeliveryStreamEncryptionCommand({ DeliveryStreamName: 'size', DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' } }));
    const d = await waitActive(c.firehose, 'size');
    assert.equal(d.DeliveryStreamEncryptionConfiguration?.Status, 'ENABLED');
    const r = await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'size', Record: { Data: enc('secret') } }));
    assert.equal(r.Encrypted, true);
    server.clock.advance(900_000);
    await waitFor(async () => (await readAll(c.s3, 'fh-size')).endsWith('secret'), { what: 'encrypted record delivered' });
    await c.firehose.send(new f.StopDeliveryStreamEncryptionCommand({ DeliveryStreamName: 'size' }));
    assert.equal((await waitActive(c.firehose, 'size')).DeliveryStreamEncryptionConfiguration?.Status, 'DISABLED');
  });

  it('GZIP: records compressed when put make one multi-member object; sealed ones too; a changed destination unpacks them', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'packed', ExtendedS3DestinationConfiguration: s3Dest('fh-packed', { Prefix: 'gz/', CompressionFormat: 'GZIP', BufferingHints: { SizeInMBs: 128, IntervalInSeconds: 900 } }) }));
    await waitActive(c.firehose, 'packed');
    const put = async (lines: string[]) => c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'packed', Records: lines.map((l) => ({ Data: enc(l) })) }));
    const a = ['{"a":1}\n', '{"a":2}\n', '{"a":3}\n'];
    const b = ['{"b":1}\n', '{"b":2}\n'];
    await put(a);
    await c.firehose.send(new f.StartDeliveryStreamEncryptionCommand({ DeliveryStreamName: 'packed', DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' } }));
    assert.equal((await put(b)).Encrypted, true);
    server.clock.advance(900_000);
    const [key] = await waitFor(async () => {
      const k = await listKeys(c.s3, 'fh-packed', 'gz/');
      return k.length > 0 ? k : undefined;
    }, { what: 'GZIP object' });
    const obj = await c.s3.send(new GetObjectCommand({ Bucket: 'fh-packed', Key: key }));
    const raw = Buffer.from(await (obj.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    assert.ok(raw.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), 1) > 0, 'one gzip member per put');
    assert.equal(gunzipSync(raw).toString(), [...a, ...b].join(''));
    // Packed while the destination was GZIP, delivered after it changed: unpacked.
    const cc = ['{"c":1}\n', '{"c":2}\n'];
    await put(cc);
    const d = await waitActive(c.firehose, 'packed');
    await c.firehose.send(new f.UpdateDestinationCommand({ DeliveryStreamName: 'packed', DestinationId: 'destinationId-000000000001', CurrentDeliveryStreamVersionId: d.VersionId, ExtendedS3DestinationUpdate: { Prefix: 'plain/', CompressionFormat: 'UNCOMPRESSED' } }));
    server.clock.advance(900_000);
    await waitFor(async () => (await readAll(c.s3, 'fh-packed', 'plain/')) === cc.join(''), { what: 'unpacked delivery' });
    assert.ok((await listKeys(c.s3, 'fh-packed', 'plain/')).every((k) => !k.endsWith('.gz')));
  });
});
