/**
 * S3 object annotations against the real server with the real SDK:
 * put/get/list (prefix, paging)/delete, per version, encryption at rest
 * (inherited from the parent, SSE-C refused, KMS asked as the caller), the
 * limits, IAM, directory buckets, no bytes left behind, and a restart.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectAnnotationCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectAnnotationCommand,
  ListObjectAnnotationsCommand,
  paginateListObjectAnnotations,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAnnotationCommand,
  PutObjectCommand,
  S3Client,
  UpdateObjectEncryptionCommand,
} from '@aws-sdk/client-s3';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { failure, filesUnder, startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { doc, userWith } from '../iam/helpers.js';
import { annotationRowPrefix } from '../../../src/services/s3/annotation-rules.js';
import { type AnnotationRecord, nsAnnotations, nsInline, nsObjects, type ObjectRecord } from '../../../src/services/s3/model.js';

const MiB = 1024 * 1024;
const text = async (p: Promise<{ AnnotationPayload?: { transformToString(): Promise<string> } | undefined }>) => (await p).AnnotationPayload!.transformToString();

describe('s3 e2e: object annotations', () => {
  let server: TestServer;
  let s3: S3Client;
  let kms: KMSClient;
  let keyArn: string;
  const Bucket = 'annotations-e2e';
  const marker = `HANUL-ANNOTATION-MARKER-${randomBytes(6).toString('hex')}`;
  const filler = (n: number) => `${marker} `.repeat(Math.ceil(n / (marker.length + 1))).slice(0, n);
  const customer = randomBytes(32);
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customer.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customer).digest('base64') };
  const put = (Key: string, AnnotationName: string, AnnotationPayload: string | Uint8Array = 'v', extra: { VersionId?: string; ObjectIfMatch?: string } = {}) =>
    s3.send(new PutObjectAnnotationCommand({ Bucket, Key, AnnotationName, AnnotationPayload, ...extra }));
  const get = (Key: string, AnnotationName: string, extra: { VersionId?: string } = {}) => text(s3.send(new GetObjectAnnotationCommand({ Bucket, Key, AnnotationName, ...extra })));

  before(async () => {
    server = await startHanul();
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    kms = new KMSClient(server.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket }));
    keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });
  after(async () => {
    s3.destroy();
    kms.destroy();
    await server.stop();
  });

  it('put, get, list, replace, delete; errors for a missing key, annotation, bad names, payloads and conditions', async () => {
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket, Key: 'doc.pdf', Body: 'the object' }));
    const out = await put('doc.pdf', 'ml.sentiment', '{"score":0.9}');
    assert.equal(out.ServerSideEncryption, 'AES256');
    assert.match(out.ETag ?? '', /^"[0-9a-f]{32}"$/);
    assert.equal(out.ChecksumCRC32 !== undefined || out.ChecksumCRC64NVME !== undefined, true);
    const got = await s3.send(new GetObjectAnnotationCommand({ Bucket, Key: 'doc.pdf', AnnotationName: 'ml.sentiment', ChecksumMode: 'ENABLED' }));
    assert.equal(await got.AnnotationPayload?.transformToString(), '{"score":0.9}');
    assert.equal(got.ContentLength, 13);
    assert.equal(got.ETag, out.ETag);
    assert.equal(got.ServerSideEncryption, 'AES256');
    assert.ok(got.LastModified instanceof Date);
    assert.ok(got.ChecksumCRC32 ?? got.ChecksumCRC64NVME);
    await put('doc.pdf', 'ml.sentiment', 'replaced', { ObjectIfMatch: ETag! });
    assert.equal(await get('doc.pdf', 'ml.sentiment'), 'replaced');
    const list = await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'doc.pdf' }));
    assert.deepEqual(list.Annotations?.map((a) => [a.AnnotationName, a.Size]), [['ml.sentiment', 8]]);
    assert.equal(list.AnnotationCount, 1);
    assert.equal(list.NextContinuationToken, undefined);
    // The object itself is untouched.
    assert.equal((await s3.send(new PutObjectCommand({ Bucket, Key: 'other', Body: 'x' }))).ETag !== undefined, true);

    const expect = async (p: Promise<unknown>, name: string, status: number) => {
      const f = await failure(p);
      assert.deepEqual([f.name, f.status], [name, status], f.message);
    };
    await expect(get('doc.pdf', 'absent'), 'NoSuchAnnotation', 404);
    await expect(get('no-such-object', 'x'), 'NoSuchKey', 404);
    await expect(put('no-such-object', 'x'), 'NoSuchKey', 404);
    await expect(s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'no-such-object' })), 'NoSuchKey', 404);
    await expect(s3.send(new GetObjectAnnotationCommand({ Bucket: 'annotations-no-bucket', Key: 'k', AnnotationName: 'x' })), 'NoSuchBucket', 404);
    await expect(put('doc.pdf', 'aws.reserved'), 'InvalidAnnotationName', 400);
    await expect(put('doc.pdf', 'S3label'), 'InvalidAnnotationName', 400);
    await expect(put('doc.pdf', 'has space'), 'InvalidAnnotationName', 400);
    await expect(put('doc.pdf', 'n'.repeat(513)), 'AnnotationNameTooLong', 400);
    await expect(put('doc.pdf', 'binary', Buffer.from([0x7b, 0xff, 0x7d])), 'UnsupportedMediaType', 415);
    await expect(put('doc.pdf', 'empty', ''), 'InvalidRequest', 400);
    await expect(put('doc.pdf', 'cond', 'x', { ObjectIfMatch: '"0123456789abcdef0123456789abcdef"' }), 'PreconditionFailed', 412);
    await expect(s3.send(new DeleteObjectAnnotationCommand({ Bucket, Key: 'doc.pdf', AnnotationName: 'ml.sentiment', ObjectIfMatch: '"nope"' })), 'PreconditionFailed', 412);
    await expect(s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'doc.pdf', AnnotationPrefix: 'a/b' })), 'InvalidPrefix', 400);
    await expect(s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'doc.pdf', ContinuationToken: 'not-a-token!' })), 'InvalidArgument', 400);
    // Nothing of the refused writes was kept.
    assert.equal((await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'doc.pdf' }))).AnnotationCount, 1);

    const del = await s3.send(new DeleteObjectAnnotationCommand({ Bucket, Key: 'doc.pdf', AnnotationName: 'ml.sentiment', ObjectIfMatch: ETag! }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expect(get('doc.pdf', 'ml.sentiment'), 'NoSuchAnnotation', 404);
    // Deleting what is not there succeeds, as DeleteObject does.
    assert.equal((await s3.send(new DeleteObjectAnnotationCommand({ Bucket, Key: 'doc.pdf', AnnotationName: 'ml.sentiment' }))).$metadata.httpStatusCode, 204);
  });

  it('lists by name with a prefix, a page at a time (MaxAnnotationResults, continuation tokens, the SDK paginator)', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'paged', Body: 'x' }));
    const names = ['ml.a', 'ml.b', 'ml.c', 'ml.d', 'ml.e', 'ocr.text', 'review-1', 'review.2'];
    await Promise.all(names.map((n) => put('paged', n, n)));
    const first = await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'paged', MaxAnnotationResults: 3 }));
    assert.deepEqual(first.Annotations?.map((a) => a.AnnotationName), ['ml.a', 'ml.b', 'ml.c']);
    assert.equal(first.MaxAnnotationResults, 3);
    assert.equal(first.AnnotationCount, 3);
    assert.ok(first.NextContinuationToken);
    const second = await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'paged', MaxAnnotationResults: 3, ContinuationToken: first.NextContinuationToken }));
    assert.deepEqual(second.Annotations?.map((a) => a.AnnotationName), ['ml.d', 'ml.e', 'ocr.text']);
    assert.equal(second.ContinuationToken, first.NextContinuationToken);
    const prefixed = await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'paged', AnnotationPrefix: 'ml.', MaxAnnotationResults: 4 }));
    assert.deepEqual(prefixed.Annotations?.map((a) => a.AnnotationName), ['ml.a', 'ml.b', 'ml.c', 'ml.d']);
    assert.equal(prefixed.AnnotationPrefix, 'ml.');
    const rest = await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'paged', AnnotationPrefix: 'ml.', MaxAnnotationResults: 4, ContinuationToken: prefixed.NextContinuationToken }));
    assert.deepEqual(rest.Annotations?.map((a) => a.AnnotationName), ['ml.e']);
    assert.equal(rest.NextContinuationToken, undefined);
    const all: string[] = [];
    for await (const page of paginateListObjectAnnotations({ client: s3, pageSize: 2 }, { Bucket, Key: 'paged' })) all.push(...(page.Annotations ?? []).map((a) => a.AnnotationName!));
    assert.deepEqual(all, names);
    const entry = first.Annotations[0]!;
    assert.equal(entry.Size, 4);
    assert.ok(entry.LastModified instanceof Date && entry.ETag && entry.ChecksumAlgorithm?.length === 1);
  });

  it('versioned bucket: each version has its own annotations; a delete marker hides them; deleting a version takes only its own', async () => {
    const vb = 'annotations-versioned';
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'one' }))).VersionId!;
    const p1 = await s3.send(new PutObjectAnnotationCommand({ Bucket: vb, Key: 'k', AnnotationName: 'label', AnnotationPayload: 'first' }));
    assert.equal(p1.ObjectVersionId, v1);
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'two' }))).VersionId!;
    // The new current version starts with none.
    assert.equal((await s3.send(new ListObjectAnnotationsCommand({ Bucket: vb, Key: 'k' }))).AnnotationCount, 0);
    await s3.send(new PutObjectAnnotationCommand({ Bucket: vb, Key: 'k', AnnotationName: 'label', AnnotationPayload: 'second' }));
    await s3.send(new PutObjectAnnotationCommand({ Bucket: vb, Key: 'k', VersionId: v1, AnnotationName: 'extra', AnnotationPayload: 'late' }));
    const read = (VersionId?: string, AnnotationName = 'label') => text(s3.send(new GetObjectAnnotationCommand({ Bucket: vb, Key: 'k', AnnotationName, ...(VersionId ? { VersionId } : {}) })));
    assert.equal(await read(), 'second');
    assert.equal(await read(v2), 'second');
    assert.equal(await read(v1), 'first');
    assert.equal(await read(v1, 'extra'), 'late');
    const l1 = await s3.send(new ListObjectAnnotationsCommand({ Bucket: vb, Key: 'k', VersionId: v1 }));
    assert.deepEqual([l1.ObjectVersionId, l1.Annotations?.map((a) => a.AnnotationName)], [v1, ['extra', 'label']]);
    const missing = await failure(s3.send(new GetObjectAnnotationCommand({ Bucket: vb, Key: 'k', AnnotationName: 'label', VersionId: 'AAAAAAAAAAE' + 'A'.repeat(16) })));
    assert.deepEqual([missing.name, missing.status], ['NoSuchVersion', 404]);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k' }));
    const hidden = await failure(read());
    assert.deepEqual([hidden.name, hidden.status], ['NoSuchKey', 404]);
    const onMarker = await failure(read(marker.VersionId));
    assert.deepEqual([onMarker.name, onMarker.status], ['MethodNotAllowed', 405]);
    assert.equal(await read(v2), 'second');
    await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k', VersionId: v2 }));
    const gone = await failure(read(v2));
    assert.deepEqual([gone.name, gone.status], ['NoSuchVersion', 404]);
    assert.equal(await read(v1), 'first');
  });

  it('annotation bytes are encrypted at rest (inline and file), and a deleted or overwritten object leaves no annotation bytes behind', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'at-rest', Body: 'x' }));
    const before = new Set(await filesUnder(server.dataDir));
    await put('at-rest', 'small', filler(1000));
    await put('at-rest', 'large', filler(300_000));
    assert.equal(await get('at-rest', 'large'), filler(300_000));
    const added = (await filesUnder(server.dataDir)).filter((f) => !before.has(f));
    const blobs: string[] = [];
    for (const f of added) if ((await stat(f)).size > 300_000) blobs.push(f);
    assert.equal(blobs.length, 1, 'the large annotation is one file');
    for (const f of await filesUnder(server.dataDir)) {
      const bytes = await readFile(f);
      assert.equal(bytes.indexOf(marker), -1, `${f} holds the marker`);
      assert.equal(bytes.indexOf(Buffer.from(marker).toString('base64').slice(4, -4)), -1, `${f} holds the marker in base64`);
    }
    // An unversioned overwrite drops the version and its annotations, and the file is deleted.
    await s3.send(new PutObjectCommand({ Bucket, Key: 'at-rest', Body: 'y' }));
    assert.equal((await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'at-rest' }))).AnnotationCount, 0);
    await waitFor(async () => !(await filesUnder(server.dataDir)).includes(blobs[0]!), { what: 'the annotation file deleted' });
    await put('at-rest', 'large', filler(300_000));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'at-rest' }));
    await waitFor(async () => {
      const now = await filesUnder(server.dataDir);
      const left: string[] = [];
      for (const f of now) if (!before.has(f) && ((await stat(f).catch(() => undefined))?.size ?? 0) > 300_000) left.push(f);
      return left.length === 0;
    }, { what: 'no annotation file left after the delete' });
  });

  it('an SSE-KMS object: its annotations are sealed under its key and read only with kms:Decrypt; SSE-C objects cannot have annotations', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'kms-object', Body: 'secret', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    const out = await put('kms-object', 'summary', 'classified summary');
    assert.equal(out.ServerSideEncryption, 'aws:kms');
    const got = await s3.send(new GetObjectAnnotationCommand({ Bucket, Key: 'kms-object', AnnotationName: 'summary' }));
    assert.equal(got.ServerSideEncryption, 'aws:kms');
    assert.equal(await got.AnnotationPayload?.transformToString(), 'classified summary');

    const noKms = await userWith(server, 'annot-no-kms', [doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' })]);
    const withKms = await userWith(server, 'annot-with-kms', [doc({ Effect: 'Allow', Action: ['s3:*', 'kms:Decrypt'], Resource: '*' })]);
    const asNoKms = new S3Client({ ...server.clientConfig, credentials: noKms, forcePathStyle: true });
    const asKms = new S3Client({ ...server.clientConfig, credentials: withKms, forcePathStyle: true });
    try {
      const denied = await failure(text(asNoKms.send(new GetObjectAnnotationCommand({ Bucket, Key: 'kms-object', AnnotationName: 'summary' }))));
      assert.deepEqual([denied.name, denied.status], ['AccessDenied', 403]);
      assert.match(denied.message, /kms:Decrypt/);
      const putDenied = await failure(asNoKms.send(new PutObjectAnnotationCommand({ Bucket, Key: 'kms-object', AnnotationName: 'more', AnnotationPayload: 'x' })));
      assert.deepEqual([putDenied.name, putDenied.status], ['AccessDenied', 403]);
      // Listing reads no payload: no KMS needed.
      assert.equal((await asNoKms.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'kms-object' }))).AnnotationCount, 1);
      assert.equal(await text(asKms.send(new GetObjectAnnotationCommand({ Bucket, Key: 'kms-object', AnnotationName: 'summary' }))), 'classified summary');
    } finally {
      asNoKms.destroy();
      asKms.destroy();
    }

    await s3.send(new PutObjectCommand({ Bucket, Key: 'ssec-object', Body: 'x', ...ssec }));
    const refused = await failure(put('ssec-object', 'label', 'x'));
    assert.deepEqual([refused.name, refused.status], ['InvalidRequest', 400]);
    assert.match(refused.message, /SSE-C/);
  });

  it('limits: a payload of 1 MiB is taken, 1 MiB + 1 byte is refused; the 1,001st annotation is refused (a replaced one is not new); deleting the object takes all 1,000', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'limits', Body: 'x' }));
    await put('limits', 'max', 'm'.repeat(MiB));
    const max = await s3.send(new GetObjectAnnotationCommand({ Bucket, Key: 'limits', AnnotationName: 'max' }));
    assert.equal(max.ContentLength, MiB);
    assert.equal((await max.AnnotationPayload!.transformToByteArray()).length, MiB);
    const big = await failure(put('limits', 'too-big', 'm'.repeat(MiB + 1)));
    assert.deepEqual([big.name, big.status], ['EntityTooLarge', 400]);

    await s3.send(new PutObjectCommand({ Bucket, Key: 'many', Body: 'x' }));
    await put('many', 'n0000', 'x');
    // The other 999 are the first one's row cloned in one transaction (each with its own copy of the
    // sealed bytes), so the test does not pay for 999 requests; everything after goes through the API.
    const meta = server.app.stores.metadata;
    await meta.write(async (tx) => {
      const rec = (await tx.get<ObjectRecord>(nsObjects(Bucket), 'many'))!;
      const base = annotationRowPrefix('many', rec.seq);
      const row = (await tx.get<AnnotationRecord>(nsAnnotations(Bucket), `${base}n0000`))!;
      const bytes = (await tx.get<Uint8Array>(nsInline(Bucket), row.blob.id))!;
      for (let i = 1; i < 1000; i++) {
        const name = `n${String(i).padStart(4, '0')}`;
        const id = randomBytes(16).toString('hex');
        await tx.put(nsInline(Bucket), id, bytes);
        await tx.put(nsAnnotations(Bucket), base + name, { ...row, name, blob: { ...row.blob, id } });
      }
      await tx.put(nsObjects(Bucket), 'many', { ...rec, annotations: 1000 });
    });
    assert.equal(await get('many', 'n0999'), 'x');
    const over = await failure(put('many', 'one-too-many', 'x'));
    assert.deepEqual([over.name, over.status], ['AnnotationLimitExceeded', 400]);
    await put('many', 'n0500', 'replaced');
    const page = await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'many' }));
    assert.equal(page.AnnotationCount, 1000);
    assert.equal(page.NextContinuationToken, undefined);
    await s3.send(new DeleteObjectAnnotationCommand({ Bucket, Key: 'many', AnnotationName: 'n0001' }));
    await put('many', 'one-more', 'x');
    assert.equal((await failure(put('many', 'and-another', 'x'))).name, 'AnnotationLimitExceeded');
    // Deleting the object takes all 1,000 rows and their bytes.
    const inlineBefore = await meta.read((tx) => tx.count(nsInline(Bucket), {}));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'many' }));
    assert.equal(await meta.read((tx) => tx.count(nsAnnotations(Bucket), { prefix: 'many\u0001' })), 0);
    assert.equal(await meta.read((tx) => tx.count(nsInline(Bucket), {})), inlineBefore - 1001);
  });

  it('IAM: each operation is its own action (s3:GetObjectAnnotation…), on the object ARN, also in a bucket policy', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'iam/object', Body: 'x' }));
    await put('iam/object', 'label', 'visible');
    const creds = await userWith(server, 'annot-writer', [
      doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObjectAnnotation', 's3:ListObjectAnnotations', 's3:ListBucket'], Resource: [`arn:aws:s3:::${Bucket}`, `arn:aws:s3:::${Bucket}/iam/*`] }),
    ]);
    const c = new S3Client({ ...server.clientConfig, credentials: creds, forcePathStyle: true });
    try {
      await c.send(new PutObjectAnnotationCommand({ Bucket, Key: 'iam/object', AnnotationName: 'mine', AnnotationPayload: 'x' }));
      assert.equal((await c.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'iam/object' }))).AnnotationCount, 2);
      const denied = await failure(c.send(new GetObjectAnnotationCommand({ Bucket, Key: 'iam/object', AnnotationName: 'label' })));
      assert.deepEqual([denied.name, denied.status], ['AccessDenied', 403]);
      assert.match(denied.message, /s3:GetObjectAnnotation/);
      const del = await failure(c.send(new DeleteObjectAnnotationCommand({ Bucket, Key: 'iam/object', AnnotationName: 'label' })));
      assert.deepEqual([del.name, del.status], ['AccessDenied', 403]);
      const elsewhere = await failure(c.send(new PutObjectAnnotationCommand({ Bucket, Key: 'doc.pdf', AnnotationName: 'x', AnnotationPayload: 'x' })));
      assert.deepEqual([elsewhere.name, elsewhere.status], ['AccessDenied', 403]);
      // A bucket policy may name the actions too: it grants the delete the user's own policy lacks.
      const sts = new STSClient({ ...server.clientConfig, credentials: creds });
      const userArn = (await sts.send(new GetCallerIdentityCommand({}))).Arn!;
      sts.destroy();
      await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: doc({ Effect: 'Allow', Principal: { AWS: userArn }, Action: 's3:DeleteObjectAnnotation', Resource: `arn:aws:s3:::${Bucket}/iam/*` }) }));
      try {
        await c.send(new DeleteObjectAnnotationCommand({ Bucket, Key: 'iam/object', AnnotationName: 'label' }));
        assert.equal((await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'iam/object' }))).AnnotationCount, 1);
      } finally {
        await s3.send(new DeleteBucketPolicyCommand({ Bucket }));
      }
    } finally {
      c.destroy();
    }
  });

  it('CopyObject carries them by default, re-sealed under the copy\'s encryption; EXCLUDE leaves them; permissions and SSE-C as documented', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'copy-src', Body: 'source' }));
    await put('copy-src', 'a', 'small one');
    await put('copy-src', 'b', 'B'.repeat(200_000));
    const names = async (Key: string) => (await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key }))).Annotations?.map((x) => x.AnnotationName);
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-dst', CopySource: `${Bucket}/copy-src` }));
    assert.deepEqual(await names('copy-dst'), ['a', 'b']);
    assert.equal(await get('copy-dst', 'a'), 'small one');
    assert.equal(await get('copy-dst', 'b'), 'B'.repeat(200_000));
    // The copy's annotations are its own.
    await put('copy-src', 'a', 'changed later');
    assert.equal(await get('copy-dst', 'a'), 'small one');
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-kms', CopySource: `${Bucket}/copy-src`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    const kmsCopy = await s3.send(new GetObjectAnnotationCommand({ Bucket, Key: 'copy-kms', AnnotationName: 'b' }));
    assert.equal(kmsCopy.ServerSideEncryption, 'aws:kms');
    assert.equal((await kmsCopy.AnnotationPayload!.transformToString()).length, 200_000);
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-ex', CopySource: `${Bucket}/copy-src`, AnnotationDirective: 'EXCLUDE' }));
    assert.deepEqual(await names('copy-ex'), []);
    // A copy onto itself (new metadata) keeps them on the new version.
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-dst', CopySource: `${Bucket}/copy-dst`, MetadataDirective: 'REPLACE', Metadata: { x: 'y' } }));
    assert.deepEqual(await names('copy-dst'), ['a', 'b']);
    assert.equal(await get('copy-dst', 'b'), 'B'.repeat(200_000));
    const bad = await failure(s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-x', CopySource: `${Bucket}/copy-src`, AnnotationDirective: 'MOVE' as 'COPY' })));
    assert.deepEqual([bad.name, bad.status], ['InvalidArgument', 400]);
    const ssecCopy = await failure(s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-ssec', CopySource: `${Bucket}/copy-src`, ...ssec })));
    assert.deepEqual([ssecCopy.name, ssecCopy.status], ['InvalidRequest', 400]);
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-ssec', CopySource: `${Bucket}/copy-src`, AnnotationDirective: 'EXCLUDE', ...ssec }));

    const creds = await userWith(server, 'annot-copier', [doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${Bucket}/*` })]);
    const c = new S3Client({ ...server.clientConfig, credentials: creds, forcePathStyle: true });
    try {
      const denied = await failure(c.send(new CopyObjectCommand({ Bucket, Key: 'copy-user', CopySource: `${Bucket}/copy-src` })));
      assert.deepEqual([denied.name, denied.status], ['AccessDenied', 403]);
      assert.match(denied.message, /s3:GetObjectAnnotation/);
      await c.send(new CopyObjectCommand({ Bucket, Key: 'copy-user', CopySource: `${Bucket}/copy-src`, AnnotationDirective: 'EXCLUDE' }));
      // A source without annotations needs no annotation permission.
      await c.send(new CopyObjectCommand({ Bucket, Key: 'copy-user-2', CopySource: `${Bucket}/copy-user` }));
    } finally {
      c.destroy();
    }
  });

  it('UpdateObjectEncryption takes the version\'s annotations to the new KMS key', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'rewrap', Body: 'x' }));
    await put('rewrap', 'note', 'follows the object');
    await s3.send(new UpdateObjectEncryptionCommand({ Bucket, Key: 'rewrap', ObjectEncryption: { SSEKMS: { KMSKeyArn: keyArn } } }));
    const got = await s3.send(new GetObjectAnnotationCommand({ Bucket, Key: 'rewrap', AnnotationName: 'note' }));
    assert.equal(got.ServerSideEncryption, 'aws:kms');
    assert.equal(await got.AnnotationPayload?.transformToString(), 'follows the object');
    const creds = await userWith(server, 'annot-rewrap-no-kms', [doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' })]);
    const c = new S3Client({ ...server.clientConfig, credentials: creds, forcePathStyle: true });
    try {
      const denied = await failure(text(c.send(new GetObjectAnnotationCommand({ Bucket, Key: 'rewrap', AnnotationName: 'note' }))));
      assert.deepEqual([denied.name, denied.status], ['AccessDenied', 403]);
    } finally {
      c.destroy();
    }
  });

  it('CloudTrail: annotation calls are data events (not in event history); a management call after them is', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'trail', Body: 'x' }));
    await put('trail', 'label', 'x');
    await get('trail', 'label');
    await s3.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'trail' }));
    await s3.send(new DeleteObjectAnnotationCommand({ Bucket, Key: 'trail', AnnotationName: 'label' }));
    await s3.send(new GetBucketVersioningCommand({ Bucket }));
    const trail = new CloudTrailClient(server.clientConfig);
    try {
      const named = async (name: string) => (await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }], MaxResults: 50 }))).Events ?? [];
      await waitFor(async () => (await named('GetBucketVersioning')).length > 0, { what: 'the management event recorded' });
      for (const name of ['PutObjectAnnotation', 'GetObjectAnnotation', 'ListObjectAnnotations', 'DeleteObjectAnnotation']) assert.equal((await named(name)).length, 0, name);
    } finally {
      trail.destroy();
    }
  });

  it('directory buckets do not have annotations: 501 NotImplemented', async () => {
    const dir = 'annot--use1-az4--x-s3';
    await s3.send(new CreateBucketCommand({ Bucket: dir, CreateBucketConfiguration: { Location: { Type: 'AvailabilityZone', Name: 'use1-az4' }, Bucket: { Type: 'Directory', DataRedundancy: 'SingleAvailabilityZone' } } }));
    await s3.send(new PutObjectCommand({ Bucket: dir, Key: 'k', Body: 'x' }));
    const f = await failure(s3.send(new PutObjectAnnotationCommand({ Bucket: dir, Key: 'k', AnnotationName: 'x', AnnotationPayload: 'x' })));
    assert.deepEqual([f.name, f.status], ['NotImplemented', 501]);
    const l = await failure(s3.send(new ListObjectAnnotationsCommand({ Bucket: dir, Key: 'k' })));
    assert.deepEqual([l.name, l.status], ['NotImplemented', 501]);
    // Copying an annotated object in: COPY (also by default) is 501, EXCLUDE works.
    await s3.send(new PutObjectCommand({ Bucket, Key: 'to-dir', Body: 'x' }));
    await put('to-dir', 'label', 'x');
    const byDefault = await failure(s3.send(new CopyObjectCommand({ Bucket: dir, Key: 'copied', CopySource: `${Bucket}/to-dir` })));
    assert.deepEqual([byDefault.name, byDefault.status], ['NotImplemented', 501]);
    const explicit = await failure(s3.send(new CopyObjectCommand({ Bucket: dir, Key: 'copied', CopySource: `${Bucket}/to-dir`, AnnotationDirective: 'COPY' })));
    assert.deepEqual([explicit.name, explicit.status], ['NotImplemented', 501]);
    await s3.send(new CopyObjectCommand({ Bucket: dir, Key: 'copied', CopySource: `${Bucket}/to-dir`, AnnotationDirective: 'EXCLUDE' }));
  });
});

describe('s3 e2e: object annotations survive a restart', () => {
  it('inline, file and SSE-KMS annotations read back after a restart; their count still limits', async () => {
    const first = await startHanul();
    const dataDir = first.dataDir;
    let c = new S3Client({ ...first.clientConfig, forcePathStyle: true });
    const k = new KMSClient(first.clientConfig);
    const Bucket = 'annotations-restart';
    const large = 'L'.repeat(200_000);
    try {
      const keyArn = (await k.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
      await c.send(new CreateBucketCommand({ Bucket }));
      await c.send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'x' }));
      await c.send(new PutObjectCommand({ Bucket, Key: 'kms', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
      await c.send(new PutObjectAnnotationCommand({ Bucket, Key: 'plain', AnnotationName: 'small', AnnotationPayload: 'tiny' }));
      await c.send(new PutObjectAnnotationCommand({ Bucket, Key: 'plain', AnnotationName: 'large', AnnotationPayload: large }));
      await c.send(new PutObjectAnnotationCommand({ Bucket, Key: 'kms', AnnotationName: 'secret', AnnotationPayload: 'under kms' }));
    } finally {
      c.destroy();
      k.destroy();
      await first.stop({ keepData: true });
    }
    const second = await startHanul({ dataDir });
    c = new S3Client({ ...second.clientConfig, forcePathStyle: true });
    try {
      const read = (Key: string, AnnotationName: string) => text(c.send(new GetObjectAnnotationCommand({ Bucket, Key, AnnotationName })));
      assert.equal(await read('plain', 'small'), 'tiny');
      assert.equal(await read('plain', 'large'), large);
      assert.equal(await read('kms', 'secret'), 'under kms');
      assert.deepEqual((await c.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'plain' }))).Annotations?.map((a) => a.AnnotationName), ['large', 'small']);
      await c.send(new DeleteObjectAnnotationCommand({ Bucket, Key: 'plain', AnnotationName: 'small' }));
      assert.deepEqual((await c.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'plain' }))).Annotations?.map((a) => a.AnnotationName), ['large']);
    } finally {
      c.destroy();
      await second.stop();
      const { rm } = await import('node:fs/promises');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
