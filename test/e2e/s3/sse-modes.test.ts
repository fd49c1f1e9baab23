/**
 * S3 encryption at rest through the real SDK: SSE-S3 by default, SSE-KMS
 * (key id / ARN / alias, context, bucket keys), DSSE-KMS, SSE-C, default
 * bucket encryption, range GETs, multipart, CopyObject between kinds and
 * UploadPartCopy, and the S3 errors for bad input.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('s3 e2e: server-side encryption modes', () => {
  let server: TestServer;
  let s3: S3Client;
  let kms: KMSClient;
  let keyArn: string;
  let keyId: string;
  const Bucket = 'sse-modes';
  const customer = randomBytes(32);
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customer.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customer).digest('base64') };
  before(async () => {
    server = await startHanul();
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    kms = new KMSClient(server.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket }));
    const k = await kms.send(new CreateKeyCommand({}));
    keyArn = k.KeyMetadata!.Arn!;
    keyId = k.KeyMetadata!.KeyId!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/sse-test', TargetKeyId: keyId }));
  });
  after(async () => {
    s3.destroy();
    kms.destroy();
    await server.stop();
  });

  const read = async (Key: string, extra: object = {}) => {
    const got = await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));
    return { got, body: Buffer.from(await got.Body!.transformToByteArray()) };
  };

  it('SSE-S3 is the default: PUT/HEAD/GET say AES256, the ETag stays the MD5, GetBucketEncryption shows the default', async () => {
    const data = randomBytes(5000);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'default.bin', Body: data }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    assert.equal(put.ETag, `"${md5(data)}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'default.bin' }));
    assert.equal(head.ServerSideEncryption, 'AES256');
    const { got, body } = await read('default.bin');
    assert.equal(got.ServerSideEncryption, 'AES256');
    assert.ok(body.equals(data));
    const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    assert.deepEqual(enc.ServerSideEncryptionConfiguration?.Rules, [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }]);
  });

  it('range GETs on a large SSE-S3 object return exactly the bytes asked for', async () => {
    const data = randomBytes(1024 * 1024 + 333);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'big.bin', Body: data, ServerSideEncryption: 'AES256' }));
    for (const [a, b] of [[0, 0], [65535, 65536], [100_000, 300_000], [data.length - 10, data.length - 1], [7, 7 + 65536 * 3]] as const) {
      const { got, body } = await read('big.bin', { Range: `bytes=${a}-${b}` });
      assert.equal(got.ContentRange, `bytes ${a}-${b}/${data.length}`);
      assert.ok(body.equals(data.subarray(a, b + 1)), `${a}-${b}`);
    }
    const { body: suffix } = await read('big.bin', { Range: 'bytes=-100' });
    assert.ok(suffix.equals(data.subarray(data.length - 100)));
  });

  it('SSE-KMS by key id, ARN and alias; context echoed; ETag is not the MD5; bucket key flagged', async () => {
    const data = randomBytes(200_000);
    for (const [Key, SSEKMSKeyId] of [['kms-id', keyId], ['kms-arn', keyArn], ['kms-alias', 'alias/sse-test']] as const) {
      const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId }));
      assert.equal(put.ServerSideEncryption, 'aws:kms');
      assert.equal(put.SSEKMSKeyId, keyArn);
      assert.notEqual(put.ETag, `"${md5(data)}"`);
      const { got, body } = await read(Key);
      assert.equal(got.SSEKMSKeyId, keyArn);
      assert.equal(got.ETag, put.ETag);
      assert.ok(body.equals(data));
    }
    const context = Buffer.from(JSON.stringify({ project: 'hanul' })).toString('base64');
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'kms-ctx', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId, SSEKMSEncryptionContext: context, BucketKeyEnabled: true }));
    assert.equal(put.BucketKeyEnabled, true);
    assert.deepEqual(JSON.parse(Buffer.from(put.SSEKMSEncryptionContext!, 'base64').toString()), { project: 'hanul', 'aws:s3:arn': `arn:aws:s3:::${Bucket}` });
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'kms-ctx' }));
    assert.equal(head.BucketKeyEnabled, true);
    assert.ok((await read('kms-ctx')).body.equals(data));
    // aws:kms without a key uses the AWS managed key aws/s3.
    const managed = await s3.send(new PutObjectCommand({ Bucket, Key: 'kms-managed', Body: data, ServerSideEncryption: 'aws:kms' }));
    assert.match(managed.SSEKMSKeyId ?? '', /^arn:aws:kms:us-east-1:\d{12}:key\//);
    assert.notEqual(managed.SSEKMSKeyId, keyArn);
    assert.ok((await read('kms-managed')).body.equals(data));
  });

  it('DSSE-KMS stores two layers and reads back, ranges too', async () => {
    const data = randomBytes(300_000);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'dsse', Body: data, ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyArn }));
    assert.equal(put.ServerSideEncryption, 'aws:kms:dsse');
    const { got, body } = await read('dsse');
    assert.equal(got.ServerSideEncryption, 'aws:kms:dsse');
    assert.ok(body.equals(data));
    assert.ok((await read('dsse', { Range: 'bytes=70000-140000' })).body.equals(data.subarray(70000, 140001)));
  });

  it('SSE-C: key needed on HEAD and GET, wrong key 403, missing key 400, bad MD5 400, headers echoed', async () => {
    const data = randomBytes(100_000);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'ssec', Body: data, ...ssec }));
    assert.equal(put.SSECustomerAlgorithm, 'AES256');
    assert.equal(put.SSECustomerKeyMD5, ssec.SSECustomerKeyMD5);
    assert.equal(put.ServerSideEncryption, undefined);
    assert.notEqual(put.ETag, `"${md5(data)}"`);
    const { got, body } = await read('ssec', ssec);
    assert.ok(body.equals(data));
    assert.equal(got.SSECustomerKeyMD5, ssec.SSECustomerKeyMD5);
    assert.ok((await read('ssec', { ...ssec, Range: 'bytes=5-70000' })).body.equals(data.subarray(5, 70001)));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'ssec', ...ssec }));
    assert.equal(head.SSECustomerAlgorithm, 'AES256');
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: 'ssec', ObjectAttributes: ['ObjectSize'], ...ssec }));
    assert.equal(attrs.ObjectSize, data.length);
    const attrsNoKey = await failure(s3.send(new GetObjectAttributesCommand({ Bucket, Key: 'ssec', ObjectAttributes: ['ObjectSize'] })));
    assert.equal(attrsNoKey.status, 400);

    const missing = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'ssec' })));
    assert.deepEqual([missing.name, missing.status], ['InvalidRequest', 400]);
    const other = randomBytes(32);
    const wrong = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(other).digest('base64') };
    const denied = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'ssec', ...wrong })));
    assert.deepEqual([denied.name, denied.status], ['AccessDenied', 403]);
    const headDenied = await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'ssec', ...wrong })));
    assert.equal(headDenied.status, 403);
    const notApplicable = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'default.bin', ...ssec })));
    assert.deepEqual([notApplicable.name, notApplicable.status], ['InvalidRequest', 400]);
  });

  it('bad SSE input: MD5 mismatch, short key, unknown algorithm, unknown KMS key, SSE-C plus aws:kms, bad context', async () => {
    // The SDK computes the key MD5 itself: a middleware sends a wrong one.
    const cmd = new PutObjectCommand({ Bucket, Key: 'x', Body: 'x', ...ssec });
    cmd.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-amz-server-side-encryption-customer-key-md5'] = createHash('md5').update('nope').digest('base64');
        return next(args);
      },
      { step: 'build', priority: 'low' },
    );
    const badMd5 = await failure(s3.send(cmd));
    assert.deepEqual([badMd5.name, badMd5.status], ['InvalidArgument', 400]);
    assert.match(badMd5.message, /MD5 hash of the key did not match/);
    const short = randomBytes(16);
    const shortKey = await failure(
      s3.send(new PutObjectCommand({ Bucket, Key: 'x', Body: 'x', SSECustomerAlgorithm: 'AES256', SSECustomerKey: short.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(short).digest('base64') })),
    );
    assert.deepEqual([shortKey.name, shortKey.status], ['InvalidArgument', 400]);
    const alg = await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'x', Body: 'x', ServerSideEncryption: 'AES128' as 'AES256' })));
    assert.deepEqual([alg.name, alg.status], ['InvalidArgument', 400]);
    const unknown = await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'x', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/does-not-exist' })));
    assert.deepEqual([unknown.name, unknown.status], ['KMS.NotFoundException', 400]);
    const both = await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'x', Body: 'x', ServerSideEncryption: 'aws:kms', ...ssec })));
    assert.deepEqual([both.name, both.status], ['InvalidArgument', 400]);
    const ctx = await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'x', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSEncryptionContext: 'not-json' })));
    assert.deepEqual([ctx.name, ctx.status], ['InvalidArgument', 400]);
    const keyWithoutKms = await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'x', Body: 'x', ServerSideEncryption: 'AES256', SSEKMSKeyId: keyId })));
    assert.deepEqual([keyWithoutKms.name, keyWithoutKms.status], ['InvalidArgument', 400]);
  });

  it('default bucket encryption: aws:kms with a key and bucket key applies to new objects; delete goes back to SSE-S3', async () => {
    const B = 'sse-default-kms';
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: B,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn }, BucketKeyEnabled: true }] },
      }),
    );
    const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket: B }));
    assert.deepEqual(enc.ServerSideEncryptionConfiguration?.Rules, [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn }, BucketKeyEnabled: true }]);
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'a', Body: 'hello' }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    assert.equal(put.SSEKMSKeyId, keyArn);
    assert.equal(put.BucketKeyEnabled, true);
    // An explicit request still wins over the default.
    const s3put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'b', Body: 'hello', ServerSideEncryption: 'AES256' }));
    assert.equal(s3put.ServerSideEncryption, 'AES256');
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: B }));
    const back = await s3.send(new GetBucketEncryptionCommand({ Bucket: B }));
    assert.equal(back.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
    const bad = await failure(
      s3.send(new PutBucketEncryptionCommand({ Bucket: B, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES512' as 'AES256' } }] } })),
    );
    assert.deepEqual([bad.name, bad.status], ['MalformedXML', 400]);
    const missing = await failure(s3.send(new GetBucketEncryptionCommand({ Bucket: 'no-such-bucket-sse' })));
    assert.deepEqual([missing.name, missing.status], ['NoSuchBucket', 404]);
  });

  it('multipart: parts encrypted under the upload (KMS and SSE-C), UploadPartCopy from an SSE-C source, whole and ranged reads', async () => {
    const part1 = randomBytes(5 * 1024 * 1024);
    const part2 = randomBytes(300_000);
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu-kms', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    assert.equal(mpu.ServerSideEncryption, 'aws:kms');
    const p1 = await s3.send(new UploadPartCommand({ Bucket, Key: 'mpu-kms', UploadId: mpu.UploadId, PartNumber: 1, Body: part1 }));
    assert.equal(p1.ServerSideEncryption, 'aws:kms');
    const p2 = await s3.send(
      new UploadPartCopyCommand({ Bucket, Key: 'mpu-kms', UploadId: mpu.UploadId, PartNumber: 2, CopySource: `${Bucket}/ssec`, CopySourceRange: 'bytes=0-49999', CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: ssec.SSECustomerKey, CopySourceSSECustomerKeyMD5: ssec.SSECustomerKeyMD5 }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: 'mpu-kms', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult?.ETag }] } }),
    );
    assert.equal(done.ServerSideEncryption, 'aws:kms');
    const ssecObj = (await read('ssec', ssec)).body;
    const whole = Buffer.concat([part1, ssecObj.subarray(0, 50_000)]);
    const { got, body } = await read('mpu-kms');
    assert.equal(got.SSEKMSKeyId, keyArn);
    assert.ok(body.equals(whole));
    const a = part1.length - 1000;
    assert.ok((await read('mpu-kms', { Range: `bytes=${a}-${a + 2000}` })).body.equals(whole.subarray(a, a + 2001)));

    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu-ssec', ...ssec }));
    const noKey = await failure(s3.send(new UploadPartCommand({ Bucket, Key: 'mpu-ssec', UploadId: c.UploadId, PartNumber: 1, Body: part2 })));
    assert.equal(noKey.status, 400);
    const q1 = await s3.send(new UploadPartCommand({ Bucket, Key: 'mpu-ssec', UploadId: c.UploadId, PartNumber: 1, Body: part2, ...ssec }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mpu-ssec', UploadId: c.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: q1.ETag }] } }));
    assert.ok((await read('mpu-ssec', ssec)).body.equals(part2));
  });

  it('CopyObject between kinds: SSE-C → KMS → SSE-S3 → SSE-C, and in place to change the encryption', async () => {
    const src = (await read('ssec', ssec)).body;
    const srcHeaders = { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: ssec.SSECustomerKey, CopySourceSSECustomerKeyMD5: ssec.SSECustomerKeyMD5 };
    const noSourceKey = await failure(s3.send(new CopyObjectCommand({ Bucket, Key: 'c1', CopySource: `${Bucket}/ssec` })));
    assert.equal(noSourceKey.status, 400);
    const c1 = await s3.send(new CopyObjectCommand({ Bucket, Key: 'c1', CopySource: `${Bucket}/ssec`, ...srcHeaders, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }));
    assert.equal(c1.ServerSideEncryption, 'aws:kms');
    assert.ok((await read('c1')).body.equals(src));
    const c2 = await s3.send(new CopyObjectCommand({ Bucket, Key: 'c2', CopySource: `${Bucket}/c1` }));
    assert.equal(c2.ServerSideEncryption, 'AES256');
    assert.equal(c2.CopyObjectResult?.ETag, `"${md5(src)}"`);
    const c3 = await s3.send(new CopyObjectCommand({ Bucket, Key: 'c3', CopySource: `${Bucket}/c2`, ...ssec }));
    assert.equal(c3.SSECustomerKeyMD5, ssec.SSECustomerKeyMD5);
    assert.ok((await read('c3', ssec)).body.equals(src));
    // Same key, new encryption: allowed (it changes the encryption attributes).
    const inPlace = await s3.send(new CopyObjectCommand({ Bucket, Key: 'c2', CopySource: `${Bucket}/c2`, ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyArn }));
    assert.equal(inPlace.ServerSideEncryption, 'aws:kms:dsse');
    assert.ok((await read('c2')).body.equals(src));
  });
});
