import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeletePublicAccessBlockCommand, PutBucketPolicyCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
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
