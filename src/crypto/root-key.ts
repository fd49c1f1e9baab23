import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readOrCreateSecretFile } from '../lib/secret-file.js';

export interface KmsRootKey {
  key: Buffer;
  /** Where it came from, for the start banner and the docs. */
  source: 'configuration' | 'file' | 'generated' | 'data-dir';
}

/** The data-dir file that holds a generated root key (base64, mode 0600). */
export const ROOT_KEY_FILE = 'kms-root.key';

function decode32(text: string): Buffer | undefined {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined;
  const b = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
  return b.length === 32 ? b : undefined;
}

/**
 * The KMS root key: every key's material is sealed under it. Configured as
 * base64 of 32 bytes or as a path to a file holding that (or 32 raw bytes);
 * otherwise generated on first start into the data dir. A configured value
 * that is neither is an error at start, never a silent fallback.
 */
export async function loadKmsRootKey(opts: { dataDir: string; kmsRootKey: string | undefined }): Promise<KmsRootKey> {
  const configured = opts.kmsRootKey;
  if (configured !== undefined && configured !== '') {
    const direct = decode32(configured);
    if (direct) return { key: direct, source: 'configuration' };
    let raw: Buffer;
    try {
      raw = await readFile(configured);
    } catch (e) {
      throw new Error(`kmsRootKey is neither base64 of 32 bytes nor a readable file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const fromFile = raw.length === 32 ? raw : decode32(raw.toString('utf8'));
    if (!fromFile) throw new Error(`kmsRootKey file ${configured} must hold 32 bytes, raw or base64`);
    return { key: fromFile, source: 'file' };
  }
  const path = join(opts.dataDir, ROOT_KEY_FILE);
  const { text, created } = await readOrCreateSecretFile(path, () => randomBytes(32).toString('base64') + '\n');
  const key = decode32(text);
  if (!key) throw new Error(`${path} does not hold a 32-byte base64 key`);
  return { key, source: created ? 'generated' : 'data-dir' };
}
