/**
 * Bucket CORS: Put/Get/DeleteBucketCors through the SDK (with S3's
 * validation), preflight OPTIONS answers (unsigned, also on a presigned URL),
 * and the CORS headers on actual responses, errors included, rule by rule.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  type CORSRule,
} from '@aws-sdk/client-s3';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';
import { makePublic, raw } from './web-support.js';

const Bucket = 'cors-e2e';
const PLAIN = 'cors-none';
const APP = 'https://app.example.com';

const rules: CORSRule[] = [
  { ID: 'app', AllowedOrigins: [APP, 'https://*.example.net'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['content-type', 'x-amz-*'], ExposeHeaders: ['ETag', 'x-amz-request-id'], MaxAgeSeconds: 3000 },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
];

describe('s3 e2e: bucket CORS', () => {
  let server: TestServer;
  let s3: S3Client;
  const opt = (path: string, headers: Record<string, string>) => raw(server.port, path, { method: 'OPTIONS', headers });

  async function start(dataDir?: string) {
    server = await startHanul(dataDir ? { dataDir } : {});
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
  }

  before(async () => {
    await start();
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: PLAIN }));
    await makePublic(s3, Bucket);
    await s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: rules } }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a.txt', Body: 'hello' }));
  });
  after(async () => {
    s3.destroy();
    const dir = server.dataDir;
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores, returns and deletes the rules', async () => {
    const got = await s3.send(new GetBucketCorsCommand({ Bucket }));
    assert.deepEqual(got.CORSRules, rules);
    const none = await failure(s3.send(new GetBucketCorsCommand({ Bucket: PLAIN })));
    assert.equal(none.name, 'NoSuchCORSConfiguration');
    assert.equal(none.status, 404);
    await s3.send(new PutBucketCorsCommand({ Bucket: PLAIN, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] } }));
    await s3.send(new DeleteBucketCorsCommand({ Bucket: PLAIN }));
    assert.equal((await failure(s3.send(new GetBucketCorsCommand({ Bucket: PLAIN })))).name, 'NoSuchCORSConfiguration');
  });

  it('rejects bad rules with S3 errors', async () => {
    const bad = (CORSRules: CORSRule[]) => failure(s3.send(new PutBucketCorsCommand({ Bucket: PLAIN, CORSConfiguration: { CORSRules } })));
    const cases: [CORSRule[], string, RegExp][] = [
      [[{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }], 'InvalidRequest', /Unsupported method is PATCH/],
      [[{ AllowedOrigins: ['http://*.*.com'], AllowedMethods: ['GET'] }], 'InvalidRequest', /more than one wildcard/],
      [[{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['x-*-*'] }], 'InvalidRequest', /more than one wildcard/],
      [[{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['*'] }], 'InvalidRequest', /wildcard/],
      [[{ AllowedOrigins: ['*'], AllowedMethods: [] }], 'MalformedXML', /not well-formed/],
      [[], 'MalformedXML', /not well-formed/],
      [Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] })), 'InvalidRequest', /100 rules/],
    ];
    for (const [r, code, message] of cases) {
      const f = await bad(r);
      assert.equal(f.name, code, JSON.stringify(r).slice(0, 200));
      assert.equal(f.status, 400);
      assert.match(f.message, message);
    }
    assert.equal((await failure(s3.send(new GetBucketCorsCommand({ Bucket: PLAIN })))).name, 'NoSuchCORSConfiguration', 'nothing stored');
  });

  it('answers preflights from the first matching rule', async () => {
    const ok = await opt(`/${Bucket}/a.txt`, { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'Content-Type, X-Amz-Meta-Owner' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], APP);
    assert.equal(ok.headers['access-control-allow-methods'], 'GET, PUT');
    assert.equal(ok.headers['access-control-allow-headers'], 'content-type, x-amz-meta-owner');
    assert.equal(ok.headers['access-control-expose-headers'], 'ETag, x-amz-request-id');
    assert.equal(ok.headers['access-control-max-age'], '3000');
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    assert.equal(ok.headers['vary'], 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
    const wild = await opt(`/${Bucket}/a.txt`, { origin: 'https://shop.example.net', 'access-control-request-method': 'GET' });
    assert.equal(wild.headers['access-control-allow-origin'], 'https://shop.example.net');
    // The second rule: any origin, GET/HEAD only, answered with `*` and no credentials.
    const any = await opt(`/${Bucket}`, { origin: 'http://elsewhere.test', 'access-control-request-method': 'HEAD' });
    assert.equal(any.status, 200);
    assert.equal(any.headers['access-control-allow-origin'], '*');
    assert.equal(any.headers['access-control-allow-methods'], 'GET, HEAD');
    assert.equal(any.headers['access-control-allow-credentials'], undefined);
  });

  it('refuses preflights no rule allows, and malformed ones', async () => {
    const denied = await opt(`/${Bucket}/a.txt`, { origin: 'http://elsewhere.test', 'access-control-request-method': 'PUT' });
    assert.equal(denied.status, 403);
    assert.match(denied.body, /<Code>AccessForbidden<\/Code><Message>CORSResponse: This CORS request is not allowed\./);
    assert.match(denied.body, /<Method>PUT<\/Method><ResourceType>OBJECT<\/ResourceType>/);
    const header = await opt(`/${Bucket}/a.txt`, { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' });
    assert.equal(header.status, 403);
    const noOrigin = await opt(`/${Bucket}/a.txt`, { 'access-control-request-method': 'GET' });
    assert.equal(noOrigin.status, 400);
    assert.match(noOrigin.body, /<Code>BadRequest<\/Code><Message>Insufficient information\. Origin request header needed\.<\/Message>/);
    const noMethod = await opt(`/${Bucket}/a.txt`, { origin: APP });
    assert.equal(noMethod.status, 400);
    assert.match(noMethod.body, /Access-Control-Request-Method/);
    const notEnabled = await opt(`/${PLAIN}`, { origin: APP, 'access-control-request-method': 'GET' });
    assert.equal(notEnabled.status, 403);
    assert.match(notEnabled.body, /CORSResponse: CORS is not enabled for this bucket\./);
    const noBucket = await opt('/cors-nowhere/x', { origin: APP, 'access-control-request-method': 'GET' });
    assert.equal(noBucket.status, 403);
    assert.match(noBucket.body, /CORSResponse: Bucket not found/);
  });

  it('answers the preflight of a presigned URL without checking its signature', async () => {
    const url = new URL(await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: 'up.txt' }), { expiresIn: 60 }));
    const r = await opt(url.pathname + url.search, { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['access-control-allow-origin'], APP);
  });

  it('adds the matching rule’s headers to actual responses, errors included', async () => {
    const got = await raw(server.port, `/${Bucket}/a.txt`, { headers: { origin: APP } });
    assert.equal(got.status, 200);
    assert.equal(got.body, 'hello');
    assert.equal(got.headers['access-control-allow-origin'], APP);
    assert.equal(got.headers['access-control-expose-headers'], 'ETag, x-amz-request-id');
    assert.equal(got.headers['vary'], 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
    const missing = await raw(server.port, `/${Bucket}/nope.txt`, { headers: { origin: 'http://elsewhere.test' } });
    assert.equal(missing.status, 403, 'anonymous without s3:ListBucket');
    assert.match(missing.body, /<Error><Code>AccessDenied<\/Code>/);
    assert.equal(missing.headers['access-control-allow-origin'], '*');
    // DELETE is in no rule: no CORS headers at all (S3 adds none, not even Vary).
    const del = await raw(server.port, `/${Bucket}/a.txt`, { method: 'DELETE', headers: { origin: APP } });
    assert.equal(del.status, 403);
    assert.equal(del.headers['access-control-allow-origin'], undefined);
    assert.equal(del.headers['vary'], undefined);
    const noOrigin = await raw(server.port, `/${Bucket}/a.txt`);
    assert.equal(noOrigin.headers['access-control-allow-origin'], undefined);
    const plain = await raw(server.port, `/${PLAIN}`, { headers: { origin: APP } });
    assert.equal(plain.headers['access-control-allow-origin'], undefined);
  });

  it('keeps the rules across a restart', async () => {
    const dataDir = server.dataDir;
    s3.destroy();
    await server.stop({ keepData: true });
    await start(dataDir);
    assert.deepEqual((await s3.send(new GetBucketCorsCommand({ Bucket }))).CORSRules, rules);
    const r = await opt(`/${Bucket}/a.txt`, { origin: APP, 'access-control-request-method': 'GET' });
    assert.equal(r.status, 200);
  });
});
