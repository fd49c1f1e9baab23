/**
 * SigV4 failures as each protocol family reports them. AWS words the same
 * failure differently per family (S3's SignatureDoesNotMatch is KMS's
 * InvalidSignatureException and IAM's SignatureDoesNotMatch with another
 * message); clients and tests match on these exact codes and statuses.
 */
import { AwsError } from '../errors.js';
import { asFailure, type SigV4Failure, type SigV4FailureKind } from './failure.js';

export type ErrorFamily = 's3' | 'json' | 'query';

type Render = (f: SigV4Failure) => AwsError;

const SIGNATURE_MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const S3_SIGNATURE_MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
const TOKEN_INVALID = 'The security token included in the request is invalid.';
const TOKEN_EXPIRED = 'The security token included in the request is expired';

const err = (code: string, status: number, message: string, fields: Record<string, string> = {}): AwsError =>
  new AwsError(code, status, message, fields);
const fixed = (code: string, status: number, message: string): Render => () => err(code, status, message);
const own = (code: string, status: number): Render => (f) => err(code, status, f.message);

/** "Signature expired: 20150830T123600Z is now earlier than 20150830T125100Z (20150830T130600Z - 15 min.)" */
function skewMessage(f: SigV4Failure): string {
  const request = f.details.RequestTime ?? '';
  const server = f.details.ServerTime ? new Date(f.details.ServerTime) : new Date();
  const skewMs = Number(f.details.MaxAllowedSkewMilliseconds ?? 900000);
  const basic = (d: Date): string => d.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const minutes = Math.round(skewMs / 60000);
  if (request > basic(server)) {
    return `Signature not yet current: ${request} is still later than ${basic(new Date(server.getTime() + skewMs))} (${basic(server)} + ${minutes} min.)`;
  }
  return `Signature expired: ${request} is now earlier than ${basic(new Date(server.getTime() - skewMs))} (${basic(server)} - ${minutes} min.)`;
}

const S3: Readonly<Record<SigV4FailureKind, Render>> = {
  'missing-auth': fixed('AccessDenied', 403, 'Access Denied'),
  'unsupported-algorithm': (f) => f.form === 'presigned'
    ? err('AuthorizationQueryParametersError', 400, f.message)
    : err('InvalidArgument', 400, 'Unsupported Authorization Type', { ArgumentName: 'Authorization' }),
  'multiple-auth': own('InvalidArgument', 400),
  malformed: (f) => f.form === 'presigned'
    ? err('AuthorizationQueryParametersError', 400, f.message)
    : err('AuthorizationHeaderMalformed', 400, `The authorization header is malformed; ${f.message}`),
  'missing-date': fixed('AccessDenied', 403, 'AWS authentication requires a valid Date or x-amz-date header'),
  'unknown-key': (f) => err('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.', pick(f, 'AWSAccessKeyId')),
  'bad-signature': (f) => err('SignatureDoesNotMatch', 403, S3_SIGNATURE_MISMATCH,
    pick(f, 'AWSAccessKeyId', 'StringToSign', 'SignatureProvided', 'CanonicalRequest')),
  skew: (f) => err('RequestTimeTooSkewed', 403, 'The difference between the request time and the current time is too large.',
    pick(f, 'RequestTime', 'ServerTime', 'MaxAllowedSkewMilliseconds')),
  'presign-expired': (f) => err('AccessDenied', 403, 'Request has expired', pick(f, 'X-Amz-Expires', 'Expires', 'ServerTime')),
  'presign-not-yet-valid': fixed('AccessDenied', 403, 'Request is not valid yet'),
  'presign-invalid': own('AuthorizationQueryParametersError', 400),
  'headers-not-signed': (f) => err('AccessDenied', 403, 'There were headers present in the request which were not signed', pick(f, 'HeadersNotSigned')),
  'missing-content-sha256': own('InvalidRequest', 400),
  'invalid-content-sha256': own('InvalidArgument', 400),
  // S3 cannot tell a missing token from a key it does not know.
  'token-missing': fixed('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.'),
  'token-invalid': fixed('InvalidToken', 400, 'The provided token is malformed or otherwise invalid.'),
  'token-expired': fixed('ExpiredToken', 400, 'The provided token has expired.'),
  'payload-hash-mismatch': (f) => err('XAmzContentSHA256Mismatch', 400, "The provided 'x-amz-content-sha256' header does not match what was computed.",
    pick(f, 'ClientComputedContentSHA256', 'S3ComputedContentSHA256')),
  'chunk-invalid': (f) => err('InvalidRequest', 400, `Invalid aws-chunked body: ${f.message}`),
  'chunk-signature': fixed('SignatureDoesNotMatch', 403, S3_SIGNATURE_MISMATCH),
  'body-truncated': fixed('IncompleteBody', 400, 'The request body terminated unexpectedly'),
  'trailer-invalid': (f) => f.message.startsWith('The value specified in the x-amz-trailer')
    ? err('InvalidRequest', 400, f.message)
    : err('MalformedTrailerError', 400, 'The request contained trailing data that was not well-formed or did not conform to our published schema.'),
  'checksum-mismatch': own('BadDigest', 400),
  'decoded-length-mismatch': fixed('IncompleteBody', 400, 'You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header'),
};

