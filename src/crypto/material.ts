import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import type { SpecInfo } from './key-specs.js';
import { mlDsaSpki, mlKemSpki } from './spki.js';
import type { KeyToken } from './token.js';

const genKeyPair = promisify(generateKeyPair);

/**
 * Key material in memory, ready to use. At rest it is only ever the sealed
 * form of `raw` (see envelope.ts): the secret bytes for symmetric and HMAC
 * keys, PKCS#8 DER for RSA/EC/Ed25519, the 32-byte seed for ML-DSA.
 */
export type LoadedMaterial =
  | { kind: 'secret'; bytes: Buffer }
  | { kind: 'pkey'; privateKey: KeyObject; publicKey: KeyObject; spki: Buffer }
  | { kind: 'ml-dsa'; level: 44 | 65 | 87; secretKey: Uint8Array; publicKey: Uint8Array; spki: Buffer }
  | { kind: 'ml-kem'; level: 512 | 768 | 1024; secretKey: Uint8Array; publicKey: Uint8Array; spki: Buffer }
  /** A key that lives in an HSM token (custom key store): used there, never here. */
  | { kind: 'token'; token: KeyToken; label: string };

export function mlDsa(level: 44 | 65 | 87) {
  return level === 44 ? ml_dsa44 : level === 65 ? ml_dsa65 : ml_dsa87;
}

export function mlKem(level: 512 | 768 | 1024) {
  return level === 512 ? ml_kem512 : level === 768 ? ml_kem768 : ml_kem1024;
}

/** New raw material for a spec. RSA generation runs off the event loop (libuv pool). */
export async function generateMaterial(spec: SpecInfo): Promise<Buffer> {
  switch (spec.kind) {
    case 'symmetric':
      return randomBytes(32);
    case 'hmac':
      return randomBytes((spec.bits ?? 256) / 8);
    case 'ml-dsa':
      return randomBytes(32);
    case 'ml-kem':
      return randomBytes(64);
    case 'rsa': {
      const { privateKey } = await genKeyPair('rsa', { modulusLength: spec.bits ?? 2048, publicExponent: 0x10001 });
      return privateKey.export({ format: 'der', type: 'pkcs8' });
    }
    case 'ec': {
      const { privateKey } = await genKeyPair('ec', { namedCurve: spec.curve ?? 'prime256v1' });
      return privateKey.export({ format: 'der', type: 'pkcs8' });
    }
    case 'ed25519': {
      const { privateKey } = await genKeyPair('ed25519', {});
      return privateKey.export({ format: 'der', type: 'pkcs8' });
    }
  }
}

/** Parses raw material; throws when it does not fit the spec (e.g. imported material of the wrong type). */
export function loadMaterial(spec: SpecInfo, raw: Buffer): LoadedMaterial {
  switch (spec.kind) {
    case 'symmetric':
    case 'hmac': {
      const want = spec.kind === 'symmetric' ? 32 : (spec.bits ?? 256) / 8;
      if (raw.length !== want) throw new Error(`key material must be ${want} bytes`);
      return { kind: 'secret', bytes: raw };
    }
    case 'ml-kem': {
      const level = spec.level as 512 | 768 | 1024;
      if (raw.length !== 64) throw new Error('ML-KEM key material must be a 64-byte seed');
      const kp = mlKem(level).keygen(raw);
      return { kind: 'ml-kem', level, secretKey: kp.secretKey, publicKey: kp.publicKey, spki: mlKemSpki(level, kp.publicKey) };
    }
    case 'ml-dsa': {
      const level = spec.level as 44 | 65 | 87;
      if (raw.length !== 32) throw new Error('ML-DSA key material must be a 32-byte seed');
      const kp = mlDsa(level).keygen(raw);
      return { kind: 'ml-dsa', level, secretKey: kp.secretKey, publicKey: kp.publicKey, spki: mlDsaSpki(level, kp.publicKey) };
    }
    case 'rsa':
    case 'ec':
    case 'ed25519': {
      const privateKey = createPrivateKey({ key: raw, format: 'der', type: 'pkcs8' });
      const d = privateKey.asymmetricKeyDetails ?? {};
      if (spec.kind === 'rsa' && (privateKey.asymmetricKeyType !== 'rsa' || d.modulusLength !== spec.bits)) throw new Error('not an RSA key of this size');
      if (spec.kind === 'ec' && (privateKey.asymmetricKeyType !== 'ec' || d.namedCurve !== spec.curve)) throw new Error('not an EC key on this curve');
      if (spec.kind === 'ed25519' && privateKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
      const publicKey = createPublicKey(privateKey);
      return { kind: 'pkey', privateKey, publicKey, spki: publicKey.export({ format: 'der', type: 'spki' }) };
    }
  }
}

export function publicKeyDer(m: LoadedMaterial): Buffer | undefined {
  return m.kind === 'secret' || m.kind === 'token' ? undefined : m.spki;
}
