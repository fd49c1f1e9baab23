/**
 * SigV4 verification: the public face of this folder. The pipeline calls
 * `credentialScope` (cheap, for routing), then `authenticate`, then
 * `verifiedBody`; it maps failures with `sigv4Error`.
 */
import type { Readable } from 'node:stream';
import type { Principal } from '../../server/context.js';
import type { AwsError } from '../errors.js';

export interface CredentialRecord {
  secretAccessKey: string;
  principal: Principal;
  /** For temporary credentials: the token the request must carry in x-amz-security-token. */
  sessionToken?: string;
  /** Temporary credentials stop working after this instant. */
  expiresAt?: Date;
  /**
   * Where the request carries `sessionToken`, when not in x-amz-security-token:
   * S3 Express sessions use x-amz-s3session-token (X-Amz-S3session-Token presigned).
   * Such a credential signs only for `services` (credential-scope names).
   */
  tokenIn?: { header: string; query: string; services: readonly string[] };
}

/** A lookup may answer at once (the root key, a cache hit): the pipeline then verifies without a promise turn. */
export type CredentialLookup = (accessKeyId: string) => Promise<CredentialRecord | undefined> | CredentialRecord | undefined;

export interface CredentialScope {
  accessKeyId: string;
  /** yyyymmdd */
  date: string;
  region: string;
  service: string;
}

/**
 * The request as sent. Strings are byte strings, as Node delivers them
 * (latin1: one char per byte); chars above U+00FF are taken as text and
 * signed as UTF-8. Pass `headersDistinct` (Node ≥ 18.3) rather than `headers`:
 * Node joins repeated headers with ', ' and drops some repeats, while SigV4
 * joins them with ','; a string[] keeps each occurrence.
 */
export interface SignedRequestView {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export type { SigV4FailureKind, AuthForm, PayloadMode, SigV4Result, SigV4Options } from './verify.js';
export { SigV4Failure, credentialScope, authenticate, authenticateNow } from './verify.js';
export { verifiedBody } from './payload.js';
export type { VerifiedBodyResult } from './payload.js';
export { sigv4Error } from './errors.js';
export type { ErrorFamily } from './errors.js';
export { SigningKeyCache } from './keys.js';
export type { Signer } from './keys.js';

// Re-exported for readers of this file: the signatures the pipeline relies on.
export type VerifiedBody = { body: Readable; trailers(): Record<string, string> };
export type MapFailure = (failure: unknown, family: 's3' | 'json' | 'query') => AwsError;
