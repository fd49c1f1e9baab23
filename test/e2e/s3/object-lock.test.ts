/**
 * Object Lock through the real SDK: lock buckets, default retention, per-version
 * retention and legal hold, what a lock forbids (AccessDenied), the governance
 * bypass checked by the IAM engine, the digest rule, lifecycle leaving locked
 * versions alone, restart survival, and the AWS CLI.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { failure, spawnHanul, startHanul, TEST_KEY, TEST_REGION, waitFor, type TestServer } from '../../support/hanul.js';
import { cliVersion, runCmd } from '../s3-clients/helpers.js';
import { advanceClock, DAY } from './time-travel.js';

const inDays = (s: TestServer, d: number) => new Date(Math.floor((s.clock.nowMs() + d * 86_400_000) / 1000) * 1000);

describe('s3 e2e: Object Lock', () => {
  let server: TestServer;
  let s3: S3Client;
  let iam: IAMClient;
  const Bucket = 'lock-e2e';
  before(async () => {
    server = await startHanul({ env: { HANUL_TIME_TRAVEL: '1' } });
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    iam = new IAMClient({ ...server.clientConfig, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  });
  after(async () => {
    s3.destroy();
    iam.destroy();
    await server.stop();
  });

  async function userClient(name: string, statements: unknown[]): Promise<S3Client> {
    await iam.send(new CreateUserCommand({ UserName: name }));
    await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey;
    return new S3Client({ ...server.clientConfig, credentials: { accessKeyId: k?.AccessKeyId ?? '', secretAccessKey: k?.SecretAccessKey ?? '' }, forcePathStyle: true, maxAttempts: 1 });
  }

  it('a lock bucket is versioned for good and reports its configuration', async () => {
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status, 'Enabled');
    assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
    const suspend = await failure(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } })));
    assert.deepEqual([suspend.name, suspend.status], ['InvalidBucketState', 409]);
  });

  it('lock operations on a bucket without Object Lock fail as S3 fails them; a versioned bucket can turn it on', async () => {
    const Plain = 'lock-plain';
    await s3.send(new CreateBucketCommand({ Bucket: Plain }));
    await s3.send(new PutObjectCommand({ Bucket: Plain, Key: 'k', Body: 'x' }));
    const none = await failure(s3.send(new GetObjectLockConfigurationCommand({ Bucket: Plain })));
    assert.deepEqual([none.name, none.status], ['ObjectLockConfigurationNotFoundError', 404]);
    const ret = await failure(s3.send(new PutObjectRetentionCommand({ Bucket: Plain, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(server, 1) } })));
    assert.deepEqual([ret.name, ret.status], ['InvalidRequest', 400]);
    const hdr = await failure(s3.send(new PutObjectCommand({ Bucket: Plain, Key: 'k2', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })));
    assert.deepEqual([hdr.name, hdr.status], ['InvalidRequest', 400]);
    const unversioned = await failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket: Plain, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } })));
    assert.deepEqual([unversioned.name, unversioned.status], ['InvalidBucketState', 409]);
    await s3.send(new PutBucketVersioningCommand({ Bucket: Plain, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: Plain, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
    assert.equal((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: Plain }))).ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
  });

  it('rejects bad configurations and bad lock headers', async () => {
    const bad = async (cfg: object) => failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: cfg })));
    assert.equal((await bad({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 0 } } })).name, 'InvalidArgument');
    assert.equal((await bad({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1, Years: 1 } } })).name, 'MalformedXML');
    assert.equal((await bad({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'STRICT', Days: 1 } } })).name, 'MalformedXML');
    const past = await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'p', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(server.clock.nowMs() - 1000) })));
    assert.deepEqual([past.name, past.status], ['InvalidArgument', 400]);
    const half = await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'p', Body: 'x', ObjectLockMode: 'GOVERNANCE' })));
    assert.equal(half.name, 'InvalidArgument');
    // Without Content-MD5 or a checksum, a write with lock parameters is refused.
    const bare = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED' });
    try {
      const noDigest = await failure(bare.send(new PutObjectCommand({ Bucket, Key: 'p', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })));
      assert.deepEqual([noDigest.name, noDigest.status], ['InvalidRequest', 400]);
      assert.match(noDigest.message, /Content-MD5 OR x-amz-checksum- HTTP header is required/);
      const md5 = createHash('md5').update('x').digest('base64');
      await bare.send(new PutObjectCommand({ Bucket, Key: 'p', Body: 'x', ContentMD5: md5, ObjectLockLegalHoldStatus: 'OFF' }));
    } finally {
      bare.destroy();
    }
  });

  it('COMPLIANCE: the version cannot be deleted or its retention shortened; a delete marker is fine', async () => {
    const until = inDays(server, 2);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'c', Body: 'keep', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }));
    const VersionId = put.VersionId;
    const h = await s3.send(new HeadObjectCommand({ Bucket, Key: 'c' }));
    assert.equal(h.ObjectLockMode, 'COMPLIANCE');
    assert.equal(h.ObjectLockRetainUntilDate?.getTime(), until.getTime());
    const g = await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'c', VersionId }));
    assert.deepEqual(g.Retention, { Mode: 'COMPLIANCE', RetainUntilDate: until });
    const del = await failure(s3.send(new DeleteObjectCommand({ Bucket, Key: 'c', VersionId, BypassGovernanceRetention: true })));
    assert.deepEqual([del.name, del.status], ['AccessDenied', 403]);
    const shorter = await failure(s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'c', VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: inDays(server, 1) } })));
    assert.equal(shorter.name, 'AccessDenied');
    const weaker = await failure(s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'c', VersionId, BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(server, 5) } })));
    assert.equal(weaker.name, 'AccessDenied');
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'c', VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: inDays(server, 3) } }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'c' }));
    assert.equal(marker.DeleteMarker, true);
    const multi = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'c', VersionId }, { Key: 'c', VersionId: marker.VersionId }] } }));
    assert.deepEqual(multi.Errors?.map((e) => [e.Key, e.VersionId, e.Code]), [['c', VersionId, 'AccessDenied']]);
    assert.equal(multi.Deleted?.[0]?.VersionId, marker.VersionId);
    const body = await s3.send(new GetObjectCommand({ Bucket, Key: 'c', VersionId }));
    assert.equal(await body.Body?.transformToString(), 'keep');
  });

  it('GOVERNANCE yields to the bypass header only with s3:BypassGovernanceRetention', async () => {
    const allowAll = { Effect: 'Allow', Action: 's3:*', Resource: '*' };
    const noBypass = await userClient('gov-nobypass', [allowAll, { Effect: 'Deny', Action: 's3:BypassGovernanceRetention', Resource: '*' }]);
    const bypasser = await userClient('gov-bypass', [allowAll]);
    try {
      const put = async () => (await s3.send(new PutObjectCommand({ Bucket, Key: 'g', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inDays(server, 2) }))).VersionId;
      const v1 = await put();
      assert.equal((await failure(s3.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: v1 })))).name, 'AccessDenied');
      assert.equal((await failure(noBypass.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: v1, BypassGovernanceRetention: true })))).name, 'AccessDenied');
      const shorten = await failure(noBypass.send(new PutObjectRetentionCommand({ Bucket, Key: 'g', VersionId: v1, BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(server, 1) } })));
      assert.equal(shorten.name, 'AccessDenied');
      await bypasser.send(new PutObjectRetentionCommand({ Bucket, Key: 'g', VersionId: v1, BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(server, 1) } }));
      await bypasser.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: v1, BypassGovernanceRetention: true }));
      const v2 = await put();
      // The root user holds every permission, the bypass included.
      await s3.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: v2, BypassGovernanceRetention: true }));
      const left = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'g' }));
      assert.equal(left.Versions, undefined);
    } finally {
      noBypass.destroy();
      bypasser.destroy();
    }
  });

  it('lock headers on a write need s3:PutObjectRetention / s3:PutObjectLegalHold', async () => {
    const putOnly = await userClient('put-only', [{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }]);
    try {
      await putOnly.send(new PutObjectCommand({ Bucket, Key: 'po', Body: 'x' }));
      const ret = await failure(putOnly.send(new PutObjectCommand({ Bucket, Key: 'po', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inDays(server, 1) })));
      assert.deepEqual([ret.name, ret.status], ['AccessDenied', 403]);
      const hold = await failure(putOnly.send(new PutObjectCommand({ Bucket, Key: 'po', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })));
      assert.equal(hold.name, 'AccessDenied');
    } finally {
      putOnly.destroy();
    }
  });

  it('legal hold blocks deletion until it is released, bypass or not', async () => {
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket, Key: 'h', Body: 'x' }));
    const none = await failure(s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'h' })));
    assert.deepEqual([none.name, none.status], ['NoSuchObjectLockConfiguration', 404]);
    assert.equal((await failure(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'h' })))).name, 'NoSuchObjectLockConfiguration');
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId, LegalHold: { Status: 'ON' } }));
    assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId }))).LegalHold?.Status, 'ON');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'h' }))).ObjectLockLegalHoldStatus, 'ON');
    assert.equal((await failure(s3.send(new DeleteObjectCommand({ Bucket, Key: 'h', VersionId, BypassGovernanceRetention: true })))).name, 'AccessDenied');
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId, LegalHold: { Status: 'OFF' } }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'h', VersionId }));
    const bad = await failure(s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'h', LegalHold: { Status: 'MAYBE' as 'ON' } })));
    assert.ok(['MalformedXML', 'NoSuchKey'].includes(bad.name));
  });

  it('default retention, multipart uploads and copies carry locks', async () => {
    const B = 'lock-default';
    await s3.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: B, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }));
    assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: B }))).ObjectLockConfiguration?.Rule, { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } });
    const before = server.clock.nowMs();
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'd', Body: 'x' }));
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'd' }));
    assert.equal(h.ObjectLockMode, 'GOVERNANCE');
    const until = h.ObjectLockRetainUntilDate?.getTime() ?? 0;
    assert.ok(until >= before + 86_400_000 - 1000 && until <= server.clock.nowMs() + 86_400_000 + 1000);
    const until2 = inDays(server, 10);
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'm', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until2, ObjectLockLegalHoldStatus: 'ON' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'm', UploadId: mpu.UploadId, PartNumber: 1, Body: 'part' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'm', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const hm = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'm' }));
    assert.deepEqual([hm.ObjectLockMode, hm.ObjectLockRetainUntilDate?.getTime(), hm.ObjectLockLegalHoldStatus], ['COMPLIANCE', until2.getTime(), 'ON']);
    // Without s3:GetObjectRetention / s3:GetObjectLegalHold the lock is left out of HEAD, the request still succeeds.
    const reader = await userClient('reader', [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectLegalHold'], Resource: '*' }]);
    try {
      const hr = await reader.send(new HeadObjectCommand({ Bucket: B, Key: 'm' }));
      assert.deepEqual([hr.ObjectLockMode, hr.ObjectLockRetainUntilDate, hr.ObjectLockLegalHoldStatus], [undefined, undefined, 'ON']);
    } finally {
      reader.destroy();
    }
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy', CopySource: `${B}/m`, ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until2 }));
    const hc = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'copy' }));
    assert.deepEqual([hc.ObjectLockMode, hc.ObjectLockLegalHoldStatus], ['GOVERNANCE', undefined]);
  });

  it('event holds: locked while ON, retained for their duration once released; bucket default and headers', async () => {
    const B = 'lock-event-hold';
    await s3.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
    // A rule may carry a default event hold alone.
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: B, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { DefaultEventHold: { Days: 2 } } } } }));
    assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: B }))).ObjectLockConfiguration?.Rule, { DefaultRetention: { DefaultEventHold: { Days: 2 } } });
    const { VersionId: v1 } = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'e', Body: 'held' }));
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'e' }));
    assert.deepEqual([h.ObjectLockEventHold, h.ObjectLockEventHoldDurationDays, h.ObjectLockMode], ['ON', 2, undefined]);
    assert.deepEqual((await s3.send(new GetObjectRetentionCommand({ Bucket: B, Key: 'e' }))).Retention, { EventHold: 'ON', EventHoldDuration: { Days: 2 } });
    // A hold yields to nobody, and its duration cannot shrink while it is on.
    assert.equal((await failure(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'e', VersionId: v1, BypassGovernanceRetention: true })))).name, 'AccessDenied');
    assert.equal((await failure(s3.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'e', VersionId: v1, Retention: { EventHoldDuration: { Days: 1 } } })))).name, 'AccessDenied');
    // Days far in the future stay locked: advancing the clock does not release a hold.
    await advanceClock(server.endpoint, 10 * DAY, [s3, iam]);
    assert.equal((await failure(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'e', VersionId: v1 })))).name, 'AccessDenied');
    // Released: retained 2 days from the release, in GOVERNANCE (no mode anywhere), then deletable.
    const released = server.clock.nowMs();
    await s3.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'e', VersionId: v1, Retention: { EventHold: 'OFF' } }));
    const r = (await s3.send(new GetObjectRetentionCommand({ Bucket: B, Key: 'e', VersionId: v1 }))).Retention;
    assert.equal(r?.EventHold, 'OFF');
    assert.equal(r?.Mode, 'GOVERNANCE');
    const until = r?.RetainUntilDate?.getTime() ?? 0;
    assert.ok(Math.abs(until - (released + 2 * 86_400_000)) < 5000, `retain until ${new Date(until).toISOString()}`);
    const after = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'e', VersionId: v1 }));
    assert.deepEqual([after.ObjectLockEventHold, after.ObjectLockEventHoldDurationDays], ['OFF', undefined]);
    assert.equal((await failure(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'e', VersionId: v1 })))).name, 'AccessDenied');
    await advanceClock(server.endpoint, 3 * DAY, [s3, iam]);
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'e', VersionId: v1 }));
    // Headers on a write: their own hold (no default then), a COMPLIANCE retention released into COMPLIANCE.
    const { VersionId: v2 } = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'w', Body: 'x', ObjectLockEventHold: 'ON', ObjectLockEventHoldDurationYears: 1 }));
    assert.deepEqual((await s3.send(new GetObjectRetentionCommand({ Bucket: B, Key: 'w', VersionId: v2 }))).Retention, { EventHold: 'ON', EventHoldDuration: { Years: 1 } });
    const { VersionId: v3 } = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'c', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: inDays(server, 1) }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'c' }))).ObjectLockEventHold, undefined);
    await s3.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'c', VersionId: v3, Retention: { EventHold: 'ON', EventHoldDuration: { Days: 30 } } }));
    await s3.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'c', VersionId: v3, Retention: { EventHold: 'OFF' } }));
    const rc = (await s3.send(new GetObjectRetentionCommand({ Bucket: B, Key: 'c', VersionId: v3 }))).Retention;
    assert.equal(rc?.Mode, 'COMPLIANCE');
    assert.ok((rc?.RetainUntilDate?.getTime() ?? 0) > server.clock.nowMs() + 29 * 86_400_000);
    // Multipart: the upload's hold applies when it completes.
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'm', ObjectLockEventHold: 'ON', ObjectLockEventHoldDurationDays: 7 }));
    const part = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'm', UploadId: mpu.UploadId, PartNumber: 1, Body: 'part' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'm', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const hm = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'm' }));
    assert.deepEqual([hm.ObjectLockEventHold, hm.ObjectLockEventHoldDurationDays], ['ON', 7]);
    // Without s3:GetObjectRetention the hold is left out of HEAD.
    const reader = await userClient('hold-reader', [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: '*' }]);
    reader.config.systemClockOffset = s3.config.systemClockOffset;
    try {
      const hr = await reader.send(new HeadObjectCommand({ Bucket: B, Key: 'm' }));
      assert.deepEqual([hr.ObjectLockEventHold, hr.ObjectLockEventHoldDurationDays], [undefined, undefined]);
    } finally {
      reader.destroy();
    }
    // Bad input.
    const both = await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'bad', Body: 'x', ObjectLockEventHold: 'ON', ObjectLockEventHoldDurationDays: 1, ObjectLockEventHoldDurationYears: 1 })));
    assert.deepEqual([both.name, both.status], ['InvalidArgument', 400]);
    const tooLong = await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'bad', Body: 'x', ObjectLockEventHold: 'ON', ObjectLockEventHoldDurationDays: 36501 })));
    assert.equal(tooLong.name, 'InvalidArgument');
    const status = await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'bad', Body: 'x', ObjectLockEventHold: 'MAYBE' as 'ON', ObjectLockEventHoldDurationDays: 1 })));
    assert.equal(status.name, 'InvalidArgument');
    const cfg = await failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket: B, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { DefaultEventHold: { Years: 101 } } } } })));
    assert.equal(cfg.name, 'InvalidArgument');
    await s3.send(new CreateBucketCommand({ Bucket: 'hold-plain' }));
    const plain = await failure(s3.send(new PutObjectCommand({ Bucket: 'hold-plain', Key: 'x', Body: 'x', ObjectLockEventHold: 'ON', ObjectLockEventHoldDurationDays: 1 })));
    assert.deepEqual([plain.name, plain.status], ['InvalidRequest', 400]);
  });

  it('lifecycle never removes a locked version; it goes once the lock has passed', async () => {
    const B = 'lock-lifecycle';
    await s3.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: B, LifecycleConfiguration: { Rules: [{ ID: 'nc', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }] } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'locked', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: inDays(server, 5) }))).VersionId;
    const v0 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'j', Body: 'free' }))).VersionId;
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'v2' }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'j', Body: 'v2' }));
    const ids = async () => ((await s3.send(new ListObjectVersionsCommand({ Bucket: B }))).Versions ?? []).map((v) => v.VersionId);
    await advanceClock(server.endpoint, 3 * DAY, [s3]);
    await waitFor(async () => !(await ids()).includes(v0), { timeoutMs: 30_000, what: 'unlocked noncurrent version expired' });
    assert.ok((await ids()).includes(v1));
    await advanceClock(server.endpoint, 4 * DAY, [s3]);
    await waitFor(async () => !(await ids()).includes(v1), { timeoutMs: 30_000, what: 'version expired after its retention' });
  });
});

describe('s3 e2e: Object Lock survives a restart; the AWS CLI configures it', () => {
  it('configuration and retention after kill -9', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hanul-lock-'));
    try {
      let child = await spawnHanul({ dataDir });
      let c = new S3Client({ endpoint: child.endpoint, region: TEST_REGION, credentials: TEST_KEY, forcePathStyle: true, maxAttempts: 1 });
      await c.send(new CreateBucketCommand({ Bucket: 'lock-restart', ObjectLockEnabledForBucket: true }));
      await c.send(new PutObjectLockConfigurationCommand({ Bucket: 'lock-restart', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 1, DefaultEventHold: { Days: 3 } } } } }));
      const { VersionId: held } = await c.send(new PutObjectCommand({ Bucket: 'lock-restart', Key: 'held', Body: 'x', ObjectLockEventHold: 'ON', ObjectLockEventHoldDurationDays: 9 }));
      const { VersionId } = await c.send(new PutObjectCommand({ Bucket: 'lock-restart', Key: 'k', Body: 'x' }));
      c.destroy();
      await child.kill('SIGKILL');
      child = await spawnHanul({ dataDir });
      c = new S3Client({ endpoint: child.endpoint, region: TEST_REGION, credentials: TEST_KEY, forcePathStyle: true, maxAttempts: 1 });
      try {
        assert.deepEqual((await c.send(new GetObjectLockConfigurationCommand({ Bucket: 'lock-restart' }))).ObjectLockConfiguration?.Rule?.DefaultRetention, { Mode: 'COMPLIANCE', Years: 1, DefaultEventHold: { Days: 3 } });
        // A write that names no lock gets both defaults (retention and event hold); one naming its own hold keeps
        // it and still gets the default retention (as a write naming only a legal hold does).
        const rk = (await c.send(new GetObjectRetentionCommand({ Bucket: 'lock-restart', Key: 'k', VersionId }))).Retention;
        assert.deepEqual([rk?.Mode, rk?.EventHold, rk?.EventHoldDuration], ['COMPLIANCE', 'ON', { Days: 3 }]);
        const rh = (await c.send(new GetObjectRetentionCommand({ Bucket: 'lock-restart', Key: 'held', VersionId: held }))).Retention;
        assert.deepEqual([rh?.Mode, rh?.EventHold, rh?.EventHoldDuration], ['COMPLIANCE', 'ON', { Days: 9 }]);
        assert.equal((await failure(c.send(new DeleteObjectCommand({ Bucket: 'lock-restart', Key: 'k', VersionId })))).name, 'AccessDenied');
      } finally {
        c.destroy();
        await child.kill('SIGTERM');
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('aws s3api put-object-lock-configuration / get-object-lock-configuration', { skip: cliVersion('/usr/bin/aws') === undefined ? 'no AWS CLI' : false }, async () => {
    const server = await startHanul();
    const dir = await mkdtemp(join(tmpdir(), 'hanul-lock-cli-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: dir,
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      AWS_DEFAULT_REGION: server.region,
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    };
    const aws = (...args: string[]) => runCmd('/usr/bin/aws', ['--endpoint-url', server.endpoint, ...args], env);
    try {
      await aws('s3api', 'create-bucket', '--bucket', 'cli-lock', '--object-lock-enabled-for-bucket');
      await aws('s3api', 'put-object-lock-configuration', '--bucket', 'cli-lock', '--object-lock-configuration', '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":7}}}');
      const out = JSON.parse(await aws('s3api', 'get-object-lock-configuration', '--bucket', 'cli-lock')) as { ObjectLockConfiguration: unknown };
      assert.deepEqual(out.ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 7 } } });
      await assert.rejects(aws('s3api', 'put-object-lock-configuration', '--bucket', 'cli-lock', '--object-lock-configuration', '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":0}}}'), /InvalidArgument/);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
