// SigV4 failures as S3 reports them, driven by the real SDK, the presigner,
// and a hand-built aws-chunked upload (chunk signatures computed here with
// node:crypto, independently of the server's code).
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';


const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A STREAMING-AWS4-HMAC-SHA256-PAYLOAD PutObject; `tamper` changes one data byte after signing. */
async function chunkedPut(server: TestServer, key: string, chunks: Buffer[], tamper: boolean): Promise<{ status: number; body: string }> {
  const u = new URL(`/chunked-bucket/${key}`, server.endpoint);
  const decodedLength = chunks.reduce((a, c) => a + c.length, 0);
  const signer = new SignatureV4({ service: 's3', region: server.region, credentials: server.credentials, sha256: Sha256, uriEscapePath: false });
  const signed = await signer.sign({
    method: 'PUT',
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: u.pathname,
    headers: {
      host: u.host,
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'x-amz-decoded-content-length': String(decodedLength),
      'content-encoding': 'aws-chunked',
    },
  });
  const h = signed.headers;
  const seed = /Signature=([0-9a-f]{64})/.exec(h['authorization'] ?? '')?.[1] as string;
  const amzDate = h['x-amz-date'] as string;
  const scope = `${amzDate.slice(0, 8)}/${server.region}/s3/aws4_request`;
  const kDate = hmac(`AWS4${server.credentials.secretAccessKey}`, amzDate.slice(0, 8));
  const kSigning = hmac(hmac(hmac(kDate, server.region), 's3'), 'aws4_request');
  let prev = seed;
  const parts: Buffer[] = [];
  for (const chunk of [...chunks, Buffer.alloc(0)]) {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, sha256hex(''), sha256hex(chunk)].join('\n');
    prev = hmac(kSigning, sts).toString('hex');
    const data = Buffer.from(chunk);
    if (tamper && data.length > 0 && parts.length === 0) data[0] = (data[0] as number) ^ 1;
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${prev}\r\n`), data, Buffer.from('\r\n'));
  }
  const body = Buffer.concat(parts);
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method: 'PUT', headers: { ...h, 'content-length': String(body.length) } }, (res) => {
      let d = '';
      res.on('data', (x: Buffer) => (d += x.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: d }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('edge: SigV4 failures, S3 flavour', () => {
  let server: TestServer;
  let s3: S3Client;
  before(async () => {
    server = await startHanul();
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'chunked-bucket' }));
  });
  after(() => server.stop());

  it('a correctly signed request succeeds', async () => {
    const out = await s3.send(new ListBucketsCommand({}));
    assert.ok(out.Buckets?.some((b) => b.Name === 'chunked-bucket'));
  });

  it('a wrong secret → 403 SignatureDoesNotMatch', async () => {
    const bad = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'wrong' } });
    const e = await failure(bad.send(new ListBucketsCommand({})));
    assert.equal(e.name, 'SignatureDoesNotMatch');
    assert.equal(e.status, 403);
  });

  it('an unknown key → 403 InvalidAccessKeyId', async () => {
    const bad = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'x' } });
    const e = await failure(bad.send(new ListBucketsCommand({})));
    assert.equal(e.name, 'InvalidAccessKeyId');
    assert.equal(e.status, 403);
  });

  it('a stale date → 403 RequestTimeTooSkewed', async () => {
    const bad = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1, systemClockOffset: -20 * 60 * 1000 });
    const e = await failure(bad.send(new ListBucketsCommand({})));
    assert.equal(e.name, 'RequestTimeTooSkewed');
    assert.equal(e.status, 403);
  });

  it('a presigned URL works until it expires, then → 403 AccessDenied "Request has expired"', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'chunked-bucket', Key: 'presigned.txt', Body: 'hello' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'chunked-bucket', Key: 'presigned.txt' }), { expiresIn: 60 });
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'hello');
    server.clock.advance(61_000);
    const late = await fetch(url);
    assert.equal(late.status, 403);
    const body = await late.text();
    assert.match(body, /<Code>AccessDenied<\/Code>/);
    assert.match(body, /Request has expired/);
  });

  it('a presigned URL with X-Amz-Expires over 7 days is refused', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'chunked-bucket', Key: 'presigned.txt' }), { expiresIn: 60 });
    const r = await fetch(url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604801'));
    assert.ok(r.status === 400 || r.status === 403, `got ${r.status}`);
  });

  it('a streaming upload with valid chunk signatures stores exactly the decoded bytes', async () => {
    const chunks = [Buffer.alloc(70_000, 'a'), Buffer.alloc(1234, 'b')];
    const r = await chunkedPut(server, 'good', chunks, false);
    assert.equal(r.status, 200, r.body);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'chunked-bucket', Key: 'good' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.ok(bytes.equals(Buffer.concat(chunks)));
  });

  it('a tampered streaming chunk → 403 SignatureDoesNotMatch and nothing stored', async () => {
    const r = await chunkedPut(server, 'tampered', [Buffer.alloc(70_000, 'a'), Buffer.alloc(10, 'b')], true);
    assert.equal(r.status, 403, r.body);
    assert.match(r.body, /SignatureDoesNotMatch/);
    const e = await failure(s3.send(new GetObjectCommand({ Bucket: 'chunked-bucket', Key: 'tampered' })));
    assert.equal(e.name, 'NoSuchKey');
  });
});
