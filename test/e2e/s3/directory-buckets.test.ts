/**
 * S3 Express One Zone directory buckets through the real SDK v3, given only a
 * custom endpoint: the SDK calls CreateSession itself (GET /?session, signed
 * as `s3express`) and signs everything after with the session's key and
 * x-amz-s3session-token. With an IP endpoint it addresses the bucket
 * path-style (`/<bucket>//<key>`), with a host name virtual-hosted
 * (`<bucket>.localhost`).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  CreateSessionCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListDirectoryBucketsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  RenameObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';
import { userWith } from '../iam/helpers.js';
import { advanceClock } from './time-travel.js';

const ZONE = 'use1-az4';
const dir = (base: string) => `${base}--${ZONE}--x-s3`;
const directoryConfig = { Location: { Type: 'AvailabilityZone' as const, Name: ZONE }, Bucket: { Type: 'Directory' as const, DataRedundancy: 'SingleAvailabilityZone' as const } };
type Identity = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

describe('s3 directory buckets (S3 Express One Zone)', () => {
  let server: TestServer;
  let s3: S3Client;
  const sent: Array<{ command: string; path: string; host: string; sessionToken: string | undefined; service: string | undefined }> = [];
  const clients: S3Client[] = [];

  function client(extra: Partial<S3ClientConfig> = {}): S3Client {
    const c = new S3Client({ ...server.clientConfig, maxAttempts: 1, ...extra });
    c.middlewareStack.add(
      (next, context) => (args) => {
        const req = args.request as { path: string; hostname: string; headers: Record<string, string> };
        sent.push({ command: context.commandName as string, path: req.path, host: req.hostname, sessionToken: req.headers['x-amz-s3session-token'], service: /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(req.headers['authorization'] ?? '')?.[1] });
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'record' },
    );
    clients.push(c);
    return c;
  }
  /** A client that signs with these session credentials, not ones the SDK made itself. */
  const withSession = (identity: Identity) => client({ s3ExpressIdentityProvider: { getS3ExpressIdentity: () => Promise.resolve(identity) } });
  async function session(c: S3Client, bucket: string, mode?: 'ReadOnly' | 'ReadWrite'): Promise<Identity> {
    const out = await c.send(new CreateSessionCommand({ Bucket: bucket, ...(mode ? { SessionMode: mode } : {}) }));
    const k = out.Credentials;
    assert.ok(k?.AccessKeyId && k.SecretAccessKey && k.SessionToken && k.Expiration);
    return { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey, sessionToken: k.SessionToken };
  }

  before(async () => {
    server = await startHanul({ env: { HANUL_TIME_TRAVEL: '1' } });
    s3 = client();
    await s3.send(new CreateBucketCommand({ Bucket: dir('main'), CreateBucketConfiguration: directoryConfig }));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server.stop();
    await rm(server.dataDir, { recursive: true, force: true });
  });

  it('the SDK opens a session itself and signs object calls with it (path-style on an IP endpoint)', async () => {
    sent.length = 0;
    await s3.send(new PutObjectCommand({ Bucket: dir('main'), Key: 'docs/a.txt', Body: 'hello' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: dir('main'), Key: 'docs/a.txt' }));
    assert.equal(await got.Body?.transformToString(), 'hello');
    assert.equal(got.StorageClass, 'EXPRESS_ONEZONE');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: dir('main'), Key: 'docs/a.txt' }))).StorageClass, 'EXPRESS_ONEZONE');
    const put = sent.find((r) => r.command === 'PutObjectCommand');
    assert.equal(put?.service, 's3express');
    assert.match(put?.sessionToken ?? '', /.{20,}/);
    assert.equal(put?.path, `/${dir('main')}//docs/a.txt`);
  });

  it('virtual-hosted-style (<bucket>.localhost) works the same', async () => {
    const lookup = ((_h: string, o: { all?: boolean }, cb: (e: null, a: string | Array<{ address: string; family: number }>, f?: number) => void) =>
      o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as LookupFunction;
    const vh = client({ endpoint: `http://localhost:${server.port}`, requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ lookup }) }) });
    sent.length = 0;
    await vh.send(new CreateBucketCommand({ Bucket: dir('vhost'), CreateBucketConfiguration: directoryConfig }));
    await vh.send(new PutObjectCommand({ Bucket: dir('vhost'), Key: 'k', Body: 'v' }));
    assert.equal(await (await vh.send(new GetObjectCommand({ Bucket: dir('vhost'), Key: 'k' }))).Body?.transformToString(), 'v');
    assert.ok(sent.some((r) => r.command === 'PutObjectCommand' && r.host === `${dir('vhost')}.localhost` && r.path === '/k'));
    assert.ok(sent.some((r) => r.command === 'CreateSessionCommand'));
  });

  it('lists, copies and deletes objects; listing takes only / as delimiter', async () => {
    await s3.send(new PutObjectCommand({ Bucket: dir('main'), Key: 'docs/b.txt', Body: 'b' }));
    await s3.send(new CopyObjectCommand({ Bucket: dir('main'), Key: 'copies/b.txt', CopySource: `${dir('main')}/docs/b.txt` }));
    const top = await s3.send(new ListObjectsV2Command({ Bucket: dir('main'), Delimiter: '/' }));
    assert.deepEqual(top.CommonPrefixes?.map((p) => p.Prefix), ['copies/', 'docs/']);
    const docs = await s3.send(new ListObjectsV2Command({ Bucket: dir('main'), Prefix: 'docs/' }));
    assert.deepEqual(docs.Contents?.map((o) => [o.Key, o.StorageClass]), [['docs/a.txt', 'EXPRESS_ONEZONE'], ['docs/b.txt', 'EXPRESS_ONEZONE']]);
    assert.equal((await failure(s3.send(new ListObjectsV2Command({ Bucket: dir('main'), Delimiter: '#' })))).name, 'InvalidArgument');
    assert.equal((await failure(s3.send(new ListObjectsV2Command({ Bucket: dir('main'), Prefix: 'doc' })))).name, 'InvalidArgument');
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: dir('main'), Delete: { Objects: [{ Key: 'copies/b.txt' }, { Key: 'docs/b.txt' }] } }));
    assert.equal(del.Deleted?.length, 2);
    await s3.send(new DeleteObjectCommand({ Bucket: dir('main'), Key: 'docs/a.txt' }));
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: dir('main') }))).KeyCount, 0);
  });

  it('multipart uploads take consecutive part numbers from 1', async () => {
    const B = dir('main');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'big' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'big', UploadId, PartNumber: 1, Body: Buffer.alloc(5 * 1024 * 1024, 1) }));
    const p3 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'big', UploadId, PartNumber: 3, Body: 'tail' }));
    const gap = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'big', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 3, ETag: p3.ETag }] } })));
    assert.equal(gap.name, 'InvalidPart');
    const p2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'big', UploadId, PartNumber: 2, Body: 'tail' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'big', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big' }));
    assert.equal(head.ContentLength, 5 * 1024 * 1024 + 4);
    assert.equal(head.StorageClass, 'EXPRESS_ONEZONE');
  });

  it('renames objects atomically, with conditions on source and destination', async () => {
    const B = dir('main');
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'r/old', Body: 'moving' }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'r/taken', Body: 'here first' }));
    const taken = await failure(s3.send(new RenameObjectCommand({ Bucket: B, Key: 'r/taken', RenameSource: `${B}/r/old`, DestinationIfNoneMatch: '*' })));
    assert.deepEqual([taken.name, taken.status], ['PreconditionFailed', 412]);
    const stale = await failure(s3.send(new RenameObjectCommand({ Bucket: B, Key: 'r/new', RenameSource: `${B}/r/old`, SourceIfMatch: '"0123"' })));
    assert.equal(stale.name, 'PreconditionFailed');
    await s3.send(new RenameObjectCommand({ Bucket: B, Key: 'r/new', RenameSource: `${B}/r/old`, SourceIfMatch: put.ETag, DestinationIfNoneMatch: '*' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 'r/new' }))).Body?.transformToString(), 'moving');
    assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'r/old' })))).name, 'NoSuchKey');
    // Over an existing object: it is replaced.
    await s3.send(new RenameObjectCommand({ Bucket: B, Key: 'r/taken', RenameSource: `${B}/r/new` }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 'r/taken' }))).Body?.transformToString(), 'moving');
    assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'r/' }))).Contents?.map((o) => o.Key), ['r/taken']);
    assert.equal((await failure(s3.send(new RenameObjectCommand({ Bucket: B, Key: 'r/x', RenameSource: `${B}/r/missing` })))).name, 'NoSuchKey');
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'r/taken' }));
  });

  it('a client token makes a rename idempotent; the same token with other parameters is refused', async () => {
    const B = dir('main');
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 't/a', Body: 'once' }));
    const token = 'rename-t/a-to-t/b-0001';
    await s3.send(new RenameObjectCommand({ Bucket: B, Key: 't/b', RenameSource: `${B}/t/a`, ClientToken: token }));
    // The retry succeeds although its source is gone, and does nothing more.
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 't/a', Body: 'a new one' }));
    await s3.send(new RenameObjectCommand({ Bucket: B, Key: 't/b', RenameSource: `${B}/t/a`, ClientToken: token }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 't/b' }))).Body?.transformToString(), 'once');
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 't/a' }))).Body?.transformToString(), 'a new one');
    const mismatch = await failure(s3.send(new RenameObjectCommand({ Bucket: B, Key: 't/c', RenameSource: `${B}/t/a`, ClientToken: token })));
    assert.deepEqual([mismatch.name, mismatch.status], ['IdempotencyParameterMismatch', 400]);
    const condition = await failure(s3.send(new RenameObjectCommand({ Bucket: B, Key: 't/b', RenameSource: `${B}/t/a`, ClientToken: token, DestinationIfNoneMatch: '*' })));
    assert.equal(condition.name, 'IdempotencyParameterMismatch');
    // A failed rename does not take its token: the same token works once the condition holds.
    const failed = await failure(s3.send(new RenameObjectCommand({ Bucket: B, Key: 't/b', RenameSource: `${B}/t/a`, ClientToken: 'second', DestinationIfNoneMatch: '*' })));
    assert.equal(failed.name, 'PreconditionFailed');
    await s3.send(new RenameObjectCommand({ Bucket: B, Key: 't/d', RenameSource: `${B}/t/a`, ClientToken: 'second' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 't/d' }))).Body?.transformToString(), 'a new one');
    const long = await failure(s3.send(new RenameObjectCommand({ Bucket: B, Key: 't/e', RenameSource: `${B}/t/d`, ClientToken: 'x'.repeat(65) })));
    assert.deepEqual([long.name, long.status], ['InvalidArgument', 400]);
    // Tokens are kept with the bucket's state: after a restart the retry is still recognised.
    const dataDir = server.dataDir;
    await server.stop({ keepData: true });
    server = await startHanul({ dataDir, env: { HANUL_TIME_TRAVEL: '1' } });
    s3 = client();
    await s3.send(new RenameObjectCommand({ Bucket: B, Key: 't/b', RenameSource: `${B}/t/a`, ClientToken: token }));
    assert.equal((await failure(s3.send(new RenameObjectCommand({ Bucket: B, Key: 't/z', RenameSource: `${B}/t/a`, ClientToken: token })))).name, 'IdempotencyParameterMismatch');
    await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 't/b' }, { Key: 't/d' }] } }));
  });

  it('refuses what directory buckets do not have', async () => {
    await s3.send(new PutObjectCommand({ Bucket: dir('main'), Key: 'x', Body: 'x' }));
    assert.deepEqual(await failure(s3.send(new PutObjectTaggingCommand({ Bucket: dir('main'), Key: 'x', Tagging: { TagSet: [] } }))).then((f) => [f.name, f.status]), ['NotImplemented', 501]);
    assert.equal((await failure(s3.send(new PutBucketVersioningCommand({ Bucket: dir('main'), VersioningConfiguration: { Status: 'Enabled' } })))).name, 'NotImplemented');
    assert.equal((await failure(s3.send(new PutObjectCommand({ Bucket: dir('main'), Key: 'y', Body: 'y', StorageClass: 'STANDARD' })))).name, 'InvalidStorageClass');
    assert.equal((await failure(s3.send(new PutObjectCommand({ Bucket: dir('main'), Key: 'y', Body: 'y', Tagging: 'a=b' })))).name, 'NotImplemented');
  });

  it('checks the name and its zone when creating', async () => {
    const bad = await failure(s3.send(new CreateBucketCommand({ Bucket: 'no--use1-az4--x-s3', CreateBucketConfiguration: { ...directoryConfig, Location: { Type: 'AvailabilityZone', Name: 'use1-az5' } } })));
    assert.equal(bad.name, 'InvalidRequest');
    const region = await failure(s3.send(new CreateBucketCommand({ Bucket: 'no--usw2-az1--x-s3', CreateBucketConfiguration: { ...directoryConfig, Location: { Type: 'AvailabilityZone', Name: 'usw2-az1' } } })));
    assert.equal(region.name, 'InvalidRequest');
    const again = await failure(s3.send(new CreateBucketCommand({ Bucket: dir('main'), CreateBucketConfiguration: directoryConfig })));
    assert.equal(again.name, 'BucketAlreadyOwnedByYou');
  });

  it('lists directory buckets in ListDirectoryBuckets, page by page, and not in ListBuckets', async () => {
    for (const b of ['page-a', 'page-b', 'page-c']) await s3.send(new CreateBucketCommand({ Bucket: dir(b), CreateBucketConfiguration: directoryConfig }));
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListDirectoryBucketsCommand({ MaxDirectoryBuckets: 2, ...(token ? { ContinuationToken: token } : {}) }));
      assert.ok((page.Buckets?.length ?? 0) <= 2);
      names.push(...(page.Buckets ?? []).map((b) => b.Name ?? ''));
      assert.ok(page.Buckets?.every((b) => b.BucketArn?.startsWith('arn:aws:s3express:us-east-1:')));
      token = page.ContinuationToken;
      pages++;
    } while (token !== undefined);
    assert.deepEqual(names, [dir('main'), dir('page-a'), dir('page-b'), dir('page-c'), dir('vhost')]);
    assert.equal(pages, 3);
    const general = await s3.send(new ListBucketsCommand({}));
    assert.ok(!(general.Buckets ?? []).some((b) => b.Name?.endsWith('--x-s3')));
    await s3.send(new DeleteBucketCommand({ Bucket: dir('page-c') }));
    assert.ok(!((await s3.send(new ListDirectoryBucketsCommand({}))).Buckets ?? []).some((b) => b.Name === dir('page-c')));
  });

  it('verifies the session token, and a ReadOnly session only reads', async () => {
    await s3.send(new PutObjectCommand({ Bucket: dir('main'), Key: 'ro', Body: 'read me' }));
    const ro = await session(s3, dir('main'), 'ReadOnly');
    const reader = withSession(ro);
    assert.equal(await (await reader.send(new GetObjectCommand({ Bucket: dir('main'), Key: 'ro' }))).Body?.transformToString(), 'read me');
    assert.deepEqual(await failure(reader.send(new PutObjectCommand({ Bucket: dir('main'), Key: 'ro', Body: 'no' }))).then((f) => [f.name, f.status]), ['AccessDenied', 403]);
    const rw = await session(s3, dir('main'));
    const forged = await failure(withSession({ ...rw, sessionToken: `${rw.sessionToken ?? ''}x` }).send(new GetObjectCommand({ Bucket: dir('main'), Key: 'ro' })));
    assert.deepEqual([forged.name, forged.status], ['InvalidToken', 400]);
    const wrongSecret = await failure(withSession({ ...rw, secretAccessKey: 'not-the-secret' }).send(new GetObjectCommand({ Bucket: dir('main'), Key: 'ro' })));
    assert.equal(wrongSecret.name, 'SignatureDoesNotMatch');
    // A session is for its own bucket only.
    const other = await failure(withSession(rw).send(new GetObjectCommand({ Bucket: dir('page-a'), Key: 'ro' })));
    assert.equal(other.name, 'AccessDenied');
  });

  it('an IAM user needs s3express:CreateSession', async () => {
    const denied = await userWith(server, 'no-express', [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] })]);
    const e = await failure(client({ credentials: denied }).send(new GetObjectCommand({ Bucket: dir('main'), Key: 'ro' })));
    assert.deepEqual([e.name, e.status], ['AccessDenied', 403]);
    const readOnly = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3express:CreateSession', Resource: `arn:aws:s3express:us-east-1:000000000000:bucket/${dir('main')}`, Condition: { StringEquals: { 's3express:SessionMode': 'ReadOnly' } } }],
    });
    const reader = await userWith(server, 'express-reader', [readOnly]);
    const c = client({ credentials: reader });
    assert.equal((await failure(session(c, dir('main')))).name, 'AccessDenied');
    const ro = await session(c, dir('main'), 'ReadOnly');
    assert.equal(await (await withSession(ro).send(new GetObjectCommand({ Bucket: dir('main'), Key: 'ro' }))).Body?.transformToString(), 'read me');
    // A bucket policy can grant it too.
    const arn = `arn:aws:s3express:us-east-1:000000000000:bucket/${dir('page-a')}`;
    await s3.send(new PutBucketPolicyCommand({ Bucket: dir('page-a'), Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/no-express' }, Action: 's3express:CreateSession', Resource: arn }] }) }));
    const granted = client({ credentials: denied });
    await granted.send(new PutObjectCommand({ Bucket: dir('page-a'), Key: 'by-policy', Body: 'ok' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: dir('page-a'), Key: 'by-policy' }))).Body?.transformToString(), 'ok');
  });

  it('sessions survive a restart and expire after five minutes on hanul clock', async () => {
    const rw = await session(s3, dir('main'));
    const dataDir = server.dataDir;
    await server.stop({ keepData: true });
    server = await startHanul({ dataDir, env: { HANUL_TIME_TRAVEL: '1' } });
    const c = withSession(rw);
    assert.equal(await (await c.send(new GetObjectCommand({ Bucket: dir('main'), Key: 'ro' }))).Body?.transformToString(), 'read me');
    await advanceClock(server.endpoint, 301, [c]);
    const expired = await failure(c.send(new GetObjectCommand({ Bucket: dir('main'), Key: 'ro' })));
    assert.deepEqual([expired.name, expired.status], ['ExpiredToken', 400]);
  });
});
