/**
 * S3 access settings are state: a bucket policy, Block Public Access, Object
 * Ownership and ACLs survive a kill -9 and restart, and still decide
 * anonymous requests afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetObjectAclCommand,
  GetPublicAccessBlockCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { spawnHanul, TEST_KEY, TEST_REGION, type SpawnedServer } from '../../support/hanul.js';

describe('s3 access control survives a restart', () => {
  let dir = '';
  let server: SpawnedServer | undefined;
  after(async () => {
    await server?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const client = (endpoint: string) => new S3Client({ endpoint, region: TEST_REGION, credentials: TEST_KEY, forcePathStyle: true, maxAttempts: 1 });

  it('policy, public access block, ownership and ACLs after kill -9', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hanul-access-'));
    server = await spawnHanul({ dataDir: dir });
    let s3 = client(server.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: 'kept-policy' }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'kept-policy' }));
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::kept-policy/*' }] });
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'kept-policy', Policy: policy }));
    await s3.send(new PutObjectCommand({ Bucket: 'kept-policy', Key: 'k', Body: 'v' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'kept-acl', ObjectOwnership: 'BucketOwnerPreferred' }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'kept-acl', PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
    await s3.send(new PutObjectCommand({ Bucket: 'kept-acl', Key: 'k', Body: 'a', ACL: 'public-read' }));
    s3.destroy();
    await server.kill('SIGKILL');

    server = await spawnHanul({ dataDir: dir });
    s3 = client(server.endpoint);
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: 'kept-policy' }))).Policy, policy);
    assert.equal((await fetch(`${server.endpoint}/kept-policy/k`)).status, 200);
    assert.deepEqual((await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'kept-acl' }))).PublicAccessBlockConfiguration, {
      BlockPublicAcls: false,
      IgnorePublicAcls: false,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    });
    assert.deepEqual((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'kept-acl' }))).OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerPreferred' }]);
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'kept-acl', Key: 'k' }));
    assert.ok(acl.Grants?.some((g) => g.Grantee?.URI === 'http://acs.amazonaws.com/groups/global/AllUsers' && g.Permission === 'READ'));
    const res = await fetch(`${server.endpoint}/kept-acl/k`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'a');
    s3.destroy();
  });
});
