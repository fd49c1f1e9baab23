/**
 * SigV4 request verification: Authorization header and presigned query.
 * Everything is computed from the request as sent (see canonical.ts); the only
 * inputs trusted are the secret from `lookup` and the server clock.
 */
import type { CredentialLookup, CredentialRecord, CredentialScope, SignedRequestView } from './index.js';
import type { ErrorFamily } from './errors.js';
import { byteString, canonicalHeaders, canonicalPath, canonicalQuery, headerString, parseQuery, type HeaderBag, type QueryParam } from './canonical.js';
import { authorizationFields, checkTime, claimFromHeader, claimFromQuery, parseCredential, queryParam, type Claim } from './claim.js';
import { SigV4Failure, type AuthForm } from './failure.js';
import { EMPTY_SHA256, defaultKeyCache, sameSecret, Signer, type SigningKeyCache } from './keys.js';

export { SigV4Failure } from './failure.js';
export type { AuthForm, SigV4FailureKind } from './failure.js';

export interface SigV4Options {
  lookup: CredentialLookup;
  now: Date;
  /** False for S3: the path is signed as sent. Others: normalized, then encoded once more. */
  normalizePath: boolean;
  /** Longest X-Amz-Expires accepted, seconds (604800 = 7 days). */
  maxPresignExpires?: number;
  /** Largest accepted distance between x-amz-date and `now` (15 minutes). */
  skewMs?: number;
  /**
   * S3's stricter rules: header auth must carry x-amz-content-sha256, every
   * x-amz-* header must be signed, presigned payloads are UNSIGNED-PAYLOAD.
   * Defaults to `!normalizePath` (only S3 signs unnormalized paths).
   */
  s3Rules?: boolean;
  /** How body failures found later are rendered; defaults to 's3' for S3 rules, else 'json'. */
  family?: ErrorFamily;
  /** Where derived signing keys are memoised (a shared bounded LRU by default). */
  keyCache?: SigningKeyCache;
}

/**
 * How the body relates to the signature; `verifiedBody` enforces it.
 * - literal: the signed x-amz-content-sha256 (or the empty hash) must match the body.
 * - deferred: the signature itself covers the body hash (non-S3 SDKs do not send the
 *   header), so the signature is only checked when the body has ended.
 * - streaming-*: aws-chunked bodies; signed ones chain chunk signatures from the seed.
 */
export type PayloadMode =
  | { readonly mode: 'unsigned' }
  | { readonly mode: 'literal'; readonly sha256: string }
  | { readonly mode: 'deferred'; readonly verify: (bodySha256: string) => void }
  | { readonly mode: 'streaming-signed' | 'streaming-signed-trailer'; readonly signer: Signer; readonly seedSignature: string }
  | { readonly mode: 'streaming-unsigned-trailer' };

export interface SigV4Result {
  form: AuthForm;
  scope: CredentialScope;
  credential: CredentialRecord;
  signedAt: Date;
  signedHeaders: readonly string[];
  payload: PayloadMode;
  /** False only in 'deferred' mode: then the body stream errors if the signature is wrong. */
  signatureVerified: boolean;
  /** Presigned requests: the instant the URL stops working. */
  expiresAt?: Date;
  /** Error family for failures found while reading the body. */
  family: ErrorFamily;
}

const MAX_PRESIGN = 604800;
const SKEW_MS = 15 * 60 * 1000;
const HEX64 = /^[0-9a-fA-F]{64}$/;
const STREAMING: Readonly<Record<string, 'streaming-signed' | 'streaming-signed-trailer' | 'streaming-unsigned-trailer'>> = {
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD': 'streaming-signed',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER': 'streaming-signed-trailer',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER': 'streaming-unsigned-trailer',
};
const SKIP_SIGNATURE: ReadonlySet<string> = new Set(['X-Amz-Signature']);
const SKIP_SIGNATURE_AND_TOKEN: ReadonlySet<string> = new Set(['X-Amz-Signature', 'X-Amz-Security-Token']);

/**
 * The credential scope a request claims, for routing: parsed exactly as
 * `authenticate` parses it (so routing and verification agree), nothing
 * verified. Undefined when absent or unparseable; never throws.
 */
export function credentialScope(req: SignedRequestView): CredentialScope | undefined {
  try {
    const authz = headerString(req.headers, 'authorization');
    if (authz !== undefined) {
      const credential = authorizationFields(authz).get('Credential');
      return credential === undefined ? undefined : parseCredential(credential);
    }
    if (!req.rawQuery.includes('X-Amz-') && !req.rawQuery.includes('%')) return undefined;
    const credential = queryParam(parseQuery(req.rawQuery), 'X-Amz-Credential');
    return credential === undefined ? undefined : parseCredential(credential);
  } catch {
    return undefined;
  }
}

/**
 * Verifies the request's SigV4 authentication. `undefined`: the request
 * carries none (anonymous; the caller decides). Rejects with SigV4Failure.
 */
