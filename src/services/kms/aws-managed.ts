import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestContext } from '../../server/context.js';
import { newMaterialId } from './maintenance.js';
import { NS_ALIAS, NS_KEY, aliasKey, keyArn, keyKey, type AliasRecord, type KeyRecord } from './model.js';
import type { Kms } from './runtime.js';

const DAY_MS = 86_400_000;
export const AWS_MANAGED_ALIAS = /^alias\/aws\/[a-z0-9-]{1,64}$/;

/**
 * AWS managed keys: `alias/aws/<service>` (aws/s3, aws/kinesis, …) exists as
 * soon as something uses it — AWS creates the key on first use, and so does
 * hanul. Its policy lets the account use and inspect it, nothing more: it
 * cannot be disabled, deleted or re-policied. Rotated yearly.
 */
function managedPolicy(accountId: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'auto-managed-key-policy',
      Statement: [
        {
          Sid: 'Allow access through the AWS service for all principals in the account that are authorized to use it',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
          Resource: '*',
          Condition: { StringEquals: { 'kms:CallerAccount': accountId } },
        },
        {
          Sid: 'Allow direct access to key metadata to the account',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${accountId}:root` },
          Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
          Resource: '*',
        },
      ],
    },
    null,
    2,
  );
}

/** The key behind an AWS managed alias, created (with its alias, in one transaction) if this is its first use. */
export async function awsManagedKey(kms: Kms, ctx: RequestContext, alias: string): Promise<string> {
  const service = alias.slice('alias/aws/'.length);
  const now = ctx.clock.now();
  const keyId = randomUUID();
  const id = newMaterialId();
  const rec: KeyRecord = {
    keyId, arn: keyArn(ctx.region, ctx.accountId, keyId), accountId: ctx.accountId, region: ctx.region, createdAt: now,
    description: `Default key that protects my ${service.toUpperCase()} data when no other key is defined`,
    keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', state: 'Enabled', keyManager: 'AWS',
    multiRegion: false, policy: managedPolicy(ctx.accountId), tags: [],
    rotationEnabled: true, rotationPeriodDays: 365, nextRotation: new Date(now.getTime() + 365 * DAY_MS),
    materials: [{ id, sealed: kms.store.seal(keyId, id, randomBytes(32)), createdAt: now }], currentMaterialId: id, version: 1,
  };
  const target = await kms.store.write(async (tx) => {
    const existing = await tx.get<AliasRecord>(NS_ALIAS, aliasKey(ctx.region, alias));
    if (existing) return existing.targetKeyId;
    await tx.put(NS_KEY, keyKey(ctx.region, keyId), rec);
    await tx.put(NS_ALIAS, aliasKey(ctx.region, alias), { aliasName: alias, targetKeyId: keyId, createdAt: now, updatedAt: now } satisfies AliasRecord);
    return keyId;
  }, [{ region: ctx.region, alias }]);
  return target;
}
