import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketLoggingCommand } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { formatLine, logObjectKey, logTime, operationName } from './access-log.js';
import { charged, payerCheck, requesterPays } from './bucket-settings.js';
import { checkNotificationConfiguration } from './notification.js';
import { checkReplicationRules } from './replication.js';
import type { BucketRecord } from './model.js';
import { startS3Harness, type S3Harness } from './test-harness.js';

const bucket = { name: 'src', ownerAccount: '000000000000', region: 'us-east-1' } as BucketRecord;
const ctxOf = (principal: Partial<RequestContext['principal']>) => ({ principal: { type: 'user', arn: 'arn', userId: 'u', accountId: '000000000000', ...principal } }) as RequestContext;

describe('requester pays', () => {
  it('refuses anonymous callers, exempts the owner account, makes other accounts say they pay', () => {
    assert.throws(() => requesterPays(bucket, ctxOf({ type: 'anonymous', accountId: '' })), { code: 'AccessDenied', status: 403 });
    const own = ctxOf({});
    requesterPays(bucket, own);
    assert.equal(payerCheck({}, own), false);
    const other = ctxOf({ accountId: '111122223333' });
    requesterPays(bucket, other);
    assert.throws(() => payerCheck({}, other), { code: 'AccessDenied' });
    assert.throws(() => payerCheck({ RequestPayer: 'bucketowner' }, other), { code: 'AccessDenied' });
    assert.equal(payerCheck({ RequestPayer: 'requester' }, other), true);
    assert.deepEqual(charged({ ETag: 'x' }), { ETag: 'x', RequestCharged: 'requester' });
  });
});

describe('server access log format', () => {
  it('time, operation names, key layouts', () => {
    assert.equal(logTime(Date.UTC(2019, 1, 6, 0, 0, 38)), '[06/Feb/2019:00:00:38 +0000]');
    assert.equal(operationName('GET', '', 'k', 'GetObject'), 'REST.GET.OBJECT');
    assert.equal(operationName('GET', 'list-type=2&prefix=a', undefined, 'ListObjectsV2'), 'REST.GET.BUCKET');
    assert.equal(operationName('PUT', 'versioning', undefined, 'PutBucketVersioning'), 'REST.PUT.VERSIONING');
    assert.equal(operationName('GET', 'logging', undefined, 'GetBucketLogging'), 'REST.GET.LOGGING_STATUS');
    assert.equal(operationName('POST', 'uploads', 'k', 'CreateMultipartUpload'), 'REST.POST.UPLOAD');
    assert.equal(operationName('GET', '', undefined, 'ListBuckets'), 'REST.GET.SERVICE');
    assert.match(logObjectKey({ TargetBucket: 't', TargetPrefix: 'p/' }, bucket, Date.UTC(2024, 0, 2, 3, 4, 5)), /^p\/2024-01-02-03-04-05-[0-9A-F]{16}$/);
    assert.match(
      logObjectKey({ TargetBucket: 't', TargetPrefix: 'p/', TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'EventTime' } } }, bucket, Date.UTC(2024, 0, 2, 3, 4, 5)),
      /^p\/000000000000\/us-east-1\/src\/2024\/01\/02\/2024-01-02-03-04-05-[0-9A-F]{16}$/,
    );
  });

  it('a line has S3 fields in order, dashes for what is absent', () => {
    const line = formatLine(bucket, {
      at: Date.UTC(2019, 1, 6, 0, 0, 38),
      ip: '192.0.2.3',
      requester: '-',
      requestId: 'R1',
      operation: 'REST.GET.OBJECT',
      key: 'a b/c',
      uri: 'GET /src/a%20b/c HTTP/1.1',
      status: 404,
      error: 'NoSuchKey',
      bytesSent: 0,
      objectSize: undefined,
      totalMs: 3.4,
      referer: undefined,
      userAgent: 'ua "quoted"',
      versionId: undefined,
      signed: undefined,
      host: 'h',
      tls: false,
    });
    const fields = line.split(' ');
    assert.equal(fields[1], 'src');
    assert.equal(fields[4], '192.0.2.3');
    assert.match(line, / R1 REST\.GET\.OBJECT a%20b\/c "GET \/src\/a%20b\/c HTTP\/1\.1" 404 NoSuchKey - - 3 - "-" "ua \\"quoted\\"" - - - - - h - - -$/);
  });
});

