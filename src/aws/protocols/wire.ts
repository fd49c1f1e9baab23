import { AwsError, commonError } from '../errors.js';
import type { HttpRequest } from '../http.js';
import { header } from '../http.js';
import { readAll } from '../../lib/streams.js';

/** Helpers every codec shares: bounded body reads, strict base64, DTD refusal. */

export function tooLarge(limit: number): AwsError {
  return commonError('RequestEntityTooLarge', `Request body is larger than the ${limit} bytes this operation accepts`);
}

/**
 * The whole body, at most `limit` bytes. A Content-Length over the limit is
 * refused before a byte is read; a body that grows past it (chunked, or a
 * lying length) is cut off there: readAll destroys the stream.
 */
export async function readBody(req: HttpRequest, limit: number): Promise<Buffer> {
  const declared = header(req, 'content-length');
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  return readAll(req.body, limit, () => tooLarge(limit));
}

/** The media type without parameters, lower-cased: 'application/x-amz-json-1.1'. */
export function mediaType(req: HttpRequest): string {
  const ct = header(req, 'content-type');
  if (ct === undefined) return '';
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
}

/** Why a base64 string is not canonical base64; `tailOnly` checks just the padding bits. */
function base64Problem(s: string, tailOnly: boolean): string | undefined {
  const n = s.length;
  if (n % 4 !== 0) return `Base64 encoded length is expected a multiple of 4 bytes but found: ${n}`;
  if (n === 0) return undefined;
  const pad = s.charCodeAt(n - 1) === 61 ? (s.charCodeAt(n - 2) === 61 ? 2 : 1) : 0;
  if (!tailOnly) {
    const bad = /[^A-Za-z0-9+/]/.exec(pad ? s.slice(0, n - pad) : s);
    if (bad) return `Invalid Base64 character: '${bad[0]}'`;
  }
  if (pad) {
    // The bits after the last byte must be zero, or two strings decode alike.
    const last = B64_VALUES.indexOf(s.charAt(n - pad - 1));
    if ((pad === 1 ? last & 0x3 : last & 0xf) !== 0) return 'Invalid last non-pad Base64 character dectected';
  }
  return undefined;
}
const B64_VALUES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Strict base64, as AWS's Coral services are. Node's decoder forgives junk
 * (skips it, accepts base64url), so the fast path decodes natively and checks
 * that nothing was forgiven: the exact length, and no '-' or '_'. Only a
 * failure pays for the character-by-character diagnosis.
 */
export function decodeBase64(s: string): Buffer | { problem: string } {
  const n = s.length;
  if (n % 4 === 0) {
    const pad = n === 0 ? 0 : s.charCodeAt(n - 1) === 61 ? (s.charCodeAt(n - 2) === 61 ? 2 : 1) : 0;
    const buf = Buffer.from(s, 'base64');
    if (buf.length === (n / 4) * 3 - pad && s.indexOf('-') < 0 && s.indexOf('_') < 0 && base64Problem(s, true) === undefined) return buf;
  }
  return { problem: base64Problem(s, false) ?? 'Invalid Base64' };
}

export function encodeBase64(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('base64');
}

const DTD = /<!\s*(?:DOCTYPE|ENTITY)/i;

/**
 * hanul never expands DTDs or entities (billion laughs, XXE): any text that
 * will be parsed as XML, or that arrives where XML could hide, is refused
 * outright when it declares one.
 */
export function hasXmlDtd(text: string): boolean {
  return text.includes('<!') && DTD.test(text);
}

export function refuseXmlDtd(text: string, code: 'MalformedQueryString' | 'InvalidParameterValue' | 'SerializationException'): void {
  if (hasXmlDtd(text)) throw commonError(code, 'XML document type declarations and entities are not allowed');
}
