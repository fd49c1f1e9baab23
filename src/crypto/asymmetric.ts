import { constants, createPublicKey, diffieHellman, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import type { EncryptionAlgorithmSpec } from '@aws-sdk/client-kms';

const oaepHash = (alg: EncryptionAlgorithmSpec): string => (alg === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256');

export function rsaOaepEncrypt(publicKey: KeyObject, alg: EncryptionAlgorithmSpec, plaintext: Uint8Array): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(alg) }, plaintext);
}

/** Throws on any failure (wrong key, wrong algorithm, tampered ciphertext). */
export function rsaOaepDecrypt(privateKey: KeyObject, alg: EncryptionAlgorithmSpec, ciphertext: Uint8Array): Buffer {
  return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(alg) }, ciphertext);
}

/** Parses a DER SPKI public key; undefined when it is not one. */
export function parseSpki(der: Uint8Array): KeyObject | undefined {
  try {
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** ECDH (the x-coordinate, as AWS returns it); the peer key must be on the same curve. */
export function ecdh(privateKey: KeyObject, peer: KeyObject): Buffer | undefined {
  if (peer.asymmetricKeyType !== 'ec' || peer.asymmetricKeyDetails?.namedCurve !== privateKey.asymmetricKeyDetails?.namedCurve) return undefined;
  return diffieHellman({ privateKey, publicKey: peer });
}
