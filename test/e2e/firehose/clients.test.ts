/**
 * Other sources and destinations: an HTTP endpoint (a local server on
 * 127.0.0.1 — AWS's request format, retries, failed records to the S3
 * backup), a hanul Kinesis stream as source fed by @aws-sdk/client-kinesis,
 * the AWS CLI's put-record-batch, and delivery metrics on /metrics.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import * as f from '@aws-sdk/client-firehose';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import * as k from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, DeleteBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { FIREHOSE_TRUST, ROLE, clients, createDeliveryRole, listKeys, readAll, readObject, s3Dest, waitActive } from './helpers.js';

const run = promisify(execFile);

interface Seen {
  headers: IncomingMessage['headers'];
  body: { requestId: string; timestamp: number; records: Array<{ data: string }> };
}

describe('Firehose: HTTP endpoint, Kinesis source, AWS CLI, metrics', () => {
  let server: TestServer;
  let c: ReturnType<typeof clients>;
  let http: Server;
  let url = '';
  const seen: Seen[] = [];
  let failing = 0;
  before(async () => {
    server = await startHanul({ env: { HANUL_KINESIS_STATE_DELAY_MS: '50' } });
    c = clients(server);
    await createDeliveryRole(server.clientConfig);
    for (const b of ['http-backup', 'from-kinesis', 'cli']) await c.s3.send(new CreateBucketCommand({ Bucket: b }));
    http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString()) as Seen['body'];
        if (req.url === '/fail') {
          failing++;
          res.writeHead(500).end('nope');
          return;
        }
        seen.push({ headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ requestId: body.requestId, timestamp: Date.now() }));
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    await server.stop();
    await new Promise((r) => http.close(r));
  });

  function httpDest(path: string, extra: Partial<f.HttpEndpointDestinationConfiguration> = {}): f.HttpEndpointDestinationConfiguration {
    return {
      EndpointConfiguration: { Url: `${url}${path}`, Name: 'local', AccessKey: 'secret-access-key' },
      BufferingHints: { IntervalInSeconds: 1, SizeInMBs: 1 },
      RequestConfiguration: { ContentEncoding: 'GZIP', CommonAttributes: [{ AttributeName: 'env', AttributeValue: 'test' }] },
      RetryOptions: { DurationInSeconds: 1 },
      RoleARN: ROLE,
      S3BackupMode: 'FailedDataOnly',
      S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::http-backup', Prefix: 'backup/' },
      ...extra,
    };
  }

  it('POSTs AWS’s request format to an HTTP endpoint (gzip, access key, source ARN)', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'http-ok', HttpEndpointDestinationConfiguration: httpDest('/ok') }));
    const d = await waitActive(c.firehose, 'http-ok');
    assert.equal(d.Destinations?.[0]?.HttpEndpointDestinationDescription?.EndpointConfiguration?.Url, `${url}/ok`);
    assert.equal((d.Destinations?.[0]?.HttpEndpointDestinationDescription?.EndpointConfiguration as Record<string, unknown>)['AccessKey'], undefined, 'the access key is never described');
    await c.firehose.send(new f.PutRecordBatchCommand({ DeliveryStreamName: 'http-ok', Records: [{ Data: Buffer.from('one') }, { Data: Buffer.from('two') }] }));
    const req = await waitFor(() => seen[0]);
    assert.equal(req.headers['x-amz-firehose-access-key'], 'secret-access-key');
    assert.equal(req.headers['x-amz-firehose-source-arn'], d.DeliveryStreamARN);
    assert.equal(req.headers['x-amz-firehose-request-id'], req.body.requestId);
    assert.deepEqual(JSON.parse(req.headers['x-amz-firehose-common-attributes'] as string), { commonAttributes: { env: 'test' } });
    assert.deepEqual(req.body.records.map((r) => Buffer.from(r.data, 'base64').toString()), ['one', 'two']);
    assert.equal(typeof req.body.timestamp, 'number');
  });

  it('retries a failing endpoint within RetryDurationInSeconds, then backs the records up to S3', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'http-fail', HttpEndpointDestinationConfiguration: httpDest('/fail') }));
    await waitActive(c.firehose, 'http-fail');
    await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'http-fail', Record: { Data: Buffer.from('lost?') } }));
    const keys = await waitFor(async () => {
      const ks = await listKeys(c.s3, 'http-backup');
      return ks.length > 0 ? ks : undefined;
    }, { timeoutMs: 15_000 });
    assert.match(keys[0] as string, /^backup\/http-endpoint-failed\/\d{4}\/\d\d\/\d\d\/\d\d\/http-fail-1-/);
    assert.ok(failing >= 2, `only ${failing} attempts`);
    const doc = JSON.parse((await readObject(c.s3, 'http-backup', keys[0] as string)).toString().trim()) as Record<string, unknown>;
    assert.equal(Buffer.from(doc['rawData'] as string, 'base64').toString(), 'lost?');
  });

  it('reads a hanul Kinesis stream from LATEST as the source RoleARN and delivers its records', async () => {
    const kc = new k.KinesisClient({ ...server.clientConfig, maxAttempts: 1 });
    await kc.send(new k.PutRecordCommand({ StreamName: 'src', PartitionKey: 'p', Data: Buffer.from('x') })).catch(() => undefined);
    await kc.send(new k.CreateStreamCommand({ StreamName: 'src', ShardCount: 2 }));
    await k.waitUntilStreamExists({ client: kc, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: 'src' });
    await kc.send(new k.PutRecordCommand({ StreamName: 'src', PartitionKey: 'early', Data: Buffer.from('before-firehose\n') }));
    // The source role may deliver to S3 but not yet read the stream.
    const sourceRole = await createDeliveryRole(server.clientConfig, 'fh-source');
    await c.firehose.send(new f.CreateDeliveryStreamCommand({
      DeliveryStreamName: 'from-kinesis', DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: { KinesisStreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/src', RoleARN: sourceRole },
      ExtendedS3DestinationConfiguration: s3Dest('from-kinesis'),
    }));
    const d = await waitActive(c.firehose, 'from-kinesis');
    assert.equal(d.Source?.KinesisStreamSourceDescription?.KinesisStreamARN, 'arn:aws:kinesis:us-east-1:000000000000:stream/src');
    const lines = Array.from({ length: 50 }, (_, i) => `k${i}\n`);
    await kc.send(new k.PutRecordsCommand({ StreamName: 'src', Records: lines.map((l, i) => ({ PartitionKey: `p${i}`, Data: Buffer.from(l) })) }));
    await waitFor(async () => /hanul_firehose_source_failures_total\{stream="from-kinesis"\} [1-9]/.test(await (await fetch(`${server.endpoint}/metrics`)).text()), { what: 'source reads refused to a role without kinesis:GetRecords' });
    assert.deepEqual(await listKeys(c.s3, 'from-kinesis'), [], 'nothing read without the role\'s permission');
    const iamc = new IAMClient({ ...server.clientConfig, region: 'us-east-1' });
    await iamc.send(new PutRolePolicyCommand({
      RoleName: 'fh-source', PolicyName: 'read-source',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:DescribeStream'], Resource: 'arn:aws:kinesis:us-east-1:000000000000:stream/src' }] }),
    }));
    const text = await waitFor(async () => {
      const t = await readAll(c.s3, 'from-kinesis');
      return lines.every((l) => t.includes(l)) ? t : undefined;
    }, { timeoutMs: 15_000, what: 'kinesis records in S3' });
    assert.ok(!text.includes('before-firehose'), 'records put before the Firehose stream existed are not read');
    await assert.rejects(c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'from-kinesis', Record: { Data: Buffer.from('x') } })), { name: 'InvalidArgumentException' });
  });

  it('aws firehose put-record-batch (AWS CLI) and delivery metrics on /metrics', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'cli', ExtendedS3DestinationConfiguration: s3Dest('cli') }));
    await waitActive(c.firehose, 'cli');
    const env = { ...process.env, AWS_ACCESS_KEY_ID: server.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey, AWS_DEFAULT_REGION: server.region, AWS_PAGER: '' };
    const { stdout: version } = await run('aws', ['--version'], { env });
    const v2 = /aws-cli\/2/.test(version);
    const records = ['cli-1\n', 'cli-2\n'].map((d) => ({ Data: v2 ? Buffer.from(d).toString('base64') : d }));
    const { stdout } = await run('aws', ['--endpoint-url', server.endpoint, '--output', 'json', 'firehose', 'put-record-batch', '--delivery-stream-name', 'cli', '--records', JSON.stringify(records)], { env, timeout: 60_000 });
    const out = JSON.parse(stdout) as { FailedPutCount: number; RequestResponses: unknown[] };
    assert.equal(out.FailedPutCount, 0);
    assert.equal(out.RequestResponses.length, 2);
    await waitFor(async () => (await readAll(c.s3, 'cli')) === 'cli-1\ncli-2\n', { what: 'CLI records delivered' });
    const metrics = await (await fetch(`${server.endpoint}/metrics`)).text();
    assert.match(metrics, /hanul_firehose_records_in_total\{stream="cli"\} 2/);
    assert.match(metrics, /hanul_firehose_records_delivered_total\{stream="cli"\} 2/);
    assert.match(metrics, /hanul_firehose_delivery_latency_seconds_count\{stream="cli"\} 2/);
    assert.match(metrics, /hanul_firehose_backlog_age_seconds/);
  });

  it('keeps records while the bucket is missing, counts the failures, delivers once it exists', async () => {
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'later', ExtendedS3DestinationConfiguration: s3Dest('later-bucket') }));
    await waitActive(c.firehose, 'later');
    await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'later', Record: { Data: Buffer.from('kept') } }));
    await waitFor(async () => /hanul_firehose_delivery_failures_total\{stream="later"\} [1-9]/.test(await (await fetch(`${server.endpoint}/metrics`)).text()), { what: 'a counted failure' });
    await c.s3.send(new CreateBucketCommand({ Bucket: 'later-bucket' }));
    await waitFor(async () => (await readAll(c.s3, 'later-bucket')) === 'kept', { timeoutMs: 20_000, what: 'delivery after the bucket appeared' });
  });

  it('delivers as the destination RoleARN: a role without s3:PutObject, or one Firehose may not assume, fails delivery until fixed', async () => {
    for (const b of ['role-ok', 'role-other']) await c.s3.send(new CreateBucketCommand({ Bucket: b }));
    const iamc = new IAMClient({ ...server.clientConfig, region: 'us-east-1' });
    // Allowed to write only to another bucket.
    const narrow = await createDeliveryRole(server.clientConfig, 'fh-narrow', 'arn:aws:s3:::role-other/*');
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'narrow', ExtendedS3DestinationConfiguration: { ...s3Dest('role-ok'), RoleARN: narrow } }));
    // Trusted by another service only.
    await iamc.send(new CreateRoleCommand({ RoleName: 'fh-untrusted', AssumeRolePolicyDocument: FIREHOSE_TRUST.replace('firehose.amazonaws.com', 'lambda.amazonaws.com') }));
    await c.firehose.send(new f.CreateDeliveryStreamCommand({ DeliveryStreamName: 'untrusted', ExtendedS3DestinationConfiguration: { ...s3Dest('role-ok'), RoleARN: 'arn:aws:iam::000000000000:role/fh-untrusted', Prefix: 'u/' } }));
    await waitActive(c.firehose, 'narrow');
    await waitActive(c.firehose, 'untrusted');
    await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'narrow', Record: { Data: Buffer.from('n') } }));
    await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'untrusted', Record: { Data: Buffer.from('u') } }));
    const failing = async (stream: string) => /\d/.test(/hanul_firehose_delivery_failures_total\{stream="[^"]+"\} [1-9]/.exec((await (await fetch(`${server.endpoint}/metrics`)).text()).split('\n').filter((l) => l.includes(`stream="${stream}"`)).join('\n'))?.[0] ?? '');
    await waitFor(async () => (await failing('narrow')) && (await failing('untrusted')), { what: 'both deliveries fail' });
    assert.deepEqual(await listKeys(c.s3, 'role-ok'), [], 'nothing written without the role\'s permission');
    // Fixing the role's policy / trust lets the retried delivery through: the records were kept.
    await iamc.send(new PutRolePolicyCommand({ RoleName: 'fh-narrow', PolicyName: 'deliver', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::role-ok/*' }] }) }));
    await iamc.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'fh-untrusted', PolicyDocument: FIREHOSE_TRUST }));
    await iamc.send(new PutRolePolicyCommand({ RoleName: 'fh-untrusted', PolicyName: 'deliver', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }] }) }));
    await waitFor(async () => (await readAll(c.s3, 'role-ok', 'u/')) === 'u' && (await readAll(c.s3, 'role-ok')).includes('n'), { timeoutMs: 60_000, what: 'delivery once the roles allow it' });
  });

  it('a bucket policy Deny stops delivery even when the role allows it; the S3 backup is written as its own RoleARN', async () => {
    for (const b of ['deny-dest', 'backup-own']) await c.s3.send(new CreateBucketCommand({ Bucket: b }));
    const destRole = await createDeliveryRole(server.clientConfig, 'fh-dest-only', 'arn:aws:s3:::deny-dest/*');
    const backupRole = await createDeliveryRole(server.clientConfig, 'fh-backup-only', 'arn:aws:s3:::backup-own/*');
    await c.s3.send(new PutBucketPolicyCommand({
      Bucket: 'deny-dest',
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: destRole }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::deny-dest/*' }] }),
    }));
    await c.firehose.send(new f.CreateDeliveryStreamCommand({
      DeliveryStreamName: 'denied',
      ExtendedS3DestinationConfiguration: { ...s3Dest('deny-dest'), RoleARN: destRole, S3BackupMode: 'Enabled', S3BackupConfiguration: { RoleARN: backupRole, BucketARN: 'arn:aws:s3:::backup-own', Prefix: 'b/', BufferingHints: { IntervalInSeconds: 0, SizeInMBs: 1 } } },
    }));
    await waitActive(c.firehose, 'denied');
    await c.firehose.send(new f.PutRecordCommand({ DeliveryStreamName: 'denied', Record: { Data: Buffer.from('kept') } }));
    await waitFor(async () => /hanul_firehose_delivery_failures_total\{stream="denied"\} [1-9]/.test(await (await fetch(`${server.endpoint}/metrics`)).text()), { what: 'delivery refused by the bucket policy' });
    assert.deepEqual(await listKeys(c.s3, 'deny-dest'), []);
    await c.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'deny-dest' }));
    // The destination role may not write the backup bucket: only the backup's own role can.
    await waitFor(async () => (await readAll(c.s3, 'deny-dest')) === 'kept' && (await readAll(c.s3, 'backup-own', 'b/')) === 'kept', { timeoutMs: 60_000, what: 'delivery and backup once the policy is gone' });
  });
});
