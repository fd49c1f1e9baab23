import { constants, createHash, privateEncrypt, publicDecrypt, randomBytes, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import type { MessageType, SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { ed25519, ed25519ph } from '@noble/curves/ed25519.js';
import { eddsa } from '@noble/curves/abstract/edwards.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { signingHash } from './key-specs.js';
import type { LoadedMaterial } from './material.js';
import { mlDsa } from './material.js';

/**
 * Sign/Verify for every AWS signing algorithm and message type. RAW messages
 * go through node:crypto (OpenSSL); DIGEST messages, which node cannot sign
 * without hashing again, use raw RSA with our own EMSA encodings, or
 * @noble/curves for ECDSA and Ed25519ph; ML-DSA uses @noble/post-quantum.
 * `message` has already been checked against the algorithm (lengths).
 */
export function signMessage(m: LoadedMaterial, alg: SigningAlgorithmSpec, type: MessageType, message: Uint8Array): Buffer {
  if (m.kind === 'ml-dsa') {
    const dsa = mlDsa(m.level);
    const sig = type === 'EXTERNAL_MU' ? dsa.internal.sign(message, m.secretKey, { externalMu: true }) : dsa.sign(message, m.secretKey);
    return Buffer.from(sig);
  }
  if (m.kind !== 'pkey') throw new Error('not a signing key');
  const type_ = m.privateKey.asymmetricKeyType;
  if (type_ === 'ed25519') {
    if (alg === 'ED25519_SHA_512') return nodeSign(null, message, m.privateKey);
    const seed = jwkBytes(m.privateKey, 'd');
    return Buffer.from(type === 'DIGEST' ? ed25519phDigest.sign(message, seed) : ed25519ph.sign(message, seed));
  }
  const h = signingHash(alg);
  if (!h) throw new Error(`no hash for ${alg}`);
  if (type_ === 'ec') {
    if (type === 'RAW') return nodeSign(h.hash, message, { key: m.privateKey, dsaEncoding: 'der' });
    return Buffer.from(curveOf(m.privateKey).sign(message, jwkBytes(m.privateKey, 'd'), { prehash: false, format: 'der', lowS: false }));
  }
  // RSA
  const pss = alg.startsWith('RSASSA_PSS');
  if (type === 'RAW') {
    return nodeSign(h.hash, message, pss ? { key: m.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h.length } : m.privateKey);
  }
  if (pss) {
    const bits = m.privateKey.asymmetricKeyDetails?.modulusLength ?? 2048;
    return privateEncrypt({ key: m.privateKey, padding: constants.RSA_NO_PADDING }, emsaPssEncode(message, bits - 1, h.hash, h.length));
  }
  return privateEncrypt({ key: m.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[h.hash] as Buffer, message]));
}

export function verifyMessage(m: LoadedMaterial, alg: SigningAlgorithmSpec, type: MessageType, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (m.kind === 'ml-dsa') {
      const dsa = mlDsa(m.level);
      return type === 'EXTERNAL_MU' ? dsa.internal.verify(signature, message, m.publicKey, { externalMu: true }) : dsa.verify(signature, message, m.publicKey);
    }
    if (m.kind !== 'pkey') return false;
    const kt = m.publicKey.asymmetricKeyType;
    if (kt === 'ed25519') {
      if (alg === 'ED25519_SHA_512') return nodeVerify(null, message, m.publicKey, signature);
      const pub = jwkBytes(m.publicKey, 'x');
      return type === 'DIGEST' ? ed25519phDigest.verify(signature, message, pub, { zip215: false }) : ed25519ph.verify(signature, message, pub, { zip215: false });
    }
    const h = signingHash(alg);
    if (!h) return false;
    if (kt === 'ec') {
      if (type === 'RAW') return nodeVerify(h.hash, message, { key: m.publicKey, dsaEncoding: 'der' }, signature);
      const pub = Buffer.concat([Buffer.of(4), jwkBytes(m.publicKey, 'x'), jwkBytes(m.publicKey, 'y')]);
      return curveOf(m.publicKey).verify(signature, message, pub, { prehash: false, format: 'der', lowS: false });
    }
    const pss = alg.startsWith('RSASSA_PSS');
    if (type === 'RAW') {
      return nodeVerify(h.hash, message, pss ? { key: m.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h.length } : m.publicKey, signature);
    }
    const bits = m.publicKey.asymmetricKeyDetails?.modulusLength ?? 2048;
    if (signature.length !== bits / 8) return false;
    if (pss) return emsaPssVerify(message, publicDecrypt({ key: m.publicKey, padding: constants.RSA_NO_PADDING }, signature), bits - 1, h.hash, h.length);
    const em = publicDecrypt({ key: m.publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    return em.equals(Buffer.concat([DIGEST_INFO[h.hash] as Buffer, message]));
  } catch {
    return false;
  }
}

/** Ed25519ph over a caller-supplied SHA-512 digest (RFC 8032 dom2 with phflag = 1). */
const ed25519phDigest = eddsa(ed25519.Point, sha512, {
  domain: (data: Uint8Array, ctx: Uint8Array, phflag: boolean) =>
    Buffer.concat([Buffer.from('SigEd25519 no Ed25519 collisions'), Buffer.of(phflag ? 1 : 0, ctx.length), ctx, data]),
  prehash: (m: Uint8Array) => m,
  adjustScalarBytes: (b: Uint8Array) => {
    b[0] = (b[0] as number) & 248;
    b[31] = ((b[31] as number) & 127) | 64;
    return b;
  },
});

const CURVES = { secp256k1, secp384r1: p384, secp521r1: p521, prime256v1: p256 } as const;

function curveOf(k: KeyObject) {
  const name = k.asymmetricKeyDetails?.namedCurve ?? 'prime256v1';
  return name in CURVES ? CURVES[name as keyof typeof CURVES] : p256;
}

function jwkBytes(k: KeyObject, member: 'd' | 'x' | 'y'): Buffer {
  const v = (k.export({ format: 'jwk' }) as Record<string, unknown>)[member];
  if (typeof v !== 'string') throw new Error(`key has no ${member}`);
  return Buffer.from(v, 'base64url');
}

const DIGEST_INFO: Record<string, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

function mgf1(seed: Buffer, len: number, hash: string): Buffer {
  const out: Buffer[] = [];
  let have = 0;
  for (let c = 0; have < len; c++) {
    const ctr = Buffer.alloc(4);
    ctr.writeUInt32BE(c);
    const d = createHash(hash).update(seed).update(ctr).digest();
    out.push(d);
    have += d.length;
  }
  return Buffer.concat(out).subarray(0, len);
}

/** RFC 8017 §9.1.1 EMSA-PSS-ENCODE over an already-computed digest, salt length = hash length. */
function emsaPssEncode(mHash: Uint8Array, emBits: number, hash: string, hLen: number): Buffer {
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const H = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.of(1), salt]);
  const mask = mgf1(H, emLen - hLen - 1, hash);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([db, H, Buffer.of(0xbc)]);
  // RSA_NO_PADDING wants exactly k bytes; k > emLen only when modBits ≡ 1 (mod 8).
  return em;
}

/** RFC 8017 §9.1.2 EMSA-PSS-VERIFY. `raw` is the k-byte RSA public operation output. */
function emsaPssVerify(mHash: Uint8Array, raw: Buffer, emBits: number, hash: string, hLen: number): boolean {
  const emLen = Math.ceil(emBits / 8);
  const em = raw.subarray(raw.length - emLen);
  if (raw.length > emLen && raw.subarray(0, raw.length - emLen).some((b) => b !== 0)) return false;
  if (em[emLen - 1] !== 0xbc || emLen < 2 * hLen + 2) return false;
  const masked = em.subarray(0, emLen - hLen - 1);
  const H = em.subarray(emLen - hLen - 1, emLen - 1);
  if (((masked[0] as number) & ~(0xff >> (8 * emLen - emBits)) & 0xff) !== 0) return false;
  const mask = mgf1(H, masked.length, hash);
  const db = Buffer.alloc(masked.length);
  for (let i = 0; i < db.length; i++) db[i] = (masked[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & (0xff >> (8 * emLen - emBits));
  const psLen = emLen - 2 * hLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 1) return false;
  const salt = db.subarray(db.length - hLen);
  const H2 = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return H2.equals(H);
}
