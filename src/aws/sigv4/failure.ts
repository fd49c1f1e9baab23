/**
 * Why a request failed authentication. Kinds are protocol-neutral; `errors.ts`
 * turns them into each protocol family's AWS error (S3 says
 * SignatureDoesNotMatch where KMS says InvalidSignatureException).
 */
export type SigV4FailureKind =
  /** No authentication at all where some is required (the caller decides when). */
  | 'missing-auth'
  /** An Authorization scheme or X-Amz-Algorithm we do not speak (SigV2, SigV4a). */
  | 'unsupported-algorithm'
  /** Both an Authorization header and presigned query parameters. */
  | 'multiple-auth'
  /** Authorization header or presigned parameters present but unparseable. */
  | 'malformed'
  /** Neither x-amz-date nor a usable Date header. */
  | 'missing-date'
  | 'unknown-key'
  | 'bad-signature'
  /** Header-signed request whose x-amz-date is too far from the server clock. */
  | 'skew'
  | 'presign-expired'
  /** Presigned X-Amz-Date lies in the future (beyond the allowed skew). */
  | 'presign-not-yet-valid'
  /** X-Amz-Expires missing, not a number, or out of 1..604800. */
  | 'presign-invalid'
  /** S3: an x-amz-* header was sent but not signed. */
  | 'headers-not-signed'
  /** S3: header-signed request without x-amz-content-sha256. */
  | 'missing-content-sha256'
  /** x-amz-content-sha256 is neither a sha256 hex digest nor a known constant. */
  | 'invalid-content-sha256'
  | 'token-missing'
  | 'token-invalid'
  | 'token-expired'
  /** The body does not hash to the x-amz-content-sha256 the request declared. */
  | 'payload-hash-mismatch'
  /** aws-chunked framing is broken (size line, CRLF, data after the end). */
  | 'chunk-invalid'
  /** A chunk signature or the trailer signature does not verify. */
  | 'chunk-signature'
  /** The raw body ended (or broke) before the aws-chunked encoding was complete. */
  | 'body-truncated'
  /** Trailing headers malformed, missing, or announcing an unsupported checksum. */
  | 'trailer-invalid'
  /** An x-amz-checksum-* trailer does not match the decoded data. */
  | 'checksum-mismatch'
  /** x-amz-decoded-content-length differs from the bytes actually decoded. */
  | 'decoded-length-mismatch';

export type AuthForm = 'header' | 'presigned';

export class SigV4Failure extends Error {
  readonly kind: SigV4FailureKind;
  readonly form: AuthForm | undefined;
  /**
   * Facts an error renderer may show the client (S3 puts StringToSign,
   * RequestTime, ServerTime, … in its error body). Never secrets.
   */
  readonly details: Readonly<Record<string, string>>;

  constructor(kind: SigV4FailureKind, message: string, form?: AuthForm, details: Record<string, string> = {}) {
    super(message);
    this.name = 'SigV4Failure';
    this.kind = kind;
    this.form = form;
    this.details = details;
  }
}

const KINDS: ReadonlySet<string> = new Set<SigV4FailureKind>([
  'missing-auth', 'unsupported-algorithm', 'multiple-auth', 'malformed', 'missing-date', 'unknown-key',
  'bad-signature', 'skew', 'presign-expired', 'presign-not-yet-valid', 'presign-invalid',
  'headers-not-signed', 'missing-content-sha256', 'invalid-content-sha256', 'token-missing',
  'token-invalid', 'token-expired', 'payload-hash-mismatch', 'chunk-invalid', 'chunk-signature',
  'body-truncated', 'trailer-invalid', 'checksum-mismatch', 'decoded-length-mismatch',
]);

/**
 * Other stages build failures as plain `{ kind }` objects (the pipeline's
 * missing-auth), so recognise the shape rather than only the class.
 */
export function asFailure(e: unknown): SigV4Failure | undefined {
  if (e instanceof SigV4Failure) return e;
  if (typeof e !== 'object' || e === null) return undefined;
  const kind = (e as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !KINDS.has(kind)) return undefined;
  const message = (e as { message?: unknown }).message;
  return new SigV4Failure(kind as SigV4FailureKind, typeof message === 'string' ? message : kind);
}
