import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { AwsError } from '../errors.js';
import { authenticate, type SigV4Options } from './verify.js';
import { verifiedBody } from './payload.js';
import { SigV4Failure } from './failure.js';
import { drain, lookupOf, principal, smithySign, smithySigner, streamOf } from './harness.js';

const T0 = new Date('2024-05-01T12:00:00Z');
const opts = (over: Partial<SigV4Options> = {}): SigV4Options => ({
  lookup: lookupOf({ AKIDEXAMPLE: { secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', principal } }), now: T0, normalizePath: true, ...over,
});

async function deadline(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setImmediate(r));
  }
}

describe('verifiedBody', () => {
  it('errors a literal-mode S3 body with XAmzContentSHA256Mismatch, keeping the failure as cause', async () => {
    const view = await smithySign(smithySigner({ service: 's3', s3: true }), { method: 'PUT', path: '/b/k', body: 'abc' }, T0);
    const auth = await authenticate(view, opts({ normalizePath: false }));
    const out = await drain(verifiedBody(streamOf(Buffer.from('abd')), auth, view.headers).body);
    assert.ok(out.error instanceof AwsError);
    assert.equal(out.error.code, 'XAmzContentSHA256Mismatch');
    assert.equal(out.error.status, 400);
    assert.ok(out.error.cause instanceof SigV4Failure);
    assert.equal(out.failure?.kind, 'payload-hash-mismatch');
  });

  it('errors a deferred JSON body in the family authenticate chose, or the one given', async () => {
    const body = '{"a":1}';
    const view = await smithySign(smithySigner({ service: 'kms' }), { method: 'POST', path: '/', body, headers: { 'content-length': '7' } }, T0);
    const auth = await authenticate(view, opts());
    const json = await drain(verifiedBody(streamOf(Buffer.from('{"a":2}')), auth, view.headers).body);
    assert.equal((json.error as AwsError).code, 'InvalidSignatureException');
    const query = await drain(verifiedBody(streamOf(Buffer.from('{"a":2}')), auth, view.headers, 'query').body);
    assert.equal((query.error as AwsError).code, 'SignatureDoesNotMatch');
    const good = await drain(verifiedBody(streamOf(Buffer.from(body), 5, 2), auth, view.headers).body);
    assert.equal(good.error, undefined);
    assert.equal(good.data.toString(), body);
  });

  it('defers HTTP/2 requests without content-length instead of assuming an empty body', async () => {
    const body = '{"b":true}';
    const signed = await smithySign(smithySigner({ service: 'kms' }), { method: 'POST', path: '/', body }, T0);
    const view = { ...signed, headers: { ...signed.headers, ':method': 'POST', ':authority': 'example.amazonaws.com' } };
    const auth = await authenticate(view, opts());
    assert.equal(auth?.payload.mode, 'deferred');
    assert.equal((await drain(verifiedBody(streamOf(Buffer.from(body)), auth, view.headers).body)).error, undefined);
  });

  it('holds a request signed as bodiless to an empty body', async () => {
    const view = await smithySign(smithySigner({ service: 'kms' }), { method: 'GET', path: '/' }, T0);
    const auth = await authenticate(view, opts());
    assert.equal(auth?.payload.mode, 'literal');
    assert.equal((await drain(verifiedBody(streamOf(Buffer.alloc(0)), auth, view.headers).body)).error, undefined);
    const smuggled = await drain(verifiedBody(streamOf(Buffer.from('extra')), auth, view.headers).body);
    assert.equal(smuggled.failure?.kind, 'payload-hash-mismatch');
  });

  it('passes unsigned payloads through untouched', async () => {
    const view = await smithySign(smithySigner({ service: 's3', s3: true }), { method: 'PUT', path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, T0);
    const auth = await authenticate(view, opts({ normalizePath: false }));
    const raw = streamOf(Buffer.from('x'));
    const vb = verifiedBody(raw, auth, view.headers);
    assert.equal(vb.body, raw);
    assert.deepEqual(vb.trailers(), {});
    const anonymous = streamOf(Buffer.from('y'));
    assert.equal(verifiedBody(anonymous, undefined, {}).body, anonymous);
  });

  it('never crashes the process when a failing body is not read, and reports it to a late reader', async () => {
    const headers = { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' };
    const raw = Readable.from([Buffer.from('zz\r\nnot chunked')]);
    const vb = verifiedBody(raw, undefined, headers);
    await deadline(() => vb.body.destroyed);
    const out = await drain(vb.body);
    assert.equal(out.failure?.kind, 'chunk-invalid');
    const bad = verifiedBody(Readable.from([]), undefined, { ...headers, 'x-amz-decoded-content-length': 'ten' });
    assert.equal((await drain(bad.body)).failure?.kind, 'chunk-invalid');
  });
});
