/**
 * UpdateObjectEncryption through the real SDK: SSE-S3 → SSE-KMS (bucket key)
 * without touching the stored bytes, KMS key A → B (key A disabled afterwards
 * and the object still reads: the data key was re-wrapped), KMS permissions of
 * the caller on both keys, the refused sources (SSE-C, DSSE-KMS, unencrypted),
 * bad requests, a version named by id, Object Lock, a restart, and the AWS CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  S3Client,
  UpdateObjectEncryptionCommand,
} from '@aws-sdk/client-s3';
import type { UpdateObjectEncryptionRequest } from '@aws-sdk/client-s3';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { failure, filesUnder, startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { doc, userWith } from '../iam/helpers.js';
import { cliVersion, findCliV1, runCmd, startRig } from '../s3-clients/helpers.js';

const bytes = async (p: Promise<{ Body?: { transformToByteArray(): Promise<Uint8Array> } | undefined }>) => Buffer.from(await (await p).Body!.transformToByteArray());
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Stored size of an encrypted blob: a 16-byte tag per 64 KiB frame. */
const storedSize = (n: number) => n + Math.ceil(n / 65536) * 16;

describe('s3 e2e: UpdateObjectEncryption', () => {
  let server: TestServer;
  let s3: S3Client;
  let kms: KMSClient;
  let keyA: string;
  let keyB: string;
  const Bucket = 'uoe';
  const sseKms = (KMSKeyArn: string, BucketKeyEnabled?: boolean): UpdateObjectEncryptionRequest['ObjectEncryption'] => ({ SSEKMS: { KMSKeyArn, ...(BucketKeyEnabled !== undefined ? { BucketKeyEnabled } : {}) } });
  const update = (Key: string, ObjectEncryption: UpdateObjectEncryptionRequest['ObjectEncryption'], extra: Partial<UpdateObjectEncryptionRequest> = {}, client = s3) =>
    client.send(new UpdateObjectEncryptionCommand({ Bucket, Key, ObjectEncryption, ...extra }));

  before(async () => {
    server = await startHanul();
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    kms = new KMSClient(server.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket }));
    keyA = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    keyB = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });
  after(async () => {
    s3.destroy();
    kms.destroy();
    await server.stop();
  });

  it('SSE-S3 → SSE-KMS with a bucket key: the blob file is untouched; body, ETag, checksum, Last-Modified and storage class stay; HEAD shows the key', async () => {
    const data = randomBytes(300_000);
    const beforeFiles = new Set(await filesUnder(server.dataDir));
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 's3-to-kms', Body: data, StorageClass: 'STANDARD_IA', ChecksumAlgorithm: 'SHA256' }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    const blobs: string[] = [];
    for (const f of await filesUnder(server.dataDir)) if (!beforeFiles.has(f) && (await stat(f)).size === storedSize(data.length)) blobs.push(f);
    assert.equal(blobs.length, 1, 'the new blob file');
    const blob = blobs[0] as string;
    const st0 = await stat(blob);
    const stored0 = sha(await readFile(blob));
    const head0 = await s3.send(new HeadObjectCommand({ Bucket, Key: 's3-to-kms', ChecksumMode: 'ENABLED' }));
    const attrs0 = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: 's3-to-kms', ObjectAttributes: ['ETag', 'Checksum', 'StorageClass', 'ObjectSize'] }));

    const out = await update('s3-to-kms', sseKms(keyA, true));
    assert.equal(out.$metadata.httpStatusCode, 200);

    const st1 = await stat(blob);
    assert.deepEqual([st1.ino, st1.mtimeMs, st1.size], [st0.ino, st0.mtimeMs, st0.size], 'same file, not rewritten');
    assert.equal(sha(await readFile(blob)), stored0, 'same stored bytes');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 's3-to-kms', ChecksumMode: 'ENABLED' }));
    assert.deepEqual([head.ServerSideEncryption, head.SSEKMSKeyId, head.BucketKeyEnabled], ['aws:kms', keyA, true]);
    assert.equal(head.ETag, head0.ETag);
    assert.equal(head.ETag, `"${md5(data)}"`);
    assert.equal(head.ChecksumSHA256, head0.ChecksumSHA256);
    assert.ok(head.ChecksumSHA256);
    assert.equal(head.LastModified?.getTime(), head0.LastModified?.getTime());
    assert.equal(head.StorageClass, 'STANDARD_IA');
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: 's3-to-kms', ObjectAttributes: ['ETag', 'Checksum', 'StorageClass', 'ObjectSize'] }));
    assert.deepEqual([attrs.ETag, attrs.Checksum, attrs.StorageClass, attrs.ObjectSize], [attrs0.ETag, attrs0.Checksum, attrs0.StorageClass, attrs0.ObjectSize]);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 's3-to-kms' }));
    assert.deepEqual([got.ServerSideEncryption, got.SSEKMSKeyId, got.BucketKeyEnabled], ['aws:kms', keyA, true]);
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    assert.ok((await bytes(s3.send(new GetObjectCommand({ Bucket, Key: 's3-to-kms', Range: 'bytes=70000-140000' })))).equals(data.subarray(70000, 140001)));

    // A small (inline) object too, and without a bucket key.
    await s3.send(new PutObjectCommand({ Bucket, Key: 'small', Body: 'tiny secret' }));
    await update('small', sseKms(keyA));
    const small = await s3.send(new GetObjectCommand({ Bucket, Key: 'small' }));
    assert.deepEqual([small.ServerSideEncryption, small.SSEKMSKeyId, small.BucketKeyEnabled], ['aws:kms', keyA, undefined]);
    assert.equal(await small.Body!.transformToString(), 'tiny secret');
  });

  it('KMS key A → B: with A disabled the object still reads (its data key was re-wrapped); with B disabled it does not', async () => {
    const data = randomBytes(200_000);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'a-to-b', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA }));
    await update('a-to-b', sseKms(keyB));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'a-to-b' }));
    assert.deepEqual([head.ServerSideEncryption, head.SSEKMSKeyId, head.ETag], ['aws:kms', keyB, put.ETag]);
    await kms.send(new DisableKeyCommand({ KeyId: keyA }));
    try {
      assert.ok((await bytes(s3.send(new GetObjectCommand({ Bucket, Key: 'a-to-b' })))).equals(data));
    } finally {
      await kms.send(new EnableKeyCommand({ KeyId: keyA }));
    }
    await kms.send(new DisableKeyCommand({ KeyId: keyB }));
    try {
      const f = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'a-to-b' })));
      assert.deepEqual([f.name, f.status], ['KMS.DisabledException', 400]);
      // Re-wrapping under a disabled key fails as KMS says, and changes nothing.
      const to = await failure(update('a-to-b', sseKms(keyB, true)));
      assert.deepEqual([to.name, to.status], ['KMS.DisabledException', 400]);
    } finally {
      await kms.send(new EnableKeyCommand({ KeyId: keyB }));
    }
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'a-to-b' }))).BucketKeyEnabled, undefined);
    // Bucket keys on and off again under the same key.
    await update('a-to-b', sseKms(keyB, true));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'a-to-b' }))).BucketKeyEnabled, true);
    await update('a-to-b', sseKms(keyB, false));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'a-to-b' }))).BucketKeyEnabled, undefined);
    assert.ok((await bytes(s3.send(new GetObjectCommand({ Bucket, Key: 'a-to-b' })))).equals(data));
  });

  it('the caller needs s3:UpdateObjectEncryption, kms:Decrypt on the old key and kms:Encrypt on the new one; a refusal changes nothing', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'perm', Body: 'guarded', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA }));
    const noDecrypt = await userWith(server, 'uoe-no-decrypt', [doc({ Effect: 'Allow', Action: ['s3:*', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: '*' })]);
    const noEncrypt = await userWith(server, 'uoe-no-encrypt', [doc({ Effect: 'Allow', Action: ['s3:*', 'kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*' })]);
    const noAction = await userWith(server, 'uoe-no-action', [doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 'kms:*'], Resource: '*' })]);
    const onlyB = await userWith(server, 'uoe-only-b', [
      doc({ Effect: 'Allow', Action: 's3:UpdateObjectEncryption', Resource: `arn:aws:s3:::${Bucket}/*` }, { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: keyB }),
    ]);
    const clients = [noDecrypt, noEncrypt, noAction, onlyB].map((credentials) => new S3Client({ ...server.clientConfig, credentials, forcePathStyle: true }));
    const [c1, c2, c3, c4] = clients as [S3Client, S3Client, S3Client, S3Client];
    try {
      const d = await failure(update('perm', sseKms(keyB), {}, c1));
      assert.deepEqual([d.name, d.status], ['AccessDenied', 403]);
      assert.match(d.message, /kms:Decrypt/);
      const e = await failure(update('perm', sseKms(keyB), {}, c2));
      assert.deepEqual([e.name, e.status], ['AccessDenied', 403]);
      assert.match(e.message, /kms:Encrypt/);
      const a = await failure(update('perm', sseKms(keyB), {}, c3));
      assert.deepEqual([a.name, a.status], ['AccessDenied', 403]);
      assert.match(a.message, /s3:UpdateObjectEncryption/);
      // Allowed on the new key only: the old key's Decrypt is what is missing.
      const b = await failure(update('perm', sseKms(keyB), {}, c4));
      assert.deepEqual([b.name, b.status], ['AccessDenied', 403]);
      assert.match(b.message, /kms:Decrypt/);
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'perm' }))).SSEKMSKeyId, keyA);
      // SSE-S3 → B needs nothing of key A: this user may do it.
      await s3.send(new PutObjectCommand({ Bucket, Key: 'perm-s3', Body: 'from sse-s3' }));
      await update('perm-s3', sseKms(keyB), {}, c4);
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'perm-s3' }))).SSEKMSKeyId, keyB);
    } finally {
      for (const c of clients) c.destroy();
    }
  });

  it('KMS calls show in CloudTrail as the caller, invoked by s3.amazonaws.com: Decrypt with the object ARN, Encrypt with the bucket ARN for a bucket key', async () => {
    const trail = new CloudTrailClient(server.clientConfig);
    try {
      await s3.send(new PutObjectCommand({ Bucket, Key: 'trail', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA }));
      await update('trail', sseKms(keyB, true));
      const find = (name: string, arn: string) =>
        waitFor(async () => {
          const r = await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }], MaxResults: 50 }));
          return (r.Events ?? [])
            .map((e) => JSON.parse(e.CloudTrailEvent ?? '{}') as { userIdentity: { invokedBy?: string }; requestParameters?: { keyId?: string; encryptionContext?: Record<string, string> } })
            .find((e) => e.userIdentity.invokedBy === 's3.amazonaws.com' && e.requestParameters?.encryptionContext?.['aws:s3:arn'] === arn);
        }, { what: `${name} invoked by S3 for ${arn}` });
      await find('Decrypt', `arn:aws:s3:::${Bucket}/trail`);
      const enc = await find('Encrypt', `arn:aws:s3:::${Bucket}`);
      assert.equal(enc.requestParameters?.keyId, keyB);
    } finally {
      trail.destroy();
    }
  });

  it('refused sources: SSE-C and DSSE-KMS objects are InvalidRequest, as AWS documents', async () => {
    const customer = randomBytes(32);
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customer.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customer).digest('base64') };
    await s3.send(new PutObjectCommand({ Bucket, Key: 'ssec', Body: 'customer keyed', ...ssec }));
    const c = await failure(update('ssec', sseKms(keyA)));
    assert.deepEqual([c.name, c.status], ['InvalidRequest', 400]);
    assert.match(c.message, /doesn't support source objects with the encryption type DSSE-KMS or SSE-C/);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'ssec', ...ssec }))).Body!.transformToString(), 'customer keyed');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'dsse', Body: 'two layers', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyA }));
    const d = await failure(update('dsse', sseKms(keyB)));
    assert.deepEqual([d.name, d.status], ['InvalidRequest', 400]);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'dsse' }))).ServerSideEncryption, 'aws:kms:dsse');
  });

  it('bad requests: missing key / bucket / version, no SSE-KMS member, a key id or alias instead of a key ARN, another account\'s key, an unknown key, no digest', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'target', Body: 'x' }));
    const nk = await failure(update('no-such-key', sseKms(keyA)));
    assert.deepEqual([nk.name, nk.status], ['NoSuchKey', 404]);
    const nb = await failure(s3.send(new UpdateObjectEncryptionCommand({ Bucket: 'no-such-bucket-uoe', Key: 'k', ObjectEncryption: sseKms(keyA) })));
    assert.deepEqual([nb.name, nb.status], ['NoSuchBucket', 404]);
    const nv = await failure(update('target', sseKms(keyA), { VersionId: `AAAAAAAAAAE${'A'.repeat(16)}` }));
    assert.deepEqual([nv.name, nv.status], ['NoSuchVersion', 404]);
    const badV = await failure(update('target', sseKms(keyA), { VersionId: 'nope' }));
    assert.deepEqual([badV.name, badV.status], ['InvalidArgument', 400]);
    const none = await failure(update('target', {} as UpdateObjectEncryptionRequest['ObjectEncryption']));
    assert.deepEqual([none.name, none.status], ['InvalidRequest', 400]);
    assert.match(none.message, /valid new encryption type/);
    const keyId = keyA.slice(keyA.indexOf('key/') + 4);
    for (const id of [keyId, 'alias/aws/s3', keyA.replace(/key\/.*/, 'alias/x')]) {
      const f = await failure(update('target', sseKms(id)));
      assert.deepEqual([f.name, f.status], ['InvalidRequest', 400], id);
      assert.match(f.message, /require a valid AWS KMS key Amazon Resource Name/);
    }
    const empty = await failure(update('target', sseKms('')));
    assert.deepEqual([empty.name, empty.status], ['InvalidRequest', 400]);
    const other = await failure(update('target', sseKms(keyA.replace(/:\d{12}:/, ':111122223333:'))));
    assert.deepEqual([other.name, other.status], ['AccessDenied', 403]);
    assert.match(other.message, /must be owned by the same account as the bucket/);
    const owner = await failure(update('target', sseKms(keyA), { ExpectedBucketOwner: '111122223333' }));
    assert.deepEqual([owner.name, owner.status], ['AccessDenied', 403]);
    const unknown = await failure(update('target', sseKms(keyA.replace(/key\/.*/, 'key/11111111-2222-3333-4444-555555555555'))));
    assert.deepEqual([unknown.name, unknown.status], ['KMS.NotFoundException', 400]);
    // The SDK always sends a digest (the operation requires one); without it S3 refuses the request.
    const cmd = new UpdateObjectEncryptionCommand({ Bucket, Key: 'target', ObjectEncryption: sseKms(keyA) });
    const strip = (next: (a: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
      const h = (args.request as { headers: Record<string, string> }).headers;
      for (const k of Object.keys(h)) if (/^(x-amz-checksum-|x-amz-sdk-checksum-algorithm$|content-md5$)/i.test(k)) delete h[k];
      return next(args);
    };
    cmd.middlewareStack.addRelativeTo(strip as never, { relation: 'before', toMiddleware: 'httpSigningMiddleware' });
    const noDigest = await failure(s3.send(cmd));
    assert.deepEqual([noDigest.name, noDigest.status], ['InvalidRequest', 400]);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'target' }))).ServerSideEncryption, 'AES256');
  });

  it('a version named by id is updated in place: no new version, the current one untouched, Last-Modified kept', async () => {
    const B = 'uoe-versions';
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'first' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'second' }));
    const lm1 = (await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: v1.VersionId }))).LastModified;
    await s3.send(new UpdateObjectEncryptionCommand({ Bucket: B, Key: 'k', VersionId: v1.VersionId, ObjectEncryption: sseKms(keyA) }));
    const h1 = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: v1.VersionId }));
    assert.deepEqual([h1.ServerSideEncryption, h1.SSEKMSKeyId, h1.LastModified?.getTime()], ['aws:kms', keyA, lm1?.getTime()]);
    const cur = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k' }));
    assert.deepEqual([cur.VersionId, cur.ServerSideEncryption], [v2.VersionId, 'AES256']);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: v1.VersionId }))).Body!.transformToString(), 'first');
    // Without a version id, the current version.
    await s3.send(new UpdateObjectEncryptionCommand({ Bucket: B, Key: 'k', ObjectEncryption: sseKms(keyB) }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: v2.VersionId }))).SSEKMSKeyId, keyB);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: v1.VersionId }))).SSEKMSKeyId, keyA);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: B }));
    assert.deepEqual(versions.Versions?.map((v) => v.VersionId), [v2.VersionId, v1.VersionId]);
  });

  it('Object Lock: a legal hold or a retention period refuses it (AccessDenied); without one it goes through', async () => {
    const B = 'uoe-locked';
    await s3.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
    const held = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'held', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }));
    const f = await failure(s3.send(new UpdateObjectEncryptionCommand({ Bucket: B, Key: 'held', ObjectEncryption: sseKms(keyA) })));
    assert.deepEqual([f.name, f.status], ['AccessDenied', 403]);
    assert.match(f.message, /protected by S3 Object Lock/);
    const until = new Date(server.clock.nowMs() + 86_400_000);
    for (const mode of ['GOVERNANCE', 'COMPLIANCE'] as const) {
      await s3.send(new PutObjectCommand({ Bucket: B, Key: mode, Body: 'x', ObjectLockMode: mode, ObjectLockRetainUntilDate: until }));
      const r = await failure(s3.send(new UpdateObjectEncryptionCommand({ Bucket: B, Key: mode, ObjectEncryption: sseKms(keyA) })));
      assert.deepEqual([r.name, r.status], ['AccessDenied', 403], mode);
    }
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: B, Key: 'held', VersionId: held.VersionId, LegalHold: { Status: 'OFF' } }));
    await s3.send(new UpdateObjectEncryptionCommand({ Bucket: B, Key: 'held', ObjectEncryption: sseKms(keyA) }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'held' }))).SSEKMSKeyId, keyA);
  });
});