const JSON_FAMILY: Readonly<Record<SigV4FailureKind, Render>> = {
  'missing-auth': fixed('MissingAuthenticationTokenException', 400, 'Missing Authentication Token'),
  'unsupported-algorithm': own('IncompleteSignatureException', 400),
  'multiple-auth': own('IncompleteSignatureException', 400),
  malformed: own('IncompleteSignatureException', 400),
  'missing-date': own('IncompleteSignatureException', 400),
  'unknown-key': fixed('UnrecognizedClientException', 400, TOKEN_INVALID),
  'bad-signature': fixed('InvalidSignatureException', 400, SIGNATURE_MISMATCH),
  skew: (f) => err('InvalidSignatureException', 400, skewMessage(f)),
  'presign-expired': fixed('InvalidSignatureException', 400, 'Signature expired: the presigned request has expired.'),
  'presign-not-yet-valid': fixed('InvalidSignatureException', 400, 'Signature not yet current: the presigned request is not valid yet.'),
  'presign-invalid': own('IncompleteSignatureException', 400),
  'headers-not-signed': own('IncompleteSignatureException', 400),
  'missing-content-sha256': own('IncompleteSignatureException', 400),
  'invalid-content-sha256': own('IncompleteSignatureException', 400),
  'token-missing': fixed('UnrecognizedClientException', 400, TOKEN_INVALID),
  'token-invalid': fixed('UnrecognizedClientException', 400, TOKEN_INVALID),
  'token-expired': fixed('ExpiredTokenException', 400, TOKEN_EXPIRED),
  'payload-hash-mismatch': own('InvalidSignatureException', 400),
  'chunk-invalid': own('SerializationException', 400),
  'chunk-signature': fixed('InvalidSignatureException', 400, SIGNATURE_MISMATCH),
  'body-truncated': own('SerializationException', 400),
  'trailer-invalid': own('SerializationException', 400),
  'checksum-mismatch': own('InvalidSignatureException', 400),
  'decoded-length-mismatch': own('SerializationException', 400),
};

const QUERY_FAMILY: Readonly<Record<SigV4FailureKind, Render>> = {
  'missing-auth': fixed('MissingAuthenticationToken', 403, 'Request is missing Authentication Token'),
  'unsupported-algorithm': own('IncompleteSignature', 400),
  'multiple-auth': own('IncompleteSignature', 400),
  malformed: own('IncompleteSignature', 400),
  'missing-date': own('IncompleteSignature', 400),
  'unknown-key': fixed('InvalidClientTokenId', 403, TOKEN_INVALID),
  'bad-signature': fixed('SignatureDoesNotMatch', 403, SIGNATURE_MISMATCH),
  skew: (f) => err('RequestExpired', 400, skewMessage(f)),
  'presign-expired': fixed('RequestExpired', 400, 'Request has expired.'),
  'presign-not-yet-valid': fixed('RequestExpired', 400, 'Request is not valid yet.'),
  'presign-invalid': own('IncompleteSignature', 400),
  'headers-not-signed': own('IncompleteSignature', 400),
  'missing-content-sha256': own('IncompleteSignature', 400),
  'invalid-content-sha256': own('IncompleteSignature', 400),
  'token-missing': fixed('InvalidClientTokenId', 403, TOKEN_INVALID),
  'token-invalid': fixed('InvalidClientTokenId', 403, TOKEN_INVALID),
  'token-expired': fixed('ExpiredToken', 400, TOKEN_EXPIRED),
  'payload-hash-mismatch': fixed('SignatureDoesNotMatch', 403, SIGNATURE_MISMATCH),
  'chunk-invalid': own('MalformedInput', 400),
  'chunk-signature': fixed('SignatureDoesNotMatch', 403, SIGNATURE_MISMATCH),
  'body-truncated': own('MalformedInput', 400),
  'trailer-invalid': own('MalformedInput', 400),
  'checksum-mismatch': own('MalformedInput', 400),
  'decoded-length-mismatch': own('MalformedInput', 400),
};

const FAMILIES: Readonly<Record<ErrorFamily, Readonly<Record<SigV4FailureKind, Render>>>> = { s3: S3, json: JSON_FAMILY, query: QUERY_FAMILY };

function pick(f: SigV4Failure, ...names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = f.details[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/**
 * The AwsError a client of `family` expects for `failure`. An AwsError passes
 * through; anything else that is not a SigV4 failure (a credential store that
 * threw) is an internal error, with the original kept as `cause` for the log.
 */
export function sigv4Error(failure: unknown, family: ErrorFamily): AwsError {
  if (failure instanceof AwsError) return failure;
  const f = asFailure(failure);
  if (!f) {
    const e = err('InternalError', 500, 'We encountered an internal error. Please try again.');
    e.cause = failure;
    return e;
  }
  const e = FAMILIES[family][f.kind](f);
  e.cause = f;
  return e;
}
