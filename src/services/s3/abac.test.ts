import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetBucketAbacCommand, GetBucketTaggingCommand, PutBucketAbacCommand, PutBucketTaggingCommand } from '@aws-sdk/client-s3';
import { requestTagKeys, tagResourceArn, taggedBucket } from './abac.js';
import { bucketTagKeys } from './s3-authz.js';
import type { BucketRecord } from './model.js';
import { s3Failure, startS3Harness, type S3Harness } from './test-harness.js';

describe('ABAC: ARNs and condition keys', () => {
  it('only a general purpose bucket ARN names a taggable bucket', () => {
    assert.equal(taggedBucket('arn:aws:s3:::my-bucket'), 'my-bucket');
    for (const bad of ['arn:aws:s3:::my-bucket/key', 'arn:aws:s3:::', 'arn:aws:s3:::Bad_Name', 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap', 'arn:aws:s3express:us-east-1:1:bucket/b--use1-az4--x-s3', 'my-bucket', undefined]) {
      assert.throws(() => taggedBucket(bad), { code: 'InvalidRequest', status: 400 }, String(bad));
    }
    assert.equal(tagResourceArn({ ResourceArn: 'arn:aws:s3:::bkt' }), 'arn:aws:s3:::bkt');
    assert.equal(tagResourceArn({ ResourceArn: 'nope' }), '*');
  });

  it('a tagging request carries aws:RequestTag/<key> and aws:TagKeys', () => {
    assert.deepEqual(requestTagKeys([{ Key: 'team', Value: 'blue' }, { Key: 'cost', Value: '' }]), { 'aws:RequestTag/team': 'blue', 'aws:RequestTag/cost': '', 'aws:TagKeys': ['team', 'cost'] });
    assert.deepEqual(requestTagKeys(undefined), { 'aws:TagKeys': [] });
  });

  it('bucket tags become aws:ResourceTag and s3:BucketTag keys, once per record', () => {
    const b = { name: 'b', tags: [{ Key: 'team', Value: 'blue' }] } as BucketRecord;
    const keys = bucketTagKeys(b);
    assert.deepEqual(keys, { 'aws:ResourceTag/team': 'blue', 's3:BucketTag/team': 'blue' });
    assert.equal(bucketTagKeys(b), keys);
    assert.deepEqual(bucketTagKeys({ name: 'c' } as BucketRecord), {});
  });
});

describe('ABAC: handlers', () => {
  let h: S3Harness;
  before(async () => {
    h = await startS3Harness();
  });
  after(() => h.close());
  const op = (name: string, input: unknown) => h.service.operations[name]?.handler(input, { ...h.ctx(), operation: name }) as Promise<unknown>;

  it('the bucket resource policy carries its tags only while ABAC is enabled', async () => {
    await h.client.send(new CreateBucketCommand({ Bucket: 'keys', CreateBucketConfiguration: { Tags: [{ Key: 'team', Value: 'blue' }] } }));
    const rp = async (arn: string) => h.service.resourcePolicy?.(arn, { ...h.ctx(), operation: 'GetObject' });
    assert.equal(await rp('arn:aws:s3:::keys/obj'), undefined);
    await h.client.send(new PutBucketAbacCommand({ Bucket: 'keys', AbacStatus: { Status: 'Enabled' } }));
    assert.deepEqual(await rp('arn:aws:s3:::keys/obj'), { keys: { 'aws:ResourceTag/team': 'blue', 's3:BucketTag/team': 'blue' } });
    assert.deepEqual((await rp('arn:aws:s3:::keys'))?.keys, { 'aws:ResourceTag/team': 'blue', 's3:BucketTag/team': 'blue' });
    await op('TagResource', { ResourceArn: 'arn:aws:s3:::keys', Tags: [{ Key: 'team', Value: 'red' }] });
    assert.deepEqual((await rp('arn:aws:s3:::keys'))?.keys, { 'aws:ResourceTag/team': 'red', 's3:BucketTag/team': 'red' });
    await h.client.send(new PutBucketAbacCommand({ Bucket: 'keys', AbacStatus: { Status: 'Disabled' } }));
    assert.equal(await rp('arn:aws:s3:::keys'), undefined);
  });

  it('TagResource adds and overwrites, UntagResource removes, within the 50-tag limit', async () => {
    await h.client.send(new CreateBucketCommand({ Bucket: 'tags' }));
    const list = async () => ((await op('ListTagsForResource', { ResourceArn: 'arn:aws:s3:::tags' })) as { Tags: unknown[] }).Tags;
    assert.deepEqual(await list(), []);
    await op('TagResource', { ResourceArn: 'arn:aws:s3:::tags', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] });
    await op('TagResource', { ResourceArn: 'arn:aws:s3:::tags', Tags: [{ Key: 'b', Value: '3' }, { Key: 'c', Value: '4' }] });
    assert.deepEqual(await list(), [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '3' }, { Key: 'c', Value: '4' }]);
    const many = Array.from({ length: 48 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await assert.rejects(op('TagResource', { ResourceArn: 'arn:aws:s3:::tags', Tags: many }), { code: 'InvalidTag' });
    await assert.rejects(op('TagResource', { ResourceArn: 'arn:aws:s3:::tags' }), { code: 'MalformedXML' });
    await op('UntagResource', { ResourceArn: 'arn:aws:s3:::tags', TagKeys: ['a', 'c', 'absent'] });
    assert.deepEqual((await h.client.send(new GetBucketTaggingCommand({ Bucket: 'tags' }))).TagSet, [{ Key: 'b', Value: '3' }]);
    await assert.rejects(op('UntagResource', { ResourceArn: 'arn:aws:s3:::tags', TagKeys: [] }), { code: 'InvalidRequest' });
    await op('UntagResource', { ResourceArn: 'arn:aws:s3:::tags', TagKeys: ['b'] });
    assert.equal((await s3Failure(h.client.send(new GetBucketTaggingCommand({ Bucket: 'tags' })))).name, 'NoSuchTagSet');
    await assert.rejects(op('ListTagsForResource', { ResourceArn: 'arn:aws:s3:::missing' }), { code: 'NoSuchBucket' });
    await assert.rejects(op('ListTagsForResource', { ResourceArn: 'arn:aws:s3:::tags', AccountId: '111122223333' }), { code: 'AccessDenied' });
    await assert.rejects(op('TagResource', { ResourceArn: 'arn:aws:s3:::tags', AccountId: '111122223333', Tags: [] }), { code: 'AccessDenied' });
    assert.deepEqual(await op('ListTagsForResource', { ResourceArn: 'arn:aws:s3:::tags', AccountId: h.ctx().accountId }), { Tags: [] });
  });

  it('PutBucketTagging is refused while enabled; the state is Disabled by default', async () => {
    await h.client.send(new CreateBucketCommand({ Bucket: 'refuse' }));
    assert.deepEqual((await h.client.send(new GetBucketAbacCommand({ Bucket: 'refuse' }))).AbacStatus, { Status: 'Disabled' });
    await h.client.send(new PutBucketAbacCommand({ Bucket: 'refuse', AbacStatus: { Status: 'Enabled' } }));
    const e = await s3Failure(h.client.send(new PutBucketTaggingCommand({ Bucket: 'refuse', Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } })));
    assert.deepEqual([e.name, e.status], ['InvalidRequest', 400]);
    const bad = await s3Failure(h.client.send(new PutBucketAbacCommand({ Bucket: 'refuse', AbacStatus: { Status: 'enabled' as 'Enabled' } })));
    assert.deepEqual([bad.name, bad.status], ['MalformedXML', 400]);
  });
});
