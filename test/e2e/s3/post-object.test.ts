/**
 * POST Object: browser-style multipart/form-data uploads with a SigV4-signed
 * policy, sent with fetch's FormData (no AWS SDK on the wire).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startHanul, type TestServer } from '../../support/hanul.js';

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

describe('s3 e2e: POST Object (browser form uploads)', () => {
  let server: TestServer;
  let s3: S3Client;
  const Bucket = 'e2e-post';
  before(async () => {
    server = await startHanul();
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => {
    s3.destroy();
    await server.stop();
  });

  function signedForm(conditions: unknown[], fields: Record<string, string>, opts: { expiresInMs?: number; secret?: string } = {}) {
    const now = new Date(server.clock.nowMs());
    const date = now.toISOString().slice(0, 10).replace(/-/g, '');
    const amzDate = `${date}T000000Z`;
    const credential = `${server.credentials.accessKeyId}/${date}/${server.region}/s3/aws4_request`;
    const policy = {
      expiration: new Date(now.getTime() + (opts.expiresInMs ?? 600_000)).toISOString(),
      conditions: [{ bucket: Bucket }, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': amzDate }, ...conditions],
    };
    const policyB64 = Buffer.from(JSON.stringify(policy)).toString('base64');
    const key = hmac(hmac(hmac(hmac(`AWS4${opts.secret ?? server.credentials.secretAccessKey}`, date), server.region), 's3'), 'aws4_request');
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('x-amz-algorithm', 'AWS4-HMAC-SHA256');
    form.append('x-amz-credential', credential);
    form.append('x-amz-date', amzDate);
    form.append('policy', policyB64);
    form.append('x-amz-signature', hmac(key, policyB64).toString('hex'));
    return form;
  }

  const post = (form: FormData) => fetch(`${server.endpoint}/${Bucket}`, { method: 'POST', body: form, redirect: 'manual' });

  it('stores the file with its fields (204 by default), ${filename} in the key', async () => {
    const form = signedForm([['starts-with', '$key', 'uploads/'], ['starts-with', '$Content-Type', 'text/'], { 'x-amz-meta-owner': 'alice' }, ['content-length-range', 1, 1024]], {
      key: 'uploads/${filename}',
      'Content-Type': 'text/plain',
      'x-amz-meta-owner': 'alice',
    });
    form.append('file', new Blob(['hello from a browser']), 'note.txt');
    const r = await post(form);
    assert.equal(r.status, 204, await r.text());
    assert.ok(r.headers.get('etag'));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'uploads/note.txt' }));
    assert.equal(await got.Body!.transformToString(), 'hello from a browser');
    assert.equal(got.ContentType, 'text/plain');
    assert.deepEqual(got.Metadata, { owner: 'alice' });
    assert.equal(got.ETag, r.headers.get('etag'));
  });

  it('success_action_status 201 answers with PostResponse XML; success_action_redirect with 303', async () => {
    const f1 = signedForm([['starts-with', '$key', ''], { success_action_status: '201' }], { key: 'k201', success_action_status: '201' });
    f1.append('file', new Blob(['x']), 'x');
    const r1 = await post(f1);
    assert.equal(r1.status, 201);
    assert.match(await r1.text(), /<PostResponse><Location>.+\/e2e-post\/k201<\/Location><Bucket>e2e-post<\/Bucket><Key>k201<\/Key><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag><\/PostResponse>/);
    const f2 = signedForm([['eq', '$key', 'k303'], ['starts-with', '$success_action_redirect', 'http://example.test/']], { key: 'k303', success_action_redirect: 'http://example.test/done' });
    f2.append('file', new Blob(['y']), 'y');
    const r2 = await post(f2);
    assert.equal(r2.status, 303);
    const loc = new URL(r2.headers.get('location') ?? '');
    assert.equal(loc.origin + loc.pathname, 'http://example.test/done');
    assert.equal(loc.searchParams.get('key'), 'k303');
    assert.equal(loc.searchParams.get('bucket'), Bucket);
  });

  it('refuses bad signatures, failed conditions, extra fields, expired policies, sizes out of range', async () => {
    const cases: Array<[FormData, number, RegExp]> = [];
    const bad = signedForm([['starts-with', '$key', '']], { key: 'a' }, { secret: 'wrong-secret' });
    cases.push([bad, 403, /SignatureDoesNotMatch/]);
    const cond = signedForm([['starts-with', '$key', 'uploads/']], { key: 'elsewhere' });
    cases.push([cond, 403, /Policy Condition failed/]);
    const extra = signedForm([['starts-with', '$key', '']], { key: 'a', 'x-amz-meta-sneaky': '1' });
    cases.push([extra, 403, /Extra input fields: x-amz-meta-sneaky/]);
    const expired = signedForm([['starts-with', '$key', '']], { key: 'a' }, { expiresInMs: -1000 });
    cases.push([expired, 403, /Policy expired/]);
    const big = signedForm([['starts-with', '$key', ''], ['content-length-range', 0, 10]], { key: 'big' });
    cases.push([big, 400, /EntityTooLarge/]);
    const small = signedForm([['starts-with', '$key', ''], ['content-length-range', 100, 200]], { key: 'small' });
    cases.push([small, 400, /EntityTooSmall/]);
    for (const [form, status, code] of cases) {
      form.append('file', new Blob(['more than ten bytes of data']), 'f');
      const r = await post(form);
      assert.equal(r.status, status);
      assert.match(await r.text(), code);
    }
    const headBig = await s3.send(new HeadObjectCommand({ Bucket, Key: 'big' })).catch((e: { $metadata: { httpStatusCode: number } }) => e.$metadata.httpStatusCode);
    assert.equal(headBig, 404);
    const noFile = signedForm([['starts-with', '$key', '']], { key: 'a' });
    const r = await post(noFile);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /IncorrectNumberOfFilesInPostRequest/);
  });
});
