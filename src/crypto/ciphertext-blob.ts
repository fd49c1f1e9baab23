import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { encodeEncryptionContext } from './encryption-context.js';

/**
 * hanul's symmetric ciphertext format (versioned, our own — AWS's is opaque too):
 *
 *   'H' | 0x01 | keyIdLen(u8) | keyId (ASCII) | materialId(16) | iv(12) | ciphertext | tag(16)
 *
 * The header names the KMS key and which of its key materials (rotations)
 * encrypted it, so Decrypt needs no KeyId. The whole header plus the encoded
 * encryption context is the GCM AAD: changing any byte, or the context,
 * fails authentication.
 */
const MAGIC = 0x48;
const VERSION = 0x01;
export const MATERIAL_ID_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface ParsedBlob {
  keyId: string;
  /** hex */
  materialId: string;
  header: Buffer;
  iv: Buffer;
  body: Buffer;
  tag: Buffer;
}

/** Parses the header; undefined when this is not a hanul symmetric ciphertext. */
export function parseCiphertextBlob(blob: Uint8Array): ParsedBlob | undefined {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < 3 || b[0] !== MAGIC || b[1] !== VERSION) return undefined;
  const idLen = b[2] as number;
  const headerLen = 3 + idLen + MATERIAL_ID_BYTES + IV_BYTES;
  if (idLen === 0 || b.length < headerLen + TAG_BYTES) return undefined;
  const keyId = b.toString('latin1', 3, 3 + idLen);
  if (!/^[A-Za-z0-9-]+$/.test(keyId)) return undefined;
  const mo = 3 + idLen;
  return {
    keyId,
    materialId: b.toString('hex', mo, mo + MATERIAL_ID_BYTES),
    header: b.subarray(0, headerLen),
    iv: b.subarray(mo + MATERIAL_ID_BYTES, headerLen),
    body: b.subarray(headerLen, b.length - TAG_BYTES),
    tag: b.subarray(b.length - TAG_BYTES),
  };
}

function header(keyId: string, materialId: string): Buffer {
  const id = Buffer.from(keyId, 'latin1');
  return Buffer.concat([Buffer.of(MAGIC, VERSION, id.length), id, Buffer.from(materialId, 'hex'), randomBytes(IV_BYTES)]);
}

export function sealSymmetric(
  material: Uint8Array,
  keyId: string,
  materialId: string,
  plaintext: Uint8Array,
  context: Readonly<Record<string, string>> | undefined,
): Buffer {
  const h = header(keyId, materialId);
  const c = createCipheriv('aes-256-gcm', material, h.subarray(h.length - IV_BYTES));
  c.setAAD(Buffer.concat([h, encodeEncryptionContext(context)]));
  const body = c.update(plaintext);
  const fin = c.final();
  return Buffer.concat([h, body, fin, c.getAuthTag()]);
}

/** Throws when the tag does not verify (tampered blob, wrong key material, wrong context). */
export function openSymmetric(material: Uint8Array, parsed: ParsedBlob, context: Readonly<Record<string, string>> | undefined): Buffer {
  const d = createDecipheriv('aes-256-gcm', material, parsed.iv);
  d.setAAD(Buffer.concat([parsed.header, encodeEncryptionContext(context)]));
  d.setAuthTag(parsed.tag);
  return Buffer.concat([d.update(parsed.body), d.final()]);
}

/** The same format, with AES-256-GCM done elsewhere (inside an HSM token): `aead` returns ciphertext ‖ tag. */
export async function sealSymmetricWith(
  aead: (iv: Buffer, aad: Buffer, plaintext: Uint8Array) => Promise<Buffer>,
  keyId: string,
  materialId: string,
  plaintext: Uint8Array,
  context: Readonly<Record<string, string>> | undefined,
): Promise<Buffer> {
  const h = header(keyId, materialId);
  const sealed = await aead(h.subarray(h.length - IV_BYTES), Buffer.concat([h, encodeEncryptionContext(context)]), plaintext);
  return Buffer.concat([h, sealed]);
}

export function openSymmetricWith(
  open: (iv: Buffer, aad: Buffer, ciphertextAndTag: Buffer) => Promise<Buffer>,
  parsed: ParsedBlob,
  context: Readonly<Record<string, string>> | undefined,
): Promise<Buffer> {
  return open(parsed.iv, Buffer.concat([parsed.header, encodeEncryptionContext(context)]), Buffer.concat([parsed.body, parsed.tag]));
}