describe('s3 e2e: UpdateObjectEncryption without the SSE-S3 default, and across a restart', () => {
  it('an unencrypted object (HANUL_S3_DEFAULT_ENCRYPTION=off) is InvalidRequest', async () => {
    const server = await startHanul({ env: { HANUL_S3_DEFAULT_ENCRYPTION: 'off' } });
    const c = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    const k = new KMSClient(server.clientConfig);
    try {
      const keyArn = (await k.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
      await c.send(new CreateBucketCommand({ Bucket: 'plain' }));
      await c.send(new PutObjectCommand({ Bucket: 'plain', Key: 'p', Body: 'plain' }));
      const f = await failure(c.send(new UpdateObjectEncryptionCommand({ Bucket: 'plain', Key: 'p', ObjectEncryption: { SSEKMS: { KMSKeyArn: keyArn } } })));
      assert.deepEqual([f.name, f.status], ['InvalidRequest', 400]);
      assert.match(f.message, /unencrypted source objects/);
      assert.equal((await c.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'p' }))).ServerSideEncryption, undefined);
    } finally {
      c.destroy();
      k.destroy();
      await server.stop();
    }
  });

  it('the new encryption is in the metadata store: after a restart GET reads with the new key', async () => {
    const first = await startHanul();
    const dataDir = first.dataDir;
    const data = randomBytes(150_000);
    let c = new S3Client({ ...first.clientConfig, forcePathStyle: true });
    let k = new KMSClient(first.clientConfig);
    const keyArn = (await k.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await c.send(new CreateBucketCommand({ Bucket: 'uoe-restart' }));
    await c.send(new PutObjectCommand({ Bucket: 'uoe-restart', Key: 'big', Body: data }));
    await c.send(new PutObjectCommand({ Bucket: 'uoe-restart', Key: 'small', Body: 'small one' }));
    for (const Key of ['big', 'small']) await c.send(new UpdateObjectEncryptionCommand({ Bucket: 'uoe-restart', Key, ObjectEncryption: { SSEKMS: { KMSKeyArn: keyArn, BucketKeyEnabled: Key === 'big' } } }));
    c.destroy();
    k.destroy();
    await first.stop({ keepData: true });
    const second = await startHanul({ dataDir });
    c = new S3Client({ ...second.clientConfig, forcePathStyle: true });
    k = new KMSClient(second.clientConfig);
    try {
      const got = await c.send(new GetObjectCommand({ Bucket: 'uoe-restart', Key: 'big' }));
      assert.deepEqual([got.ServerSideEncryption, got.SSEKMSKeyId, got.BucketKeyEnabled], ['aws:kms', keyArn, true]);
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
      assert.equal(await (await c.send(new GetObjectCommand({ Bucket: 'uoe-restart', Key: 'small' }))).Body!.transformToString(), 'small one');
      // KMS really is in the read path now: a disabled key stops it.
      await k.send(new DisableKeyCommand({ KeyId: keyArn }));
      assert.equal((await failure(c.send(new GetObjectCommand({ Bucket: 'uoe-restart', Key: 'small' })))).name, 'KMS.DisabledException');
    } finally {
      c.destroy();
      k.destroy();
      await second.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** The CLI that knows `s3api update-object-encryption`: v2 at /usr/bin/aws if new enough, else the machine's CLI v1. */
function cliWithCommand(): string | undefined {
  for (const bin of ['/usr/bin/aws', findCliV1()]) {
    if (bin === undefined || cliVersion(bin) === undefined) continue;
    try {
      // `help` exits 0 only for a command this CLI knows.
      execFileSync(bin, ['s3api', 'update-object-encryption', 'help'], { stdio: 'ignore', env: { ...process.env, PAGER: 'cat', AWS_PAGER: '' } });
      return bin;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

const cli = cliWithCommand();

describe('s3 e2e: UpdateObjectEncryption through the AWS CLI', { skip: cli ? false : 'no AWS CLI knows s3api update-object-encryption' }, () => {
  it(`${cli ?? 'aws'} s3api update-object-encryption turns an SSE-S3 object into SSE-KMS`, async () => {
    const rig = await startRig({ tls: false });
    const aws = (...args: string[]) => runCmd(cli as string, ['--endpoint-url', rig.endpoint, ...args], rig.env, 120_000);
    try {
      await aws('s3api', 'create-bucket', '--bucket', 'uoe-cli');
      const key = JSON.parse(await aws('kms', 'create-key')) as { KeyMetadata: { Arn: string } };
      const c = new S3Client({ ...rig.server.clientConfig, forcePathStyle: true });
      try {
        await c.send(new PutObjectCommand({ Bucket: 'uoe-cli', Key: 'o', Body: 'via the cli' }));
        await aws('s3api', 'update-object-encryption', '--bucket', 'uoe-cli', '--key', 'o', '--object-encryption', JSON.stringify({ SSEKMS: { KMSKeyArn: key.KeyMetadata.Arn, BucketKeyEnabled: true } }));
        const head = await c.send(new HeadObjectCommand({ Bucket: 'uoe-cli', Key: 'o' }));
        assert.deepEqual([head.ServerSideEncryption, head.SSEKMSKeyId, head.BucketKeyEnabled], ['aws:kms', key.KeyMetadata.Arn, true]);
        assert.equal(await (await c.send(new GetObjectCommand({ Bucket: 'uoe-cli', Key: 'o' }))).Body!.transformToString(), 'via the cli');
      } finally {
        c.destroy();
      }
    } finally {
      await rig.stop();
    }
  });
});
