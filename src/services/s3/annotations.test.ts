import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectAnnotationsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectAnnotationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import {
  annotationRowPrefix,
  checkAnnotationName,
  checkAnnotationPrefix,
  decodeAnnotationToken,
  encodeAnnotationToken,
  nameInRow,
  pageSize,
  utf8Checked,
} from './annotation-rules.js';
import { pino } from 'pino';
import { BlobReaper } from './blob-reaper.js';
import { s3BlobRefs } from './blob-refs.js';
import { LifecycleWorker } from './lifecycle-worker.js';
import { type AnnotationRecord, nsAnnotations, nsInline, nsObjects, type ObjectRecord } from './model.js';
import { s3Failure, startS3Harness, type S3Harness } from './test-harness.js';

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'ok';
};

describe('annotations: rules', () => {
  it('names: 1–512 bytes of letters, digits, _ . -; not starting with aws or s3 in any case', () => {
    for (const ok of ['ml.sentiment', 'a', 'x_y-z.1', 'étiquette', 'ラベル', 'हिन्दी', 'S', 'a3s', 'x'.repeat(512), 'é'.repeat(256)]) assert.equal(code(() => checkAnnotationName(ok)), 'ok', ok);
    assert.equal(code(() => checkAnnotationName('x'.repeat(513))), 'AnnotationNameTooLong');
    assert.equal(code(() => checkAnnotationName('é'.repeat(257))), 'AnnotationNameTooLong');
    for (const bad of ['', undefined, 'aws.x', 'AWSlabel', 's3thing', 'S3', 'a b', 'a/b', 'a\u0001b', 'tag:x', 'emoji😀']) {
      assert.equal(code(() => checkAnnotationName(bad)), 'InvalidAnnotationName', String(bad));
    }
  });

  it('prefix: empty is none; otherwise the characters a name may have, at most 512 bytes', () => {
    assert.equal(checkAnnotationPrefix(undefined), undefined);
    assert.equal(checkAnnotationPrefix(''), undefined);
    assert.equal(checkAnnotationPrefix('ml.'), 'ml.');
    // A prefix may be shorter than a reserved word: "aw" begins both "awesome" and "aws".
    assert.equal(checkAnnotationPrefix('aw'), 'aw');
    assert.equal(code(() => checkAnnotationPrefix('a/b')), 'InvalidPrefix');
    assert.equal(code(() => checkAnnotationPrefix('x'.repeat(513))), 'InvalidPrefix');
  });

  it('page size: 1..1000, default and ceiling 1000', () => {
    assert.equal(pageSize(undefined), 1000);
    assert.equal(pageSize(1), 1);
    assert.equal(pageSize(5000), 1000);
    assert.equal(code(() => pageSize(0)), 'InvalidArgument');
    assert.equal(code(() => pageSize(-3)), 'InvalidArgument');
  });

  it('continuation tokens round-trip a name; anything else is InvalidArgument', () => {
    assert.equal(decodeAnnotationToken(encodeAnnotationToken('ml.é')), 'ml.é');
    for (const bad of ['', '!!', encodeAnnotationToken('a/b'), `${encodeAnnotationToken('abc')}=`]) assert.equal(code(() => decodeAnnotationToken(bad)), 'InvalidArgument', bad);
  });

  it('row keys: one version per prefix; rows of a longer key sharing it are told apart', () => {
    const p = annotationRowPrefix('k', 255);
    assert.equal(p, 'k\u0001000000000000ff\u0001');
    assert.notEqual(annotationRowPrefix('k', 256), p);
    assert.equal(nameInRow(`${p}ml.x`, p), 'ml.x');
    // Key "k\x01000…ff\x01a" (a legal S3 key) has rows under this prefix too.
    assert.equal(nameInRow(`${p}a\u0001${'0'.repeat(14)}\u0001name`, p), undefined);
  });

  it('UTF-8 check: passes text through, fails on a bad byte or a sequence cut at the end', async () => {
    const run = async (chunks: Uint8Array[]) => {
      const out: Uint8Array[] = [];
      for await (const c of utf8Checked((async function* () {
        yield* chunks;
      })())) out.push(c);
      return Buffer.concat(out).toString('utf8');
    };
    const euro = Buffer.from('€');
    // A character split across chunks is fine.
    assert.equal(await run([Buffer.from('a'), euro.subarray(0, 1), euro.subarray(1), Buffer.from('b')]), 'a€b');
    await assert.rejects(run([Buffer.from([0x61, 0xff])]), { code: 'UnsupportedMediaType', status: 415 });
    await assert.rejects(run([Buffer.from('ok'), euro.subarray(0, 2)]), { code: 'UnsupportedMediaType' });
  });
});

