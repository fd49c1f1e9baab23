import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readOrCreateSecretFile } from '../lib/secret-file.js';

/**
 * Encryption at rest for IAM secrets (secret access keys, MFA seeds, session
 * secrets): AES-256-GCM under a key derived (HKDF) from a root secret kept in
 * the data dir, mode 0600. The record's own id is the associated data, so a
 * sealed value cannot be moved to another record.
 */
export interface SecretBox {
  seal(plain: string, aad: string): Uint8Array;
  open(sealed: Uint8Array, aad: string): string;
}

const VERSION = 1;
export const ROOT_SECRET_FILE = 'iam-root-secret';

export function secretBox(root: Buffer): SecretBox {
  const key = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), 'hanul iam secrets v1', 32));
  return {
    seal(plain, aad) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(aad, 'utf8'));
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return new Uint8Array(Buffer.concat([Buffer.from([VERSION]), iv, c.getAuthTag(), ct]));
    },
    open(sealed, aad) {
      const b = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
      if (b[0] !== VERSION || b.length < 29) throw new Error('sealed IAM secret has an unknown format');
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(1, 13));
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(b.subarray(13, 29));
      return Buffer.concat([d.update(b.subarray(29)), d.final()]).toString('utf8');
    },
  };
}

/** Reads (or creates on first start) the data dir's IAM root secret. */
export async function loadSecretBox(dataDir: string): Promise<SecretBox> {
  const path = join(dataDir, ROOT_SECRET_FILE);
  const { text } = await readOrCreateSecretFile(path, () => `${randomBytes(32).toString('base64')}\n`);
  const root = Buffer.from(text.trim(), 'base64');
  if (root.length < 32) throw new Error(`${path} does not hold a 32-byte base64 secret`);
  return secretBox(root);
}
