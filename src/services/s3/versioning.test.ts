import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { s3Failure, startS3Harness, type S3Harness } from './test-harness.js';

describe('versioning', () => {
  let h: S3Harness;
  const Bucket = 'vers';
  const put = (Key: string, Body: string) => h.client.send(new PutObjectCommand({ Bucket, Key, Body }));
  const read = async (Key: string, VersionId?: string) => (await h.client.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body?.transformToString();
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => h.close());

  it('an object written before versioning is the null version afterwards', async () => {
    const pre = await put('k', 'v0');
    assert.equal(pre.VersionId, undefined);
    await h.client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await put('k', 'v1');
    const v2 = await put('k', 'v2');
    assert.ok(v1.VersionId && v2.VersionId && v1.VersionId !== v2.VersionId);
    assert.equal(await read('k'), 'v2');
    assert.equal(await read('k', v1.VersionId), 'v1');
    assert.equal(await read('k', 'null'), 'v0');
    const head = await h.client.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    assert.equal(head.VersionId, v2.VersionId);
    const vs = await h.client.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'k' }));
    assert.deepEqual(vs.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
      [v2.VersionId, true],
      [v1.VersionId, false],
      ['null', false],
    ]);
  });

  it('delete makes a delete marker; GET 404 with x-amz-delete-marker; deleting the marker restores', async () => {
    const del = await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.ok(del.VersionId);
    const gone = await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'k' })));
    assert.equal(gone.name, 'NoSuchKey');
    const headGone = await s3Failure(h.client.send(new HeadObjectCommand({ Bucket, Key: 'k' })));
    assert.equal(headGone.status, 404);
    const onMarker = await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: del.VersionId })));
    assert.equal(onMarker.status, 405);
    const list = await h.client.send(new ListObjectsV2Command({ Bucket }));
    assert.equal(list.Contents, undefined);
    const vs = await h.client.send(new ListObjectVersionsCommand({ Bucket }));
    assert.equal(vs.DeleteMarkers?.[0]?.VersionId, del.VersionId);
    assert.equal(vs.DeleteMarkers?.[0]?.IsLatest, true);
    assert.equal(vs.Versions?.length, 3);
    const undel = await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: del.VersionId }));
    assert.equal(undel.DeleteMarker, true);
    assert.equal(await read('k'), 'v2');
  });

  it('deleting a version is permanent; the next newest becomes current', async () => {
    const vs = await h.client.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'k' }));
    const newest = vs.Versions?.[0]?.VersionId as string;
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: newest }));
    assert.equal(await read('k'), 'v1');
    const missing = await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: newest })));
    assert.equal(missing.name, 'NoSuchVersion');
    const invalid = await s3Failure(h.client.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: 'not-a-version' })));
    assert.equal(invalid.name, 'InvalidArgument');
  });

  it('suspended: writes are the null version, replacing the previous null version', async () => {
    await h.client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    const s1 = await put('k', 'suspended-1');
    assert.equal(s1.VersionId, 'null');
    await put('k', 'suspended-2');
    assert.equal(await read('k', 'null'), 'suspended-2');
    const vs = await h.client.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'k' }));
    assert.deepEqual(vs.Versions?.map((v) => v.VersionId).filter((v) => v === 'null'), ['null']);
    assert.equal(vs.Versions?.[0]?.IsLatest, true);
    const del = await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    assert.equal(del.VersionId, 'null');
    assert.equal(del.DeleteMarker, true);
    const after = await h.client.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'k' }));
    assert.equal(after.DeleteMarkers?.[0]?.VersionId, 'null');
    assert.ok(!after.Versions?.some((v) => v.VersionId === 'null'));
  });

  it('ListObjectVersions pages with key and version-id markers', async () => {
    await h.client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    for (let i = 0; i < 4; i++) await put('p/a', `a${i}`);
    for (let i = 0; i < 3; i++) await put('p/b', `b${i}`);
    const all: string[] = [];
    let km: string | undefined;
    let vm: string | undefined;
    for (;;) {
      const page: ListObjectVersionsCommandOutput = await h.client.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'p/', MaxKeys: 2, KeyMarker: km, VersionIdMarker: vm }));
      all.push(...(page.Versions ?? []).map((v) => `${v.Key}:${v.VersionId}`));
      if (!page.IsTruncated) break;
      km = page.NextKeyMarker;
      vm = page.NextVersionIdMarker;
    }
    assert.equal(all.length, 7);
    assert.equal(new Set(all).size, 7);
    assert.ok(all.slice(0, 4).every((s) => s.startsWith('p/a:')));
  });

  it('DeleteObjects in a versioned bucket reports markers; bucket with versions is not empty', async () => {
    const out = await h.client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'p/a' }] } }));
    assert.equal(out.Deleted?.[0]?.DeleteMarker, true);
    assert.ok(out.Deleted?.[0]?.DeleteMarkerVersionId);
    const f = await s3Failure(h.client.send(new DeleteBucketCommand({ Bucket })));
    assert.equal(f.name, 'BucketNotEmpty');
  });
});
