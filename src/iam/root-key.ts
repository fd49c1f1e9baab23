import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { readOrCreateSecretFile } from '../lib/secret-file.js';
import type { Principal } from '../server/context.js';

export interface RootKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** Where it came from, for the start banner. */
  source: 'configuration' | 'generated' | 'data-dir';
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** An access key id as AWS shapes them: a 4-letter kind prefix and 16 upper-case characters. */
export function newAccessKeyId(prefix = 'AKIA'): string {
  const b = randomBytes(16);
  let s = prefix;
  for (const byte of b) s += ALNUM[byte % 32];
  return s;
}

export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

/**
 * The root user's key: from configuration, else from the data dir, else
 * generated on first start and kept there (mode 0600).
 */
export async function loadRootKey(config: Pick<Config, 'dataDir' | 'rootAccessKeyId' | 'rootSecretAccessKey'>): Promise<RootKey> {
  if (config.rootAccessKeyId !== undefined && config.rootSecretAccessKey !== undefined) {
    return { accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey, source: 'configuration' };
  }
  const { text, created } = await readOrCreateSecretFile(join(config.dataDir, 'root-credentials.json'), () =>
    JSON.stringify({ accessKeyId: newAccessKeyId(), secretAccessKey: newSecretAccessKey() }, null, 2) + '\n',
  );
  const parsed = JSON.parse(text) as { accessKeyId?: unknown; secretAccessKey?: unknown };
  if (typeof parsed.accessKeyId !== 'string' || typeof parsed.secretAccessKey !== 'string') {
    throw new Error(`${join(config.dataDir, 'root-credentials.json')} is not a credentials file`);
  }
  return { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey, source: created ? 'generated' : 'data-dir' };
}

export function rootPrincipal(accountId: string, accessKeyId?: string): Principal {
  return {
    type: 'root',
    arn: `arn:aws:iam::${accountId}:root`,
    accountId,
    userId: accountId,
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
  };
}

export function anonymousPrincipal(): Principal {
  return { type: 'anonymous', arn: '*', accountId: 'anonymous', userId: 'anonymous' };
}
