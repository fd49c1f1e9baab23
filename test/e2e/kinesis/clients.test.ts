/**
 * Other real clients: the AWS CLI, boto3, KPL-aggregated records
 * (aws-kinesis-agg), and the CBOR 1.1 wire the Java SDK / KPL speak.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { Decoder, Encoder } from 'cbor-x';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as k from '@aws-sdk/client-kinesis';
import { startHanul, type TestServer } from '../../support/hanul.js';
import { kinesisClient } from './helpers.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

interface EncodedRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Buffer;
}
interface UserRecord {
  partitionKey: string;
  data: string;
  subSequenceNumber: number;
}
const agg = require('aws-kinesis-agg') as {
  aggregate(records: { partitionKey: string; data: Buffer }[], handler: (r: EncodedRecord, cb: (err?: Error) => void) => void, done: () => void, onError: (e: Error) => void): void;
  deaggregateSync(record: { partitionKey: string; sequenceNumber: string; data: string }, checksums: boolean, cb: (err: Error | null, records?: UserRecord[]) => void): void;
};

describe('Kinesis with the AWS CLI, boto3, KPL aggregation and CBOR', () => {
  let server: TestServer;
  let client: k.KinesisClient;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    server = await startHanul({ env: { HANUL_KINESIS_STATE_DELAY_MS: '100' } });
    client = kinesisClient(server, 'HTTP/1.1');
    env = { ...process.env, AWS_ACCESS_KEY_ID: server.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey, AWS_DEFAULT_REGION: server.region, AWS_PAGER: '' };
  });
  after(async () => {
    client.destroy();
    await server.stop();
  });

  async function aws(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run('aws', ['--endpoint-url', server.endpoint, '--output', 'json', 'kinesis', ...args], { env, timeout: 60_000 });
    return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
  }

  it('aws kinesis create-stream / put-record / get-shard-iterator / get-records', async () => {
    const { stdout: version } = await run('aws', ['--version'], { env });
    const v2 = /aws-cli\/2/.test(version);
    await aws('create-stream', '--stream-name', 'cli', '--shard-count', '1');
    await run('aws', ['--endpoint-url', server.endpoint, 'kinesis', 'wait', 'stream-exists', '--stream-name', 'cli'], { env, timeout: 60_000 });
    const put = await aws('put-record', '--stream-name', 'cli', '--partition-key', 'pk', '--data', v2 ? 'aGVsbG8gY2xp' : 'hello cli');
    assert.equal(put['ShardId'], 'shardId-000000000000');
    const it = await aws('get-shard-iterator', '--stream-name', 'cli', '--shard-id', 'shardId-000000000000', '--shard-iterator-type', 'TRIM_HORIZON');
    const got = await aws('get-records', '--shard-iterator', it['ShardIterator'] as string);
    const recs = got['Records'] as { Data: string; SequenceNumber: string }[];
    assert.equal(Buffer.from(recs[0]?.Data as string, 'base64').toString(), 'hello cli');
    assert.equal(recs[0]?.SequenceNumber, put['SequenceNumber']);
    const desc = await aws('describe-stream-summary', '--stream-name', 'cli');
    assert.equal((desc['StreamDescriptionSummary'] as { OpenShardCount: number }).OpenShardCount, 1);
  });

  it('boto3: create_stream, waiter, put_records, get_records', async () => {
    const script = `
import boto3, json, sys
c = boto3.client('kinesis', endpoint_url=sys.argv[1])
c.create_stream(StreamName='py', ShardCount=2)
c.get_waiter('stream_exists').wait(StreamName='py', WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
r = c.put_records(StreamName='py', Records=[{'Data': b'b%d' % i, 'PartitionKey': 'same'} for i in range(5)])
shard = r['Records'][0]['ShardId']
it = c.get_shard_iterator(StreamName='py', ShardId=shard, ShardIteratorType='TRIM_HORIZON')['ShardIterator']
got = c.get_records(ShardIterator=it)
try:
    c.describe_stream(StreamName='nope')
    err = None
except c.exceptions.ResourceNotFoundException as e:
    err = str(e)
print(json.dumps({'failed': r['FailedRecordCount'], 'data': [x['Data'].decode() for x in got['Records']], 'err': err}))
`;
    const { stdout } = await run('python3', ['-c', script, server.endpoint], { env, timeout: 60_000 });
    const out = JSON.parse(stdout) as { failed: number; data: string[]; err: string };
    assert.equal(out.failed, 0);
    assert.deepEqual(out.data, ['b0', 'b1', 'b2', 'b3', 'b4']);
    assert.match(out.err, /Stream nope under account 000000000000 not found/);
  });

  it('KPL-aggregated records pass through untouched', async () => {
    await client.send(new k.CreateStreamCommand({ StreamName: 'kpl', ShardCount: 1 }));
    await k.waitUntilStreamExists({ client, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: 'kpl' });
    const users = Array.from({ length: 30 }, (_, i) => ({ partitionKey: `u${i}`, data: Buffer.from(`user record ${i}`) }));
    const encoded: EncodedRecord[] = [];
    await new Promise<void>((resolve, reject) => agg.aggregate(users, (r, cb) => (encoded.push(r), cb()), resolve, reject));
    assert.ok(encoded.length >= 1);
    for (const e of encoded) await client.send(new k.PutRecordCommand({ StreamName: 'kpl', PartitionKey: e.partitionKey, Data: new Uint8Array(e.data) }));
    const it = await client.send(new k.GetShardIteratorCommand({ StreamName: 'kpl', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
    const got = await client.send(new k.GetRecordsCommand({ ShardIterator: it.ShardIterator }));
    assert.equal(got.Records?.length, encoded.length);
    const out: string[] = [];
    for (const [i, r] of (got.Records ?? []).entries()) {
      assert.deepEqual(Buffer.from(r.Data as Uint8Array), Buffer.from((encoded[i] as EncodedRecord).data), 'bytes unchanged');
      agg.deaggregateSync({ partitionKey: r.PartitionKey as string, sequenceNumber: r.SequenceNumber as string, data: Buffer.from(r.Data as Uint8Array).toString('base64') }, true, (err, recs) => {
        assert.ok(!err, String(err));
        for (const u of recs ?? []) out.push(Buffer.from(u.data, 'base64').toString());
      });
    }
    assert.deepEqual(out, users.map((u) => u.data.toString()));
  });

  it('speaks CBOR 1.1 (application/x-amz-cbor-1.1) as the Java SDK does', async () => {
    const cbor = new Encoder({ useRecords: false, tagUint8Array: false });
    // AWS's CBOR timestamps are tag 1 over epoch milliseconds (a 64-bit integer): read them as numbers.
    const decoder = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);
    const signer = new SignatureV4({ service: 'kinesis', region: server.region, credentials: server.credentials, sha256: Sha256 });
    const call = async (op: string, body: Record<string, unknown>) => {
      const u = new URL(server.endpoint);
      const payload = cbor.encode(body);
      const req = await signer.sign({
        method: 'POST',
        protocol: 'http:',
        hostname: u.hostname,
        port: Number(u.port),
        path: '/',
        headers: { host: u.host, 'content-type': 'application/x-amz-cbor-1.1', 'x-amz-target': `Kinesis_20131202.${op}` },
        body: payload,
      });
      const r = await fetch(server.endpoint, { method: 'POST', headers: req.headers, body: payload });
      return { status: r.status, type: r.headers.get('content-type'), body: decoder.decode(Buffer.from(await r.arrayBuffer())) as Record<string, unknown> };
    };
    const put = await call('PutRecord', { StreamName: 'kpl', PartitionKey: 'cbor', Data: Buffer.from('binary \x00\x01 payload') });
    assert.equal(put.status, 200);
    assert.equal(put.type, 'application/x-amz-cbor-1.1');
    const it = await call('GetShardIterator', { StreamName: 'kpl', ShardId: 'shardId-000000000000', ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: put.body['SequenceNumber'] });
    const got = await call('GetRecords', { ShardIterator: it.body['ShardIterator'], Limit: 1 });
    const rec = (got.body['Records'] as Record<string, unknown>[])[0] as Record<string, unknown>;
    assert.ok(rec['Data'] instanceof Uint8Array, 'blobs are CBOR byte strings');
    assert.equal(Buffer.from(rec['Data']).toString(), 'binary \x00\x01 payload');
    const missing = await call('DescribeStream', { StreamName: 'nope' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body['__type'], 'ResourceNotFoundException');
  });
});
