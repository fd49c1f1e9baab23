import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import { s3Failure, startS3Harness, type S3Harness } from './test-harness.js';

describe('copy', () => {
  let h: S3Harness;
  const Bucket = 'cpy';
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket }));
    await h.client.send(new CreateBucketCommand({ Bucket: 'cp-dest' }));
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'src key+1', Body: 'source bytes', ContentType: 'text/x', Metadata: { a: '1' }, Tagging: 'k=v&x=y' }));
  });
  after(async () => h.close());

  it('copies bytes, metadata (COPY) and tags across buckets; keys with special characters', async () => {
    const out = await h.client.send(new CopyObjectCommand({ Bucket: 'cp-dest', Key: 'dst', CopySource: `${Bucket}/${encodeURIComponent('src key+1')}` }));
    const src = await h.client.send(new HeadObjectCommand({ Bucket, Key: 'src key+1' }));
    assert.equal(out.CopyObjectResult?.ETag, src.ETag);
    const got = await h.client.send(new GetObjectCommand({ Bucket: 'cp-dest', Key: 'dst' }));
    assert.equal(await got.Body?.transformToString(), 'source bytes');
    assert.equal(got.ContentType, 'text/x');
    assert.deepEqual(got.Metadata, { a: '1' });
    assert.equal(got.TagCount, 2);
  });

  it('REPLACE directive replaces metadata; copying onto itself needs a change', async () => {
    const self = await s3Failure(h.client.send(new CopyObjectCommand({ Bucket, Key: 'src key+1', CopySource: `${Bucket}/src%20key%2B1` })));
    assert.equal(self.name, 'InvalidRequest');
    await h.client.send(new CopyObjectCommand({ Bucket, Key: 'src key+1', CopySource: `${Bucket}/src%20key%2B1`, MetadataDirective: 'REPLACE', Metadata: { b: '2' }, ContentType: 'text/y' }));
    const head = await h.client.send(new HeadObjectCommand({ Bucket, Key: 'src key+1' }));
    assert.deepEqual(head.Metadata, { b: '2' });
    assert.equal(head.ContentType, 'text/y');
    await h.client.send(new CopyObjectCommand({ Bucket, Key: 'src key+1', CopySource: `${Bucket}/src%20key%2B1`, StorageClass: 'STANDARD_IA' }));
    assert.equal((await h.client.send(new HeadObjectCommand({ Bucket, Key: 'src key+1' }))).StorageClass, 'STANDARD_IA');
  });

  it('copy-source conditions and missing sources', async () => {
    const head = await h.client.send(new HeadObjectCommand({ Bucket, Key: 'src key+1' }));
    const nm = await s3Failure(h.client.send(new CopyObjectCommand({ Bucket, Key: 'c2', CopySource: `${Bucket}/src%20key%2B1`, CopySourceIfNoneMatch: head.ETag })));
    assert.equal(nm.name, 'PreconditionFailed');
    const m = await s3Failure(h.client.send(new CopyObjectCommand({ Bucket, Key: 'c2', CopySource: `${Bucket}/src%20key%2B1`, CopySourceIfMatch: '"zzz"' })));
    assert.equal(m.status, 412);
    await h.client.send(new CopyObjectCommand({ Bucket, Key: 'c2', CopySource: `${Bucket}/src%20key%2B1`, CopySourceIfMatch: head.ETag }));
    const missing = await s3Failure(h.client.send(new CopyObjectCommand({ Bucket, Key: 'c3', CopySource: `${Bucket}/absent` })));
    assert.equal(missing.name, 'NoSuchKey');
    const bad = await s3Failure(h.client.send(new CopyObjectCommand({ Bucket, Key: 'c3', CopySource: 'nobucketkey' })));
    assert.equal(bad.name, 'InvalidArgument');
  });

  it('copies a specific source version', async () => {
    await h.client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await h.client.send(new PutObjectCommand({ Bucket, Key: 'vk', Body: 'one' }));
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'vk', Body: 'two' }));
    const out = await h.client.send(new CopyObjectCommand({ Bucket, Key: 'vk-copy', CopySource: `${Bucket}/vk?versionId=${v1.VersionId}` }));
    assert.equal(out.CopySourceVersionId, v1.VersionId);
    assert.ok(out.VersionId);
    const got = await h.client.send(new GetObjectCommand({ Bucket, Key: 'vk-copy' }));
    assert.equal(await got.Body?.transformToString(), 'one');
  });
});

describe('object tagging', () => {
  let h: S3Harness;
  const Bucket = 'tags';
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket }));
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'o', Body: 'x', Tagging: 'a=1&b=two%20words' }));
  });
  after(async () => h.close());

  it('x-amz-tagging on put, get/put/delete tagging', async () => {
    const t = await h.client.send(new GetObjectTaggingCommand({ Bucket, Key: 'o' }));
    assert.deepEqual(t.TagSet, [
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: 'two words' },
    ]);
    await h.client.send(new PutObjectTaggingCommand({ Bucket, Key: 'o', Tagging: { TagSet: [{ Key: 'c', Value: '3' }] } }));
    assert.deepEqual((await h.client.send(new GetObjectTaggingCommand({ Bucket, Key: 'o' }))).TagSet, [{ Key: 'c', Value: '3' }]);
    await h.client.send(new DeleteObjectTaggingCommand({ Bucket, Key: 'o' }));
    assert.deepEqual((await h.client.send(new GetObjectTaggingCommand({ Bucket, Key: 'o' }))).TagSet ?? [], []);
  });

  it("enforces S3's tag limits", async () => {
    const tooMany = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    for (const TagSet of [tooMany, [{ Key: 'k'.repeat(129), Value: 'v' }], [{ Key: 'k', Value: 'v'.repeat(257) }], [{ Key: 'aws:x', Value: 'v' }], [{ Key: 'd', Value: '1' }, { Key: 'd', Value: '2' }]]) {
      const f = await s3Failure(h.client.send(new PutObjectTaggingCommand({ Bucket, Key: 'o', Tagging: { TagSet } })));
      assert.equal(f.name, 'InvalidTag');
      assert.equal(f.status, 400);
    }
    const hdr = await s3Failure(h.client.send(new PutObjectCommand({ Bucket, Key: 'p', Body: 'x', Tagging: Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&') })));
    assert.equal(hdr.name, 'InvalidTag');
    const missing = await s3Failure(h.client.send(new GetObjectTaggingCommand({ Bucket, Key: 'absent' })));
    assert.equal(missing.name, 'NoSuchKey');
  });
});
