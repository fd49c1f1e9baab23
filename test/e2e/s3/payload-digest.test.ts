// Buffered S3 request payloads (XML configurations, DeleteObjects) are checked
// against their Content-MD5 and x-amz-checksum-* headers, as S3 does: a
// mismatch is BadDigest and changes nothing.
import { CreateBucketCommand, GetBucketTaggingCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { failure, signS3, startHanul, type TestServer } from '../../support/hanul.js';

const Bucket = 'digest-checks';
let server: TestServer;
let s3: S3Client;

before(async () => {
  server = await startHanul();
  s3 = new S3Client({ endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket }));
});
after(async () => {
  s3.destroy();
  await server.stop();
});

/** A SigV4-signed request with a body and the given digest headers. */
async function send(method: string, path: string, query: Record<string, string>, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const signed = await signS3(server, { method, path, query, body, headers: { 'content-type': 'application/xml', ...headers } });
  const qs = new URLSearchParams(query).toString().replace(/=(&|$)/g, '$1');
  const res = await fetch(`${server.endpoint}${path}?${qs}`, { method, headers: signed, body });
  return { status: res.status, text: await res.text() };
}

const md5 = (s: string): string => createHash('md5').update(s).digest('base64');
const crc32 = (s: string): string => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(zlib.crc32(s) >>> 0);
  return b.toString('base64');
};
const deleteBody = (key: string): string => `<Delete><Object><Key>${key}</Key></Object><Quiet>true</Quiet></Delete>`;

describe('S3 buffered payload digests', () => {
  it('DeleteObjects with a Content-MD5 of other bytes is BadDigest and deletes nothing', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'keep', Body: 'x' }));
    const bad = await send('POST', `/${Bucket}`, { delete: '' }, deleteBody('keep'), { 'content-md5': md5(deleteBody('other')) });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /<Code>BadDigest<\/Code>/);
    await s3.send(new HeadObjectCommand({ Bucket, Key: 'keep' }));

    const good = await send('POST', `/${Bucket}`, { delete: '' }, deleteBody('keep'), { 'content-md5': md5(deleteBody('keep')) });
    assert.equal(good.status, 200, good.text);
    assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'keep' })))).status, 404);
  });

  it('a Content-MD5 that is not base64 of 16 bytes is InvalidDigest', async () => {
    const r = await send('POST', `/${Bucket}`, { delete: '' }, deleteBody('k'), { 'content-md5': 'not-an-md5' });
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>InvalidDigest<\/Code>/);
  });

  it('PutBucketTagging with a wrong x-amz-checksum-crc32 is BadDigest and stores nothing; the right one is accepted', async () => {
    const body = '<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>';
    const bad = await send('PUT', `/${Bucket}`, { tagging: '' }, body, { 'x-amz-checksum-crc32': crc32(`${body} `) });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /<Code>BadDigest<\/Code>/);
    assert.match(bad.text, /CRC32 you specified did not match/);
    assert.equal((await failure(s3.send(new GetBucketTaggingCommand({ Bucket })))).name, 'NoSuchTagSet');

    const malformed = await send('PUT', `/${Bucket}`, { tagging: '' }, body, { 'x-amz-checksum-crc32': 'AAAA' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.text, /<Code>InvalidRequest<\/Code>/);

    const good = await send('PUT', `/${Bucket}`, { tagging: '' }, body, { 'x-amz-checksum-crc32': crc32(body) });
    assert.ok(good.status >= 200 && good.status < 300, good.text);
    const tags = await s3.send(new GetBucketTaggingCommand({ Bucket }));
    assert.deepEqual(tags.TagSet, [{ Key: 'team', Value: 'blue' }]);
  });
});
