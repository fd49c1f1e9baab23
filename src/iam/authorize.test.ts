import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AwsError } from '../aws/errors.js';
import type { ServiceDefinition } from '../aws/service.js';
import { pino } from 'pino';
import { parseConfig } from '../config.js';
import type { Principal, RequestContext } from '../server/context.js';
import type { Stores } from '../storage/ports.js';
import { iamKit, policy, type IamKit } from '../services/iam/test-kit.js';
import { createIamAuthorizer } from './authorize.js';
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

  it('keys a resource carries itself (ResourcePolicy.keys) reach identity and resource policies, with or without a document', async () => {
    await k.call('iam', 'CreateUser', { UserName: 'tagged' });
    const tagged = await k.as((await k.call('iam', 'CreateAccessKey', { UserName: 'tagged' })).AccessKey.AccessKeyId);
    await k.call('iam', 'PutUserPolicy', { UserName: 'tagged', PolicyName: 'blue', PolicyDocument: policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'blue' } } }) });
    const teams: Record<string, string> = { blue: 'blue', red: 'red' };
    const deny = policy({ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 's3:BucketTag/team': 'blue' } } });
    const s3 = fakeS3(buckets);
    let frozen = false;
    s3.resourcePolicy = (arn) => {
      const bucket = arn.slice('arn:aws:s3:::'.length).split('/')[0] ?? '';
      const team = teams[bucket];
      const keys = team === undefined ? undefined : { 'aws:ResourceTag/team': team, 's3:BucketTag/team': team };
      return keys === undefined ? undefined : { ...(frozen ? { document: deny } : {}), keys };
    };
    assert.deepEqual(await k.call(s3, 'GetObject', { Bucket: 'blue', Key: 'a' }, tagged), { ok: true });
    await assert.rejects(k.call(s3, 'GetObject', { Bucket: 'red', Key: 'a' }, tagged), code('AccessDenied'));
    await assert.rejects(k.call(s3, 'GetObject', { Bucket: 'untagged', Key: 'a' }, tagged), code('AccessDenied'));
    frozen = true;
    await assert.rejects(k.call(s3, 'GetObject', { Bucket: 'blue', Key: 'a' }, tagged), code('AccessDenied', /explicit deny in a resource-based policy/));
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

describe('the authorizer answers at once when nothing is left to wait for', () => {
  let k: IamKit;
  const buckets = new Map<string, string>();
  before(async () => {
    k = await iamKit();
    buckets.set('locked', policy({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::locked/*' }));
    buckets.set('public', policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::public/*' }));
  });
  after(() => k.close());

  /** fakeS3, except that the resource policy comes back at once (a cached bucket), or as a Promise for buckets in `slow`. */
  function syncS3(slow = new Set<string>()): ServiceDefinition {
    const s3 = fakeS3(buckets);
    s3.resourcePolicy = (arn) => {
      const bucket = arn.slice('arn:aws:s3:::'.length).split('/')[0] ?? '';
      const document = buckets.get(bucket);
      const rp = document === undefined ? undefined : { document };
      return slow.has(bucket) ? Promise.resolve(rp) : rp;
    };
    return s3;
  }
  const ctx = (principal: Principal): RequestContext => ({
    config: parseConfig({ HANUL_DATA_DIR: k.dir }),
    clock: k.clock,
    stores: { metadata: k.store } as unknown as Stores,
    log: pino({ level: 'silent' }),
    audit: { record: () => undefined },
    requestId: 'test',
    principal,
    region: 'us-east-1',
    accountId: '000000000000',
    signal: new AbortController().signal,
    sourceIp: '127.0.0.1',
    secure: false,
    userAgent: 'test',
    service: 's3',
    operation: 'GetObject',
  });

  it('returns (not a Promise) on an allow and throws AccessDenied on a deny, for root and anonymous callers', async () => {
    const authorize = createIamAuthorizer();
    const s3 = syncS3();
    // The root identity is resolved once (then cached): from then on nothing is awaited.
    await authorize(ctx(k.root), s3, 'GetObject', { Bucket: 'mine', Key: 'a' });
    assert.equal(authorize(ctx(k.root), s3, 'GetObject', { Bucket: 'mine', Key: 'a' }), undefined);
    assert.throws(() => authorize(ctx(k.root), s3, 'GetObject', { Bucket: 'locked', Key: 'a' }), code('AccessDenied', /explicit deny in a resource-based policy/));
    const anon = anonymousPrincipal();
    assert.equal(authorize(ctx(anon), s3, 'GetObject', { Bucket: 'public', Key: 'a' }), undefined);
    assert.throws(() => authorize(ctx(anon), s3, 'GetObject', { Bucket: 'mine', Key: 'a' }), code('AccessDenied', /^Access Denied$/));
  });

  it('awaits a resource policy, resource or conditions that come as a Promise, with the same verdicts', async () => {
    const authorize = createIamAuthorizer();
    const slow = syncS3(new Set(['locked', 'public', 'mine']));
    const allowed = authorize(ctx(k.root), slow, 'GetObject', { Bucket: 'mine', Key: 'a' });
    assert.ok(allowed instanceof Promise);
    await allowed;
    await assert.rejects(Promise.resolve(authorize(ctx(k.root), slow, 'GetObject', { Bucket: 'locked', Key: 'a' })), code('AccessDenied'));
    // Several resources, the second one's policy awaited: its Deny still binds.
    const mixed = syncS3(new Set(['locked']));
    mixed.operations = {
      GetObject: { action: 's3:GetObject', resource: () => Promise.resolve(['arn:aws:s3:::mine/a', 'arn:aws:s3:::locked/a']), conditions: () => Promise.resolve({}), handler: () => ({ ok: true }) },
    };
    await assert.rejects(Promise.resolve(authorize(ctx(k.root), mixed, 'GetObject', {})), code('AccessDenied', /locked\/a/));
    mixed.operations = { GetObject: { action: 's3:GetObject', resource: () => ['arn:aws:s3:::locked/a', 'arn:aws:s3:::mine/a'], handler: () => ({ ok: true }) } };
    await assert.rejects(Promise.resolve(authorize(ctx(k.root), mixed, 'GetObject', {})), code('AccessDenied', /locked\/a/));
  });
});
