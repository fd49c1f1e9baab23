import { createHash, randomBytes } from 'node:crypto';
import { newAccessKeyId, newSecretAccessKey } from './root-key.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** IAM unique ids: a kind prefix (AIDA user, AGPA group, AROA role, ANPA policy) and 17 upper-case characters. */
export function uniqueId(prefix: 'AIDA' | 'AGPA' | 'AROA' | 'ANPA' | 'ASCA'): string {
  let s = prefix;
  for (const b of randomBytes(17)) s += ALNUM[b % 36];
  return s;
}

export { newAccessKeyId, newSecretAccessKey };

/** A session token: opaque, long, unguessable (256 random bits plus padding to AWS's usual length). */
export function newSessionToken(): string {
  return `IQoJb3JpZ2luX2VjE${randomBytes(240).toString('base64')}`;
}

const canonicalIds = new Map<string, string>();

/**
 * S3's canonical user id for an account (64 hex chars), stable per account. Not secret, only
 * stable: a fixed derivation AWS clients treat as opaque. Policies may name an account by it
 * (`"Principal": {"CanonicalUser": "<id>"}`), so the policy engine resolves it too.
 */
export function canonicalUserId(accountId: string): string {
  let id = canonicalIds.get(accountId);
  if (id === undefined) {
    id = createHash('sha256').update(`hanul-canonical-user:${accountId}`).digest('hex');
    if (canonicalIds.size < 1024) canonicalIds.set(accountId, id);
  }
  return id;
}
