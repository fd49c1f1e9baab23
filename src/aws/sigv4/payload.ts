/**
 * The request body as the handler sees it: the raw stream wrapped so that it
 * errors (with the protocol's AwsError) instead of ending when the payload
 * does not match what was signed. Nothing is buffered: bytes flow through
 * while being hashed, and the verdict comes at the end of the stream.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { AwsError } from '../errors.js';
import { headerString, type HeaderBag } from './canonical.js';
import { AwsChunkedDecoder, type ChunkedOptions } from './chunked.js';
import { sigv4Error, type ErrorFamily } from './errors.js';
import { SigV4Failure } from './failure.js';
import type { PayloadMode, SigV4Result } from './verify.js';

export interface VerifiedBodyResult {
  body: Readable;
  /** Trailing headers of an aws-chunked body (lower-cased names), once `body` has ended. A plain function (no `this`): callers may keep it alone. */
  trailers: (this: void) => Record<string, string>;
}

const NO_TRAILERS = (): Record<string, string> => ({});
const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Passes bytes through while hashing them; `check` judges the hex digest at the end. */
class HashCheck extends Transform {
  readonly #hash: Hash = createHash('sha256');
  readonly #check: (sha256: string) => void;
  readonly #toError: (f: SigV4Failure) => Error;

  constructor(check: (sha256: string) => void, toError: (f: SigV4Failure) => Error) {
    super();
    this.#check = check;
    this.#toError = toError;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.#check(this.#hash.digest('hex'));
      cb();
    } catch (e) {
      cb(e instanceof SigV4Failure ? this.#toError(e) : (e as Error));
    }
  }
}

/** Without auth, only the headers say what the body is; nothing signed can be checked. */
function anonymousPayload(headers: HeaderBag): PayloadMode | SigV4Failure {
  const declared = headerString(headers, 'x-amz-content-sha256');
  if (declared === undefined || declared === 'UNSIGNED-PAYLOAD') return { mode: 'unsigned' };
  if (declared === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') return { mode: 'streaming-unsigned-trailer' };
  if (HEX64.test(declared)) return { mode: 'literal', sha256: declared.toLowerCase() };
  if (declared.startsWith('STREAMING-')) return new SigV4Failure('missing-auth', 'A signed streaming payload requires an Authorization header.');
  return new SigV4Failure('invalid-content-sha256', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.');
}

/** A body that errors as soon as it is read (and never crashes when nobody reads it). */
function failedBody(err: Error): Readable {
  return new Readable({
    read() {
      this.destroy(err);
    },
  });
}

/**
 * Connects raw → check. A broken raw stream (client gone mid-body) becomes a
 * truncation failure; the no-op error listener keeps an unread body that
 * fails from crashing the process — readers still see the error, since the
 * stream is left errored.
 */
function wire(raw: Readable, check: Transform, toError: (f: SigV4Failure) => Error): Readable {
  const truncated = (cause?: unknown): void => {
    if (check.destroyed) return;
    const failure = new SigV4Failure('body-truncated', 'The request body terminated unexpectedly');
    if (cause !== undefined) failure.cause = cause;
    check.destroy(toError(failure));
  };
  raw.once('error', truncated);
  raw.once('close', () => {
    if (!raw.readableEnded) truncated();
  });
  check.on('error', () => {});
  raw.pipe(check);
  return check;
}

function decodedLengthOf(headers: HeaderBag): number | SigV4Failure | undefined {
  const v = headerString(headers, 'x-amz-decoded-content-length');
  if (v === undefined) return undefined;
  const t = v.trim();
  return /^\d{1,15}$/.test(t) ? Number(t) : new SigV4Failure('chunk-invalid', 'x-amz-decoded-content-length is not a number');
}

/**
 * Wraps the raw request body according to how it was signed (see PayloadMode).
 * `family` picks how failures render; it defaults to the one authenticate chose.
 * Plain bodies with an x-amz-checksum-* header are left to S3: only trailers
 * are checked here.
 */
export function verifiedBody(raw: Readable, auth: SigV4Result | undefined, headers: HeaderBag, family?: ErrorFamily): VerifiedBodyResult {
  const fam = family ?? auth?.family ?? 's3';
  const toError = (f: SigV4Failure): AwsError => {
    const err = sigv4Error(f, fam);
    err.cause = f;
    return err;
  };
  const payload = auth ? auth.payload : anonymousPayload(headers);
  if (payload instanceof SigV4Failure) return { body: failedBody(toError(payload)), trailers: NO_TRAILERS };
  switch (payload.mode) {
    case 'unsigned':
      return { body: raw, trailers: NO_TRAILERS };
    case 'literal': {
      const expected = payload.sha256;
      const check = (actual: string): void => {
        if (actual !== expected) {
          throw new SigV4Failure('payload-hash-mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", auth?.form, {
            ClientComputedContentSHA256: expected, S3ComputedContentSHA256: actual,
          });
        }
      };
      return { body: wire(raw, new HashCheck(check, toError), toError), trailers: NO_TRAILERS };
    }
    case 'deferred':
      return { body: wire(raw, new HashCheck(payload.verify, toError), toError), trailers: NO_TRAILERS };
    case 'streaming-signed':
    case 'streaming-signed-trailer':
    case 'streaming-unsigned-trailer': {
      const decodedLength = decodedLengthOf(headers);
      if (decodedLength instanceof SigV4Failure) return { body: failedBody(toError(decodedLength)), trailers: NO_TRAILERS };
      const trailer = payload.mode !== 'streaming-signed';
      const announced = trailer
        ? (headerString(headers, 'x-amz-trailer') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '')
        : [];
      const opts: ChunkedOptions = {
        trailer,
        announced,
        ...(payload.mode === 'streaming-unsigned-trailer' ? {} : { signed: { signer: payload.signer, seedSignature: payload.seedSignature } }),
        ...(decodedLength === undefined ? {} : { decodedLength }),
      };
      let decoder: AwsChunkedDecoder;
      try {
        decoder = new AwsChunkedDecoder(opts, toError);
      } catch (e) {
        if (e instanceof SigV4Failure) return { body: failedBody(toError(e)), trailers: NO_TRAILERS };
        throw e;
      }
      return { body: wire(raw, decoder, toError), trailers: () => decoder.trailers() };
    }
  }
}
