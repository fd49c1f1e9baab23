/**
 * Lifecycle through the real SDK: configuration validation and errors, the
 * x-amz-expiration header, and the background worker on hanul's clock — the
 * clock moves 31 days (signed POST /_hanul/clock) and objects expire, move
 * class, noncurrent versions go, stale uploads are aborted. Rules survive a
 * restart.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { failure, spawnHanul, startHanul, TEST_KEY, TEST_REGION, waitFor, type TestServer } from '../../support/hanul.js';
import { advanceClock, DAY } from './time-travel.js';

const BIG = Buffer.alloc(130 * 1024, 7);

describe('s3 e2e: lifecycle configuration and the lifecycle worker', () => {
  let server: TestServer;
  let s3: S3Client;
  before(async () => {
    server = await startHanul({ env: { HANUL_TIME_TRAVEL: '1' } });
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
  });
  after(async () => {
    s3.destroy();
    await server.stop();
  });

  const put = (Bucket: string, rules: LifecycleRule[]) => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: rules } }));

  it('validates rules as S3 does and round-trips a configuration', async () => {
    const Bucket = 'lc-validate';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const none = await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })));
    assert.deepEqual([none.name, none.status], ['NoSuchLifecycleConfiguration', 404]);
    const cases: Array<[LifecycleRule[], string]> = [
      [[{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 0 } }], 'InvalidArgument'],
      [[{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }, { ID: 'a', Status: 'Enabled', Filter: { Prefix: 'x' }, Expiration: { Days: 2 } }], 'InvalidArgument'],
      [[{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' } }], 'InvalidRequest'],
      [[{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, Transitions: [{ Days: 10, StorageClass: 'STANDARD_IA' }] }], 'InvalidArgument'],
      [[{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }, { Days: 40, StorageClass: 'GLACIER' }] }], 'InvalidArgument'],
      [[{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }], Expiration: { Days: 20 } }], 'InvalidArgument'],
      [[{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Date: new Date('2030-01-01T10:00:00Z') } }], 'InvalidArgument'],
      [[{ ID: 'a', Status: 'Enabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }], 'InvalidRequest'],
      [[{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 101 } }], 'InvalidArgument'],
      [[{ ID: 'a', Status: 'Bogus' as 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }], 'MalformedXML'],
      [[{ ID: 'x'.repeat(256), Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }], 'InvalidArgument'],
      [[], 'MalformedXML'],
    ];
    for (const [rules, code] of cases) {
      const f = await failure(put(Bucket, rules));
      assert.equal(f.name, code, JSON.stringify(rules).slice(0, 200));
      assert.equal(f.status, 400);
    }
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ ID: `r${i}`, Status: 'Enabled' as const, Filter: { Prefix: `p${i}/` }, Expiration: { Days: 1 } }));
    assert.equal((await failure(put(Bucket, tooMany))).name, 'MalformedXML');
    const rules: LifecycleRule[] = [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 }, Transitions: [{ Days: 0, StorageClass: 'GLACIER' }] },
      { ID: 'tagged', Status: 'Disabled', Filter: { And: { Prefix: 'a/', Tags: [{ Key: 'k', Value: 'v' }], ObjectSizeGreaterThan: 10 } }, Expiration: { Date: new Date('2030-01-01T00:00:00Z') } },
      { ID: 'size', Status: 'Enabled', Filter: { ObjectSizeLessThan: 100 }, NoncurrentVersionExpiration: { NoncurrentDays: 5, NewerNoncurrentVersions: 2 } },
      { ID: 'mpu', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ];
    const out = await put(Bucket, rules);
    assert.equal(out.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }));
    assert.deepEqual(got.Rules, rules);
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    assert.equal((await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })))).name, 'NoSuchLifecycleConfiguration');
  });

  it('sends x-amz-expiration on PUT, GET and HEAD, rounded to midnight UTC', async () => {
    const Bucket = 'lc-header';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await put(Bucket, [{ ID: 'tmp rule', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 3 } }]);
    const p = await s3.send(new PutObjectCommand({ Bucket, Key: 'tmp/a', Body: 'x' }));
    const now = server.clock.nowMs();
    const day = 86_400_000;
    const expected = new Date(now - (now % day) + 4 * day).toUTCString();
    assert.equal(p.Expiration, `expiry-date="${expected}", rule-id="tmp%20rule"`);
    const h = await s3.send(new HeadObjectCommand({ Bucket, Key: 'tmp/a' }));
    assert.equal(h.Expiration, p.Expiration);
    const g = await s3.send(new GetObjectCommand({ Bucket, Key: 'tmp/a' }));
    assert.equal(g.Expiration, p.Expiration);
    await g.Body?.transformToString();
    const other = await s3.send(new PutObjectCommand({ Bucket, Key: 'keep/a', Body: 'x' }));
    assert.equal(other.Expiration, undefined);
  });

  it('after 31 days on the clock: objects expire, move class, noncurrent versions and stale uploads go', async () => {
    const Bucket = 'lc-worker';
    const Versioned = 'lc-worker-v';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: Versioned }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: Versioned, VersioningConfiguration: { Status: 'Enabled' } }));
    await put(Bucket, [
      { ID: 'expire-tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 30 } },
      { ID: 'ia', Status: 'Enabled', Filter: { Prefix: 'cold/' }, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }] },
      { ID: 'tagged', Status: 'Enabled', Filter: { Tag: { Key: 'gone', Value: 'yes' } }, Expiration: { Days: 1 } },
      { ID: 'mpu', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
    ]);
    await put(Versioned, [{ ID: 'v', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 30 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }]);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'tmp/1', Body: 'bye' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'keep/1', Body: 'stay' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cold/big', Body: BIG }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cold/small', Body: 'small' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'keep/tagged', Body: 'x', Tagging: 'gone=yes' }));
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'big-upload' }));
    await s3.send(new PutObjectCommand({ Bucket: Versioned, Key: 'doc', Body: 'v1' }));
    await s3.send(new PutObjectCommand({ Bucket: Versioned, Key: 'doc', Body: 'v2' }));

    // Nothing is due yet: a scan now changes nothing.
    await advanceClock(server.endpoint, 60, [s3]);
    const list = async (b: string) => ((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? []).map((c) => `${c.Key}:${c.StorageClass}`).sort();
    await waitFor(async () => (await list(Bucket)).length === 5, { what: 'objects still there' });

    await advanceClock(server.endpoint, 31 * DAY, [s3]);
    await waitFor(async () => JSON.stringify(await list(Bucket)) === JSON.stringify(['cold/big:STANDARD_IA', 'cold/small:STANDARD', 'keep/1:STANDARD']), {
      timeoutMs: 30_000,
      what: 'expiry and transition',
    });
    const h = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold/big' }));
    assert.equal(h.StorageClass, 'STANDARD_IA');
    assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'tmp/1' })))).name, 'NoSuchKey');
    await waitFor(async () => ((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).length === 0, { timeoutMs: 30_000, what: 'upload aborted' });
    assert.ok(mpu.UploadId);

    // Versioned: the current version got a delete marker; one more day and the noncurrent versions are gone.
    await waitFor(async () => {
      const v = await s3.send(new ListObjectVersionsCommand({ Bucket: Versioned }));
      return (v.DeleteMarkers ?? []).length === 1 && (v.Versions ?? []).length === 1;
    }, { timeoutMs: 30_000, what: 'delete marker and v2 noncurrent (v1 expired a day after v2 replaced it)' });
    await advanceClock(server.endpoint, 2 * DAY, [s3]);
    await waitFor(async () => ((await s3.send(new ListObjectVersionsCommand({ Bucket: Versioned }))).Versions ?? []).length === 0, { timeoutMs: 30_000, what: 'noncurrent expired' });
  });

  it('rules survive a restart and the worker runs in the restarted server', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hanul-lc-'));
    try {
      let child = await spawnHanul({ dataDir, env: { HANUL_TIME_TRAVEL: '1' } });
      let c = new S3Client({ endpoint: child.endpoint, region: TEST_REGION, credentials: TEST_KEY, forcePathStyle: true, maxAttempts: 1 });
      await c.send(new CreateBucketCommand({ Bucket: 'lc-restart' }));
      await c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'lc-restart', LifecycleConfiguration: { Rules: [{ ID: 'r', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 2 } }] } }));
      await c.send(new PutObjectCommand({ Bucket: 'lc-restart', Key: 'k', Body: 'x' }));
      c.destroy();
      await child.kill('SIGKILL');
      child = await spawnHanul({ dataDir, env: { HANUL_TIME_TRAVEL: '1' } });
      c = new S3Client({ endpoint: child.endpoint, region: TEST_REGION, credentials: TEST_KEY, forcePathStyle: true, maxAttempts: 1 });
      try {
        const got = await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-restart' }));
        assert.equal(got.Rules?.[0]?.ID, 'r');
        await advanceClock(child.endpoint, 3 * DAY, [c]);
        await waitFor(async () => ((await c.send(new ListObjectsV2Command({ Bucket: 'lc-restart' }))).KeyCount ?? 1) === 0, { timeoutMs: 30_000, what: 'expired after restart' });
      } finally {
        c.destroy();
        await child.kill('SIGTERM');
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
