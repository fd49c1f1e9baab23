/**
 * What a request claims about its authentication, parsed before anything is
 * checked: the Authorization header or the presigned X-Amz-* parameters.
 * `credentialScope` (routing) and `authenticate` share these parsers, so the
 * scope a request is routed by is always the scope its signature is checked
 * against.
 */
import type { CredentialScope } from './index.js';
import { amzDateFromHttpDate, decodeComponent, headerString, parseAmzDate, type HeaderBag, type QueryParam } from './canonical.js';
import { SigV4Failure, type AuthForm } from './failure.js';
import { ALGORITHM, isSignatureHex } from './keys.js';

export interface Claim {
  form: AuthForm;
  scope: CredentialScope;
  amzDate: string;
  signedAt: Date;
  /** Shared between requests that sign the same list: never changed. */
  signedHeaders: readonly string[];
  /** The SignedHeaders list as sent (`a;b;c`): the canonical request's signed-headers line. */
  signedHeaderText: string;
  /** 64 hex digits, as sent (either case). */
  signature: string;
  /** Presigned: X-Amz-Expires, seconds. */
  expires?: number;
}

const CREDENTIAL_FORM = 'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"';

export function parseCredential(s: string): CredentialScope | undefined {
  // Routing (credentialScope) and authenticate parse the same Credential one after the other.
  // The scope is frozen, so handing the same object to both is safe.
  if (s === lastCredential) return lastScope;
  const scope = parseCredentialText(s);
  lastCredential = s;
  lastScope = scope;
  return scope;
}

let lastCredential: string | undefined;
let lastScope: CredentialScope | undefined;

function parseCredentialText(s: string): CredentialScope | undefined {
  const parts = s.split('/');
  if (parts.length !== 5) return undefined;
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (!accessKeyId || !/^\d{8}$/.test(date) || !region || !service || terminator !== 'aws4_request') return undefined;
  return Object.freeze({ accessKeyId, date, region, service });
}

function malformed(form: AuthForm, message: string): SigV4Failure {
  return new SigV4Failure('malformed', message, form);
}

/**
 * `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` as a map.
 * Throws for another scheme, a component that is not key=value, or a repeat.
 */
export function authorizationFields(authz: string): ReadonlyMap<string, string> {
  // Routing (credentialScope) and authenticate parse the same header one after the other.
  if (authz === lastAuthz && lastFields !== undefined) return lastFields;
  const fields = parseAuthorizationFields(authz);
  lastAuthz = authz;
  lastFields = fields;
  return fields;
}

let lastAuthz: string | undefined;
let lastFields: ReadonlyMap<string, string> | undefined;

function parseAuthorizationFields(authz: string): Map<string, string> {
  const sp = authz.indexOf(' ');
  const alg = sp < 0 ? authz : authz.slice(0, sp);
  if (alg !== ALGORITHM) {
    throw new SigV4Failure('unsupported-algorithm', `Unsupported Authorization Type '${alg.slice(0, 40)}'`, 'header');
  }
  const fields = new Map<string, string>();
  for (const part of authz.slice(sp + 1).split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) throw malformed('header', `Authorization header key-value component '${p.slice(0, 60)}' is not of the form key=value.`);
    const key = p.slice(0, eq).trim();
    if (fields.has(key)) throw malformed('header', `Authorization header component '${key.slice(0, 40)}' appears more than once.`);
    fields.set(key, p.slice(eq + 1).trim());
  }
  return fields;
}

/** The one value of presigned parameter `name` (decoded); throws when it repeats. */
export function queryParam(params: readonly QueryParam[], name: string): string | undefined {
  let found: string | undefined;
  for (const p of params) {
    if (p.key !== name) continue;
    if (found !== undefined) throw malformed('presigned', `${name} appears more than once.`);
    found = decodeComponent(p.raw) ?? '';
  }
  return found;
}

