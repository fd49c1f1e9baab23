import type { GrantOperation, KeyUsageType } from '@aws-sdk/client-kms';
import type { RequestContext } from '../../server/context.js';
import type { LoadedMaterial } from '../../crypto/material.js';
import { dryRunSucceeded, kmsError } from './errors.js';
import { checkGrantTokens } from './grant-tokens.js';
import type { KeyRecord } from './model.js';
import type { ConditionValue } from './policy.js';
import { requireUsable, resolveKey, type ResolvedKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { noteResource } from './shared.js';

export interface UseKeyOptions {
  usage: KeyUsageType;
  grantOp?: GrantOperation;
  encryptionContext?: Readonly<Record<string, string>> | undefined;
  grantTokens?: readonly string[] | undefined;
  conditions?: Record<string, ConditionValue>;
  dryRun?: boolean | undefined;
  /** Key id forms AWS accepts here (default: all four). */
  form?: 'any' | 'key';
}

/**
 * The common path of every cryptographic operation: resolve the key (by id,
 * ARN, alias or alias ARN), authorize (key policy → identity → grants),
 * check its state and usage, honour DryRun. Returns the key and its current
 * material (unsealed, cached).
 */
export async function useKey(kms: Kms, ctx: RequestContext, keyIdIn: string, operation: string, o: UseKeyOptions): Promise<{ key: KeyRecord; resolved: ResolvedKey; material: LoadedMaterial }> {
  checkGrantTokens(o.grantTokens);
  const resolved = await resolveKey(kms, ctx, keyIdIn, o.form ?? 'any');
  const key = resolved.key;
  noteResource(ctx, key.arn);
  // ReEncrypt is authorized as its two IAM actions, kms:ReEncryptFrom and kms:ReEncryptTo.
  await kms.access.authorize(ctx, resolved, o.grantOp ?? operation, {
    encryptionContext: o.encryptionContext,
    grantTokens: o.grantTokens,
    conditions: { ...(resolved.alias ? { 'kms:requestalias': resolved.alias } : {}), ...o.conditions },
  });
  requireUsable(key);
  requireUsage(key, o.usage, operation);
  const material = kms.store.material(key);
  if (!material) throw kmsError('KMSInvalidStateException', `${key.arn} is pending import.`);
  if (o.dryRun === true) throw dryRunSucceeded();
  return { key, resolved, material };
}

export function requireUsage(key: KeyRecord, usage: KeyUsageType, operation: string): void {
  if (key.keyUsage !== usage) throw kmsError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
}
