/**
 * Bucket settings Terraform and scripts read on every refresh, through the
 * real SDK against a started server: Transfer Acceleration, Requester Pays
 * (enforced), replication, event notifications and server access logging
 * (delivered), with S3's errors for bad input, and the state after a restart.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketReplicationCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketReplicationCommand,
  GetBucketRequestPaymentCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  ListObjectVersionsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketAccelerateConfigurationCommand,
  PutBucketLoggingCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketReplicationCommand,
  PutBucketRequestPaymentCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  type BucketAccelerateStatus,
  type Payer,
} from '@aws-sdk/client-s3';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { failure, startHanul, waitFor, type TestServer } from '../../support/hanul.js';

const ROLE = 'arn:aws:iam::000000000000:role/replicator';
const RULE = { ID: 'r1', Priority: 1, Status: 'Enabled' as const, Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Disabled' as const }, Destination: { Bucket: 'arn:aws:s3:::cfg-dst' } };

describe('s3 bucket settings (accelerate, request payment, replication, notification, logging)', () => {
  let server: TestServer;
  let s3: S3Client;
  let dataDir = '';
  const client = (srv: TestServer) => new S3Client({ ...srv.clientConfig, forcePathStyle: true, maxAttempts: 1 });

  before(async () => {
    server = await startHanul();
    dataDir = server.dataDir;
    s3 = client(server);
    for (const Bucket of ['cfg-src', 'cfg-dst', 'cfg-plain', 'cfg.dotted', 'cfg-pays']) await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => {
    s3.destroy();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  /** The source version's replication status once it is no longer PENDING. */
  const settled = (Key: string, extra: Record<string, string> = {}) =>
    waitFor(async () => {
      const h = await s3.send(new HeadObjectCommand({ Bucket: 'cfg-src', Key, ...extra }));
      return h.ReplicationStatus === 'PENDING' ? undefined : h.ReplicationStatus;
    }, { what: `replication of ${Key} to settle`, timeoutMs: 10_000 });

  it('accelerate: empty until set, Enabled/Suspended kept, dots and bad status refused', async () => {
    const empty = await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket: 'cfg-src' }));
    assert.equal(empty.Status, undefined);
    await s3.send(new PutBucketAccelerateConfigurationCommand({ Bucket: 'cfg-src', AccelerateConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket: 'cfg-src' }))).Status, 'Enabled');
    await s3.send(new PutBucketAccelerateConfigurationCommand({ Bucket: 'cfg-plain', AccelerateConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket: 'cfg-plain' }))).Status, 'Suspended');

    const dotted = await failure(s3.send(new PutBucketAccelerateConfigurationCommand({ Bucket: 'cfg.dotted', AccelerateConfiguration: { Status: 'Enabled' } })));
    assert.equal(dotted.name, 'InvalidRequest');
    assert.equal(dotted.status, 400);
    assert.match(dotted.message, /periods/);
    const bad = await failure(s3.send(new PutBucketAccelerateConfigurationCommand({ Bucket: 'cfg-src', AccelerateConfiguration: { Status: 'On' as BucketAccelerateStatus } })));
    assert.equal(bad.name, 'MalformedXML');
    const missing = await failure(s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket: 'cfg-none' })));
    assert.equal(missing.name, 'NoSuchBucket');
    assert.equal(missing.status, 404);

    // CloudTrail records them as management events, like the other bucket configuration calls.
    const trail = new CloudTrailClient({ ...server.clientConfig, maxAttempts: 1 });
    const lookup = (name: string) => trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }] }));
    const put = await waitFor(async () => (await lookup('PutBucketAccelerateConfiguration')).Events?.find((e) => e.ReadOnly === 'false'), { what: 'the CloudTrail event' });
    assert.equal(put.EventSource, 's3.amazonaws.com');
    assert.ok((await lookup('GetBucketAccelerateConfiguration')).Events?.every((e) => e.ReadOnly === 'true'));
    trail.destroy();
  });

  it('request payment: BucketOwner by default; Requester refuses anonymous readers, the owner still reads', async () => {
    assert.equal((await s3.send(new GetBucketRequestPaymentCommand({ Bucket: 'cfg-pays' }))).Payer, 'BucketOwner');
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'cfg-pays' }));
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::cfg-pays/*' }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'cfg-pays', Policy: JSON.stringify(policy) }));
    await s3.send(new PutObjectCommand({ Bucket: 'cfg-pays', Key: 'k', Body: 'paid' }));
    assert.equal((await fetch(`${server.endpoint}/cfg-pays/k`)).status, 200);

    await s3.send(new PutBucketRequestPaymentCommand({ Bucket: 'cfg-pays', RequestPaymentConfiguration: { Payer: 'Requester' } }));
    assert.equal((await s3.send(new GetBucketRequestPaymentCommand({ Bucket: 'cfg-pays' }))).Payer, 'Requester');
    const anon = await fetch(`${server.endpoint}/cfg-pays/k`);
    assert.equal(anon.status, 403);
    assert.match(await anon.text(), /<Code>AccessDenied<\/Code>/);
    // Even when the anonymous request offers to pay.
    assert.equal((await fetch(`${server.endpoint}/cfg-pays/k`, { headers: { 'x-amz-request-payer': 'requester' } })).status, 403);
    // The owner's account is not charged as a requester: no header needed, none answered.
    const own = await s3.send(new GetObjectCommand({ Bucket: 'cfg-pays', Key: 'k' }));
    assert.equal(await own.Body?.transformToString(), 'paid');
    assert.equal(own.RequestCharged, undefined);
    const ownPaying = await s3.send(new GetObjectCommand({ Bucket: 'cfg-pays', Key: 'k', RequestPayer: 'requester' }));
    assert.equal(ownPaying.RequestCharged, undefined);

    const bad = await failure(s3.send(new PutBucketRequestPaymentCommand({ Bucket: 'cfg-pays', RequestPaymentConfiguration: { Payer: 'Nobody' as Payer } })));
    assert.equal(bad.name, 'MalformedXML');
    assert.equal(bad.status, 400);
  });

  it('replication: none → ReplicationConfigurationNotFoundError; Put is validated as S3 does', async () => {
    const none = await failure(s3.send(new GetBucketReplicationCommand({ Bucket: 'cfg-src' })));
    assert.equal(none.name, 'ReplicationConfigurationNotFoundError');
    assert.equal(none.status, 404);
    await s3.send(new DeleteBucketReplicationCommand({ Bucket: 'cfg-src' }));

    const put = (Rules: unknown[], Role = ROLE) => failure(s3.send(new PutBucketReplicationCommand({ Bucket: 'cfg-src', ReplicationConfiguration: { Role, Rules: Rules as never } })));
    let f = await put([RULE]);
    assert.equal(f.name, 'InvalidRequest');
    assert.match(f.message, /Versioning must be 'Enabled'/);
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg-src', VersioningConfiguration: { Status: 'Enabled' } }));
    f = await put([{ ...RULE, Destination: { Bucket: 'arn:aws:s3:::cfg-gone' } }]);
    assert.equal(f.name, 'InvalidRequest');
    assert.match(f.message, /Destination bucket must exist/);
    f = await put([{ ...RULE, Destination: { Bucket: 'arn:aws:s3:::cfg-src' } }]);
    assert.match(f.message, /cannot be the same as the source/);
    f = await put([RULE]);
    assert.match(f.message, /Destination bucket must have versioning enabled/);
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg-dst', VersioningConfiguration: { Status: 'Enabled' } }));
    f = await put([RULE], 'not-an-arn');
    assert.equal(f.name, 'InvalidArgument');
    f = await put([{ ...RULE, DeleteMarkerReplication: undefined }]);
    assert.match(f.message, /DeleteMarkerReplication must be specified/);
    f = await put([RULE, { ...RULE, ID: 'r2' }]);
    assert.equal(f.name, 'InvalidArgument');
    assert.match(f.message, /duplicate priority/);
    f = await put(Array.from({ length: 1001 }, (_, i) => ({ ...RULE, ID: `r${i}`, Priority: i })));
    assert.equal(f.name, 'InvalidArgument');
    // What hanul does not build is refused, not stored and ignored.
    f = await put([{ ...RULE, Filter: { Tag: { Key: 'k', Value: 'v' } }, DeleteMarkerReplication: { Status: 'Enabled' } }]);
    assert.equal(f.name, 'InvalidRequest');
    assert.match(f.message, /Delete marker replication is not supported/);
    f = await put([{ ...RULE, SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } } }]);
    assert.match(f.message, /ReplicaKmsKeyID must be specified/);
    f = await put([{ ...RULE, ExistingObjectReplication: { Status: 'Enabled' } }]);
    assert.equal(f.name, 'NotImplemented');
    assert.equal(f.status, 501);
    assert.equal((await failure(s3.send(new GetBucketReplicationCommand({ Bucket: 'cfg-src' })))).name, 'ReplicationConfigurationNotFoundError');
  });

  it('replication copies new versions as the role: PENDING → COMPLETED, the copy is a REPLICA with the same version id', async () => {
    const iamc = new IAMClient({ ...server.clientConfig, maxAttempts: 1 });
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    await iamc.send(new CreateRoleCommand({ RoleName: 'replicator', AssumeRolePolicyDocument: JSON.stringify(trust) }));
    const allow = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObjectVersionForReplication', 's3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: ['arn:aws:s3:::cfg-src/*', 'arn:aws:s3:::cfg-dst/*'] }] };
    await iamc.send(new PutRolePolicyCommand({ RoleName: 'replicator', PolicyName: 'replicate', PolicyDocument: JSON.stringify(allow) }));
    iamc.destroy();

    const rules = [{ ...RULE, Filter: { Prefix: 'docs/' }, DeleteMarkerReplication: { Status: 'Enabled' as const }, Destination: { Bucket: 'arn:aws:s3:::cfg-dst', StorageClass: 'STANDARD_IA' as const } }];
    await s3.send(new PutBucketReplicationCommand({ Bucket: 'cfg-src', ReplicationConfiguration: { Role: ROLE, Rules: rules } }));
    const got = await s3.send(new GetBucketReplicationCommand({ Bucket: 'cfg-src' }));
    assert.equal(got.ReplicationConfiguration?.Role, ROLE);
    assert.equal(got.ReplicationConfiguration?.Rules?.[0]?.Filter?.Prefix, 'docs/');
    // Versioning cannot be suspended under a replication configuration.
    const susp = await failure(s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg-src', VersioningConfiguration: { Status: 'Suspended' } })));
    assert.equal(susp.name, 'InvalidBucketState');

    const put = await s3.send(new PutObjectCommand({ Bucket: 'cfg-src', Key: 'docs/a.txt', Body: 'replicate me', ContentType: 'text/plain', Metadata: { m: '1' }, Tagging: 't=v' }));
    const other = await s3.send(new PutObjectCommand({ Bucket: 'cfg-src', Key: 'other/b.txt', Body: 'stay' }));
    const status = await settled('docs/a.txt');
    assert.equal(status, 'COMPLETED');
    const replica = await s3.send(new GetObjectCommand({ Bucket: 'cfg-dst', Key: 'docs/a.txt' }));
    assert.equal(await replica.Body?.transformToString(), 'replicate me');
    assert.equal(replica.ReplicationStatus, 'REPLICA');
    assert.equal(replica.VersionId, put.VersionId);
    assert.equal(replica.ETag, put.ETag);
    assert.equal(replica.ContentType, 'text/plain');
    assert.deepEqual(replica.Metadata, { m: '1' });
    assert.equal(replica.StorageClass, 'STANDARD_IA');
    assert.equal(replica.TagCount, 1);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'cfg-src', Key: 'other/b.txt', VersionId: other.VersionId }))).ReplicationStatus, undefined);
    assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: 'cfg-dst', Key: 'other/b.txt' })))).status, 404);

    // Later tag changes on the source version reach the replica (s3:ReplicateTags).
    await s3.send(new PutObjectTaggingCommand({ Bucket: 'cfg-src', Key: 'docs/a.txt', Tagging: { TagSet: [{ Key: 'stage', Value: 'two' }] } }));
    await waitFor(async () => {
      const t = await s3.send(new GetObjectTaggingCommand({ Bucket: 'cfg-dst', Key: 'docs/a.txt' }));
      return t.TagSet?.length === 1 && t.TagSet[0]?.Key === 'stage' && t.TagSet[0].Value === 'two';
    }, { what: 'the replica to take the new tags' });
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'cfg-src', Key: 'docs/a.txt' }))).ReplicationStatus, 'COMPLETED');

    // A delete marker goes across too (DeleteMarkerReplication Enabled), with its version id; the replica version stays.
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'cfg-src', Key: 'docs/a.txt' }));
    const markers = await waitFor(async () => (await s3.send(new ListObjectVersionsCommand({ Bucket: 'cfg-dst', Prefix: 'docs/a.txt' }))).DeleteMarkers, { what: 'the replicated delete marker', timeoutMs: 10_000 });
    assert.equal(markers[0]?.VersionId, del.VersionId);
    assert.equal(markers[0]?.IsLatest, true);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: 'cfg-dst', Key: 'docs/a.txt', VersionId: put.VersionId }))).ReplicationStatus, 'REPLICA');

    // A role the bucket policy denies: the version says FAILED, nothing is copied.
    const deny = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:ReplicateObject', Resource: 'arn:aws:s3:::cfg-dst/docs/denied*' }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'cfg-dst', Policy: JSON.stringify(deny) }));
    await s3.send(new PutObjectCommand({ Bucket: 'cfg-src', Key: 'docs/denied.txt', Body: 'no' }));
    const failed = await settled('docs/denied.txt');
    assert.equal(failed, 'FAILED');
    assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: 'cfg-dst', Key: 'docs/denied.txt' })))).status, 404);
  });

  it('replication of encrypted objects: SSE-KMS only by rules that select them (re-encrypted under ReplicaKmsKeyID as the role), SSE-C as stored', async () => {
    const kms = new KMSClient({ ...server.clientConfig, maxAttempts: 1 });
    const sourceKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? '';
    const replicaKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? '';
    kms.destroy();
    const iamc = new IAMClient({ ...server.clientConfig, maxAttempts: 1 });
    const allow = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: [sourceKey, replicaKey] }] };
    await iamc.send(new PutRolePolicyCommand({ RoleName: 'replicator', PolicyName: 'kms', PolicyDocument: JSON.stringify(allow) }));
    iamc.destroy();
    const rules = [
      { ...RULE, ID: 'kms', Priority: 2, Filter: { Prefix: 'kms/' }, SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' as const } }, Destination: { Bucket: 'arn:aws:s3:::cfg-dst', EncryptionConfiguration: { ReplicaKmsKeyID: replicaKey } } },
      { ...RULE, ID: 'plain', Priority: 1, Filter: { Prefix: 'plain/' } },
    ];
    await s3.send(new PutBucketReplicationCommand({ Bucket: 'cfg-src', ReplicationConfiguration: { Role: ROLE, Rules: rules } }));
    await s3.send(new PutObjectCommand({ Bucket: 'cfg-src', Key: 'kms/secret', Body: 'sealed', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: sourceKey }));
    const status = await settled('kms/secret');
    assert.equal(status, 'COMPLETED');
    const replica = await s3.send(new GetObjectCommand({ Bucket: 'cfg-dst', Key: 'kms/secret' }));
    assert.equal(await replica.Body?.transformToString(), 'sealed');
    assert.equal(replica.ServerSideEncryption, 'aws:kms');
    assert.equal(replica.SSEKMSKeyId, replicaKey);
    // A rule that does not select SSE-KMS objects leaves them alone (no status), as S3.
    await s3.send(new PutObjectCommand({ Bucket: 'cfg-src', Key: 'plain/secret', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: sourceKey }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'cfg-src', Key: 'plain/secret' }))).ReplicationStatus, undefined);

    // SSE-C: copied as stored; the customer's key (never kept by hanul) opens the replica.
    const key = Buffer.alloc(32, 9);
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
    await s3.send(new PutObjectCommand({ Bucket: 'cfg-src', Key: 'plain/customer', Body: 'mine', ...ssec }));
    const done = await settled('plain/customer', ssec);
    assert.equal(done, 'COMPLETED');
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'cfg-dst', Key: 'plain/customer', ...ssec }))).Body?.transformToString(), 'mine');
    assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: 'cfg-dst', Key: 'plain/customer' })))).name, 'InvalidRequest');
  });

  it('notification: empty at first, an empty configuration is stored, a destination is refused as unvalidated', async () => {
    const first = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'cfg-src' }));
    assert.equal(first.QueueConfigurations, undefined);
    assert.equal(first.TopicConfigurations, undefined);
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'cfg-src', NotificationConfiguration: {} }));

    const queue = 'arn:aws:sqs:us-east-1:000000000000:events';
    const f = await failure(
      s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'cfg-src', NotificationConfiguration: { QueueConfigurations: [{ QueueArn: queue, Events: ['s3:ObjectCreated:*'] }] } })),
    );
    assert.equal(f.name, 'InvalidArgument');
    assert.equal(f.status, 400);
    assert.equal(f.message, 'Unable to validate the following destination configurations');
    assert.equal(f.error['ArgumentName1'], queue);
    const after = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'cfg-src' }));
    assert.equal(after.QueueConfigurations, undefined);

    const badEvent = await failure(
      s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'cfg-src', NotificationConfiguration: { TopicConfigurations: [{ TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', Events: ['s3:Nope' as never] }] } })),
    );
    assert.equal(badEvent.name, 'InvalidArgument');
    assert.match(badEvent.message, /event is not supported/);
    const badArn = await failure(
      s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'cfg-src', NotificationConfiguration: { LambdaFunctionConfigurations: [{ LambdaFunctionArn: 'arn:aws:sqs:x', Events: ['s3:ObjectCreated:*'] }] } })),
    );
    assert.match(badArn.message, /ARN is not well formed/);
    const eb = await failure(s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'cfg-src', NotificationConfiguration: { EventBridgeConfiguration: {} } })));
    assert.equal(eb.name, 'NotImplemented');
    assert.equal(eb.status, 501);
  });

  it('logging: empty status; a target is validated; records are delivered in the S3 log format on the injectable clock', async () => {
    assert.equal((await s3.send(new GetBucketLoggingCommand({ Bucket: 'cfg-src' }))).LoggingEnabled, undefined);
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'cfg-src', BucketLoggingStatus: {} }));
    const put = (TargetBucket: string, extra: Record<string, unknown> = {}) =>
      failure(s3.send(new PutBucketLoggingCommand({ Bucket: 'cfg-src', BucketLoggingStatus: { LoggingEnabled: { TargetBucket, TargetPrefix: 'logs/', ...extra } } })));
    let f = await put('cfg-gone');
    assert.equal(f.name, 'InvalidTargetBucketForLogging');
    assert.equal(f.status, 400);
    assert.equal(f.error['TargetBucket'], 'cfg-gone');
    f = await put('cfg-pays');
    assert.equal(f.name, 'InvalidTargetBucketForLogging');
    f = await put('cfg-plain', { TargetObjectKeyFormat: { SimplePrefix: {}, PartitionedPrefix: { PartitionDateSource: 'EventTime' } } });
    assert.equal(f.name, 'MalformedXML');

    await s3.send(new PutBucketLoggingCommand({ Bucket: 'cfg-src', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'cfg-plain', TargetPrefix: 'logs/' } } }));
    assert.deepEqual((await s3.send(new GetBucketLoggingCommand({ Bucket: 'cfg-src' }))).LoggingEnabled, { TargetBucket: 'cfg-plain', TargetPrefix: 'logs/' });
    await s3.send(new PutObjectCommand({ Bucket: 'cfg-src', Key: 'dir/logged file', Body: 'hello' }));
    await s3.send(new GetObjectCommand({ Bucket: 'cfg-src', Key: 'dir/logged file' }));
    assert.equal((await fetch(`${server.endpoint}/cfg-src/dir/nothing`)).status, 403);
    // Refused before decoding (a bad signature): logged too, from the request's own path.
    const forged = await fetch(`${server.endpoint}/cfg-src/forged`, { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAFORGED0000000000/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00', 'x-amz-date': '20250101T000000Z', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    assert.equal(forged.status, 400); // the scope's date is not the request's
    // Nothing is delivered before the interval (60 s of hanul's clock) has passed.
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'cfg-plain', Prefix: 'logs/' }))).KeyCount, 0);
    server.clock.advance(61_000);
    const listed = await waitFor(async () => (await s3.send(new ListObjectsV2Command({ Bucket: 'cfg-plain', Prefix: 'logs/' }))).Contents?.[0], { what: 'a log object', timeoutMs: 10_000 });
    assert.match(listed.Key ?? '', /^logs\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/);
    const text = await (await s3.send(new GetObjectCommand({ Bucket: 'cfg-plain', Key: listed.Key }))).Body!.transformToString();
    const lines = text.trim().split('\n');
    const put1 = lines.find((l) => l.includes(' REST.PUT.OBJECT '));
    assert.ok(put1, text);
    assert.match(put1, /^[0-9a-f]{64} cfg-src \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] \S+ arn:aws:iam::\d{12}:root [0-9A-Z]+ REST\.PUT\.OBJECT dir\/logged%20file "PUT \/cfg-src\/dir\/logged%20file\S* HTTP\/1\.1" 200 - /);
    assert.ok(lines.some((l) => / REST\.GET\.OBJECT dir\/logged%20file .* 200 - 5 5 /.test(l)), text);
    assert.ok(lines.some((l) => / - \S+ REST\.GET\.OBJECT dir\/nothing .* 403 AccessDenied /.test(l)), text);
    assert.ok(lines.some((l) => / REST\.GET\.OBJECT forged .* 400 \w+ /.test(l)), text);
    // The Put/Get of the logging configuration itself are logged too, as in S3.
    assert.ok(lines.some((l) => l.includes(' REST.GET.LOGGING_STATUS ')), text);
  });

  it('settings survive a restart; records held at shutdown are delivered', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'cfg-src', Key: 'before-shutdown', Body: 'x' }));
    s3.destroy();
    await server.stop({ keepData: true });
    server = await startHanul({ dataDir });
    s3 = client(server);
    const logs = (await s3.send(new ListObjectsV2Command({ Bucket: 'cfg-plain', Prefix: 'logs/' }))).Contents ?? [];
    const texts = await Promise.all(logs.map(async (o) => (await s3.send(new GetObjectCommand({ Bucket: 'cfg-plain', Key: o.Key }))).Body!.transformToString()));
    assert.ok(texts.some((t) => t.includes(' REST.PUT.OBJECT before-shutdown ')), texts.join('---'));
    assert.equal((await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket: 'cfg-src' }))).Status, 'Enabled');
    assert.equal((await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket: 'cfg-plain' }))).Status, 'Suspended');
    assert.equal((await s3.send(new GetBucketRequestPaymentCommand({ Bucket: 'cfg-pays' }))).Payer, 'Requester');
    assert.equal((await fetch(`${server.endpoint}/cfg-pays/k`)).status, 403);
    await s3.send(new PutBucketRequestPaymentCommand({ Bucket: 'cfg-pays', RequestPaymentConfiguration: { Payer: 'BucketOwner' } }));
    assert.equal((await fetch(`${server.endpoint}/cfg-pays/k`)).status, 200);
    assert.equal((await s3.send(new GetBucketReplicationCommand({ Bucket: 'cfg-src' }))).ReplicationConfiguration?.Role, ROLE);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'cfg-src', Key: 'other/b.txt' }))).ReplicationStatus, undefined);
    assert.equal((await s3.send(new GetBucketLoggingCommand({ Bucket: 'cfg-src' }))).LoggingEnabled?.TargetBucket, 'cfg-plain');
  });
});
