/**
 * ABAC for general purpose buckets through the real SDKs: Put/GetBucketAbac,
 * bucket tags managed with S3 Control's TagResource / UntagResource /
 * ListTagsForResource (@aws-sdk/client-s3-control against hanul's S3
 * endpoint, by the `<account>.<host>` name the SDK uses and by a fixed
 * endpoint), `aws:ResourceTag/<key>` deciding an IAM user's access only while
 * ABAC is enabled, PutBucketTagging refused meanwhile, bad input, and the
 * state after a restart.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketTaggingCommand,
  GetBucketAbacCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  PutBucketAbacCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ListTagsForResourceCommand, S3ControlClient, TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-s3-control';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { failure, signS3, startHanul, type TestServer } from '../../support/hanul.js';
import { doc, userWith, type Creds } from '../iam/helpers.js';

const ACCOUNT = '000000000000';
const arn = (bucket: string) => `arn:aws:s3:::${bucket}`;

/** Resolves every name to 127.0.0.1, as `<account>.localhost` does on systems with systemd-resolved. */
const loopback = ((_h: string, o: unknown, cb: (e: null, a: string | { address: string; family: number }[], f?: number) => void) => {
  if (o && typeof o === 'object' && (o as { all?: boolean }).all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
}) as unknown as http.AgentOptions['lookup'];

describe('s3 ABAC for general purpose buckets', () => {
  let server: TestServer;
  let root: S3Client;
  let control: S3ControlClient;
  let member: Creds;
  const s3As = (credentials?: Creds) => new S3Client({ ...server.clientConfig, ...(credentials ? { credentials } : {}), forcePathStyle: true, maxAttempts: 1 });
  /** The stock S3 Control client: it calls `http://<account>.localhost:<port>/v20180820/…`. */
  const controlAs = (credentials?: Creds) =>
    new S3ControlClient({
      ...server.clientConfig,
      endpoint: `http://localhost:${server.port}`,
      ...(credentials ? { credentials } : {}),
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ lookup: loopback }) }),
      maxAttempts: 1,
    });

  before(async () => {
    server = await startHanul();
    root = s3As();
    control = controlAs();
    // Reads objects only in buckets whose tag team is blue; writes anywhere.
    member = await userWith(server, 'blue-member', [
      doc(
        { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'blue' } } },
        { Effect: 'Allow', Action: 's3:PutObject', Resource: '*' },
      ),
    ]);
    for (const [bucket, team] of [
      ['abac-blue', 'blue'],
      ['abac-red', 'red'],
    ] as const) {
      await root.send(new CreateBucketCommand({ Bucket: bucket }));
      await root.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'team', Value: team }] } }));
      await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'plan.txt', Body: `${team} plan` }));
    }
  });
  after(async () => {
    root.destroy();
    control.destroy();
    await server.stop();
  });

  it('GetBucketAbac says Disabled until PutBucketAbac enables it, and back', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'abac-toggle' }));
    assert.deepEqual((await root.send(new GetBucketAbacCommand({ Bucket: 'abac-toggle' }))).AbacStatus, { Status: 'Disabled' });
    await root.send(new PutBucketAbacCommand({ Bucket: 'abac-toggle', AbacStatus: { Status: 'Enabled' } }));
    assert.deepEqual((await root.send(new GetBucketAbacCommand({ Bucket: 'abac-toggle' }))).AbacStatus, { Status: 'Enabled' });
    await root.send(new PutBucketAbacCommand({ Bucket: 'abac-toggle', AbacStatus: { Status: 'Disabled' } }));
    assert.deepEqual((await root.send(new GetBucketAbacCommand({ Bucket: 'abac-toggle' }))).AbacStatus, { Status: 'Disabled' });
    const missing = await failure(root.send(new GetBucketAbacCommand({ Bucket: 'abac-missing' })));
    assert.deepEqual([missing.name, missing.status], ['NoSuchBucket', 404]);
  });

  it('bucket tags decide aws:ResourceTag only while ABAC is enabled', async () => {
    const s3 = s3As(member);
    try {
      // Disabled: S3 does not evaluate bucket tags, so the tag-conditioned Allow never matches.
      for (const bucket of ['abac-blue', 'abac-red']) {
        const e = await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plan.txt' })));
        assert.deepEqual([e.name, e.status], ['AccessDenied', 403]);
      }
      for (const bucket of ['abac-blue', 'abac-red']) await root.send(new PutBucketAbacCommand({ Bucket: bucket, AbacStatus: { Status: 'Enabled' } }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'abac-blue', Key: 'plan.txt' }));
      assert.equal(await got.Body!.transformToString(), 'blue plan');
      const red = await failure(s3.send(new GetObjectCommand({ Bucket: 'abac-red', Key: 'plan.txt' })));
      assert.deepEqual([red.name, red.status], ['AccessDenied', 403]);
      // A copy reads its source under the source bucket's tags.
      await s3.send(new CopyObjectCommand({ Bucket: 'abac-red', Key: 'copied.txt', CopySource: 'abac-blue/plan.txt' }));
      const fromRed = await failure(s3.send(new CopyObjectCommand({ Bucket: 'abac-blue', Key: 'copied.txt', CopySource: 'abac-red/plan.txt' })));
      assert.equal(fromRed.name, 'AccessDenied');

      // Retagging through S3 Control moves the line at once.
      await control.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-red'), Tags: [{ Key: 'team', Value: 'blue' }] }));
      assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'abac-red', Key: 'plan.txt' }))).Body!.transformToString(), 'red plan');
      await control.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-red'), Tags: [{ Key: 'team', Value: 'red' }] }));
      assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: 'abac-red', Key: 'plan.txt' })))).name, 'AccessDenied');
    } finally {
      s3.destroy();
    }
  });

  it('a bucket policy can deny on s3:BucketTag, even the root user', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'abac-frozen' }));
    await root.send(new PutObjectCommand({ Bucket: 'abac-frozen', Key: 'k', Body: 'v' }));
    await control.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-frozen'), Tags: [{ Key: 'state', Value: 'frozen' }] }));
    const deny = doc({ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::abac-frozen/*', Condition: { StringEquals: { 's3:BucketTag/state': 'frozen' } } });
    await root.send(new PutBucketPolicyCommand({ Bucket: 'abac-frozen', Policy: deny }));
    await root.send(new GetObjectCommand({ Bucket: 'abac-frozen', Key: 'k' }));
    await root.send(new PutBucketAbacCommand({ Bucket: 'abac-frozen', AbacStatus: { Status: 'Enabled' } }));
    assert.equal((await failure(root.send(new GetObjectCommand({ Bucket: 'abac-frozen', Key: 'k' })))).name, 'AccessDenied');
  });

  it('S3 Control tags are the bucket tags; PutBucketTagging and DeleteBucketTagging are refused while ABAC is on', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'abac-tags' }));
    const listed = async () => (await control.send(new ListTagsForResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-tags') }))).Tags ?? [];
    assert.deepEqual(await listed(), []);
    await control.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-tags'), Tags: [{ Key: 'team', Value: 'blue' }, { Key: 'cost, centre', Value: 'a/b' }] }));
    await control.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-tags'), Tags: [{ Key: 'team', Value: 'green' }] }));
    const byKey = (tags: { Key?: string | undefined; Value?: string | undefined }[]) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
    assert.deepEqual(byKey(await listed()), { team: 'green', 'cost, centre': 'a/b' });
    assert.deepEqual(byKey((await root.send(new GetBucketTaggingCommand({ Bucket: 'abac-tags' }))).TagSet ?? []), { team: 'green', 'cost, centre': 'a/b' });

    await root.send(new PutBucketAbacCommand({ Bucket: 'abac-tags', AbacStatus: { Status: 'Enabled' } }));
    const put = await failure(root.send(new PutBucketTaggingCommand({ Bucket: 'abac-tags', Tagging: { TagSet: [{ Key: 'team', Value: 'red' }] } })));
    assert.deepEqual([put.name, put.status], ['InvalidRequest', 400]);
    const del = await failure(root.send(new DeleteBucketTaggingCommand({ Bucket: 'abac-tags' })));
    assert.deepEqual([del.name, del.status], ['InvalidRequest', 400]);
    // GetBucketTagging still answers, and S3 Control still changes the tags.
    assert.deepEqual(byKey((await root.send(new GetBucketTaggingCommand({ Bucket: 'abac-tags' }))).TagSet ?? []), { team: 'green', 'cost, centre': 'a/b' });
    await control.send(new UntagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-tags'), TagKeys: ['cost, centre'] }));
    assert.deepEqual(byKey(await listed()), { team: 'green' });
    await control.send(new UntagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-tags'), TagKeys: ['team'] }));
    const none = await failure(root.send(new GetBucketTaggingCommand({ Bucket: 'abac-tags' })));
    assert.equal(none.name, 'NoSuchTagSet');
    // Disabled again, PutBucketTagging works again.
    await root.send(new PutBucketAbacCommand({ Bucket: 'abac-tags', AbacStatus: { Status: 'Disabled' } }));
    await root.send(new PutBucketTaggingCommand({ Bucket: 'abac-tags', Tagging: { TagSet: [{ Key: 'team', Value: 'red' }] } }));
    assert.deepEqual(byKey(await listed()), { team: 'red' });
  });

  it('a client with a fixed endpoint (no account host prefix) reaches S3 Control too', async () => {
    const fixed = new S3ControlClient({
      ...server.clientConfig,
      endpointProvider: () => ({ url: new URL(server.endpoint) }),
      maxAttempts: 1,
    });
    try {
      const out = await fixed.send(new ListTagsForResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-blue') }));
      assert.deepEqual(out.Tags, [{ Key: 'team', Value: 'blue' }]);
    } finally {
      fixed.destroy();
    }
  });

  it('tagging needs s3:TagResource, which policies condition on aws:RequestTag and aws:TagKeys', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'abac-perm' }));
    await root.send(new PutBucketAbacCommand({ Bucket: 'abac-perm', AbacStatus: { Status: 'Enabled' } }));
    const tagger = await userWith(server, 'tagger', [
      doc(
        { Effect: 'Allow', Action: 's3:TagResource', Resource: 'arn:aws:s3:::abac-perm', Condition: { StringEquals: { 'aws:RequestTag/team': 'blue' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } } },
        { Effect: 'Allow', Action: ['s3:ListTagsForResource', 's3:GetBucketAbac'], Resource: '*' },
      ),
    ]);
    const c = controlAs(tagger);
    const s3 = s3As(tagger);
    try {
      await c.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-perm'), Tags: [{ Key: 'team', Value: 'blue' }] }));
      const red = await failure(c.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-perm'), Tags: [{ Key: 'team', Value: 'red' }] })));
      assert.deepEqual([red.name, red.status], ['AccessDenied', 403]);
      const extra = await failure(c.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-perm'), Tags: [{ Key: 'team', Value: 'blue' }, { Key: 'cost', Value: 'x' }] })));
      assert.equal(extra.name, 'AccessDenied');
      const untag = await failure(c.send(new UntagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-perm'), TagKeys: ['team'] })));
      assert.equal(untag.name, 'AccessDenied');
      assert.deepEqual((await c.send(new ListTagsForResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-perm') }))).Tags, [{ Key: 'team', Value: 'blue' }]);
      // Turning ABAC off is its own permission.
      assert.deepEqual((await s3.send(new GetBucketAbacCommand({ Bucket: 'abac-perm' }))).AbacStatus, { Status: 'Enabled' });
      const off = await failure(s3.send(new PutBucketAbacCommand({ Bucket: 'abac-perm', AbacStatus: { Status: 'Disabled' } })));
      assert.deepEqual([off.name, off.status], ['AccessDenied', 403]);
    } finally {
      c.destroy();
      s3.destroy();
    }
  });

  it('CreateBucket with tags needs s3:TagResource and validates the tags', async () => {
    const creator = await userWith(server, 'creator', [
      doc(
        { Effect: 'Allow', Action: 's3:CreateBucket', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } } },
        { Effect: 'Allow', Action: 's3:TagResource', Resource: '*', Condition: { StringEquals: { 'aws:RequestTag/team': 'blue' } } },
      ),
    ]);
    const s3 = s3As(creator);
    try {
      const red = await failure(s3.send(new CreateBucketCommand({ Bucket: 'abac-born-red', CreateBucketConfiguration: { Tags: [{ Key: 'team', Value: 'red' }] } })));
      assert.deepEqual([red.name, red.status], ['AccessDenied', 403]);
      assert.equal((await failure(root.send(new GetBucketAbacCommand({ Bucket: 'abac-born-red' })))).name, 'NoSuchBucket');
      await s3.send(new CreateBucketCommand({ Bucket: 'abac-born-blue', CreateBucketConfiguration: { Tags: [{ Key: 'team', Value: 'blue' }] } }));
      assert.deepEqual((await control.send(new ListTagsForResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-born-blue') }))).Tags, [{ Key: 'team', Value: 'blue' }]);
      await s3.send(new CreateBucketCommand({ Bucket: 'abac-born-plain' }));
      const extra = await failure(s3.send(new CreateBucketCommand({ Bucket: 'abac-born-extra', CreateBucketConfiguration: { Tags: [{ Key: 'team', Value: 'blue' }, { Key: 'cost', Value: 'x' }] } })));
      assert.deepEqual([extra.name, extra.status], ['AccessDenied', 403]);
    } finally {
      s3.destroy();
    }
    const dup = await failure(root.send(new CreateBucketCommand({ Bucket: 'abac-born-dup', CreateBucketConfiguration: { Tags: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] } })));
    assert.deepEqual([dup.name, dup.status], ['InvalidTag', 400]);
  });

  it('bad input gets S3 errors: status, XML, ARN, tags', async () => {
    const bad = await failure(root.send(new PutBucketAbacCommand({ Bucket: 'abac-blue', AbacStatus: { Status: 'On' as 'Enabled' } })));
    assert.deepEqual([bad.name, bad.status], ['MalformedXML', 400]);
    const empty = await failure(root.send(new PutBucketAbacCommand({ Bucket: 'abac-blue', AbacStatus: {} })));
    assert.deepEqual([empty.name, empty.status], ['MalformedXML', 400]);
    const refused = async (res: Response, code: string) => {
      assert.equal(res.status, 400);
      assert.match(await res.text(), new RegExp(`<Code>${code}</Code>`));
    };
    const put = async (body: string, extra: Record<string, string> = {}) => {
      const headers = await signS3(server, { method: 'PUT', path: '/abac-blue', query: { abac: '' }, headers: extra, body });
      return fetch(`${server.endpoint}/abac-blue?abac`, { method: 'PUT', headers, body });
    };
    await refused(await put('<AbacStatus><Status>Enabled</Status>'), 'MalformedXML');
    await refused(await put(''), 'MissingRequestBodyError');
    await refused(await put('<AbacStatus><Status>Enabled</Status></AbacStatus>', { 'content-md5': '1B2M2Y8AsgTpgAmY7PhCfg==' }), 'BadDigest');
    assert.deepEqual((await root.send(new GetBucketAbacCommand({ Bucket: 'abac-blue' }))).AbacStatus, { Status: 'Enabled' });

    for (const resource of ['arn:aws:s3:::abac-blue/some/key', 'arn:aws:s3:us-east-1:000000000000:accesspoint/ap', 'not-an-arn', 'arn:aws:s3:::Bad_Name']) {
      const e = await failure(control.send(new ListTagsForResourceCommand({ AccountId: ACCOUNT, ResourceArn: resource })));
      assert.deepEqual([e.name, e.status], ['InvalidRequest', 400], resource);
    }
    const raw = async (body: string) => {
      const path = `/v20180820/tags/${encodeURIComponent(arn('abac-blue'))}`;
      const headers = await signS3(server, { method: 'POST', path, headers: { 'x-amz-account-id': ACCOUNT }, body });
      return fetch(`${server.endpoint}${path}`, { method: 'POST', headers, body });
    };
    await refused(await raw('<TagResourceRequest><Tags><Tag><Key>a</Key>'), 'MalformedXML');
    await refused(await raw('<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>'), 'MalformedXML');
    const otherAccount = await failure(control.send(new ListTagsForResourceCommand({ AccountId: '111122223333', ResourceArn: arn('abac-blue') })));
    assert.deepEqual([otherAccount.name, otherAccount.status], ['AccessDenied', 403]);
    const missing = await failure(control.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-nowhere'), Tags: [{ Key: 'a', Value: 'b' }] })));
    assert.deepEqual([missing.name, missing.status], ['NoSuchBucket', 404]);
    const reserved = await failure(control.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-blue'), Tags: [{ Key: 'aws:team', Value: 'b' }] })));
    assert.deepEqual([reserved.name, reserved.status], ['InvalidTag', 400]);
    const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    const tooMany = await failure(control.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-blue'), Tags: many })));
    assert.deepEqual([tooMany.name, tooMany.status], ['InvalidTag', 400]);
    assert.deepEqual((await control.send(new ListTagsForResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-blue') }))).Tags, [{ Key: 'team', Value: 'blue' }]);
  });
});

describe('s3 ABAC after a restart', () => {
  it('keeps the ABAC state and the tags, and still enforces them', async () => {
    let server = await startHanul();
    const dataDir = server.dataDir;
    try {
      const member = await userWith(server, 'restart-member', [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'blue' } } })]);
      let root = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
      await root.send(new CreateBucketCommand({ Bucket: 'abac-kept' }));
      await root.send(new PutObjectCommand({ Bucket: 'abac-kept', Key: 'k', Body: 'kept' }));
      await root.send(new PutBucketAbacCommand({ Bucket: 'abac-kept', AbacStatus: { Status: 'Enabled' } }));
      let control = new S3ControlClient({ ...server.clientConfig, endpointProvider: () => ({ url: new URL(server.endpoint) }), maxAttempts: 1 });
      await control.send(new TagResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-kept'), Tags: [{ Key: 'team', Value: 'blue' }] }));
      root.destroy();
      control.destroy();
      await server.stop({ keepData: true });

      server = await startHanul({ dataDir });
      root = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
      control = new S3ControlClient({ ...server.clientConfig, endpointProvider: () => ({ url: new URL(server.endpoint) }), maxAttempts: 1 });
      assert.deepEqual((await root.send(new GetBucketAbacCommand({ Bucket: 'abac-kept' }))).AbacStatus, { Status: 'Enabled' });
      assert.deepEqual((await control.send(new ListTagsForResourceCommand({ AccountId: ACCOUNT, ResourceArn: arn('abac-kept') }))).Tags, [{ Key: 'team', Value: 'blue' }]);
      assert.equal((await failure(root.send(new PutBucketTaggingCommand({ Bucket: 'abac-kept', Tagging: { TagSet: [] } })))).name, 'InvalidRequest');
      const s3 = new S3Client({ ...server.clientConfig, credentials: member, forcePathStyle: true, maxAttempts: 1 });
      assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'abac-kept', Key: 'k' }))).Body!.transformToString(), 'kept');
      s3.destroy();
      root.destroy();
      control.destroy();
    } finally {
      await server.stop();
    }
  });
});
