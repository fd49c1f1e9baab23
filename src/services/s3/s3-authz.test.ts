import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeletePublicAccessBlockCommand, PutBucketPolicyCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import type { AwsError } from '../../aws/errors.js';
import type { RequestContext } from '../../server/context.js';
import { authorizeAnonymous } from './s3-authz.js';
import { startS3Harness, type S3Harness } from './test-harness.js';

describe('authorizeAnonymous (for the website endpoint)', () => {
  let h: S3Harness;
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket: 'site' }));
    await h.client.send(new DeletePublicAccessBlockCommand({ Bucket: 'site' }));
  });
  after(() => h.close());
  const may = (action: string, arn: string) => authorizeAnonymous(h.service, h.ctx(), action, arn);

  it('follows the bucket policy and Block Public Access', async () => {
    assert.equal(await may('s3:GetObject', 'arn:aws:s3:::site/index.html'), false);
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::site/public/*' }] };
    await h.client.send(new PutBucketPolicyCommand({ Bucket: 'site', Policy: JSON.stringify(policy) }));
    assert.equal(await may('s3:GetObject', 'arn:aws:s3:::site/public/index.html'), true);
    assert.equal(await may('s3:GetObject', 'arn:aws:s3:::site/private/index.html'), false);
    assert.equal(await may('s3:ListBucket', 'arn:aws:s3:::site'), false);
    assert.equal(await may('s3:GetObject', 'arn:aws:s3:::elsewhere/public/index.html'), false);
    await h.client.send(new PutPublicAccessBlockCommand({ Bucket: 'site', PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    assert.equal(await may('s3:GetObject', 'arn:aws:s3:::site/public/index.html'), false);
  });
});

describe('answers at once from the bucket cache', () => {
  let h: S3Harness;
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket: 'cached' }));
  });
  after(() => h.close());

  it('resourcePolicy: a Promise on a cache miss, the policy itself on a hit, and a new policy at once after a write', async () => {
    const rp = (arn: string) => (h.service.resourcePolicy as NonNullable<typeof h.service.resourcePolicy>)(arn, h.ctx());
    const policy = (sid: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: sid, Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: 'arn:aws:s3:::cached' }] });
    await h.client.send(new PutBucketPolicyCommand({ Bucket: 'cached', Policy: policy('one') }));
    const miss = rp('arn:aws:s3:::cached/k');
    assert.ok(miss instanceof Promise);
    assert.equal((await miss)?.document, policy('one'));
    const hit = rp('arn:aws:s3:::cached/k');
    assert.ok(!(hit instanceof Promise));
    assert.equal(hit?.document, policy('one'));
    await h.client.send(new PutBucketPolicyCommand({ Bucket: 'cached', Policy: policy('two') }));
    assert.equal((await rp('arn:aws:s3:::cached'))?.document, policy('two'));
    assert.equal(rp('arn:aws:s3:::nosuchbucket') instanceof Promise, true);
    assert.equal(await rp('arn:aws:s3:::nosuchbucket'), undefined);
  });

  it('HeadBucket: a value on a hit; NoSuchBucket and another account’s AccessDenied unchanged', async () => {
    const spec = h.service.operations['HeadBucket']!;
    const head = (input: object, ctx: RequestContext): unknown => spec.handler(input, ctx);
    await head({ Bucket: 'cached' }, h.ctx());
    const out = head({ Bucket: 'cached' }, h.ctx()) as { BucketRegion?: string; BucketArn?: string };
    assert.ok(!(out instanceof Promise));
    assert.deepEqual([out.BucketRegion, out.BucketArn], ['us-east-1', 'arn:aws:s3:::cached']);
    await assert.rejects(async () => head({ Bucket: 'nosuchbucket' }, h.ctx()), (e: AwsError) => e.code === 'NoSuchBucket');
    const stranger = Object.assign(h.ctx(), { principal: { type: 'user', arn: 'arn:aws:iam::111111111111:user/x', accountId: '111111111111', userId: 'AIDAX' } });
    assert.throws(() => head({ Bucket: 'cached' }, stranger), (e: AwsError) => e.code === 'AccessDenied');
    // The expected-owner guard still runs first (and so goes async).
    await assert.rejects(async () => head({ Bucket: 'cached', ExpectedBucketOwner: '111111111111' }, h.ctx()), (e: AwsError) => e.code === 'AccessDenied');
    assert.ok((await head({ Bucket: 'cached', ExpectedBucketOwner: h.ctx().accountId }, h.ctx())) !== undefined);
  });
});