export async function authenticate(req: SignedRequestView, opts: SigV4Options): Promise<SigV4Result | undefined> {
  return authenticateNow(req, opts);
}

/**
 * `authenticate` for the request path: answers at once (no promise, no
 * microtask turn) when the credential lookup does, and throws SigV4Failure
 * synchronously for what is wrong before the lookup. The signature is
 * verified in full either way.
 */
export function authenticateNow(req: SignedRequestView, opts: SigV4Options): SigV4Result | undefined | Promise<SigV4Result | undefined> {
  const headers = req.headers;
  const authz = headerString(headers, 'authorization');
  const params = parseQuery(req.rawQuery);
  const presigned = params.some((p) => p.key === 'X-Amz-Algorithm' || p.key === 'X-Amz-Credential' || p.key === 'X-Amz-Signature');
  if (authz === undefined && !presigned) return undefined;
  if (authz !== undefined && presigned) {
    throw new SigV4Failure('multiple-auth', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified');
  }
  const s3 = opts.s3Rules ?? !opts.normalizePath;
  const skewMs = opts.skewMs ?? SKEW_MS;
  const claim = authz !== undefined ? claimFromHeader(authz, headers) : claimFromQuery(params, opts.maxPresignExpires ?? MAX_PRESIGN);
  const { form, scope } = claim;
  if (scope.date !== claim.amzDate.slice(0, 8)) {
    throw new SigV4Failure('malformed', 'Invalid credential date. Date is not the same as X-Amz-Date.', form);
  }
  // A request signs a handful of headers: the array is searched, no Set built per request.
  const signed = claim.signedHeaders;
  if (s3) {
    let unsigned: string[] | undefined;
    for (const n in headers) {
      if (n.startsWith('x-amz-') && !signed.includes(n) && n !== 'x-amz-security-token' && !(form === 'presigned' && n === 'x-amz-content-sha256')) (unsigned ??= []).push(n);
    }
    if (unsigned !== undefined) {
      throw new SigV4Failure('headers-not-signed', 'There were headers present in the request which were not signed', form, { HeadersNotSigned: unsigned.join(', ') });
    }
  }
  const expiresAt = checkTime(claim, opts.now.getTime(), skewMs);

  const declared = form === 'header'
    ? headerString(headers, 'x-amz-content-sha256')
    : queryParam(params, 'X-Amz-Content-Sha256')
      ?? (signed.includes('x-amz-content-sha256') ? headerString(headers, 'x-amz-content-sha256') : undefined);
  /** What the canonical request ends with; undefined: the body's own hash (deferred). */
  let payloadHash: string | undefined;
  let mode: Mode;
  if (declared !== undefined) {
    payloadHash = declared;
    if (HEX64.test(declared)) mode = 'literal';
    else if (declared === 'UNSIGNED-PAYLOAD') mode = 'unsigned';
    else {
      const streaming = STREAMING[declared];
      if (!streaming) {
        throw new SigV4Failure('invalid-content-sha256', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.', form);
      }
      mode = streaming;
    }
  } else if (s3 && form === 'header') {
    throw new SigV4Failure('missing-content-sha256', 'Missing required header for this request: x-amz-content-sha256', form);
  } else if (s3) {
    payloadHash = 'UNSIGNED-PAYLOAD';
    mode = 'unsigned';
  } else if (bodyKnownEmpty(headers)) {
    payloadHash = EMPTY_SHA256;
    mode = 'literal';
  } else {
    mode = 'deferred';
  }

  const found = opts.lookup(scope.accessKeyId);
  return found instanceof Promise
    ? found.then((credential) => verifyWith(req, opts, claim, params, s3, mode, payloadHash, expiresAt, credential))
    : verifyWith(req, opts, claim, params, s3, mode, payloadHash, expiresAt, found);
}

type Mode = 'unsigned' | 'literal' | 'deferred' | 'streaming-signed' | 'streaming-signed-trailer' | 'streaming-unsigned-trailer';

/** The rest of `authenticate`, once the credential is known. */
function verifyWith(
  req: SignedRequestView,
  opts: SigV4Options,
  claim: Claim,
  params: readonly QueryParam[],
  s3: boolean,
  mode: Mode,
  payloadHash: string | undefined,
  expiresAt: Date | undefined,
  credential: CredentialRecord | undefined,
): SigV4Result {
  const { form, scope } = claim;
  const headers = req.headers;
  if (!credential) {
    throw new SigV4Failure('unknown-key', 'The AWS Access Key Id you provided does not exist in our records.', form, { AWSAccessKeyId: scope.accessKeyId });
  }
  const at = credential.tokenIn;
  if (at !== undefined && !at.services.includes(scope.service)) {
    throw new SigV4Failure('token-invalid', 'The security token included in the request is invalid.', form);
  }
  const [header, query] = at === undefined ? ['x-amz-security-token', 'X-Amz-Security-Token'] : [at.header, at.query];
  const token = form === 'header' ? headerString(headers, header) : queryParam(params, query) ?? headerString(headers, header);
  checkToken(credential, token, opts.now, form);

  const signer = new Signer(
    (opts.keyCache ?? defaultKeyCache).get(credential.secretAccessKey, scope.date, scope.region, scope.service),
    claim.amzDate,
    `${scope.date}/${scope.region}/${scope.service}/aws4_request`,
  );
  const heads = canonicalHeads(req, claim, params, opts.normalizePath);
  const check = (hash: string): void => verifyHeads(heads, hash, signer, claim);
  if (payloadHash !== undefined) check(payloadHash);

  let payload: PayloadMode;
  switch (mode) {
    case 'unsigned':
    case 'streaming-unsigned-trailer':
      payload = { mode };
      break;
    case 'literal':
      payload = { mode, sha256: (payloadHash as string).toLowerCase() };
      break;
    case 'deferred':
      payload = { mode, verify: check };
      break;
    case 'streaming-signed':
    case 'streaming-signed-trailer':
      payload = { mode, signer, seedSignature: claim.signature.toLowerCase() };
      break;
  }
  const result: SigV4Result = {
    form,
    scope,
    credential,
    signedAt: claim.signedAt,
    signedHeaders: claim.signedHeaders,
    payload,
    signatureVerified: mode !== 'deferred',
    family: opts.family ?? (s3 ? 's3' : 'json'),
  };
  if (expiresAt) result.expiresAt = expiresAt;
  return result;
}

/**
 * True when the request cannot have a body, so its hash is known now. HTTP/2
 * (pseudo-headers present) may send a body without content-length.
 */
function bodyKnownEmpty(headers: HeaderBag): boolean {
  const length = headerString(headers, 'content-length');
  if (length !== undefined) return length.trim() === '0';
  return headerString(headers, 'transfer-encoding') === undefined && headers[':method'] === undefined;
}

function checkToken(credential: CredentialRecord, token: string | undefined, now: Date, form: AuthForm): void {
  if (credential.sessionToken !== undefined) {
    if (token === undefined || token === '') throw new SigV4Failure('token-missing', 'The request is missing the security token of its temporary credentials.', form);
    if (!sameSecret(token, credential.sessionToken)) throw new SigV4Failure('token-invalid', 'The security token included in the request is invalid.', form);
  } else if (token !== undefined && token !== '') {
    throw new SigV4Failure('token-invalid', 'The security token included in the request is invalid.', form);
  }
  if (credential.expiresAt && now.getTime() >= credential.expiresAt.getTime()) {
    throw new SigV4Failure('token-expired', 'The security token included in the request is expired', form);
  }
}

/**
 * Canonical requests up to the payload-hash line. Usually one; a second when
 * the request is ambiguous in a way signers legitimately differ on:
 * - S3 paths: most signers sign the path exactly as sent, some canonicalise
 *   its escapes first (a literal `+` or space). Both commit to the same bytes.
 * - Presigned URLs whose X-Amz-Security-Token was appended after signing
 *   (AWS IoT style). The token is still checked against the credential.
 */
function canonicalHeads(req: SignedRequestView, claim: Claim, params: readonly QueryParam[], normalize: boolean): string[] {
  const path = canonicalPath(req.rawPath, normalize);
  const asSent = normalize ? path : byteString(req.rawPath === '' ? '/' : req.rawPath);
  const presigned = claim.form === 'presigned';
  const query = params.length === 0 ? '' : canonicalQuery(params, presigned ? SKIP_SIGNATURE : undefined);
  const tokenVariant = presigned && params.some((p) => p.key === 'X-Amz-Security-Token');
  const tail = `${canonicalHeaders(req.headers, claim.signedHeaders)}\n${claim.signedHeaderText}\n`;
  const method = byteString(req.method);
  if (asSent === path && !tokenVariant) return [`${method}\n${path}\n${query}\n${tail}`];
  const paths = asSent === path ? [path] : [path, asSent];
  const queries = tokenVariant ? [query, canonicalQuery(params, SKIP_SIGNATURE_AND_TOKEN)] : [query];
  const heads: string[] = [];
  for (const p of paths) for (const q of queries) heads.push(`${method}\n${p}\n${q}\n${tail}`);
  return heads;
}

function verifyHeads(heads: readonly string[], payloadHash: string, signer: Signer, claim: Claim): void {
  for (const head of heads) {
    if (signer.verifyHex(signer.stringToSign(head + payloadHash), claim.signature)) return;
  }
  const canonicalRequest = (heads[0] as string) + payloadHash;
  throw new SigV4Failure('bad-signature', 'The request signature we calculated does not match the signature you provided.', claim.form, {
    AWSAccessKeyId: claim.scope.accessKeyId,
    StringToSign: signer.stringToSign(canonicalRequest),
    SignatureProvided: claim.signature.toLowerCase(),
    CanonicalRequest: canonicalRequest,
  });
}
