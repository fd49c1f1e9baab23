// iam:PassRole: a caller handing a role to a service that acts with it later (S3 replication,
// a Firehose delivery stream) must be allowed to pass that role, with iam:PassedToService
// naming the service — else anyone allowed to configure the service could borrow any role
// that trusts it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketReplicationCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateDeliveryStreamCommand, FirehoseClient, UpdateDestinationCommand, DescribeDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { AssociateDRTRoleCommand, CreateSubscriptionCommand, ShieldClient } from '@aws-sdk/client-shield';
import { startHanul, type TestServer } from '../../support/hanul.js';
import { doc, failure, userWith } from './helpers.js';

describe('iam:PassRole when a role is handed to S3 replication or Firehose', () => {
  let server: TestServer;
  let s3: S3Client;
  const account = '000000000000';
  const trusting = (service: string) => doc({ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' });
  const s3Role = `arn:aws:iam::${account}:role/replicator`;
  const fhRole = `arn:aws:iam::${account}:role/deliverer`;
  before(async () => {
    server = await startHanul();
    const iam = new IAMClient(server.clientConfig);
    await iam.send(new CreateRoleCommand({ RoleName: 'replicator', AssumeRolePolicyDocument: trusting('s3.amazonaws.com') }));
    await iam.send(new CreateRoleCommand({ RoleName: 'deliverer', AssumeRolePolicyDocument: trusting('firehose.amazonaws.com') }));
    iam.destroy();
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    for (const Bucket of ['pr-src', 'pr-dst', 'pr-fh']) {
      await s3.send(new CreateBucketCommand({ Bucket }));
      if (Bucket !== 'pr-fh') await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    }
  });
  after(async () => {
    s3.destroy();
    await server.stop();
  });

  const replication = (Role: string) => ({
    Bucket: 'pr-src',
    ReplicationConfiguration: { Role, Rules: [{ ID: 'all', Priority: 1, Status: 'Enabled' as const, Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Disabled' as const }, Destination: { Bucket: 'arn:aws:s3:::pr-dst' } }] },
  });

  it('S3 PutBucketReplication: AccessDenied without iam:PassRole; allowed with it for s3.amazonaws.com only', async () => {
    const plain = await userWith(server, 's3-admin', [doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' })]);
    const c = new S3Client({ ...server.clientConfig, credentials: plain, forcePathStyle: true, maxAttempts: 1 });
    const denied = await failure(c.send(new PutBucketReplicationCommand(replication(s3Role))));
    assert.deepEqual([denied.name, denied.status], ['AccessDenied', 403]);
    c.destroy();
    // PassRole allowed, but only when passed to Firehose: still refused for S3.
    const wrong = await userWith(server, 's3-admin-2', [
      doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Allow', Action: 'iam:PassRole', Resource: s3Role, Condition: { StringEquals: { 'iam:PassedToService': 'firehose.amazonaws.com' } } }),
    ]);
    const w = new S3Client({ ...server.clientConfig, credentials: wrong, forcePathStyle: true, maxAttempts: 1 });
    assert.equal((await failure(w.send(new PutBucketReplicationCommand(replication(s3Role))))).name, 'AccessDenied');
    w.destroy();
    const allowed = await userWith(server, 's3-admin-3', [
      doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Allow', Action: 'iam:PassRole', Resource: s3Role, Condition: { StringEquals: { 'iam:PassedToService': 's3.amazonaws.com' } } }),
    ]);
    const a = new S3Client({ ...server.clientConfig, credentials: allowed, forcePathStyle: true, maxAttempts: 1 });
    await a.send(new PutBucketReplicationCommand(replication(s3Role)));
    // Passing a role the policy does not name is refused.
    assert.equal((await failure(a.send(new PutBucketReplicationCommand(replication(fhRole))))).name, 'AccessDenied');
    a.destroy();
  });

  it('Firehose CreateDeliveryStream / UpdateDestination: AccessDeniedException without iam:PassRole on every RoleARN', async () => {
    const dest = { RoleARN: fhRole, BucketARN: 'arn:aws:s3:::pr-fh' };
    const plain = await userWith(server, 'fh-admin', [doc({ Effect: 'Allow', Action: 'firehose:*', Resource: '*' })]);
    const c = new FirehoseClient({ ...server.clientConfig, credentials: plain, maxAttempts: 1 });
    const denied = await failure(c.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'pr-stream', ExtendedS3DestinationConfiguration: dest })));
    assert.deepEqual([denied.name, denied.status], ['AccessDeniedException', 400]);
    assert.match(denied.message, /iam:PassRole/);
    c.destroy();
    const allowed = await userWith(server, 'fh-admin-2', [
      doc({ Effect: 'Allow', Action: 'firehose:*', Resource: '*' }, { Effect: 'Allow', Action: 'iam:PassRole', Resource: fhRole, Condition: { StringEquals: { 'iam:PassedToService': 'firehose.amazonaws.com' } } }),
    ]);
    const a = new FirehoseClient({ ...server.clientConfig, credentials: allowed, maxAttempts: 1 });
    await a.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'pr-stream', ExtendedS3DestinationConfiguration: dest }));
    const d = await a.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'pr-stream' }));
    // A role in a nested member (the S3 backup) is checked too.
    const upd = await failure(
      a.send(
        new UpdateDestinationCommand({
          DeliveryStreamName: 'pr-stream',
          DestinationId: d.DeliveryStreamDescription?.Destinations?.[0]?.DestinationId,
          CurrentDeliveryStreamVersionId: d.DeliveryStreamDescription?.VersionId,
          ExtendedS3DestinationUpdate: { S3BackupMode: 'Enabled', S3BackupUpdate: { RoleARN: s3Role, BucketARN: 'arn:aws:s3:::pr-fh' } },
        }),
      ),
    );
    assert.equal(upd.name, 'AccessDeniedException');
    a.destroy();
  });

  it('Shield AssociateDRTRole: AccessDeniedException without iam:PassRole (drt.shield.amazonaws.com)', async () => {
    const root = new ShieldClient(server.clientConfig);
    await root.send(new CreateSubscriptionCommand({}));
    root.destroy();
    const drt = `arn:aws:iam::${account}:role/drt`;
    const plain = await userWith(server, 'shield-admin', [doc({ Effect: 'Allow', Action: 'shield:*', Resource: '*' })]);
    const c = new ShieldClient({ ...server.clientConfig, credentials: plain, maxAttempts: 1 });
    const denied = await failure(c.send(new AssociateDRTRoleCommand({ RoleArn: drt })));
    assert.deepEqual([denied.name, denied.status], ['AccessDeniedException', 400]);
    c.destroy();
    const allowed = await userWith(server, 'shield-admin-2', [
      doc({ Effect: 'Allow', Action: 'shield:*', Resource: '*' }, { Effect: 'Allow', Action: 'iam:PassRole', Resource: drt, Condition: { StringEquals: { 'iam:PassedToService': 'drt.shield.amazonaws.com' } } }),
    ]);
    const a = new ShieldClient({ ...server.clientConfig, credentials: allowed, maxAttempts: 1 });
    await a.send(new AssociateDRTRoleCommand({ RoleArn: drt }));
    a.destroy();
  });
});
