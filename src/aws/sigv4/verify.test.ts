/**
 * authenticate() against requests signed by @smithy/signature-v4 (the signer of
 * the JS SDK), as an independent implementation.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { CredentialRecord } from './index.js';
import { authenticate, authenticateNow, credentialScope, type SigV4Options } from './verify.js';
import { SigningKeyCache } from './keys.js';
import { asFailure } from './failure.js';
import { lookupOf, principal, signingKey, smithyPresign, smithySign, smithySigner, verifyAll, type SmithyInput } from './harness.js';

const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const T0 = new Date('2024-05-01T12:00:00Z');
const minutes = (n: number): Date => new Date(T0.getTime() + n * 60000);

function opts(over: Partial<SigV4Options> & { records?: Record<string, CredentialRecord> } = {}): SigV4Options {
  const { records, ...rest } = over;
  return { lookup: lookupOf(records ?? { [AKID]: { secretAccessKey: SECRET, principal } }), now: T0, normalizePath: true, ...rest };
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    return (await p) === undefined ? 'anonymous' : 'ok';
  } catch (e) {
    const f = asFailure(e);
    if (!f) throw e;
    return f.kind;
  }
}

describe('header-signed requests (smithy signer)', () => {
  const kms = smithySigner({ service: 'kms' });

  it('authenticateNow answers without a promise when the lookup does, and still checks the signature in full', async () => {
    const view = await smithySign(kms, { method: 'GET', path: '/', query: { a: '1' } }, T0);
    const record: CredentialRecord = { secretAccessKey: SECRET, principal };
    const now = authenticateNow(view, { lookup: () => record, now: T0, normalizePath: true });
    assert.ok(now !== undefined && !(now instanceof Promise));
    assert.equal(now.credential, record);
    assert.equal(now.signatureVerified, true);
    // An async lookup: a promise, resolving to the same result.
    const later = authenticateNow(view, { lookup: () => Promise.resolve(record), now: T0, normalizePath: true });
    assert.ok(later instanceof Promise);
    assert.equal((await later)?.credential, record);
    // A wrong secret from a synchronous lookup throws at once; authenticate() still rejects.
    const wrong = { lookup: () => ({ secretAccessKey: `${SECRET}x`, principal }), now: T0, normalizePath: true };
    assert.throws(() => authenticateNow(view, wrong), (e) => asFailure(e)?.kind === 'bad-signature');
    assert.equal(await outcome(authenticate(view, wrong)), 'bad-signature');
    assert.equal(await outcome(authenticate(view, { ...wrong, lookup: () => undefined })), 'unknown-key');
  });

  it('compares the signature as hex text: either case passes, any changed or non-hex digit fails', async () => {
    const view = await smithySign(kms, { method: 'GET', path: '/', query: { a: '1' } }, T0);
    const authz = view.headers['authorization'] as string;
    const sig = /Signature=([0-9a-f]{64})/.exec(authz)?.[1] as string;
    const withSig = (s: string) => ({ ...view, headers: { ...view.headers, authorization: authz.replace(sig, s) } });
    assert.equal(await outcome(authenticate(withSig(sig.toUpperCase()), opts())), 'ok');
    for (const at of [0, 31, 63]) {
      const c = sig[at] as string;
      const flipped = sig.slice(0, at) + (c === '0' ? '1' : '0') + sig.slice(at + 1);
      assert.equal(await outcome(authenticate(withSig(flipped), opts())), 'bad-signature', `digit ${at}`);
    }
    // Letters that are hex only after `| 0x20` would be (g, G, and '\x10' + 0x20 = '0') are not accepted as hex at all.
    for (const bad of ['g', 'G', '\x10', ' ']) assert.equal(await outcome(authenticate(withSig(bad + sig.slice(1)), opts())), 'malformed', JSON.stringify(bad));
    assert.equal(await outcome(authenticate(withSig(sig.slice(1)), opts())), 'malformed');
  });

  it('verifies a GET with a repeated query key and reports what was signed', async () => {
    const view = await smithySign(kms, { method: 'GET', path: '/', query: { b: ['y', 'x'], a: '1', 'sp ace': 'v/=&' } }, T0);
    const res = await authenticate(view, opts());
    assert.ok(res);
    assert.equal(res.form, 'header');
    assert.deepEqual(res.scope, { accessKeyId: AKID, date: '20240501', region: 'us-east-1', service: 'kms' });
    assert.equal(res.signedAt.toISOString(), T0.toISOString());
    assert.ok(res.signedHeaders.includes('host'));
    assert.equal(res.credential.principal, principal);
    assert.deepEqual(res.payload, { mode: 'literal', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
    assert.equal(res.signatureVerified, true);
    assert.equal(res.family, 'json');
  });

  it('defers a JSON POST whose body hash is signed but not sent, and checks it at the end', async () => {
    const body = '{"KeyId":"alias/x","Plaintext":"aGk="}';
    const input: SmithyInput = {
      method: 'POST', path: '/', body,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Encrypt', 'content-length': String(body.length) },
    };
    const view = await smithySign(kms, input, T0);
    assert.equal(view.headers['x-amz-content-sha256'], undefined);
    const res = await authenticate(view, opts());
    assert.equal(res?.payload.mode, 'deferred');
    assert.equal(res?.signatureVerified, false);
    assert.equal((await verifyAll(view, Buffer.from(body), opts(), 7)).outcome, 'ok');
    assert.equal((await verifyAll(view, Buffer.from(body.replace('x', 'y')), opts(), 7)).outcome, 'bad-signature');
  });

  it('fails a wrong secret, an unknown key, a changed header, and skew beyond 15 minutes', async () => {
    const view = await smithySign(kms, { method: 'GET', path: '/', headers: { 'x-amz-target': 'A.B' } }, T0);
    assert.equal(await outcome(authenticate(view, opts({ records: { [AKID]: { secretAccessKey: `${SECRET}x`, principal } } }))), 'bad-signature');
    assert.equal(await outcome(authenticate(view, opts({ records: {} }))), 'unknown-key');
    assert.equal(await outcome(authenticate({ ...view, headers: { ...view.headers, 'x-amz-target': 'A.C' } }, opts())), 'bad-signature');
    assert.equal(await outcome(authenticate(view, opts({ now: minutes(14) }))), 'ok');
    assert.equal(await outcome(authenticate(view, opts({ now: minutes(-14) }))), 'ok');
    assert.equal(await outcome(authenticate(view, opts({ now: minutes(16) }))), 'skew');
    assert.equal(await outcome(authenticate(view, opts({ now: minutes(-16) }))), 'skew');
    assert.equal(await outcome(authenticate(view, opts({ now: minutes(16), skewMs: 20 * 60000 }))), 'ok');
  });

  it('rejects malformed authorization', async () => {
    const view = await smithySign(kms, { method: 'GET', path: '/' }, T0);
    const authz = view.headers.authorization as string;
    const withAuth = (a: string) => ({ ...view, headers: { ...view.headers, authorization: a } });
    assert.equal(await outcome(authenticate(withAuth(authz.replace(/, Signature=.*/, '')), opts())), 'malformed');
    assert.equal(await outcome(authenticate(withAuth(authz.replace('/aws4_request', '/aws5_request')), opts())), 'malformed');
    assert.equal(await outcome(authenticate(withAuth(authz.replace('SignedHeaders=host;', 'SignedHeaders=')), opts())), 'malformed');
    assert.equal(await outcome(authenticate(withAuth(authz.replace(/Signature=\w+/, 'Signature=abc')), opts())), 'malformed');
    assert.equal(await outcome(authenticate(withAuth(authz.replace('20240501/', '20240502/')), opts())), 'malformed');
    assert.equal(await outcome(authenticate(withAuth('AWS AKIDEXAMPLE:c2lnbmF0dXJl'), opts())), 'unsupported-algorithm');
    assert.equal(await outcome(authenticate(withAuth(authz.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256')), opts())), 'unsupported-algorithm');
    const { ['x-amz-date']: _, ...noDate } = view.headers;
    assert.equal(await outcome(authenticate({ ...view, headers: noDate }, opts())), 'missing-date');
    assert.equal(await outcome(authenticate({ ...view, headers: { ...view.headers, 'x-amz-date': '20240501T120000' } }, opts())), 'missing-date');
  });

  it('accepts the Date header when x-amz-date is absent', async () => {
    // smithy always writes x-amz-date, so this request is signed by hand, per the AWS docs.
    const date = 'Wed, 01 May 2024 12:00:00 GMT';
    const canonical = `GET\n/\n\ndate:${date}\nhost:example.amazonaws.com\n\ndate;host\n${createHash('sha256').update('').digest('hex')}`;
    const scope = '20240501/us-east-1/kms/aws4_request';
    const toSign = `AWS4-HMAC-SHA256\n20240501T120000Z\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const sig = createHmac('sha256', signingKey(SECRET, '20240501', 'us-east-1', 'kms')).update(toSign).digest('hex');
    const headers = { host: 'example.amazonaws.com', date, authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/${scope}, SignedHeaders=date;host, Signature=${sig}` };
    const view = { method: 'GET', rawPath: '/', rawQuery: '', headers };
    assert.equal(await outcome(authenticate(view, opts())), 'ok');
    assert.equal(await outcome(authenticate(view, opts({ now: minutes(20) }))), 'skew');
    assert.equal(await outcome(authenticate({ ...view, headers: { ...headers, date: 'yesterday' } }, opts())), 'missing-date');
  });

  it('says undefined for anonymous requests, and refuses two auth mechanisms', async () => {
    assert.equal(await authenticate({ method: 'GET', rawPath: '/', rawQuery: 'a=1', headers: { host: 'h' } }, opts()), undefined);
    const header = await smithySign(kms, { method: 'GET', path: '/' }, T0);
    const query = await smithyPresign(kms, { method: 'GET', path: '/' }, T0, 60);
    assert.equal(await outcome(authenticate({ ...query, headers: header.headers }, opts())), 'multiple-auth');
  });

  it('checks session tokens: missing, wrong, right, expired, and unexpected', async () => {
    const token = 'FwoGZXIvYXdzEJr//////////wEaDOkEXAMPLE+token=';
    const temp = (over: Partial<CredentialRecord> = {}): Record<string, CredentialRecord> => ({ [AKID]: { secretAccessKey: SECRET, principal, sessionToken: token, ...over } });
    const withToken = await smithySign(smithySigner({ service: 'kms', token }), { method: 'GET', path: '/' }, T0);
    const without = await smithySign(kms, { method: 'GET', path: '/' }, T0);
    assert.equal(await outcome(authenticate(withToken, opts({ records: temp() }))), 'ok');
    assert.equal(await outcome(authenticate(without, opts({ records: temp() }))), 'token-missing');
    assert.equal(await outcome(authenticate(withToken, opts({ records: temp({ sessionToken: `${token}x` }) }))), 'token-invalid');
    assert.equal(await outcome(authenticate(withToken, opts({ records: temp({ expiresAt: minutes(1) }) }))), 'ok');
    assert.equal(await outcome(authenticate(withToken, opts({ records: temp({ expiresAt: minutes(0) }) }))), 'token-expired');
    assert.equal(await outcome(authenticate(withToken, opts()), ), 'token-invalid');
    const presigned = await smithyPresign(smithySigner({ service: 'kms', token }), { method: 'GET', path: '/' }, T0, 300);
    assert.match(presigned.rawQuery, /X-Amz-Security-Token=/);
    assert.equal(await outcome(authenticate(presigned, opts({ records: temp() }))), 'ok');
    assert.equal(await outcome(authenticate(presigned, opts({ records: temp({ sessionToken: 'other' }) }))), 'token-invalid');
  });

  it('S3 Express sessions: the token travels in x-amz-s3session-token, signed, never in x-amz-security-token', async () => {
    const token = 'express-session-token';
    const express = smithySigner({ service: 's3express' });
    const session = (over: Partial<CredentialRecord> = {}): Record<string, CredentialRecord> => ({
      [AKID]: { secretAccessKey: SECRET, principal, sessionToken: token, tokenIn: { header: 'x-amz-s3session-token', query: 'X-Amz-S3session-Token', services: ['s3express'] }, ...over },
    });
    const withHeader = await smithySign(express, { method: 'GET', path: '/k', headers: { 'x-amz-s3session-token': token } }, T0);
    assert.match(withHeader.headers['authorization'] ?? '', /x-amz-s3session-token/);
    assert.equal(await outcome(authenticate(withHeader, opts({ records: session() }))), 'ok');
    assert.equal(await outcome(authenticate(withHeader, opts({ records: session({ sessionToken: `${token}x` }) }))), 'token-invalid');
    assert.equal(await outcome(authenticate(withHeader, opts({ records: session({ expiresAt: minutes(0) }) }))), 'token-expired');
    // The same token in x-amz-security-token is not where a session's token goes.
    const asSecurityToken = await smithySign(smithySigner({ service: 's3express', token }), { method: 'GET', path: '/k' }, T0);
    assert.equal(await outcome(authenticate(asSecurityToken, opts({ records: session() }))), 'token-missing');
    // A plain credential does not accept an s3session token header as its own token (none expected: the header is just signed).
    assert.equal(await outcome(authenticate(withHeader, opts())), 'ok');
    // The credential signs for its services only.
    const forKms = await smithySign(smithySigner({ service: 'kms' }), { method: 'GET', path: '/k', headers: { 'x-amz-s3session-token': token } }, T0);
    assert.equal(await outcome(authenticate(forKms, opts({ records: session() }))), 'token-invalid');
    // Changing the token after signing breaks the signature even when the new one is right for the key.
    const swapped = { ...withHeader, headers: { ...withHeader.headers, 'x-amz-s3session-token': 'other' } };
    assert.equal(await outcome(authenticate(swapped, opts({ records: session({ sessionToken: 'other' }) }))), 'bad-signature');
  });

  it('normalizes non-S3 paths and encodes them twice', async () => {
    for (const path of ['/a/./b/../c//d', '/x%20y/z', '/%E2%82%AC/', '/../up', '/a+b/(c)']) {
      const view = await smithySign(kms, { method: 'GET', path }, T0);
      assert.equal(await outcome(authenticate(view, opts())), 'ok', path);
      assert.equal(await outcome(authenticate(view, opts({ normalizePath: false, s3Rules: false }))), path.match(/\/\.|\/\/|%/) ? 'bad-signature' : 'ok', path);
    }
    const view = await smithySign(kms, { method: 'GET', path: '/a/b/../c' }, T0);
    assert.equal(await outcome(authenticate({ ...view, rawPath: '/a/c' }, opts())), 'ok');
    assert.equal(await outcome(authenticate({ ...view, rawPath: '/a/b/c' }, opts())), 'bad-signature');
  });

  it('caches derived keys in a bounded LRU', async () => {
    const cache = new SigningKeyCache(2);
    const view = await smithySign(kms, { method: 'GET', path: '/' }, T0);
    for (let i = 0; i < 3; i++) assert.equal(await outcome(authenticate(view, opts({ keyCache: cache }))), 'ok');
    assert.equal(cache.size, 1);
    cache.get('s1', '20240501', 'r', 's');
    cache.get('s2', '20240501', 'r', 's');
    assert.equal(cache.size, 2);
    assert.equal(await outcome(authenticate(view, opts({ keyCache: cache }))), 'ok');
  });
});

