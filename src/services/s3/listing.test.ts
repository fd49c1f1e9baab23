import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { compareUtf8 } from '../../storage/key-range.js';
import { s3Failure, startS3Harness, type S3Harness } from './test-harness.js';

describe('listing', () => {
  let h: S3Harness;
  const Bucket = 'lst';
  const keys = ['a', 'a/b', 'a/b/c', 'a/d', 'b', 'b/x y', 'c+d', 'photos/2024/1.jpg', 'photos/2024/2.jpg', 'photos/2025/1.jpg', 'zz', '\uffff', '😀', 'é'];
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket }));
    for (const Key of keys) await h.client.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
  });
  after(async () => h.close());

  it('lists every key in UTF-8 binary order', async () => {
    const out = await h.client.send(new ListObjectsV2Command({ Bucket }));
    const expected = [...keys].sort(compareUtf8);
    assert.deepEqual(out.Contents?.map((c) => c.Key), expected);
    assert.equal(out.KeyCount, keys.length);
    assert.equal(out.IsTruncated, false);
    assert.equal(out.Contents?.[0]?.Owner, undefined);
    // U+FFFF sorts before U+1F600 in UTF-8, unlike UTF-16.
    assert.ok(expected.indexOf('\uffff') < expected.indexOf('😀'));
  });

  it('paginates with max-keys and continuation tokens, no duplicates, no gaps', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out: ListObjectsV2CommandOutput = await h.client.send(new ListObjectsV2Command({ Bucket, MaxKeys: 3, ContinuationToken: token }));
      seen.push(...(out.Contents ?? []).map((c) => c.Key as string));
      token = out.NextContinuationToken;
      assert.equal(out.IsTruncated, token !== undefined);
      pages++;
    } while (token);
    assert.deepEqual(seen, [...keys].sort(compareUtf8));
    assert.equal(pages, Math.ceil(keys.length / 3));
  });

  it('delimiter rolls keys up into common prefixes, across pages', async () => {
    const out = await h.client.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }));
    assert.deepEqual(out.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'b/', 'photos/']);
    assert.deepEqual(out.Contents?.map((c) => c.Key), ['a', 'b', 'c+d', 'zz', '\uffff', 'é', '😀'].sort(compareUtf8));
    const sub = await h.client.send(new ListObjectsV2Command({ Bucket, Prefix: 'photos/', Delimiter: '/' }));
    assert.deepEqual(sub.CommonPrefixes?.map((p) => p.Prefix), ['photos/2024/', 'photos/2025/']);
    assert.equal(sub.Contents, undefined);
    const items: string[] = [];
    let token: string | undefined;
    do {
      const p: ListObjectsV2CommandOutput = await h.client.send(new ListObjectsV2Command({ Bucket, Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
      items.push(...(p.Contents ?? []).map((c) => c.Key as string), ...(p.CommonPrefixes ?? []).map((c) => c.Prefix as string));
      assert.ok((p.KeyCount ?? 0) <= 2);
      token = p.NextContinuationToken;
    } while (token);
    assert.equal(items.length, 10);
    assert.equal(new Set(items).size, 10);
  });

  it('start-after, prefix, fetch-owner, encoding-type=url', async () => {
    const out = await h.client.send(new ListObjectsV2Command({ Bucket, StartAfter: 'b', Prefix: 'b', FetchOwner: true }));
    assert.deepEqual(out.Contents?.map((c) => c.Key), ['b/x y']);
    assert.ok(out.Contents?.[0]?.Owner?.ID);
    const enc = await h.client.send(new ListObjectsV2Command({ Bucket, Prefix: 'b/', EncodingType: 'url' }));
    assert.equal(enc.Contents?.[0]?.Key, 'b/x+y');
    assert.equal(enc.EncodingType, 'url');
    const bad = await s3Failure(h.client.send(new ListObjectsV2Command({ Bucket, EncodingType: 'base64' as never })));
    assert.equal(bad.name, 'InvalidArgument');
    const tok = await s3Failure(h.client.send(new ListObjectsV2Command({ Bucket, ContinuationToken: '!!!' })));
    assert.equal(tok.name, 'InvalidArgument');
    const none = await s3Failure(h.client.send(new ListObjectsV2Command({ Bucket: 'missing-bucket' })));
    assert.equal(none.name, 'NoSuchBucket');
  });

  it('ListObjects v1: marker and NextMarker with a delimiter', async () => {
    const p1 = await h.client.send(new ListObjectsCommand({ Bucket, Delimiter: '/', MaxKeys: 2 }));
    assert.deepEqual([...(p1.Contents ?? []).map((c) => c.Key), ...(p1.CommonPrefixes ?? []).map((c) => c.Prefix)], ['a', 'a/']);
    assert.equal(p1.NextMarker, 'a/');
    assert.ok(p1.Contents?.[0]?.Owner?.ID);
    const p2 = await h.client.send(new ListObjectsCommand({ Bucket, Delimiter: '/', MaxKeys: 2, Marker: p1.NextMarker }));
    assert.deepEqual([...(p2.Contents ?? []).map((c) => c.Key), ...(p2.CommonPrefixes ?? []).map((c) => c.Prefix)], ['b', 'b/']);
    const all = await h.client.send(new ListObjectsCommand({ Bucket, Marker: 'photos/2024/2.jpg' }));
    assert.equal(all.Contents?.[0]?.Key, 'photos/2025/1.jpg');
    assert.equal(all.NextMarker, undefined);
  });

  it('many keys: common prefixes skipped by seeking, pages across batch sizes, delete markers hidden', async () => {
    const B = 'lst-many';
    await h.client.send(new CreateBucketCommand({ Bucket: B }));
    // Records written directly: the walk is what is under test, not 3000 PUTs.
    const rec = (key: string, dm = false) => ({ key, versionId: 'null', seq: 1, lastModified: new Date(0), ownerAccount: '000000000000', etag: '"e"', size: 1, blobs: [], meta: {}, storageClass: 'STANDARD', ...(dm ? { deleteMarker: true } : {}) });
    await h.stores.metadata.write(async (tx) => {
      for (let d = 0; d < 300; d++) for (let f = 0; f < 10; f++) await tx.put(`s3:obj:${B}`, `d${String(d).padStart(3, '0')}/f${f}`, rec('x', d % 50 === 0));
      for (let f = 0; f < 40; f++) await tx.put(`s3:obj:${B}`, `top${String(f).padStart(2, '0')}`, rec('x'));
    });
    const prefixes: string[] = [];
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const p: ListObjectsV2CommandOutput = await h.client.send(new ListObjectsV2Command({ Bucket: B, Delimiter: '/', MaxKeys: 7, ContinuationToken: token }));
      prefixes.push(...(p.CommonPrefixes ?? []).map((c) => c.Prefix as string));
      keys.push(...(p.Contents ?? []).map((c) => c.Key as string));
      token = p.NextContinuationToken;
    } while (token);
    // Prefixes holding only delete markers are not listed.
    assert.equal(prefixes.length, 294);
    assert.equal(new Set(prefixes).size, 294);
    assert.equal(keys.length, 40);
    const all = await h.client.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'd001/' }));
    assert.equal(all.KeyCount, 10);
  });

  it('max-keys 0 and bounds', async () => {
    const zero = await h.client.send(new ListObjectsV2Command({ Bucket, MaxKeys: 0 }));
    assert.equal(zero.KeyCount, 0);
    assert.equal(zero.Contents, undefined);
    const neg = await s3Failure(h.client.send(new ListObjectsV2Command({ Bucket, MaxKeys: -1 })));
    assert.equal(neg.name, 'InvalidArgument');
  });
});
