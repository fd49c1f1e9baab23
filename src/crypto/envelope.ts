import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Seals key material under the root key (AES-256-GCM). The AAD binds a
 * sealed value to what it belongs to (key ARN + material id), so a sealed
 * blob copied onto another key record does not open.
 *
 * Format: 0x01 | iv(12) | tag(16) | ciphertext.
 */
const FORMAT = 0x01;

export interface Sealer {
  seal(plaintext: Uint8Array, aad: string): Uint8Array;
  /** Throws when the blob was not sealed by this root key for this aad. */
  open(sealed: Uint8Array, aad: string): Buffer;
}

export function createSealer(rootKey: Uint8Array, purpose = 'hanul/kms/key-material/v1'): Sealer {
  // A derived key, so the root key itself never encrypts data and other purposes can derive their own.
  const key = Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), purpose, 32));
  return {
    seal(plaintext, aad) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(aad, 'utf8'));
      const ct = Buffer.concat([c.update(plaintext), c.final()]);
      return Buffer.concat([Buffer.of(FORMAT), iv, c.getAuthTag(), ct]);
    },
    open(sealed, aad) {
      const b = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
      if (b.length < 29 || b[0] !== FORMAT) throw new Error('not a sealed key blob');
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(1, 13));
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(b.subarray(13, 29));
      return Buffer.concat([d.update(b.subarray(29)), d.final()]);
    },
  };
}

/**
 * A keyed fingerprint of key material (HMAC-SHA-256 under a key derived from
 * the root key): lets KMS recognise re-imported material, and name it,
 * without keeping anything that reveals the material.
 */
export function createFingerprinter(rootKey: Uint8Array): (material: Uint8Array) => Buffer {
  const key = Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), 'hanul/kms/material-fingerprint/v1', 32));
  return (material) => createHmac('sha256', key).update(material).digest();
}
