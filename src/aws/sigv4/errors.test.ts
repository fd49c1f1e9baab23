import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../errors.js';
import { sigv4Error, type ErrorFamily } from './errors.js';
import { SigV4Failure, type SigV4FailureKind } from './failure.js';

const KINDS: SigV4FailureKind[] = [
  'missing-auth', 'unsupported-algorithm', 'multiple-auth', 'malformed', 'missing-date', 'unknown-key',
  'bad-signature', 'skew', 'presign-expired', 'presign-not-yet-valid', 'presign-invalid',
  'headers-not-signed', 'missing-content-sha256', 'invalid-content-sha256', 'token-missing',
  'token-invalid', 'token-expired', 'payload-hash-mismatch', 'chunk-invalid', 'chunk-signature',
  'body-truncated', 'trailer-invalid', 'checksum-mismatch', 'decoded-length-mismatch',
];

function code(kind: SigV4FailureKind, family: ErrorFamily, form?: 'header' | 'presigned', details: Record<string, string> = {}): [string, number, string] {
  const e = sigv4Error(new SigV4Failure(kind, `detail of ${kind}`, form, details), family);
  return [e.code, e.status, e.message];
}

describe('sigv4Error', () => {
  it('maps every kind in every family to a 4xx AwsError that keeps the failure as cause', () => {
    for (const family of ['s3', 'json', 'query'] as const) {
      for (const kind of KINDS) {
        const f = new SigV4Failure(kind, 'x');
        const e = sigv4Error(f, family);
        assert.ok(e instanceof AwsError);
        assert.ok(e.status >= 400 && e.status < 500, `${family} ${kind}`);
        assert.equal(e.cause, f);
      }
    }
  });

  it('speaks S3', () => {
    assert.deepEqual(code('bad-signature', 's3'), ['SignatureDoesNotMatch', 403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.']);
    assert.deepEqual(code('unknown-key', 's3'), ['InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.']);
    assert.deepEqual(code('skew', 's3'), ['RequestTimeTooSkewed', 403, 'The difference between the request time and the current time is too large.']);
    assert.deepEqual(code('presign-expired', 's3', 'presigned'), ['AccessDenied', 403, 'Request has expired']);
    assert.deepEqual(code('payload-hash-mismatch', 's3')[0], 'XAmzContentSHA256Mismatch');
    assert.deepEqual(code('chunk-signature', 's3').slice(0, 2), ['SignatureDoesNotMatch', 403]);
    assert.deepEqual(code('token-invalid', 's3').slice(0, 2), ['InvalidToken', 400]);
    assert.deepEqual(code('token-expired', 's3').slice(0, 2), ['ExpiredToken', 400]);
    assert.deepEqual(code('body-truncated', 's3').slice(0, 2), ['IncompleteBody', 400]);
    assert.deepEqual(code('malformed', 's3', 'header').slice(0, 2), ['AuthorizationHeaderMalformed', 400]);
    assert.deepEqual(code('malformed', 's3', 'presigned').slice(0, 2), ['AuthorizationQueryParametersError', 400]);
    assert.deepEqual(code('unsupported-algorithm', 's3', 'header'), ['InvalidArgument', 400, 'Unsupported Authorization Type']);
    assert.deepEqual(code('headers-not-signed', 's3').slice(0, 2), ['AccessDenied', 403]);
    const digest = sigv4Error(new SigV4Failure('checksum-mismatch', 'The CRC32 you specified did not match the calculated checksum.'), 's3');
    assert.deepEqual([digest.code, digest.status, digest.message], ['BadDigest', 400, 'The CRC32 you specified did not match the calculated checksum.']);
    const sig = sigv4Error(new SigV4Failure('bad-signature', 'x', 'header', { StringToSign: 'sts', CanonicalRequest: 'cr', SignatureProvided: 'ab' }), 's3');
    assert.equal(sig.fields.StringToSign, 'sts');
    assert.equal(sig.fields.CanonicalRequest, 'cr');
  });

  it('speaks JSON (KMS, Kinesis, …)', () => {
    assert.deepEqual(code('bad-signature', 'json').slice(0, 2), ['InvalidSignatureException', 400]);
    assert.match(code('bad-signature', 'json')[2], /^The request signature we calculated does not match the signature you provided\./);
    assert.deepEqual(code('unknown-key', 'json'), ['UnrecognizedClientException', 400, 'The security token included in the request is invalid.']);
    assert.deepEqual(code('missing-auth', 'json'), ['MissingAuthenticationTokenException', 400, 'Missing Authentication Token']);
    assert.deepEqual(code('malformed', 'json').slice(0, 2), ['IncompleteSignatureException', 400]);
    assert.deepEqual(code('token-expired', 'json'), ['ExpiredTokenException', 400, 'The security token included in the request is expired']);
    const past = code('skew', 'json', 'header', { RequestTime: '20150830T123600Z', ServerTime: '2015-08-30T13:21:00.000Z', MaxAllowedSkewMilliseconds: '300000' });
    assert.deepEqual(past, ['InvalidSignatureException', 400, 'Signature expired: 20150830T123600Z is now earlier than 20150830T131600Z (20150830T132100Z - 5 min.)']);
    const future = code('skew', 'json', 'header', { RequestTime: '20150830T140000Z', ServerTime: '2015-08-30T13:21:00.000Z', MaxAllowedSkewMilliseconds: '900000' });
    assert.equal(future[2], 'Signature not yet current: 20150830T140000Z is still later than 20150830T133600Z (20150830T132100Z + 15 min.)');
  });

  it('speaks Query (IAM, STS)', () => {
    assert.deepEqual(code('bad-signature', 'query').slice(0, 2), ['SignatureDoesNotMatch', 403]);
    assert.deepEqual(code('unknown-key', 'query'), ['InvalidClientTokenId', 403, 'The security token included in the request is invalid.']);
    assert.deepEqual(code('missing-auth', 'query').slice(0, 2), ['MissingAuthenticationToken', 403]);
    assert.deepEqual(code('malformed', 'query').slice(0, 2), ['IncompleteSignature', 400]);
    assert.deepEqual(code('token-expired', 'query').slice(0, 2), ['ExpiredToken', 400]);
    assert.deepEqual(code('skew', 'query').slice(0, 2), ['RequestExpired', 400]);
  });

  it('accepts the pipeline’s plain { kind } objects, passes AwsErrors through, hides other errors', () => {
    const plain = sigv4Error(Object.assign(new Error('Missing Authentication Token'), { kind: 'missing-auth' }), 'json');
    assert.equal(plain.code, 'MissingAuthenticationTokenException');
    const aws = new AwsError('Throttling', 400, 'slow down');
    assert.equal(sigv4Error(aws, 's3'), aws);
    const boom = new Error('database is down');
    const internal = sigv4Error(boom, 'json');
    assert.equal(internal.status, 500);
    assert.equal(internal.code, 'InternalError');
    assert.doesNotMatch(internal.message, /database/);
    assert.equal(internal.cause, boom);
    assert.equal(sigv4Error({ kind: 'no-such-kind' }, 's3').status, 500);
  });
});