describe('validation without other buckets', () => {
  it('replication rules', () => {
    const rule = { ID: 'a', Priority: 1, Status: 'Enabled' as const, Filter: {}, DeleteMarkerReplication: { Status: 'Disabled' as const }, Destination: { Bucket: 'arn:aws:s3:::dst' } };
    assert.deepEqual(checkReplicationRules('arn:aws:iam::000000000000:role/r', [rule]), ['dst']);
    assert.throws(() => checkReplicationRules('arn:aws:iam::000000000000:role/r', []), { code: 'MalformedXML' });
    assert.throws(() => checkReplicationRules('arn:aws:iam::000000000000:role/r', [{ ...rule, Destination: { Bucket: 'dst' } }]), { code: 'InvalidArgument' });
    assert.throws(() => checkReplicationRules('arn:aws:iam::000000000000:role/r', [rule, { ...rule, Priority: 2 }]), { code: 'InvalidArgument', message: /unique/ });
    assert.throws(() => checkReplicationRules('arn:aws:iam::000000000000:role/r', [{ ...rule, Status: 'On' as 'Enabled' }]), { code: 'MalformedXML' });
    // The V1 schema (Prefix, no Filter) needs neither Priority nor DeleteMarkerReplication.
    assert.deepEqual(checkReplicationRules('arn:aws:iam::000000000000:role/r', [{ Prefix: '', Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::d2' } }]), ['d2']);
  });

  it('notification destinations', () => {
    assert.deepEqual(checkNotificationConfiguration({}), []);
    assert.deepEqual(checkNotificationConfiguration({ TopicConfigurations: [{ TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', Events: ['s3:ObjectRemoved:*'] }] }), ['arn:aws:sns:us-east-1:000000000000:t']);
    const q = (rules: Array<{ Name: 'prefix' | 'suffix'; Value: string }>) => ({ QueueConfigurations: [{ QueueArn: 'arn:aws:sqs:us-east-1:0:q', Events: ['s3:ObjectCreated:Put' as const], Filter: { Key: { FilterRules: rules } } }] });
    assert.throws(() => checkNotificationConfiguration(q([{ Name: 'prefix', Value: 'a' }, { Name: 'prefix', Value: 'b' }])), { code: 'InvalidArgument' });
    assert.throws(() => checkNotificationConfiguration({ QueueConfigurations: [{ QueueArn: 'arn:aws:sqs:us-east-1:0:q', Events: [] }] }), { code: 'MalformedXML' });
  });
});

describe('access log delivery on the harness clock', () => {
  let h: S3Harness;
  before(async () => {
    h = await startS3Harness();
  });
  after(async () => {
    await h.close();
  });

  it('delivers held records at stop (shutdown), and nothing for a bucket whose logging was turned off', async () => {
    await h.client.send(new CreateBucketCommand({ Bucket: 'l-src' }));
    await h.client.send(new CreateBucketCommand({ Bucket: 'l-dst' }));
    await h.client.send(new PutBucketLoggingCommand({ Bucket: 'l-src', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'l-dst', TargetPrefix: '' } } }));
    // The harness has no pipeline: hand the finished request to the hook as the pipeline does.
    const req = { method: 'GET', rawPath: '/l-src/k', rawQuery: '', headers: { 'user-agent': 'ua' }, hostname: 'h' };
    h.service.served?.(req as never, { Bucket: 'l-src', Key: 'k' }, { ContentLength: 1 }, h.ctx(), 200, 1, 'RID1', undefined, performance.now());
    h.service.served?.(req as never, { Bucket: 'other', Key: 'k' }, {}, h.ctx(), 200, 1, 'RID2', undefined, performance.now());
    await h.service.stop?.();
    const listed = await h.client.send(new ListObjectsV2Command({ Bucket: 'l-dst' }));
    assert.equal(listed.KeyCount, 1);
    const text = await (await h.client.send(new GetObjectCommand({ Bucket: 'l-dst', Key: listed.Contents?.[0]?.Key }))).Body!.transformToString();
    assert.match(text, / RID1 REST\.GET\.OBJECT k "GET \/l-src\/k HTTP\/1\.1" 200 - 1 1 /);
    assert.doesNotMatch(text, /RID2/);
  });
});
