import { randomBytes } from 'node:crypto';
import { kmsError } from './errors.js';

/**
 * Grant tokens name their grant (region, key, grant id) plus a random part;
 * the grant record lists the tokens issued for it. A string that is not one
 * of ours is an InvalidGrantTokenException.
 */
export function newGrantToken(region: string, keyId: string, grantId: string): string {
  return Buffer.from(JSON.stringify([1, region, keyId, grantId, randomBytes(24).toString('base64url')])).toString('base64url');
}

export function parseGrantToken(token: string): { region: string; keyId: string; grantId: string } | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v[0] !== 1 || v.length !== 5 || !v.slice(1).every((x) => typeof x === 'string')) return undefined;
    return { region: v[1] as string, keyId: v[2] as string, grantId: v[3] as string };
  } catch {
    return undefined;
  }
}

/** Every grant token in a request must be well formed. */
export function checkGrantTokens(tokens: readonly string[] | undefined): void {
  for (const t of tokens ?? []) if (!parseGrantToken(t)) throw kmsError('InvalidGrantTokenException', 'Grant token is invalid');
}