describe('presigned requests (smithy signer)', () => {
  const kms = smithySigner({ service: 'kms' });

  it('verifies until X-Amz-Expires, then reports expiry', async () => {
    const view = await smithyPresign(kms, { method: 'GET', path: '/', query: { Action: 'List' } }, T0, 600);
    const res = await authenticate(view, opts({ now: minutes(5) }));
    assert.equal(res?.form, 'presigned');
    assert.equal(res?.expiresAt?.toISOString(), minutes(10).toISOString());
    // Presigned URLs use expiry, not the 15-minute skew.
    assert.equal(await outcome(authenticate(view, opts({ now: minutes(10) }))), 'ok');
    const expired = authenticate(view, opts({ now: new Date(minutes(10).getTime() + 1000) }));
    await assert.rejects(expired, (e: Error & { kind?: string }) => e.kind === 'presign-expired' && e.message === 'Request has expired');
    assert.equal(await outcome(authenticate(view, opts({ now: minutes(-16) }))), 'presign-not-yet-valid');
  });

  it('refuses X-Amz-Expires outside 1..604800 and a tampered value', async () => {
    const view = await smithyPresign(kms, { method: 'GET', path: '/' }, T0, 604800);
    assert.equal(await outcome(authenticate(view, opts())), 'ok');
    const set = (v: string) => ({ ...view, rawQuery: view.rawQuery.replace(/X-Amz-Expires=\d+/, `X-Amz-Expires=${v}`) });
    assert.equal(await outcome(authenticate(set('604801'), opts())), 'presign-invalid');
    assert.equal(await outcome(authenticate(set('0'), opts())), 'presign-invalid');
    assert.equal(await outcome(authenticate(set('-5'), opts())), 'presign-invalid');
    assert.equal(await outcome(authenticate(set('abc'), opts())), 'presign-invalid');
    assert.equal(await outcome(authenticate(set('604799'), opts())), 'bad-signature');
    assert.equal(await outcome(authenticate(set('60'), opts({ maxPresignExpires: 30 }))), 'presign-invalid');
  });

  it('needs every auth parameter and the signature excluded from the canonical query', async () => {
    const view = await smithyPresign(kms, { method: 'GET', path: '/', query: { z: '1' } }, T0, 60);
    const drop = (name: string) => ({ ...view, rawQuery: view.rawQuery.split('&').filter((p) => !p.startsWith(`${name}=`)).join('&') });
    for (const p of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Expires']) {
      assert.equal(await outcome(authenticate(drop(p), opts())), 'malformed', p);
    }
    assert.equal(await outcome(authenticate({ ...view, rawQuery: view.rawQuery.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256') }, opts())), 'unsupported-algorithm');
    assert.equal(await outcome(authenticate({ ...view, rawQuery: `${view.rawQuery}&extra=1` }, opts())), 'bad-signature');
    // Order and escape spelling do not matter: the canonical query is sorted and re-encoded.
    const shuffled = view.rawQuery.split('&').reverse().join('&').replace('%2F', '%2f');
    assert.equal(await outcome(authenticate({ ...view, rawQuery: shuffled }, opts())), 'ok');
  });
});

describe('S3 rules (normalizePath false)', () => {
  const s3 = smithySigner({ service: 's3', s3: true });
  const s3opts = (over: Partial<SigV4Options> = {}) => opts({ normalizePath: false, ...over });

  it('signs paths as sent: spaces, unicode, +, %2F, //, ../', async () => {
    const paths = ['/bucket/my%20key', '/bucket/%ED%95%9C%EA%B8%80.txt', '/bucket/a%2Bb', '/bucket/a+b', '/bucket/a%2Fb',
      '/bucket//double//', '/bucket/a/../b', '/bucket/./x', '/bucket/~t%7Eilde', '/bucket/q%3F%23'];
    for (const path of paths) {
      const view = await smithySign(s3, { method: 'PUT', path, body: 'hello' }, T0);
      const res = await verifyAll(view, Buffer.from('hello'), s3opts(), 3);
      assert.equal(res.outcome, 'ok', path);
      assert.equal(res.result?.family, 's3');
    }
    const lookalikes: Array<[string, string]> = [['/bucket/a/../b', '/bucket/b'], ['/bucket/a%2Fb', '/bucket/a/b'], ['/bucket//x', '/bucket/x'], ['/bucket/a%2Bb', '/bucket/a%20b']];
    for (const [signedPath, sentPath] of lookalikes) {
      const view = await smithySign(s3, { method: 'GET', path: signedPath }, T0);
      assert.equal(await outcome(authenticate({ ...view, rawPath: sentPath }, s3opts())), 'bad-signature', `${signedPath} sent as ${sentPath}`);
    }
  });

  it('requires x-amz-content-sha256 and signed x-amz-* headers', async () => {
    const view = await smithySign(s3, { method: 'PUT', path: '/b/k', body: 'x', headers: { 'x-amz-meta-a': 'ü' } }, T0);
    assert.equal((await verifyAll(view, Buffer.from('x'), s3opts())).outcome, 'ok');
    assert.equal(await outcome(authenticate({ ...view, headers: { ...view.headers, 'x-amz-acl': 'public-read' } }, s3opts())), 'headers-not-signed');
    const plain = await smithySign(smithySigner({ service: 's3' }), { method: 'GET', path: '/b/k' }, T0);
    assert.equal(await outcome(authenticate(plain, s3opts())), 'missing-content-sha256');
    const weird = await smithySign(s3, { method: 'GET', path: '/b/k', headers: { 'x-amz-content-sha256': 'NOPE' } }, T0);
    assert.equal(await outcome(authenticate(weird, s3opts())), 'invalid-content-sha256');
  });

  it('checks the body against x-amz-content-sha256', async () => {
    const view = await smithySign(s3, { method: 'PUT', path: '/b/k', body: 'payload' }, T0);
    assert.equal((await verifyAll(view, Buffer.from('payload'), s3opts(), 5)).outcome, 'ok');
    assert.equal((await verifyAll(view, Buffer.from('paYload'), s3opts(), 5)).outcome, 'payload-hash-mismatch');
    const unsigned = await smithySign(s3, { method: 'PUT', path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, T0);
    const res = await verifyAll(unsigned, Buffer.from('anything'), s3opts(), 5);
    assert.equal(res.outcome, 'ok');
    assert.equal(res.result?.payload.mode, 'unsigned');
  });

  it('treats S3 presigned payloads as UNSIGNED-PAYLOAD', async () => {
    const view = await smithyPresign(s3, { method: 'PUT', path: '/bucket/some%20key', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, T0, 900);
    assert.match(view.rawQuery, /x-amz-content-sha256=UNSIGNED-PAYLOAD/i);
    const res = await verifyAll(view, Buffer.from('body bytes'), s3opts());
    assert.equal(res.outcome, 'ok');
    assert.equal(res.result?.payload.mode, 'unsigned');
  });
});

describe('credentialScope', () => {
  it('reads the scope from the header or the presigned query, cheaply and without throwing', async () => {
    const kms = smithySigner({ service: 'kms', region: 'eu-west-2' });
    const expected = { accessKeyId: AKID, date: '20240501', region: 'eu-west-2', service: 'kms' };
    assert.deepEqual(credentialScope(await smithySign(kms, { method: 'GET', path: '/' }, T0)), expected);
    assert.deepEqual(credentialScope(await smithyPresign(kms, { method: 'GET', path: '/' }, T0, 60)), expected);
    const bare = { method: 'GET', rawPath: '/', rawQuery: '', headers: {} };
    assert.equal(credentialScope(bare), undefined);
    assert.equal(credentialScope({ ...bare, headers: { authorization: 'AWS4-HMAC-SHA256 Credential=A/B/C' } }), undefined);
    assert.equal(credentialScope({ ...bare, headers: { authorization: 'Bearer x' } }), undefined);
    assert.equal(credentialScope({ ...bare, rawQuery: 'X-Amz-Credential=%E0%A4%A' }), undefined);
    assert.equal(credentialScope({ ...bare, rawQuery: 'aX-Amz-Credential=A%2F20240501%2Fr%2Fs%2Faws4_request' }), undefined);
    // Routing must see the scope that authenticate verifies, whatever decoys the header or query carry.
    const real = 'AKID/20240501/us-east-1/s3/aws4_request';
    const decoy = 'AWS4-HMAC-SHA256 X=Credential=EVIL/20240501/us-east-1/iam/aws4_request, Credential=' + real + ', SignedHeaders=host, Signature=00';
    assert.equal(credentialScope({ ...bare, headers: { authorization: decoy } })?.service, 's3');
    assert.equal(credentialScope({ ...bare, headers: { authorization: `AWS4-HMAC-SHA256 Credential=${real}, Credential=${real}` } }), undefined);
    assert.equal(credentialScope({ ...bare, rawQuery: `X-Amz-Cr%65dential=${encodeURIComponent(real)}` })?.service, 's3');
    assert.equal(credentialScope({ ...bare, rawQuery: `X-Amz-Credential=${encodeURIComponent(real)}&X-Amz-Cr%65dential=x` }), undefined);
  });
});
