// Every request of every service is authorized with AWS's policy logic: real
// SDK clients, real credentials (IAM users, STS sessions) against the server.
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { FirehoseClient, ListDeliveryStreamsCommand } from '@aws-sdk/client-firehose';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ShieldClient, CreateProtectionCommand } from '@aws-sdk/client-shield';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHanul, type TestServer } from '../../support/hanul.js';
import { doc, failure, userWith, type Creds } from './helpers.js';

const BUCKET = 'iam-e2e';

describe('IAM enforcement through the real SDKs', () => {
  let server: TestServer;
  const s3 = (credentials: Creds) => new S3Client({ ...server.clientConfig, credentials, forcePathStyle: true, maxAttempts: 1 });
  before(async () => {
    server = await startHanul();
    const root = s3(server.credentials);
    await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await root.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'docs/a.txt', Body: 'hello' }));
  });
  after(() => server.stop());

  it('a read-only S3 user can GetObject and is denied PutObject with AWS’s message', async () => {
    const reader = await userWith(server, 'reader', [doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] })]);
    const c = s3(reader);
    const got = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/a.txt' }));
    assert.equal(await got.Body?.transformToString(), 'hello');
    const e = await failure(c.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'docs/b.txt', Body: 'x' })));
    assert.equal(e.name, 'AccessDenied');
    assert.equal(e.status, 403);
    assert.equal(e.message, `User: arn:aws:iam::000000000000:user/reader is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${BUCKET}/docs/b.txt" because no identity-based policy allows the s3:PutObject action`);
  });

  it('JSON services answer AccessDeniedException (400); authorization runs before the handler', async () => {
    const nobody = await userWith(server, 'nobody');
    const firehose = new FirehoseClient({ ...server.clientConfig, credentials: nobody, maxAttempts: 1 });
    const e = await failure(firehose.send(new ListDeliveryStreamsCommand({})));
    assert.equal(e.name, 'AccessDeniedException');
    assert.equal(e.status, 400);
    assert.match(e.message, /User: arn:aws:iam::000000000000:user\/nobody is not authorized to perform: firehose:ListDeliveryStreams on resource: \* because no identity-based policy allows the firehose:ListDeliveryStreams action/);
    // A stub operation (501 when allowed) is still authorized first.
    const shield = new ShieldClient({ ...server.clientConfig, credentials: nobody, maxAttempts: 1 });
    const d = await failure(shield.send(new CreateProtectionCommand({ Name: 'p', ResourceArn: 'arn:aws:ec2:us-east-1:000000000000:eip-allocation/eipalloc-1' })));
    assert.equal(d.name, 'AccessDeniedException');
    assert.match(d.message, /shield:CreateProtection/);
  });

  it('KMS: the default key policy delegates to IAM; IAM policies then decide (with encryption context conditions)', async () => {
    const root = new KMSClient({ ...server.clientConfig, maxAttempts: 1 });
    const key = (await root.send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? '';
    const crypto = await userWith(server, 'crypto', [doc({ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: key, Condition: { StringEquals: { 'kms:EncryptionContext:app': 'billing' } } })]);
    const kms = new KMSClient({ ...server.clientConfig, credentials: crypto, maxAttempts: 1 });
    const ct = await kms.send(new EncryptCommand({ KeyId: key, Plaintext: new TextEncoder().encode('secret'), EncryptionContext: { app: 'billing' } }));
    const pt = await kms.send(new DecryptCommand({ CiphertextBlob: ct.CiphertextBlob, EncryptionContext: { app: 'billing' } }));
    assert.equal(new TextDecoder().decode(pt.Plaintext), 'secret');
    const wrongContext = await failure(kms.send(new EncryptCommand({ KeyId: key, Plaintext: new TextEncoder().encode('x'), EncryptionContext: { app: 'other' } })));
    assert.deepEqual([wrongContext.name, wrongContext.status], ['AccessDeniedException', 400]);
    const outsider = await userWith(server, 'outsider');
    const e = await failure(new KMSClient({ ...server.clientConfig, credentials: outsider, maxAttempts: 1 }).send(new EncryptCommand({ KeyId: key, Plaintext: new Uint8Array([1]) })));
    assert.equal(e.name, 'AccessDeniedException');
    assert.match(e.message, /User: arn:aws:iam::000000000000:user\/outsider is not authorized to perform: kms:Encrypt/);
  });

  it('aws:SourceIp allows 127.0.0.1 only', async () => {
    const local = await userWith(server, 'local-only', [doc({ Effect: 'Allow', Action: 'firehose:ListDeliveryStreams', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.1/32' } } })]);
    const elsewhere = await userWith(server, 'elsewhere', [doc({ Effect: 'Allow', Action: 'firehose:ListDeliveryStreams', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } })]);
    // Firehose's ListDeliveryStreams may not be built yet: past authorization it answers 200 or 501, never AccessDenied.
    const ok = await new FirehoseClient({ ...server.clientConfig, credentials: local, maxAttempts: 1 }).send(new ListDeliveryStreamsCommand({})).then(
      () => 'allowed',
      (err: { name: string }) => err.name,
    );
    assert.ok(ok === 'allowed' || ok === 'NotImplemented', ok);
    const e = await failure(new FirehoseClient({ ...server.clientConfig, credentials: elsewhere, maxAttempts: 1 }).send(new ListDeliveryStreamsCommand({})));
    assert.equal(e.name, 'AccessDeniedException');
  });

  it('a deactivated access key is refused', async () => {
    const k = await userWith(server, 'rotating', [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })]);
    const c = s3(k);
    await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/a.txt' }));
    await new IAMClient(server.clientConfig).send(new UpdateAccessKeyCommand({ UserName: 'rotating', AccessKeyId: k.accessKeyId, Status: 'Inactive' }));
    const e = await failure(c.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/a.txt' })));
    assert.equal(e.status, 403);
    assert.equal(e.name, 'InvalidAccessKeyId');
  });

  it('assumed-role credentials work, then expire with the clock (ExpiredToken)', async () => {
    const dev = await userWith(server, 'dev');
    const iam = new IAMClient(server.clientConfig);
    await iam.send(new CreateRoleCommand({ RoleName: 'reader-role', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/dev' }, Action: 'sts:AssumeRole' }) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'reader-role', PolicyName: 'read', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` }) }));
    const sts = new STSClient({ ...server.clientConfig, credentials: dev });
    const r = await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/reader-role', RoleSessionName: 'e2e', DurationSeconds: 900 }));
    const c = r.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('AssumeRole returned no credentials');
    assert.match(c.AccessKeyId, /^ASIA/);
    const session: Creds = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    const who = await new STSClient({ ...server.clientConfig, credentials: session }).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, 'arn:aws:sts::000000000000:assumed-role/reader-role/e2e');
    const got = await s3(session).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/a.txt' }));
    assert.equal(await got.Body?.transformToString(), 'hello');
    const denied = await failure(s3(session).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x', Body: 'x' })));
    assert.match(denied.message, /assumed-role\/reader-role\/e2e is not authorized to perform: s3:PutObject/);
    // A wrong token is refused.
    const forged = await failure(s3({ ...session, sessionToken: `${session.sessionToken}x` }).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/a.txt' })));
    assert.ok(forged.status === 400 || forged.status === 403, `${forged.name}: ${forged.message}`);
    server.clock.advance(901_000);
    // The client signs with the same (advanced) time, as a client whose clock agrees would.
    const expired = await failure(new FirehoseClient({ ...server.clientConfig, credentials: session, maxAttempts: 1, systemClockOffset: server.clock.offsetMs() }).send(new ListDeliveryStreamsCommand({})));
    assert.match(expired.name, /ExpiredToken/);
  });
});
