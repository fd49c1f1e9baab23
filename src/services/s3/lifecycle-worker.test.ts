import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
} from '@aws-sdk/client-s3';
import { BlobReaper } from './blob-reaper.js';
import { LifecycleWorker } from './lifecycle-worker.js';
import type { S3 } from './state.js';
import { startS3Harness, type S3Harness } from './test-harness.js';

const DAY = 86_400_000;

describe('lifecycle worker (one pass at a time on a manual clock)', () => {
  let h: S3Harness;
  let worker: LifecycleWorker;
  before(async () => {
    h = await startS3Harness();
    const log = pino({ level: 'silent' });
    const s3: Pick<S3, 'meta' | 'clock' | 'log' | 'reaper'> = { meta: h.stores.metadata, reaper: new BlobReaper(h.stores.blobs, log), clock: h.clock, log };
    // A batch of 2 keys per transaction, so the paging is exercised.
    worker = new LifecycleWorker(s3, { intervalMs: 60_000, batch: 2 });
  });
  after(() => h.close());

  const versions = async (Bucket: string) => {
    const v = await h.client.send(new ListObjectVersionsCommand({ Bucket }));
    return { versions: (v.Versions ?? []).map((x) => `${x.Key}:${x.IsLatest ? 'cur' : 'old'}`), markers: (v.DeleteMarkers ?? []).map((x) => x.Key) };
  };

  it('keeps NewerNoncurrentVersions, expires older ones, and removes a lone delete marker', async () => {
    const Bucket = 'w-noncurrent';
    await h.client.send(new CreateBucketCommand({ Bucket }));
    await h.client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await h.client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'nc', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } },
            { ID: 'dm', Status: 'Enabled', Filter: { Prefix: 'gone' }, Expiration: { ExpiredObjectDeleteMarker: true } },
          ],
        },
      }),
    );
    for (const body of ['1', '2', '3', '4']) await h.client.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: body }));
    for (const k of ['a', 'b', 'c']) await h.client.send(new PutObjectCommand({ Bucket, Key: k, Body: k }));
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'gone', Body: 'x' }));
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'gone' }));
    let s = await worker.runOnce();
    assert.equal(s.noncurrentExpired, 0);
    h.clock.advance(3 * DAY);
    s = await worker.runOnce();
    // doc: 3 noncurrent, the newest kept → 2 expire; gone's only noncurrent version has no newer one → kept, so its marker stays.
    assert.equal(s.noncurrentExpired, 2);
    const v = await versions(Bucket);
    assert.deepEqual(v.versions.filter((x) => x.startsWith('doc')), ['doc:cur', 'doc:old']);
    assert.deepEqual(v.markers, ['gone']);
  });

  it('does not expire versions under legal hold; a lone marker goes with ExpiredObjectDeleteMarker', async () => {
    const Bucket = 'w-lock';
    await h.client.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    await h.client.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
    await h.client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: { Rules: [{ ID: 'all', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Expiration: { ExpiredObjectDeleteMarker: true } }] },
      }),
    );
    const held = await h.client.send(new PutObjectCommand({ Bucket, Key: 'held', Body: 'x' }));
    await h.client.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'held', VersionId: held.VersionId, LegalHold: { Status: 'ON' } }));
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'held' }));
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'free', Body: 'x' }));
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'free' }));
    h.clock.advance(3 * DAY);
    await worker.runOnce();
    // 'free' lost its noncurrent version, which left its marker alone: both went in the same pass.
    const v = await versions(Bucket);
    assert.deepEqual(v.versions, ['held:old']);
    assert.deepEqual(v.markers, ['held']);
  });
});
