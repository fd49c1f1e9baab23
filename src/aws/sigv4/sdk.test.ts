/**
 * Requests exactly as the real SDK clients write them (captured by a request
 * handler instead of being sent), verified the way the pipeline will.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { SignedRequestView } from './index.js';
import { lookupOf, principal, verifyAll } from './harness.js';

interface Captured { view: SignedRequestView & { headers: Record<string, string> }; body: Buffer }

async function bytesOf(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const parts: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array | string>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

function capturing(responseBody: string, sink: Captured[]) {
  return {
    async handle(request: { method: string; path: string; query?: Record<string, string | string[] | null>; headers: Record<string, string>; body?: unknown }) {
      const parts: string[] = [];
      for (const [k, v] of Object.entries(request.query ?? {})) {
        for (const one of Array.isArray(v) ? v : [v]) parts.push(one === null ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(one)}`);
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = Buffer.from(v, 'utf8').toString('latin1');
      sink.push({ view: { method: request.method, rawPath: request.path, rawQuery: parts.join('&'), headers }, body: await bytesOf(request.body) });
      return { response: { statusCode: 200, headers: { 'content-type': 'application/json', etag: '"e"' }, body: Readable.from([Buffer.from(responseBody)]) } };
    },
  };
}

const credentials = { accessKeyId: 'AKIDSDK', secretAccessKey: 'sdk/secret+key' };
const lookup = lookupOf({ AKIDSDK: { secretAccessKey: credentials.secretAccessKey, principal } });

describe('real SDK requests', () => {
  it('S3 PutObject with a stream: aws-chunked with a checksum trailer', async (t) => {
    const sink: Captured[] = [];
    const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://localhost:4566', forcePathStyle: true, credentials, requestHandler: capturing('', sink) });
    const data = Buffer.alloc(200_000, 'abcdefghij');
    await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'dir/a b+c ü.txt', Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]), ContentLength: data.length }));
    const { view, body } = sink[0] as Captured;
    const res = await verifyAll(view, body, { lookup, now: new Date(), normalizePath: false }, 9, 5000);
    assert.equal(res.outcome, 'ok');
    assert.deepEqual(res.data, data);
    assert.match(res.result?.payload.mode ?? '', /^streaming-|^literal$|^unsigned$/);
    t.diagnostic(`S3 PutObject(stream) payload mode: ${res.result?.payload.mode ?? '?'}; trailers: ${JSON.stringify(res.trailers)}`);
    if (res.result?.payload.mode === 'streaming-unsigned-trailer') assert.ok(Object.keys(res.trailers ?? {}).some((k) => k.startsWith('x-amz-checksum-')));
    const tampered = Buffer.from(body);
    const at = tampered.indexOf('abcdefghij') + 3;
    tampered[at] = (tampered[at] as number) ^ 1;
    assert.notEqual((await verifyAll(view, tampered, { lookup, now: new Date(), normalizePath: false })).outcome, 'ok');
  });

  it('S3 PutObject with a string body, and a presigned GetObject URL', async () => {
    const sink: Captured[] = [];
    const s3 = new S3Client({ region: 'eu-central-1', endpoint: 'http://localhost:4566', forcePathStyle: true, credentials, requestHandler: capturing('', sink) });
    await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k%2F/~x', Body: 'hello world' }));
    const put = sink[0] as Captured;
    assert.equal((await verifyAll(put.view, put.body, { lookup, now: new Date(), normalizePath: false }, 3)).outcome, 'ok');

    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'bucket', Key: 'a b/ü+.bin' }), { expiresIn: 120 }));
    const view = { method: 'GET', rawPath: url.pathname, rawQuery: url.search.slice(1), headers: { host: url.host } };
    const res = await verifyAll(view, Buffer.alloc(0), { lookup, now: new Date(), normalizePath: false });
    assert.equal(res.outcome, 'ok');
    assert.equal(res.result?.form, 'presigned');
    assert.equal(res.result?.scope.region, 'eu-central-1');
    const later = new Date(Date.now() + 121_000);
    assert.equal((await verifyAll(view, Buffer.alloc(0), { lookup, now: later, normalizePath: false })).outcome, 'presign-expired');
  });

  it('KMS Encrypt (JSON protocol)', async () => {
    const sink: Captured[] = [];
    const kms = new KMSClient({ region: 'us-west-2', endpoint: 'http://localhost:4566', credentials, requestHandler: capturing('{"CiphertextBlob":"AAAA","KeyId":"k"}', sink) });
    await kms.send(new EncryptCommand({ KeyId: 'alias/k', Plaintext: Buffer.from('secret') }));
    const { view, body } = sink[0] as Captured;
    const res = await verifyAll(view, body, { lookup, now: new Date(), normalizePath: true }, 2);
    assert.equal(res.outcome, 'ok');
    assert.equal(res.result?.scope.service, 'kms');
    // The current SDK sends x-amz-content-sha256 for JSON services too, so the body is held to it.
    const forged = Buffer.from(body.toString().replace('alias/k', 'alias/j'));
    const expected = res.result?.payload.mode === 'deferred' ? 'bad-signature' : 'payload-hash-mismatch';
    assert.equal((await verifyAll(view, forged, { lookup, now: new Date(), normalizePath: true })).outcome, expected);
  });
});
