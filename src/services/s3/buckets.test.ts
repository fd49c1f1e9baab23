import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketTaggingCommand,
  GetBucketLocationCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { isValidBucketName } from './state.js';
import { s3Failure, startS3Harness, type S3Harness } from './test-harness.js';

describe('bucket names', () => {
  it('follows the general purpose rules', () => {
    for (const ok of ['abc', 'my-bucket', 'a.b.c', '1bucket', 'x'.repeat(63)]) assert.ok(isValidBucketName(ok), ok);
    for (const bad of ['ab', 'x'.repeat(64), 'My-Bucket', 'a..b', '-abc', 'abc-', '192.168.5.4', 'xn--abc', 'a_b', 'abc-s3alias', 'a.-b', 'sthree-x', 'bucket--x-s3']) {
      assert.ok(!isValidBucketName(bad), bad);
    }
  });
});

describe('buckets', () => {
  let h: S3Harness;
  before(async () => (h = await startS3Harness()));
  after(async () => h.close());

  it('creates, heads, lists and deletes buckets', async () => {
    const c = h.client;
    const out = await c.send(new CreateBucketCommand({ Bucket: 'alpha' }));
    assert.equal(out.Location, '/alpha');
    await c.send(new CreateBucketCommand({ Bucket: 'beta' }));
    const head = await c.send(new HeadBucketCommand({ Bucket: 'alpha' }));
    assert.equal(head.BucketRegion, 'us-east-1');
    const list = await c.send(new ListBucketsCommand({}));
    assert.deepEqual(list.Buckets?.map((b) => b.Name), ['alpha', 'beta']);
    assert.ok(list.Owner?.ID);
    await c.send(new DeleteBucketCommand({ Bucket: 'beta' }));
    const f = await s3Failure(c.send(new HeadBucketCommand({ Bucket: 'beta' })));
    assert.equal(f.status, 404);
  });

  it('re-creating your own bucket in us-east-1 succeeds (legacy), and names are checked', async () => {
    await h.client.send(new CreateBucketCommand({ Bucket: 'gamma' }));
    await h.client.send(new CreateBucketCommand({ Bucket: 'gamma' }));
    const bad = await s3Failure(h.client.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })));
    assert.equal(bad.name, 'InvalidBucketName');
    assert.equal(bad.status, 400);
  });

  it('location constraints', async () => {
    const f = await s3Failure(h.client.send(new CreateBucketCommand({ Bucket: 'delta', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })));
    assert.equal(f.name, 'IllegalLocationConstraintException');
    const g = await s3Failure(h.client.send(new CreateBucketCommand({ Bucket: 'delta', CreateBucketConfiguration: { LocationConstraint: 'us-east-1' as never } })));
    assert.equal(g.name, 'InvalidLocationConstraint');
    const loc = await h.client.send(new GetBucketLocationCommand({ Bucket: 'alpha' }));
    assert.equal(loc.LocationConstraint, undefined);
  });

  it('a bucket in another region: BucketAlreadyOwnedByYou, location', async () => {
    const eu = await startS3Harness({ region: 'eu-west-1' });
    try {
      await eu.client.send(new CreateBucketCommand({ Bucket: 'euro', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      const again = await s3Failure(eu.client.send(new CreateBucketCommand({ Bucket: 'euro', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })));
      assert.equal(again.name, 'BucketAlreadyOwnedByYou');
      assert.equal(again.status, 409);
      const loc = await eu.client.send(new GetBucketLocationCommand({ Bucket: 'euro' }));
      assert.equal(loc.LocationConstraint, 'eu-west-1');
      // The SDK adds the client's region as the constraint outside us-east-1.
      await eu.client.send(new CreateBucketCommand({ Bucket: 'euro2' }));
      assert.equal((await eu.client.send(new GetBucketLocationCommand({ Bucket: 'euro2' }))).LocationConstraint, 'eu-west-1');
    } finally {
      await eu.close();
    }
  });

  it('x-amz-expected-bucket-owner must name the owning account', async () => {
    await h.client.send(new HeadBucketCommand({ Bucket: 'alpha', ExpectedBucketOwner: '000000000000' }));
    const other = await s3Failure(h.client.send(new HeadBucketCommand({ Bucket: 'alpha', ExpectedBucketOwner: '111122223333' })));
    assert.equal(other.status, 403);
    const put = await s3Failure(h.client.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'k', Body: 'x', ExpectedBucketOwner: '111122223333' })));
    assert.equal(put.name, 'AccessDenied');
  });

  it('refuses to delete a non-empty bucket', async () => {
    await h.client.send(new CreateBucketCommand({ Bucket: 'full' }));
    await h.client.send(new PutObjectCommand({ Bucket: 'full', Key: 'k', Body: 'x' }));
    const f = await s3Failure(h.client.send(new DeleteBucketCommand({ Bucket: 'full' })));
    assert.equal(f.name, 'BucketNotEmpty');
    assert.equal(f.status, 409);
    const missing = await s3Failure(h.client.send(new DeleteBucketCommand({ Bucket: 'nope-nope' })));
    assert.equal(missing.name, 'NoSuchBucket');
  });

  it('ListBuckets paginates with max-buckets, continuation token and prefix', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await h.client.send(new CreateBucketCommand({ Bucket: n }));
    const p1 = await h.client.send(new ListBucketsCommand({ Prefix: 'page-', MaxBuckets: 2 }));
    assert.deepEqual(p1.Buckets?.map((b) => b.Name), ['page-a', 'page-b']);
    assert.ok(p1.ContinuationToken);
    const p2 = await h.client.send(new ListBucketsCommand({ Prefix: 'page-', MaxBuckets: 2, ContinuationToken: p1.ContinuationToken }));
    assert.deepEqual(p2.Buckets?.map((b) => b.Name), ['page-c']);
    assert.equal(p2.ContinuationToken, undefined);
    const bad = await s3Failure(h.client.send(new ListBucketsCommand({ MaxBuckets: 0 })));
    assert.equal(bad.name, 'InvalidArgument');
  });

  it('bucket tagging and versioning state', async () => {
    const none = await s3Failure(h.client.send(new GetBucketTaggingCommand({ Bucket: 'alpha' })));
    assert.equal(none.name, 'NoSuchTagSet');
    await h.client.send(new PutBucketTaggingCommand({ Bucket: 'alpha', Tagging: { TagSet: [{ Key: 'team', Value: 'core' }] } }));
    const t = await h.client.send(new GetBucketTaggingCommand({ Bucket: 'alpha' }));
    assert.deepEqual(t.TagSet, [{ Key: 'team', Value: 'core' }]);
    const dup = await s3Failure(h.client.send(new PutBucketTaggingCommand({ Bucket: 'alpha', Tagging: { TagSet: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] } })));
    assert.equal(dup.name, 'InvalidTag');
    await h.client.send(new DeleteBucketTaggingCommand({ Bucket: 'alpha' }));
    assert.equal((await s3Failure(h.client.send(new GetBucketTaggingCommand({ Bucket: 'alpha' })))).name, 'NoSuchTagSet');

    assert.equal((await h.client.send(new GetBucketVersioningCommand({ Bucket: 'alpha' }))).Status, undefined);
    await h.client.send(new PutBucketVersioningCommand({ Bucket: 'alpha', VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await h.client.send(new GetBucketVersioningCommand({ Bucket: 'alpha' }))).Status, 'Enabled');
    const bad = await s3Failure(h.client.send(new PutBucketVersioningCommand({ Bucket: 'alpha', VersioningConfiguration: { Status: 'On' as never } })));
    assert.equal(bad.name, 'MalformedXML');
  });
});