function parseSignedHeaders(form: AuthForm, list: string): readonly string[] {
  // A client signs the same list on most of its requests: the last list's names are reused (frozen).
  if (list === lastSignedList && lastSignedNames !== undefined) return lastSignedNames;
  const names = list.split(';');
  if (names.some((n) => n === '')) throw malformed(form, `SignedHeaders is mal-formed: '${list.slice(0, 200)}'`);
  if (!names.includes('host') && !names.includes(':authority')) throw malformed(form, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  lastSignedList = list;
  lastSignedNames = Object.freeze(names);
  return lastSignedNames;
}

let lastSignedList: string | undefined;
let lastSignedNames: readonly string[] | undefined;

export function claimFromHeader(authz: string, headers: HeaderBag): Claim {
  const fields = authorizationFields(authz);
  if (!fields.has('Credential') || !fields.has('Signature') || !fields.has('SignedHeaders')) {
    const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((k) => !fields.has(k));
    throw malformed('header', missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' '));
  }
  const scope = parseCredential(fields.get('Credential') as string);
  if (!scope) throw malformed('header', `the Credential is mal-formed; ${CREDENTIAL_FORM}.`);
  const signature = fields.get('Signature') as string;
  if (!isSignatureHex(signature)) throw malformed('header', 'the Signature is not 64 hexadecimal digits.');
  const signedHeaders = parseSignedHeaders('header', fields.get('SignedHeaders') as string);
  let amzDate = headerString(headers, 'x-amz-date')?.trim();
  if (amzDate === undefined) {
    const date = headerString(headers, 'date');
    amzDate = date === undefined ? undefined : amzDateFromHttpDate(date);
  }
  const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || !signedAt) {
    throw new SigV4Failure('missing-date', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", 'header');
  }
  return { form: 'header', scope, amzDate, signedAt, signedHeaders, signedHeaderText: fields.get('SignedHeaders') as string, signature };
}

export function claimFromQuery(params: readonly QueryParam[], maxExpires: number): Claim {
  const get = (name: string): string | undefined => queryParam(params, name);
  const algorithm = get('X-Amz-Algorithm');
  if (algorithm !== undefined && algorithm !== ALGORITHM) {
    throw new SigV4Failure('unsupported-algorithm', `X-Amz-Algorithm only supports "${ALGORITHM}"`, 'presigned');
  }
  const credential = get('X-Amz-Credential');
  const amzDate = get('X-Amz-Date');
  const signedHeaderList = get('X-Amz-SignedHeaders');
  const signatureHex = get('X-Amz-Signature');
  const expiresText = get('X-Amz-Expires');
  if (!algorithm || !credential || !amzDate || !signedHeaderList || !signatureHex || expiresText === undefined) {
    throw malformed('presigned', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  }
  const scope = parseCredential(credential);
  if (!scope) throw malformed('presigned', `Error parsing the X-Amz-Credential parameter; ${CREDENTIAL_FORM}.`);
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt) throw malformed('presigned', "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  const expires = /^\d{1,9}$/.test(expiresText) ? Number(expiresText) : NaN;
  if (!(expires >= 1)) throw new SigV4Failure('presign-invalid', 'X-Amz-Expires should be a number between 1 and 604800 (seconds).', 'presigned');
  if (expires > maxExpires) {
    throw new SigV4Failure('presign-invalid', `X-Amz-Expires must be less than a week (in seconds) that is; ${maxExpires} seconds`, 'presigned');
  }
  const signature = signatureHex;
  if (!isSignatureHex(signature)) throw malformed('presigned', 'X-Amz-Signature is not 64 hexadecimal digits.');
  return { form: 'presigned', scope, amzDate, signedAt, signedHeaders: parseSignedHeaders('presigned', signedHeaderList), signedHeaderText: signedHeaderList, signature, expires };
}

/**
 * Header-signed requests must be within `skewMs` of the server clock;
 * presigned ones within their expiry instead (returned), and not from the future.
 */
export function checkTime(claim: Claim, now: number, skewMs: number): Date | undefined {
  const at = claim.signedAt.getTime();
  // Built only for a failure: formatting dates on every request is wasted work.
  const details = () => ({ RequestTime: claim.amzDate, ServerTime: new Date(now).toISOString(), MaxAllowedSkewMilliseconds: String(skewMs) });
  if (claim.form === 'header') {
    if (Math.abs(now - at) > skewMs) {
      throw new SigV4Failure('skew', 'The difference between the request time and the current time is too large.', 'header', details());
    }
    return undefined;
  }
  const expiresAt = new Date(at + (claim.expires as number) * 1000);
  if (now > expiresAt.getTime()) {
    throw new SigV4Failure('presign-expired', 'Request has expired', 'presigned', {
      'X-Amz-Expires': String(claim.expires), Expires: expiresAt.toISOString(), ServerTime: new Date(now).toISOString(),
    });
  }
  if (at - now > skewMs) throw new SigV4Failure('presign-not-yet-valid', 'Request is not valid yet', 'presigned', details());
  return expiresAt;
}