describe('annotations: storage follows the version', () => {
  let h: S3Harness;
  const Bucket = 'annot-unit';
  const rows = () => h.stores.metadata.read((tx) => tx.scan<AnnotationRecord>(nsAnnotations(Bucket), {}));
  const inlineRows = () => h.stores.metadata.read((tx) => tx.count(nsInline(Bucket), {}));
  const record = (Key: string) => h.stores.metadata.read((tx) => tx.get<ObjectRecord>(nsObjects(Bucket), Key));
  const put = (Key: string, AnnotationName: string, body = 'payload', VersionId?: string) =>
    h.client.send(new PutObjectAnnotationCommand({ Bucket, Key, AnnotationName, AnnotationPayload: body, ...(VersionId ? { VersionId } : {}) }));

  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => h.close());

  it('the version counts its annotations; a replaced name keeps the count; the rows go with an unversioned overwrite and delete', async () => {
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'one' }));
    const objectsInline = await inlineRows();
    await put('k', 'a');
    await put('k', 'b');
    await put('k', 'b', 'replaced');
    assert.equal((await record('k'))?.annotations, 2);
    assert.equal((await rows()).length, 2);
    // Each annotation's (sealed) bytes are one inline row; the replaced one's is gone.
    assert.equal(await inlineRows(), objectsInline + 2);
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'two' }));
    assert.equal((await record('k'))?.annotations, undefined);
    assert.equal((await rows()).length, 0);
    assert.equal(await inlineRows(), objectsInline);
    await put('k', 'c');
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    assert.equal((await rows()).length, 0);
    assert.equal(await inlineRows(), 0);
  });

  it('a key that extends another by \\x01… does not see or lose the shorter key\'s annotations', async () => {
    await h.client.send(new PutObjectCommand({ Bucket, Key: 's', Body: 'x' }));
    await put('s', 'mine');
    const seq = (await record('s'))!.seq;
    const longer = `s\u0001${seq.toString(16).padStart(14, '0')}\u0001x`;
    await h.client.send(new PutObjectCommand({ Bucket, Key: longer, Body: 'y' }));
    await put(longer, 'other');
    const list = await h.client.send(new ListObjectAnnotationsCommand({ Bucket, Key: 's' }));
    assert.deepEqual(list.Annotations?.map((a) => a.AnnotationName), ['mine']);
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: 's' }));
    const left = await h.client.send(new ListObjectAnnotationsCommand({ Bucket, Key: longer }));
    assert.deepEqual(left.Annotations?.map((a) => a.AnnotationName), ['other']);
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: longer }));
    assert.equal((await rows()).length, 0);
  });

  it('versioned: each version keeps its own; a delete marker keeps them; deleting a version drops only its own; Suspended replaces the null version\'s', async () => {
    await h.client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await h.client.send(new PutObjectCommand({ Bucket, Key: 'v', Body: '1' }))).VersionId!;
    await put('v', 'first');
    const v2 = (await h.client.send(new PutObjectCommand({ Bucket, Key: 'v', Body: '2' }))).VersionId!;
    await put('v', 'second');
    await put('v', 'older', 'x', v1);
    assert.equal((await rows()).length, 3);
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'v' }));
    assert.equal((await rows()).length, 3);
    assert.equal((await s3Failure(h.client.send(new ListObjectAnnotationsCommand({ Bucket, Key: 'v' })))).name, 'NoSuchKey');
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'v', VersionId: v1 }));
    assert.deepEqual((await rows()).map((r) => r.value.name), ['second']);
    await h.client.send(new DeleteObjectCommand({ Bucket, Key: 'v', VersionId: v2 }));
    assert.equal((await rows()).length, 0);

    await h.client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'n', Body: '1' }));
    await put('n', 'on-null');
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'n', Body: '2' }));
    assert.equal((await rows()).length, 0);
  });

  it('lifecycle: an expired object and an expired noncurrent version take their annotations with them', async () => {
    const log = pino({ level: 'silent' });
    const worker = new LifecycleWorker({ meta: h.stores.metadata, reaper: new BlobReaper(h.stores.blobs, log), clock: h.clock, log }, { intervalMs: 60_000 });
    const lb = 'annot-lifecycle';
    const vb = 'annot-lifecycle-v';
    const rule = { ID: 'r', Status: 'Enabled' as const, Filter: {}, Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } };
    for (const b of [lb, vb]) {
      await h.client.send(new CreateBucketCommand({ Bucket: b }));
      await h.client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [rule] } }));
    }
    await h.client.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const annotate = (b: string, AnnotationName: string) => h.client.send(new PutObjectAnnotationCommand({ Bucket: b, Key: 'k', AnnotationName, AnnotationPayload: 'x' }));
    await h.client.send(new PutObjectCommand({ Bucket: lb, Key: 'k', Body: 'x' }));
    await annotate(lb, 'a');
    await h.client.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: '1' }));
    await annotate(vb, 'old');
    await h.client.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: '2' }));
    await annotate(vb, 'new');
    const count = (b: string) => h.stores.metadata.read((tx) => tx.count(nsAnnotations(b), {}));
    h.clock.advance(3 * 86_400_000);
    await worker.runOnce();
    assert.equal(await count(lb), 0);
    // The first pass expired the current version (a delete marker over it) and the old noncurrent one.
    assert.equal(await count(vb), 1);
    h.clock.advance(3 * 86_400_000);
    await worker.runOnce();
    assert.equal(await count(vb), 0);
  });

  it('the orphan sweep sees an annotation stored as a file', async () => {
    await h.client.send(new PutObjectCommand({ Bucket, Key: 'big', Body: 'x' }));
    await put('big', 'large', 'y'.repeat(200_000));
    const [row] = (await rows()).filter((r) => r.value.name === 'large');
    assert.ok(row && !row.value.blob.inline && row.value.blob.enc !== undefined);
    const seen = new Set<string>();
    await h.stores.metadata.read((tx) => s3BlobRefs(tx, (id) => seen.add(id)));
    assert.ok(seen.has(row.value.blob.id));
  });
});
