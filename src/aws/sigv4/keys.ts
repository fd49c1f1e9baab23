/**
 * Signing keys and the HMAC/SHA-256 primitives of SigV4, on node:crypto.
 */
import * as crypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** One-shot hashing (Node ≥ 20.12): no Hash object per call. */
const oneShot = (crypto as { hash?: (alg: string, data: string | Uint8Array, enc: 'hex') => string }).hash;
// eslint-disable-next-line no-control-regex -- an ASCII range test, not a control character
const NON_ASCII = /[^\x00-\x7f]/;

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Where a string is laid out as its latin1 bytes for hashing (shared: hashing is synchronous). */
let latin1Scratch = Buffer.allocUnsafe(4096);
let latin1View: Buffer | undefined;

export function sha256Hex(data: string | Uint8Array): string {
  if (oneShot) {
    if (typeof data !== 'string') return oneShot('sha256', data, 'hex');
    // Strings are byte strings (latin1); one-shot hashing reads strings as UTF-8. A short one is
    // copied out as latin1 (a copy, no scan of its characters); a long one is hashed as is when ASCII.
    if (data.length <= 65536) {
      if (latin1Scratch.length < data.length) {
        latin1Scratch = Buffer.allocUnsafe(Math.max(data.length, 2 * latin1Scratch.length));
        latin1View = undefined;
      }
      const n = latin1Scratch.write(data, 0, 'latin1');
      // The view is kept while strings of one length are hashed (a request's canonical requests mostly are).
      if (latin1View === undefined || latin1View.length !== n) latin1View = latin1Scratch.subarray(0, n);
      return oneShot('sha256', latin1View, 'hex');
    }
    return oneShot('sha256', NON_ASCII.test(data) ? Buffer.from(data, 'latin1') : data, 'hex');
  }
  return typeof data === 'string'
    ? createHash('sha256').update(data, 'latin1').digest('hex')
    : createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/**
 * Derived keys per (secret, date, region, service): four HMACs saved on every
 * request but the first of the day. Bounded LRU (a Map keeps insertion order;
 * a hit is re-inserted at the back, the front is evicted). The keys are pure
 * functions of their inputs, so sharing one cache is memoisation, not state.
 */
export class SigningKeyCache {
  readonly #max: number;
  readonly #map = new Map<string, SigningKey>();
  #last: { secret: string; date: string; region: string; service: string; key: SigningKey } | undefined;

  constructor(max = 1000) {
    this.#max = Math.max(1, max);
  }

  get size(): number {
    return this.#map.size;
  }

  get(secret: string, date: string, region: string, service: string): SigningKey {
    // Most requests repeat the previous one's scope and secret: compared in place, no key string built or hashed.
    const last = this.#last;
    if (last !== undefined && last.secret === secret && last.date === date && last.region === region && last.service === service) return last.key;
    const key = this.#lookup(secret, date, region, service);
    this.#last = { secret, date, region, service, key };
    return key;
  }

  #lookup(secret: string, date: string, region: string, service: string): SigningKey {
    const id = `${date}\n${region}\n${service}\n${secret}`;
    let key = this.#map.get(id);
    if (key !== undefined) {
      this.#map.delete(id);
      this.#map.set(id, key);
      return key;
    }
    key = new SigningKey(deriveSigningKey(secret, date, region, service));
    if (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    this.#map.set(id, key);
    return key;
  }
}

export const defaultKeyCache = new SigningKeyCache(1000);

/** The inner message of an HMAC: the key's ipad block, then the message (grown as needed, shared: HMACs run one at a time). */
let hmacScratch = Buffer.allocUnsafe(2048);

/**
 * A derived signing key, ready for HMAC-SHA256. With one-shot hashing
 * (Node ≥ 20.12) the HMAC is RFC 2104's two SHA-256s over (K ⊕ ipad) ‖ m and
 * (K ⊕ opad) ‖ inner, the padded key blocks computed once per key: the same
 * bytes as `createHmac`, without an Hmac object (and OpenSSL's MAC lookup) per
 * call, which was most of a signature check's cost. The key and its pads sit
 * in private fields, so logging never prints them.
 */
export class SigningKey {
  readonly #key: Buffer;
  readonly #ipad: Buffer | undefined;
  /** (K ⊕ opad) then room for the inner digest: the whole outer message. */
  readonly #outer: Buffer | undefined;

  constructor(key: Buffer) {
    this.#key = key;
    if (oneShot && key.length <= 64) {
      const ipad = Buffer.alloc(64, 0x36);
      const outer = Buffer.alloc(96, 0x5c);
      for (let i = 0; i < key.length; i++) {
        ipad[i] = (ipad[i] as number) ^ (key[i] as number);
        outer[i] = (outer[i] as number) ^ (key[i] as number);
      }
      this.#ipad = ipad;
      this.#outer = outer;
    }
  }

  /** HMAC-SHA256 of `message`'s latin1 bytes, written into `out` (32 bytes). */
  hmacInto(message: string, out: Buffer): Buffer {
    out.write(this.hmacHex(message), 0, 'hex');
    return out;
  }

  /** HMAC-SHA256 of `message`'s latin1 bytes, as lower-case hex. */
  hmacHex(message: string): string {
    const ipad = this.#ipad;
    const outer = this.#outer;
    if (ipad === undefined || outer === undefined || oneShot === undefined) {
      return createHmac('sha256', this.#key).update(message, 'latin1').digest('hex');
    }
    // latin1: one byte per char, as update(message, 'latin1') reads it.
    if (hmacScratch.length < 64 + message.length) {
      hmacScratch = Buffer.allocUnsafe(Math.max(64 + message.length, 2 * hmacScratch.length));
      hmacInner = undefined;
    }
    ipad.copy(hmacScratch, 0);
    const n = hmacScratch.write(message, 64, 'latin1');
    const inner = hmacInner !== undefined && hmacInnerLength === 64 + n ? hmacInner : hmacView(64 + n);
    // Hex out, not 'buffer': a one-shot digest as a Buffer costs several times its hex.
    outer.write(oneShot('sha256', inner, 'hex'), 64, 'hex');
    return oneShot('sha256', outer, 'hex');
  }
}

/** The scratch's first `n` bytes as a view, kept while requests sign strings of one length (most do). */
let hmacInner: Buffer | undefined;
let hmacInnerLength = 0;
function hmacView(n: number): Buffer {
  hmacInner = hmacScratch.subarray(0, n);
  hmacInnerLength = n;
  return hmacInner;
}

/** A verification's computed signature (compared at once, never kept). */
const computed = Buffer.alloc(32);

/**
 * Everything needed to sign on behalf of a verified request: its derived key,
 * date and scope. The key sits in a private field so that logging an auth
 * result (which carries a Signer for the body checks) never prints it.
 */
export class Signer {
  readonly amzDate: string;
  readonly scope: string;
  readonly #key: SigningKey;

  constructor(key: SigningKey | Buffer, amzDate: string, scope: string) {
    this.#key = key instanceof SigningKey ? key : new SigningKey(key);
    this.amzDate = amzDate;
    this.scope = scope;
  }

  /** The string to sign for a canonical request (hashed as bytes, see canonical.ts). */
  stringToSign(canonicalRequest: string): string {
    return `${ALGORITHM}\n${this.amzDate}\n${this.scope}\n${sha256Hex(canonicalRequest)}`;
  }

  sign(stringToSign: string): Buffer {
    return this.#key.hmacInto(stringToSign, Buffer.allocUnsafe(32));
  }

  /** Whether `signature` is this string's signature (constant time; no Buffer allocated). */
  verify(stringToSign: string, signature: Buffer): boolean {
    return sameBytes(this.#key.hmacInto(stringToSign, computed), signature);
  }

  /**
   * Whether `signatureHex` (64 hex digits, either case: see isSignatureHex) is this string's
   * signature. Compared as hex text in constant time: no hex decoding of either side and
   * no Buffer per request.
   */
  verifyHex(stringToSign: string, signatureHex: string): boolean {
    return sameHex(this.#key.hmacHex(stringToSign), signatureHex);
  }

  /** Signature of one aws-chunked chunk, chained from the previous signature (hex). */
  chunk(previous: string, chunkSha256: string): Buffer {
    return this.sign(`${ALGORITHM}-PAYLOAD\n${this.amzDate}\n${this.scope}\n${previous}\n${EMPTY_SHA256}\n${chunkSha256}`);
  }

  /** Signature of the trailing headers, chained from the final chunk's signature. */
  trailer(previous: string, trailerSha256: string): Buffer {
    return this.sign(`${ALGORITHM}-TRAILER\n${this.amzDate}\n${this.scope}\n${previous}\n${trailerSha256}`);
  }
}

const SIG_HEX = /^[0-9a-fA-F]{64}$/;

/** Whether `hex` is 64 hex digits (a signature's form), read char by char (no regex run per request). */
export function isSignatureHex(hex: string): boolean {
  if (hex.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = hex.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66))) return false;
  }
  return true;
}

/**
 * Constant-time equality of a computed lower-case hex digest and a provided one of the same
 * length in either case (`| 0x20` lower-cases a hex letter and leaves digits as they are):
 * every char is read whatever differs, as timingSafeEqual does with bytes.
 */
export function sameHex(computedLower: string, provided: string): boolean {
  const n = computedLower.length;
  if (provided.length !== n) return false;
  let diff = 0;
  for (let i = 0; i < n; i++) diff |= computedLower.charCodeAt(i) ^ (provided.charCodeAt(i) | 0x20);
  return diff === 0;
}

/** The 32 bytes of a hex signature, or undefined when it is not one. */
export function parseSignature(hex: string): Buffer | undefined {
  return SIG_HEX.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time string equality whatever the lengths (compares digests). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
