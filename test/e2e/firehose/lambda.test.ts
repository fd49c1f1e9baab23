/**
 * Lambda transforms: hanul runs the handler file itself (HANUL_FUNCTIONS_DIR)
 * with AWS's transformation event; Ok records are delivered, Dropped ones
 * vanish, ProcessingFailed ones (and whole failed invocations, after the
 * configured retries) land under processing-failed/ as AWS's error documents.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as f from '@aws-sdk/client-firehose';
import * as k from '@aws-sdk/client-kinesis';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { clients, createDeliveryRole, createSourceRole, listKeys, readAll, readObject, s3Dest, waitActive } from './helpers.js';

const UPPER = `
export const handler = async (event, context) => {
  if (!event.invocationId || !event.deliveryStreamArn.startsWith('arn:aws:firehose:') || typeof context.getRemainingTimeInMillis() !== 'number') throw new Error('bad event');
  return {
    records: event.records.map((r) => {
      const text = Buffer.from(r.data, 'base64').toString();
      if (text.includes('drop')) return { recordId: r.recordId, result: 'Dropped' };
      if (text.includes('fail')) return { recordId: r.recordId, result: 'ProcessingFailed', data: r.data };
      return { recordId: r.recordId, result: 'Ok', data: Buffer.from(text.toUpperCase() + '\\n').toString('base64') };
    }),
  };
};`;
const BROKEN = `export const handler = async () => { throw new TypeError('boom'); };`;
const META = `
export const handler = async (event) => ({
  records: event.records.map((r) => ({
    recordId: r.recordId, result: 'Ok',
    data: Buffer.from(JSON.stringify({ src: event.sourceKinesisStreamArn, pk: r.kinesisRecordMetadata.partitionKey, shard: r.kinesisRecordMetadata.shardId, seq: typeof r.kinesisRecordMetadata.sequenceNumber, body: Buffer.from(r.data, 'base64').toString() }) + '\\n').toString('base64'),
  })),
});`;
const KEYS = `
export const handler = async (event) => ({
  records: event.records.map((r) => {
    const doc = JSON.parse(Buffer.from(r.data, 'base64').toString());
    return { recordId: r.recordId, result: 'Ok', data: r.data, metadata: { partitionKeys: { tenant: doc.tenant } } };
  }),
});`;
const SLOW = `export const handler = (event) => new Promise(() => {});`;

const lambdaArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
function processing(name: string, retries = '0'): f.ProcessingConfiguration {
  return { Enabled: true, Processors: [{ Type: 'Lambda', Parameters: [{ ParameterName: 'LambdaArn', ParameterValue: lambdaArn(name) }, { ParameterName: 'NumberOfRetries', ParameterValue: retries }] }] };
}

describe('Firehose Lambda transforms', () => {
  let server: TestServer;
  let dir: string;
  let c: ReturnType<typeof clients>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hanul-fns-'));
    await writeFile(join(dir, 'upper.mjs'), UPPER);
    await writeFile(join(dir, 'broken.mjs'), BROKEN);
    await writeFile(join(dir, 'slow.mjs'), SLOW);
    await writeFile(join(dir, 'meta.mjs'), META);
    await writeFile(join(dir, 'keys.mjs'), KEYS);
    await writeFile(join(dir, 'slow.json'), JSON.stringify({ Timeout: 1 }));
    server = await startHanul({ env: { HANUL_FUNCTIONS_DIR: dir, HANUL_KINESIS_STATE_DELAY_MS: '50' } });
    c = clients(server);
    await createDeliveryRole(server.clientConfig);
    for (const b of ['fn-upper', 'fn-broken', 'fn-slow', 'fn-meta', 'fn-keys']) await c.s3.send(new CreateBucketCommand({ Bucket: b }));
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('uppercases Ok records, drops Dropped ones, sends ProcessingFailed ones to processing-failed/', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'upper', ExtendedS3DestinationConfiguration: s3Dest('fn-upper', { Prefix: 'ok/', CompressionFormat: 'GZIP', ProcessingConfiguration: processing('upper') }) }));
    await waitActive(c.firehose, 'upper');
    const words = ['alpha', 'please drop me', 'beta', 'fail this one', 'gamma'];
    await c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'upper', Records: words.map((w) => ({ Data: Buffer.from(w) })) }));
    await waitFor(async () => (await listKeys(c.s3, 'fn-upper', 'ok/processing-failed/')).length > 0 && (await listKeys(c.s3, 'fn-upper', 'ok/2')).length > 0, { what: 'transformed and failed objects' });
    assert.equal(await readAll(c.s3, 'fn-upper', 'ok/2'), 'ALPHA\nBETA\nGAMMA\n');
    const [errKey] = await listKeys(c.s3, 'fn-upper', 'ok/processing-failed/');
    assert.match(errKey as string, /^ok\/processing-failed\/\d{4}\/\d\d\/\d\d\/\d\d\/upper-1-.*\.gz$/);
    const doc = JSON.parse((await readObject(c.s3, 'fn-upper', errKey as string)).toString().trim()) as Record<string, unknown>;
    assert.equal(Buffer.from(doc['rawData'] as string, 'base64').toString(), 'fail this one');
    assert.equal(doc['lambdaArn'], lambdaArn('upper'));
    assert.equal(typeof doc['errorCode'], 'string');
    assert.equal(typeof doc['arrivalTimestamp'], 'number');
  });

  it('a function that throws: after the retries every record goes to processing-failed with Lambda.FunctionError', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'broken', ExtendedS3DestinationConfiguration: s3Dest('fn-broken', { ProcessingConfiguration: processing('broken', '2') }) }));
    await waitActive(c.firehose, 'broken');
    await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'broken', Record: { Data: Buffer.from('x1') } }));
    const keys = await waitFor(async () => {
      const k = await listKeys(c.s3, 'fn-broken');
      return k.length > 0 ? k : undefined;
    });
    assert.ok(keys.every((k) => k.startsWith('processing-failed/')), keys.join());
    const doc = JSON.parse((await readObject(c.s3, 'fn-broken', keys[0] as string)).toString().trim()) as Record<string, unknown>;
    assert.equal(doc['errorCode'], 'Lambda.FunctionError');
    assert.match(doc['errorMessage'] as string, /TypeError: boom/);
    assert.equal(doc['attemptsMade'], 3);
  });

  it('a function past its timeout fails its records; a missing function is rejected at use', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'slow', ExtendedS3DestinationConfiguration: s3Dest('fn-slow', { ProcessingConfiguration: processing('slow') }) }));
    await waitActive(c.firehose, 'slow');
    await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'slow', Record: { Data: Buffer.from('zz') } }));
    const keys = await waitFor(async () => {
      const k = await listKeys(c.s3, 'fn-slow');
      return k.length > 0 ? k : undefined;
    }, { timeoutMs: 15_000 });
    const doc = JSON.parse((await readObject(c.s3, 'fn-slow', keys[0] as string)).toString().trim()) as Record<string, unknown>;
    assert.match(doc['errorMessage'] as string, /timed out after 1\.00 seconds/);
    await assert.rejects(c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'badarn', ExtendedS3DestinationConfiguration: s3Dest('fn-slow', { ProcessingConfiguration: { Enabled: true, Processors: [{ Type: 'Lambda', Parameters: [{ ParameterName: 'LambdaArn', ParameterValue: 'not-an-arn' }] }] } }) })), { name: 'InvalidArgumentException' });
  });

  it('a Kinesis-sourced stream’s event carries sourceKinesisStreamArn and kinesisRecordMetadata', async () => {
    const kc = new k.KinesisClient({ ...server.clientConfig, maxAttempts: 1 });
    await kc.send(new k.CreateStreamCommand({ StreamName: 'meta-src', ShardCount: 1 }));
    await k.waitUntilStreamExists({ client: kc, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: 'meta-src' });
    const arn = 'arn:aws:kinesis:us-east-1:000000000000:stream/meta-src';
    await c.firehose.send(new f.CreateDeliveryStreamCommand({
      DeliveryStreamName: 'meta', DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: { KinesisStreamARN: arn, RoleARN: await createSourceRole(server.clientConfig, 'fh-meta-source', arn) },
      ExtendedS3DestinationConfiguration: s3Dest('fn-meta', { ProcessingConfiguration: processing('meta') }),
    }));
    await waitActive(c.firehose, 'meta');
    await kc.send(new k.PutRecordCommand({ StreamName: 'meta-src', PartitionKey: 'pk-1', Data: Buffer.from('payload') }));
    const text = await waitFor(async () => (await readAll(c.s3, 'fn-meta')) || undefined, { timeoutMs: 15_000 });
    assert.deepEqual(JSON.parse(text.trim()), { src: arn, pk: 'pk-1', shard: 'shardId-000000000000', seq: 'string', body: 'payload' });
  });

  it('partitions by the keys the function returns (partitionKeyFromLambda)', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({
      DeliveryStreamName: 'keys',
      ExtendedS3DestinationConfiguration: s3Dest('fn-keys', {
        BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 1 },
        Prefix: 'tenant=!{partitionKeyFromLambda:tenant}/', ErrorOutputPrefix: 'err/',
        DynamicPartitioningConfiguration: { Enabled: true }, ProcessingConfiguration: processing('keys'),
      }),
    }));
    await waitActive(c.firehose, 'keys');
    await c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'keys', Records: ['a', 'b', 'a'].map((t, i) => ({ Data: Buffer.from(JSON.stringify({ tenant: t, i }) + '\n') })) }));
    await waitFor(async () => (await listKeys(c.s3, 'fn-keys')).length >= 2);
    assert.equal(await readAll(c.s3, 'fn-keys', 'tenant=a/'), '{"tenant":"a","i":0}\n{"tenant":"a","i":2}\n');
    assert.equal(await readAll(c.s3, 'fn-keys', 'tenant=b/'), '{"tenant":"b","i":1}\n');
  });
});
