/**
 * MFA Delete with real TOTP codes (otpauth): the root user's virtual MFA
 * device is created and enabled through IAM; PutBucketVersioning with
 * MfaDelete needs x-amz-mfa, and afterwards so do permanent deletes and
 * versioning changes. A code is good once: the clock moves 30 s (time travel)
 * between uses.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateAccessKeyCommand, CreateUserCommand, CreateVirtualMFADeviceCommand, EnableMFADeviceCommand, IAMClient, ListVirtualMFADevicesCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { Secret, TOTP } from 'otpauth';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';
import { advanceClock } from './time-travel.js';

describe('s3 e2e: MFA Delete', () => {
  let server: TestServer;
  let s3: S3Client;
  let iam: IAMClient;
  let serial = '';
  let totp: TOTP;
  const Bucket = 'mfa-delete';

  /** A fresh code: the clock moves to the next 30-second step first (a used step is refused). */
  async function mfa(): Promise<string> {
    await advanceClock(server.endpoint, 30, [s3, iam]);
    return `${serial} ${totp.generate({ timestamp: server.clock.nowMs() })}`;
  }

  before(async () => {
    server = await startHanul({ env: { HANUL_TIME_TRAVEL: '1' } });
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    iam = new IAMClient({ ...server.clientConfig, maxAttempts: 1 });
    const dev = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'root-account-mfa-device' }));
    serial = dev.VirtualMFADevice?.SerialNumber ?? '';
    totp = new TOTP({ secret: Secret.fromBase32(new TextDecoder().decode(dev.VirtualMFADevice?.Base32StringSeed)), digits: 6, period: 30, algorithm: 'SHA1' });
    const now = server.clock.nowMs();
    // Root enables its own device: EnableMFADevice signed by the root key, without UserName.
    await iam.send(new EnableMFADeviceCommand({ SerialNumber: serial, AuthenticationCode1: totp.generate({ timestamp: now - 30_000 }), AuthenticationCode2: totp.generate({ timestamp: now }) } as never));
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => {
    s3.destroy();
    iam.destroy();
    await server.stop();
    // The restart test reopens the same data dir, which stop() then leaves behind.
    await rm(server.dataDir, { recursive: true, force: true });
  });

  it('the root device shows as assigned to the root user', async () => {
    const list = await iam.send(new ListVirtualMFADevicesCommand({ AssignmentStatus: 'Assigned' }));
    assert.equal(list.VirtualMFADevices?.[0]?.SerialNumber, serial);
    assert.match(list.VirtualMFADevices?.[0]?.User?.Arn ?? '', /:root$/);
  });

  it('turning MFA Delete on needs a valid x-amz-mfa from the root device', async () => {
    const cfg = { Status: 'Enabled' as const, MFADelete: 'Enabled' as const };
    const missing = await failure(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: cfg })));
    assert.deepEqual([missing.name, missing.status], ['AccessDenied', 403]);
    const malformed = await failure(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: cfg, MFA: 'no-space' })));
    assert.deepEqual([malformed.name, malformed.status], ['InvalidArgument', 400]);
    const wrong = await failure(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: cfg, MFA: `${serial} 000000` })));
    assert.equal(wrong.name, 'AccessDenied');
    const otherDevice = await failure(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: cfg, MFA: `arn:aws:iam::000000000000:mfa/nope ${totp.generate({ timestamp: server.clock.nowMs() })}` })));
    assert.equal(otherDevice.name, 'AccessDenied');
    const code = await mfa();
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: cfg, MFA: code }));
    assert.deepEqual(await s3.send(new GetBucketVersioningCommand({ Bucket })).then((v) => [v.Status, v.MFADelete]), ['Enabled', 'Enabled']);
    // The same code again (same 30-second step) is refused.
    const reused = await failure(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' }, MFA: code })));
    assert.equal(reused.name, 'AccessDenied');
  });

  it('an IAM user cannot set MFA Delete, even allowed s3:*', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'mfa-user' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'mfa-user', PolicyName: 'all', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'mfa-user' }))).AccessKey;
    const user = new S3Client({ ...server.clientConfig, credentials: { accessKeyId: k?.AccessKeyId ?? '', secretAccessKey: k?.SecretAccessKey ?? '' }, forcePathStyle: true, maxAttempts: 1, systemClockOffset: server.clock.offsetMs() });
    try {
      const f = await failure(user.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Disabled' }, MFA: await mfa() })));
      assert.equal(f.name, 'AccessDenied');
    } finally {
      user.destroy();
    }
  });

  it('permanent deletes and versioning changes need the code; delete markers do not', async () => {
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    assert.equal(marker.DeleteMarker, true);
    const noCode = await failure(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId })));
    assert.deepEqual([noCode.name, noCode.status], ['AccessDenied', 403]);
    const multi = await failure(s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'k', VersionId }] } })));
    assert.equal(multi.name, 'AccessDenied');
    const suspend = await failure(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } })));
    assert.equal(suspend.name, 'AccessDenied');
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId, MFA: await mfa() }));
    await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'k', VersionId: marker.VersionId }] }, MFA: await mfa() }));
    assert.equal((await s3.send(new ListObjectVersionsCommand({ Bucket }))).Versions, undefined);
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended', MFADelete: 'Disabled' }, MFA: await mfa() }));
    assert.deepEqual(await s3.send(new GetBucketVersioningCommand({ Bucket })).then((v) => [v.Status, v.MFADelete]), ['Suspended', 'Disabled']);
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });

  it('MFA Delete state survives a restart', async () => {
    const B = 'mfa-restart';
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' }, MFA: await mfa() }));
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'x' }));
    const offset = server.clock.offsetMs();
    const dataDir = server.dataDir;
    s3.destroy();
    iam.destroy();
    await server.stop({ keepData: true });
    server = await startHanul({ dataDir, env: { HANUL_TIME_TRAVEL: '1' } });
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    iam = new IAMClient({ ...server.clientConfig, maxAttempts: 1 });
    // The restarted clock starts at the host's time; move it past the last used step again.
    await advanceClock(server.endpoint, offset / 1000, [s3, iam]);
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: B }))).MFADelete, 'Enabled');
    assert.equal((await failure(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'k', VersionId })))).name, 'AccessDenied');
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'k', VersionId, MFA: await mfa() }));
  });
});
