/**
 * S3 bucket policies through the real SDK: stored and validated as S3 does,
 * evaluated by the IAM engine with identity policies for signed callers (a
 * second IAM user) and alone for anonymous `fetch`es; Deny wins; conditions
 * (aws:SourceIp, aws:SecureTransport, s3:prefix, s3:x-amz-server-side-encryption,
 * s3:ExistingObjectTag); Block Public Access's BlockPublicPolicy and
 * RestrictPublicBuckets; GetBucketPolicyStatus.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketAclCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';
import { userWith, type Creds } from '../iam/helpers.js';

const ACCOUNT = '000000000000';
const policyOf = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

describe('s3 access control: bucket policies', () => {
  let server: TestServer;
  let root: S3Client;
  let alice: Creds;
  const client = (credentials?: Creds) => new S3Client({ ...server.clientConfig, ...(credentials ? { credentials } : {}), forcePathStyle: true, maxAttempts: 1 });
  const anon = (bucket: string, key: string, init?: RequestInit) => fetch(`${server.endpoint}/${bucket}/${key}`, init);

  before(async () => {
    server = await startHanul();
    root = client();
    alice = await userWith(server, 'alice');
  });
  after(async () => {
    root.destroy();
    await server.stop();
  });

  async function bucket(name: string, blockPublic = false): Promise<void> {
    await root.send(new CreateBucketCommand({ Bucket: name }));
    if (!blockPublic) await root.send(new DeletePublicAccessBlockCommand({ Bucket: name }));
  }

  it('new buckets block public access and have no policy', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'pol-defaults' }));
    const pab = await root.send(new GetPublicAccessBlockCommand({ Bucket: 'pol-defaults' }));
    assert.deepEqual(pab.PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const e = await failure(root.send(new GetBucketPolicyCommand({ Bucket: 'pol-defaults' })));
    assert.deepEqual([e.name, e.status], ['NoSuchBucketPolicy', 404]);
    const s = await failure(root.send(new GetBucketPolicyStatusCommand({ Bucket: 'pol-defaults' })));
    assert.equal(s.name, 'NoSuchBucketPolicy');
    await root.send(new DeletePublicAccessBlockCommand({ Bucket: 'pol-defaults' }));
    const gone = await failure(root.send(new GetPublicAccessBlockCommand({ Bucket: 'pol-defaults' })));
    assert.deepEqual([gone.name, gone.status], ['NoSuchPublicAccessBlockConfiguration', 404]);
  });

  it('a public-read policy lets anonymous GETs in, and only those it names', async () => {
    await bucket('pol-public');
    await root.send(new PutObjectCommand({ Bucket: 'pol-public', Key: 'site/index.html', Body: 'hello' }));
    await root.send(new PutObjectCommand({ Bucket: 'pol-public', Key: 'secret.txt', Body: 'no' }));
    const before = await anon('pol-public', 'site/index.html');
    assert.equal(before.status, 403);
    assert.match(await before.text(), /<Code>AccessDenied<\/Code>/);
    const policy = policyOf({ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-public/site/*' });
    await root.send(new PutBucketPolicyCommand({ Bucket: 'pol-public', Policy: policy }));
    assert.equal((await root.send(new GetBucketPolicyCommand({ Bucket: 'pol-public' }))).Policy, policy);
    assert.equal((await root.send(new GetBucketPolicyStatusCommand({ Bucket: 'pol-public' }))).PolicyStatus?.IsPublic, true);
    const ok = await anon('pol-public', 'site/index.html');
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'hello');
    assert.equal((await anon('pol-public', 'secret.txt')).status, 403);
    // GetObject only: an anonymous PUT and an anonymous listing stay denied.
    assert.equal((await anon('pol-public', 'site/new.html', { method: 'PUT', body: 'x' })).status, 403);
    assert.equal((await fetch(`${server.endpoint}/pol-public?list-type=2`)).status, 403);
    // A missing key reads as 403 to a caller who may not list the bucket, 404 to one who may.
    const missing = await anon('pol-public', 'site/nothing.html');
    assert.equal(missing.status, 403);
    assert.match(await missing.text(), /<Code>AccessDenied<\/Code>/);
    assert.equal((await failure(root.send(new GetObjectCommand({ Bucket: 'pol-public', Key: 'site/nothing.html' })))).name, 'NoSuchKey');
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'pol-public',
        Policy: policyOf(
          { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-public/site/*' },
          { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::pol-public' },
        ),
      }),
    );
    const listed = await anon('pol-public', 'site/nothing.html');
    assert.equal(listed.status, 404);
    assert.match(await listed.text(), /<Code>NoSuchKey<\/Code>/);
    await root.send(new DeleteBucketPolicyCommand({ Bucket: 'pol-public' }));
    assert.equal((await anon('pol-public', 'site/index.html')).status, 403);
  });

  it('grants another IAM user access by ARN; an explicit Deny wins over the identity policy', async () => {
    await bucket('pol-users');
    await root.send(new PutObjectCommand({ Bucket: 'pol-users', Key: 'a.txt', Body: 'a' }));
    const a = client(alice);
    assert.equal((await failure(a.send(new GetObjectCommand({ Bucket: 'pol-users', Key: 'a.txt' })))).name, 'AccessDenied');
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'pol-users',
        Policy: policyOf({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/alice` }, Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::pol-users/*' }),
      }),
    );
    const got = await a.send(new GetObjectCommand({ Bucket: 'pol-users', Key: 'a.txt' }));
    assert.equal(await got.Body?.transformToString(), 'a');
    const bob = await userWith(server, 'bob', [policyOf({ Effect: 'Allow', Action: 's3:*', Resource: '*' })]);
    const b = client(bob);
    await b.send(new GetObjectCommand({ Bucket: 'pol-users', Key: 'a.txt' }));
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'pol-users',
        Policy: policyOf({ Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-users/*' }),
      }),
    );
    const denied = await failure(b.send(new GetObjectCommand({ Bucket: 'pol-users', Key: 'a.txt' })));
    assert.deepEqual([denied.name, denied.status], ['AccessDenied', 403]);
    assert.match(denied.message, /explicit deny in a resource-based policy/);
    // Another account's principals are valid in a policy; they match no caller here.
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'pol-users',
        Policy: policyOf(
          { Effect: 'Allow', Principal: { AWS: ['111122223333', 'arn:aws:iam::111122223333:role/reader'] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-users/*' },
          { Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-users/*' },
        ),
      }),
    );
    assert.equal((await root.send(new GetBucketPolicyStatusCommand({ Bucket: 'pol-users' }))).PolicyStatus?.IsPublic, false);
    assert.equal((await anon('pol-users', 'a.txt')).status, 403);
    // Alice lost her grant with the replaced policy.
    assert.equal((await failure(a.send(new GetObjectCommand({ Bucket: 'pol-users', Key: 'a.txt' })))).name, 'AccessDenied');
    a.destroy();
    b.destroy();
  });

  it('a CanonicalUser principal (the Owner.ID GetBucketAcl shows) names the account', async () => {
    await bucket('pol-canonical');
    await root.send(new PutObjectCommand({ Bucket: 'pol-canonical', Key: 'k', Body: 'v' }));
    const ownerId = (await root.send(new GetBucketAclCommand({ Bucket: 'pol-canonical' }))).Owner?.ID;
    assert.match(ownerId ?? '', /^[0-9a-f]{64}$/);
    const erin = client(await userWith(server, 'erin', [policyOf({ Effect: 'Allow', Action: 's3:*', Resource: '*' })]));
    await erin.send(new DeleteObjectCommand({ Bucket: 'pol-canonical', Key: 'gone' }));
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'pol-canonical',
        Policy: policyOf({ Effect: 'Deny', Principal: { CanonicalUser: ownerId }, Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::pol-canonical/*' }),
      }),
    );
    // The account's users (and its root) are all named by the account's canonical id.
    assert.equal((await failure(erin.send(new DeleteObjectCommand({ Bucket: 'pol-canonical', Key: 'k' })))).name, 'AccessDenied');
    assert.equal((await failure(root.send(new DeleteObjectCommand({ Bucket: 'pol-canonical', Key: 'k' })))).name, 'AccessDenied');
    const bad = await failure(root.send(new PutBucketPolicyCommand({ Bucket: 'pol-canonical', Policy: policyOf({ Effect: 'Allow', Principal: { CanonicalUser: 'nope' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-canonical/*' }) })));
    assert.equal(bad.name, 'MalformedPolicy');
    await root.send(new DeleteBucketPolicyCommand({ Bucket: 'pol-canonical' }));
    erin.destroy();
  });

  it('a request naming a VersionId needs the *Version action (s3:GetObjectVersion, s3:DeleteObjectVersion)', async () => {
    await bucket('pol-versions', true);
    await root.send(new PutBucketVersioningCommand({ Bucket: 'pol-versions', VersioningConfiguration: { Status: 'Enabled' } }));
    const put = await root.send(new PutObjectCommand({ Bucket: 'pol-versions', Key: 'v.txt', Body: 'v1' }));
    const carol = await userWith(server, 'carol', [policyOf({ Effect: 'Allow', Action: ['s3:GetObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::pol-versions/*' })]);
    const c = client(carol);
    assert.equal(await (await c.send(new GetObjectCommand({ Bucket: 'pol-versions', Key: 'v.txt' }))).Body?.transformToString(), 'v1');
    const byVersion = { Bucket: 'pol-versions', Key: 'v.txt', VersionId: put.VersionId };
    const getDenied = await failure(c.send(new GetObjectCommand(byVersion)));
    assert.deepEqual([getDenied.name, getDenied.status], ['AccessDenied', 403]);
    assert.match(getDenied.message, /s3:GetObjectVersion/);
    assert.match((await failure(c.send(new DeleteObjectCommand(byVersion)))).message, /s3:DeleteObjectVersion/);
    const dave = await userWith(server, 'dave', [policyOf({ Effect: 'Allow', Action: 's3:GetObjectVersion', Resource: 'arn:aws:s3:::pol-versions/*' })]);
    const d = client(dave);
    assert.equal(await (await d.send(new GetObjectCommand(byVersion))).Body?.transformToString(), 'v1');
    assert.equal((await failure(d.send(new GetObjectCommand({ Bucket: 'pol-versions', Key: 'v.txt' })))).name, 'AccessDenied');
    c.destroy();
    d.destroy();
  });

  it('conditions: aws:SecureTransport, aws:SourceIp, s3:prefix, s3:x-amz-server-side-encryption, s3:ExistingObjectTag', async () => {
    await bucket('pol-cond');
    await root.send(new PutObjectCommand({ Bucket: 'pol-cond', Key: 'pub/a', Body: 'a' }));
    await root.send(new PutObjectCommand({ Bucket: 'pol-cond', Key: 'tagged', Body: 't' }));
    await root.send(new PutObjectTaggingCommand({ Bucket: 'pol-cond', Key: 'tagged', Tagging: { TagSet: [{ Key: 'class', Value: 'public' }] } }));
    const a = client(alice);
    const allow = (stmt: object) => ({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/alice` }, ...stmt });
    // Plain HTTP here: a policy demanding TLS denies.
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'pol-cond',
        Policy: policyOf(
          allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-cond/*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }),
          allow({ Action: 's3:ListBucket', Resource: 'arn:aws:s3:::pol-cond', Condition: { StringEquals: { 's3:prefix': 'pub/' } } }),
          { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::pol-cond/*', Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } } },
        ),
      }),
    );
    assert.equal((await failure(a.send(new GetObjectCommand({ Bucket: 'pol-cond', Key: 'pub/a' })))).name, 'AccessDenied');
    const listed = await a.send(new ListObjectsV2Command({ Bucket: 'pol-cond', Prefix: 'pub/' }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['pub/a']);
    assert.equal((await failure(a.send(new ListObjectsV2Command({ Bucket: 'pol-cond', Prefix: 'other/' })))).name, 'AccessDenied');
    assert.equal((await failure(a.send(new ListObjectsV2Command({ Bucket: 'pol-cond' })))).name, 'AccessDenied');
    // The Deny binds the root user too: a PUT without the SSE header is refused, one with it passes the policy.
    const noSse = await failure(root.send(new PutObjectCommand({ Bucket: 'pol-cond', Key: 'x', Body: 'x' })));
    assert.deepEqual([noSse.name, noSse.status], ['AccessDenied', 403]);
    await root.send(new PutObjectCommand({ Bucket: 'pol-cond', Key: 'x', Body: 'x', ServerSideEncryption: 'AES256' }));

    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'pol-cond',
        Policy: policyOf(
          allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-cond/*', Condition: { StringEquals: { 's3:ExistingObjectTag/class': 'public' } } }),
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-cond/*', Condition: { NotIpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } } },
        ),
      }),
    );
    const tagged = await a.send(new GetObjectCommand({ Bucket: 'pol-cond', Key: 'tagged' }));
    assert.equal(await tagged.Body?.transformToString(), 't');
    assert.equal((await failure(a.send(new GetObjectCommand({ Bucket: 'pol-cond', Key: 'pub/a' })))).name, 'AccessDenied');
    // From loopback the SourceIp Deny does not apply; from elsewhere it would.
    await root.send(new GetObjectCommand({ Bucket: 'pol-cond', Key: 'pub/a' }));
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'pol-cond',
        Policy: policyOf({ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-cond/*', Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } } }),
      }),
    );
    assert.equal((await failure(root.send(new GetObjectCommand({ Bucket: 'pol-cond', Key: 'pub/a' })))).name, 'AccessDenied');
    // The owner's root can always remove the policy that locks it out.
    await root.send(new DeleteBucketPolicyCommand({ Bucket: 'pol-cond' }));
    await root.send(new GetObjectCommand({ Bucket: 'pol-cond', Key: 'pub/a' }));
    a.destroy();
  });

  it('s3:ExistingObjectTag in an identity policy, with no bucket policy', async () => {
    await bucket('pol-idtag');
    await root.send(new PutObjectCommand({ Bucket: 'pol-idtag', Key: 'open', Body: 'o', Tagging: 'class=public' }));
    await root.send(new PutObjectCommand({ Bucket: 'pol-idtag', Key: 'closed', Body: 'c', Tagging: 'class=secret' }));
    const tagger = await userWith(server, 'tagger', [
      policyOf({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-idtag/*', Condition: { StringEquals: { 's3:ExistingObjectTag/class': 'public' } } }),
    ]);
    const t = client(tagger);
    assert.equal(await (await t.send(new GetObjectCommand({ Bucket: 'pol-idtag', Key: 'open' }))).Body?.transformToString(), 'o');
    assert.equal((await failure(t.send(new GetObjectCommand({ Bucket: 'pol-idtag', Key: 'closed' })))).name, 'AccessDenied');
    t.destroy();
  });

  it('DeleteObjects is authorized per key; CopyObject needs read access to its source', async () => {
    await bucket('pol-multi');
    for (const Key of ['keep/a', 'tmp/b', 'secret/c']) await root.send(new PutObjectCommand({ Bucket: 'pol-multi', Key, Body: Key }));
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'pol-multi',
        Policy: policyOf(
          { Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::pol-multi/keep/*' },
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-multi/secret/*' },
        ),
      }),
    );
    const res = await root.send(new DeleteObjectsCommand({ Bucket: 'pol-multi', Delete: { Objects: [{ Key: 'keep/a' }, { Key: 'tmp/b' }] } }));
    assert.deepEqual(res.Deleted?.map((d) => d.Key), ['tmp/b']);
    assert.deepEqual(res.Errors?.map((e) => [e.Key, e.Code]), [['keep/a', 'AccessDenied']]);
    await root.send(new GetObjectCommand({ Bucket: 'pol-multi', Key: 'keep/a' }));
    // The copy's destination is allowed; its source is not readable.
    const copy = await failure(root.send(new CopyObjectCommand({ Bucket: 'pol-multi', Key: 'tmp/copy', CopySource: 'pol-multi/secret/c' })));
    assert.deepEqual([copy.name, copy.status], ['AccessDenied', 403]);
    const writer = await userWith(server, 'writer', [policyOf({ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::pol-multi/*' })]);
    const w = client(writer);
    assert.equal((await failure(w.send(new CopyObjectCommand({ Bucket: 'pol-multi', Key: 'tmp/copy', CopySource: 'pol-multi/keep/a' })))).name, 'AccessDenied');
    await w.send(new PutObjectCommand({ Bucket: 'pol-multi', Key: 'tmp/own', Body: 'x' }));
    w.destroy();
  });

  it('rejects malformed policies as S3 does', async () => {
    await bucket('pol-bad');
    const put = (Policy: string) => failure(root.send(new PutBucketPolicyCommand({ Bucket: 'pol-bad', Policy })));
    const cases: [string, RegExp][] = [
      ['not json', /Policies must be valid JSON/],
      [policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other-bucket/*' }), /Policy has invalid resource/],
      [policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }), /Policy has invalid resource/],
      [policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::pol-bad' }), /Action does not apply to any resource\(s\) in statement/],
      [policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:Fly', Resource: 'arn:aws:s3:::pol-bad/*' }), /Policy has invalid action/],
      [policyOf({ Effect: 'Allow', Principal: { AWS: 'alice' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-bad/*' }), /Invalid principal in policy/],
      [policyOf({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-bad/*' }), /Missing required field Principal/],
      [policyOf({ Effect: 'Maybe', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-bad/*' }), /Invalid effect/],
    ];
    for (const [doc, message] of cases) {
      const e = await put(doc);
      assert.deepEqual([e.name, e.status], ['MalformedPolicy', 400], doc);
      assert.match(e.message, message, doc);
    }
    assert.equal((await failure(root.send(new GetBucketPolicyCommand({ Bucket: 'pol-bad' })))).name, 'NoSuchBucketPolicy');
    const missing = await failure(root.send(new PutBucketPolicyCommand({ Bucket: 'pol-nope', Policy: policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-nope/*' }) })));
    assert.deepEqual([missing.name, missing.status], ['NoSuchBucket', 404]);
  });

  it('BlockPublicPolicy refuses a public policy; RestrictPublicBuckets keeps anonymous callers out of one', async () => {
    await bucket('pol-pab', true);
    await root.send(new PutObjectCommand({ Bucket: 'pol-pab', Key: 'k', Body: 'v' }));
    const pub = policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-pab/*' });
    const e = await failure(root.send(new PutBucketPolicyCommand({ Bucket: 'pol-pab', Policy: pub })));
    assert.deepEqual([e.name, e.status], ['AccessDenied', 403]);
    assert.match(e.message, /BlockPublicPolicy/);
    // A non-public policy (pinned to a source account) is fine under BlockPublicPolicy.
    const pinned = policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-pab/*', Condition: { StringEquals: { 'aws:PrincipalAccount': ACCOUNT } } });
    await root.send(new PutBucketPolicyCommand({ Bucket: 'pol-pab', Policy: pinned }));
    assert.equal((await root.send(new GetBucketPolicyStatusCommand({ Bucket: 'pol-pab' }))).PolicyStatus?.IsPublic, false);

    await root.send(new PutPublicAccessBlockCommand({ Bucket: 'pol-pab', PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    await root.send(new PutBucketPolicyCommand({ Bucket: 'pol-pab', Policy: pub }));
    assert.equal((await anon('pol-pab', 'k')).status, 403);
    // In-account callers still get the policy's grant.
    const got = await client(alice).send(new GetObjectCommand({ Bucket: 'pol-pab', Key: 'k' }));
    assert.equal(await got.Body?.transformToString(), 'v');
    await root.send(new PutPublicAccessBlockCommand({ Bucket: 'pol-pab', PublicAccessBlockConfiguration: {} }));
    assert.equal((await anon('pol-pab', 'k')).status, 200);
  });
});
