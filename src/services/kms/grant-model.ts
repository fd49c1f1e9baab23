import type { GrantConstraints, GrantOperation } from '@aws-sdk/client-kms';

/** A grant (namespace 'kms:grant', key `<region>/<keyId>/<grantId>`). */
export interface GrantRecord {
  grantId: string;
  keyId: string;
  keyArn: string;
  region: string;
  name?: string;
  createdAt: Date;
  granteePrincipal: string;
  retiringPrincipal?: string;
  issuingAccount: string;
  operations: GrantOperation[];
  constraints?: GrantConstraints;
  /** Every token issued for this grant (CreateGrant again with the same Name issues another). */
  tokens: string[];
}

/** Whether the grant's constraints admit this encryption context. */
export function constraintsAllow(c: GrantConstraints | undefined, ctx: Readonly<Record<string, string>> | undefined): boolean {
  if (!c) return true;
  const have = ctx ?? {};
  if (c.EncryptionContextEquals) {
    const want = c.EncryptionContextEquals;
    const wk = Object.keys(want);
    if (wk.length !== Object.keys(have).length) return false;
    if (!wk.every((k) => have[k] === want[k])) return false;
  }
  if (c.EncryptionContextSubset) {
    for (const [k, v] of Object.entries(c.EncryptionContextSubset)) if (have[k] !== v) return false;
  }
  return true;
}
