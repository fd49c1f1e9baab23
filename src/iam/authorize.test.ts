import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AwsError } from '../aws/errors.js';
import type { ServiceDefinition } from '../aws/service.js';
import type { Principal } from '../server/context.js';
import { iamKit, policy, type IamKit } from '../services/iam/test-kit.js';
import { anonymousPrincipal } from './root-key.js';

const code = (c: string, msg?: RegExp) => (e: unknown) => {
  const err = e as AwsError;
  assert.equal(err.code, c, `expected ${c}, got ${err.code}: ${err.message}`);
  if (msg) assert.match(err.message, msg);
  return true;
};

/** A stand-in S3 with a bucket policy per bucket, and a KMS-like service whose key policy is required. */
function fakeS3(policies: Map<string, string>): ServiceDefinition {
  return {
    name: 's3',
    signingNames: ['s3'],
    protocol: 'rest-xml',
    operations: {
      GetObject: { action: 's3:GetObject', handler: () => Promise.resolve({ ok: true }) },
      PutObject: { action: 's3:PutObject', handler: () => Promise.resolve({ ok: true }) },
      ListObjectsV2: { action: 's3:ListBucket', handler: () => Promise.resolve({ ok: true }) },
    },
    resourcePolicy(arn) {
      const bucket = arn.slice('arn:aws:s3:::'.length).split('/')[0] ?? '';
      const document = policies.get(bucket);
      return Promise.resolve(document === undefined ? undefined : { document });
    },
  };
}

function fakeKms(keyPolicy: string): ServiceDefinition {
  return {
    name: 'kms',
    signingNames: ['kms'],
    protocol: 'json-1.1',
    operations: { Decrypt: { handler: () => Promise.resolve({}) } },
    resourcePolicy: () => Promise.resolve({ document: keyPolicy, required: true }),
  };
}

describe('the authorizer with resource policies', () => {
  let k: IamKit;
  let bob: Principal;
  const buckets = new Map<string, string>();
  before(async () => {
    k = await iamKit();
    await k.call('iam', 'CreateUser', { UserName: 'bob' });
    bob = await k.as((await k.call('iam', 'CreateAccessKey', { UserName: 'bob' })).AccessKey.AccessKeyId);
    buckets.set('public', policy({ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::public/*' }));
    buckets.set('bobs', policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/bob' }, Action: 's3:*', Resource: ['arn:aws:s3:::bobs', 'arn:aws:s3:::bobs/*'] }));
    buckets.set('locked', policy({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::locked/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    buckets.set('home', policy({ Effect: 'Allow', Principal: { AWS: '000000000000' }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::home', Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } } }));
  });
  after(() => k.close());

  it('anonymous callers are allowed by a public bucket policy only, with S3’s bare message', async () => {
    const s3 = fakeS3(buckets);
    const anon = anonymousPrincipal();
    assert.deepEqual(await k.call(s3, 'GetObject', { Bucket: 'public', Key: 'a' }, anon), { ok: true });
    await assert.rejects(k.call(s3, 'PutObject', { Bucket: 'public', Key: 'a' }, anon), code('AccessDenied', /^Access Denied$/));
    await assert.rejects(k.call(s3, 'GetObject', { Bucket: 'bobs', Key: 'a' }, anon), code('AccessDenied'));
  });

  it('a bucket policy naming the user grants without identity policies', async () => {
    const s3 = fakeS3(buckets);
    await k.call(s3, 'PutObject', { Bucket: 'bobs', Key: 'x' }, bob);
    await assert.rejects(k.call(s3, 'PutObject', { Bucket: 'public', Key: 'x' }, bob), code('AccessDenied', /on resource: "arn:aws:s3:::public\/x" because no identity-based policy allows the s3:PutObject action/));
  });

  it('a bucket policy Deny binds the root user too', async () => {
    const s3 = fakeS3(buckets);
    await assert.rejects(k.call(s3, 'GetObject', { Bucket: 'locked', Key: 'x' }), code('AccessDenied', /with an explicit deny in a resource-based policy/));
    assert.deepEqual(await k.call(s3, 'GetObject', { Bucket: 'locked', Key: 'x' }, k.root, { secure: true }), { ok: true });
  });

  it('s3:prefix with a policy variable (account delegation needs an identity allow)', async () => {
    const s3 = fakeS3(buckets);
    await assert.rejects(k.call(s3, 'ListObjectsV2', { Bucket: 'home', Prefix: 'home/bob/' }, bob), code('AccessDenied'));
    await k.call('iam', 'PutUserPolicy', { UserName: 'bob', PolicyName: 'home', PolicyDocument: policy({ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::home', Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } } }) });
    await k.call(s3, 'ListObjectsV2', { Bucket: 'home', Prefix: 'home/bob/docs' }, bob);
    await assert.rejects(k.call(s3, 'ListObjectsV2', { Bucket: 'home', Prefix: 'home/alice/' }, bob), code('AccessDenied'));
  });

  it('a required key policy: IAM counts only when it delegates; JSON services answer AccessDeniedException 400', async () => {
    await k.call('iam', 'PutUserPolicy', { UserName: 'bob', PolicyName: 'kms', PolicyDocument: policy({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }) });
    const delegating = fakeKms(policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' }));
    await k.call(delegating, 'Decrypt', { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }, bob);
    const closed = fakeKms(policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/carol' }, Action: 'kms:*', Resource: '*' }));
    await assert.rejects(k.call(closed, 'Decrypt', { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }, bob), (e: unknown) => {
      const err = e as AwsError;
      assert.deepEqual([err.code, err.status], ['AccessDeniedException', 400]);
      assert.match(err.message, /on resource: arn:aws:kms:us-east-1:000000000000:key\/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Decrypt action/);
      return true;
    });
  });

  it('records access key use for GetAccessKeyLastUsed', async () => {
    const id = bob.accessKeyId ?? '';
    const deadline = Date.now() + 5000;
    let used: { ServiceName?: string; LastUsedDate?: Date } = {};
    while (Date.now() < deadline) {
      used = (await k.call('iam', 'GetAccessKeyLastUsed', { AccessKeyId: id })).AccessKeyLastUsed;
      if (used.LastUsedDate) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(used.LastUsedDate instanceof Date);
    assert.ok(['s3', 'iam', 'kms'].includes(used.ServiceName ?? ''));
  });
});
