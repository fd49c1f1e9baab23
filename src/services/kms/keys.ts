import { randomUUID, randomBytes } from 'node:crypto';
import * as sdk from '@aws-sdk/client-kms';
import type {
  CancelKeyDeletionRequest, CancelKeyDeletionResponse, CreateKeyRequest, CreateKeyResponse, DescribeKeyRequest, DescribeKeyResponse,
  DisableKeyRequest, EnableKeyRequest, KeySpec, KeyUsageType, ListKeysRequest, ListKeysResponse, OriginType, ScheduleKeyDeletionRequest,
  ScheduleKeyDeletionResponse, UpdateKeyDescriptionRequest,
} from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { SUPPORTED_KEY_SPECS, specInfo } from '../../crypto/key-specs.js';
import { generateMaterial, loadMaterial, publicKeyDer } from '../../crypto/material.js';
import { kmsError } from './errors.js';
import { newMaterialId } from './maintenance.js';
import { tokenKeyLabel } from './store.js';
import { NS_KEY, defaultKeyPolicy, keyArn, keyKey, keyMetadata, type KeyRecord } from './model.js';
import { checkPolicyForCaller } from './policies.js';
import { requireState, resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { checkTags } from './tags.js';
import { setState } from './mutate.js';
import { checks, invalid } from './validate.js';
import { keyAudit, listPage, pageMarker } from './shared.js';

const USAGES: readonly KeyUsageType[] = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT', 'ENCAPSULATE_DECAPSULATE'];
const ORIGINS: readonly OriginType[] = ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'];
const DAY_MS = 86_400_000;

export function keyOperations(kms: Kms): Record<string, OperationSpec> {
  return {
    CreateKey: {
      schema: sdk.CreateKey$,
      action: 'kms:CreateKey',
      handler: (input: CreateKeyRequest, ctx) => createKey(kms, input, ctx),
      audit: {
        request: (i: CreateKeyRequest) => ({ keyUsage: i.KeyUsage ?? 'ENCRYPT_DECRYPT', keySpec: i.KeySpec ?? i.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT', origin: i.Origin ?? 'AWS_KMS', description: i.Description ?? '', multiRegion: i.MultiRegion ?? false, bypassPolicyLockoutSafetyCheck: i.BypassPolicyLockoutSafetyCheck ?? false, ...(i.Tags ? { tags: i.Tags } : {}) }),
        response: (o: CreateKeyResponse) => ({ keyMetadata: o.KeyMetadata }),
        resources: (_i, o: CreateKeyResponse | undefined, ctx) => (o?.KeyMetadata?.Arn ? [{ ARN: o.KeyMetadata.Arn, type: 'AWS::KMS::Key', accountId: ctx.accountId }] : []),
      },
    },
    DescribeKey: {
      schema: sdk.DescribeKey$,
      action: 'kms:DescribeKey',
      audit: keyAudit({ readOnly: true }),
      async handler(input: DescribeKeyRequest, ctx): Promise<DescribeKeyResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).grantTokens(input.GrantTokens).done();
        const k = await resolveKey(kms, ctx, input.KeyId as string, 'any');
        await kms.access.authorize(ctx, k, 'DescribeKey', { grantTokens: input.GrantTokens });
        return { KeyMetadata: keyMetadata(k.key) };
      },
    },
    ListKeys: {
      schema: sdk.ListKeys$,
      action: 'kms:ListKeys',
      audit: { readOnly: true, request: (i: ListKeysRequest) => (i.Limit === undefined ? null : { limit: i.Limit }), response: () => null },
      async handler(input: ListKeysRequest, ctx): Promise<ListKeysResponse> {
        checks().range(input.Limit, 'limit', 1, 1000).length(input.Marker, 'marker', 1, 1024).done();
        await kms.access.authorizeAccount(ctx, 'ListKeys');
        const now = ctx.clock.nowMs();
        const page = await listPage<KeyRecord>(kms, NS_KEY, `${ctx.region}/`, input.Marker, input.Limit ?? 1000, (k) => !(k.state === 'PendingDeletion' && k.deletionDate && k.deletionDate.getTime() <= now));
        return { Keys: page.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), Truncated: page.truncated, ...pageMarker(page) };
      },
    },
    EnableKey: {
      schema: sdk.EnableKey$,
      action: 'kms:EnableKey',
      audit: keyAudit(),
      handler: async (input: EnableKeyRequest, ctx) => {
        await setState(kms, ctx, input.KeyId, 'EnableKey', (k) => {
          requireState(k, ['PendingDeletion', 'PendingImport', 'PendingReplicaDeletion', 'Unavailable']);
          k.state = 'Enabled';
        });
        return {};
      },
    },
    DisableKey: {
      schema: sdk.DisableKey$,
      action: 'kms:DisableKey',
      audit: keyAudit(),
      handler: async (input: DisableKeyRequest, ctx) => {
        await setState(kms, ctx, input.KeyId, 'DisableKey', (k) => {
          requireState(k, ['PendingDeletion', 'PendingImport', 'PendingReplicaDeletion', 'Unavailable']);
          k.state = 'Disabled';
        });
        return {};
      },
    },
    UpdateKeyDescription: {
      schema: sdk.UpdateKeyDescription$,
      action: 'kms:UpdateKeyDescription',
      audit: keyAudit({ request: (i: UpdateKeyDescriptionRequest) => ({ keyId: i.KeyId, description: i.Description }) }),
      handler: async (input: UpdateKeyDescriptionRequest, ctx) => {
        checks().required(input.Description, 'description').length(input.Description, 'description', 0, 8192).done();
        await setState(kms, ctx, input.KeyId, 'UpdateKeyDescription', (k) => {
          requireState(k);
          k.description = input.Description as string;
        });
        return {};
      },
    },
    ScheduleKeyDeletion: {
      schema: sdk.ScheduleKeyDeletion$,
      action: 'kms:ScheduleKeyDeletion',
      audit: keyAudit({
        request: (i: ScheduleKeyDeletionRequest) => ({ keyId: i.KeyId, pendingWindowInDays: i.PendingWindowInDays ?? 30 }),
        response: (o: ScheduleKeyDeletionResponse) => ({ keyId: o.KeyId, deletionDate: o.DeletionDate, keyState: o.KeyState, pendingWindowInDays: o.PendingWindowInDays }),
      }),
      async handler(input: ScheduleKeyDeletionRequest, ctx): Promise<ScheduleKeyDeletionResponse> {
        const days = input.PendingWindowInDays ?? 30;
        checks().custom(days >= 7 && days <= 30, days, 'pendingWindowInDays', 'Member must have value between 7 and 30').done();
        const k = await setState(kms, ctx, input.KeyId, 'ScheduleKeyDeletion', (k) => {
          requireState(k, ['PendingDeletion', 'PendingReplicaDeletion']);
          k.pendingWindowDays = days;
          if (k.multiRegion && k.primaryRegion === k.region && (k.replicaRegions ?? []).length > 0) {
            // AWS: a primary with replicas waits (indefinitely) for them to be deleted; its waiting period starts then.
            k.state = 'PendingReplicaDeletion';
            delete k.deletionDate;
          } else {
            k.state = 'PendingDeletion';
            k.deletionDate = new Date(ctx.clock.nowMs() + days * DAY_MS);
          }
        });
        return { KeyId: k.arn, ...(k.deletionDate ? { DeletionDate: k.deletionDate } : {}), KeyState: k.state, PendingWindowInDays: days };
      },
    },
    CancelKeyDeletion: {
      schema: sdk.CancelKeyDeletion$,
      action: 'kms:CancelKeyDeletion',
      audit: keyAudit(),
      async handler(input: CancelKeyDeletionRequest, ctx): Promise<CancelKeyDeletionResponse> {
        const k = await setState(kms, ctx, input.KeyId, 'CancelKeyDeletion', (k) => {
          if (k.state !== 'PendingDeletion' && k.state !== 'PendingReplicaDeletion') throw kmsError('KMSInvalidStateException', `${k.arn} is not pending deletion.`);
          k.state = k.currentMaterialId === undefined ? 'PendingImport' : 'Disabled';
          delete k.deletionDate;
          delete k.pendingWindowDays;
        });
        return { KeyId: k.arn };
      },
    },
  };
}

async function createKey(kms: Kms, input: CreateKeyRequest, ctx: RequestContext): Promise<CreateKeyResponse> {
  const specIn = input.KeySpec ?? input.CustomerMasterKeySpec;
  checks()
    .length(input.Policy, 'policy', 1, 32768)
    .length(input.Description, 'description', 0, 8192)
    .oneOf(input.KeyUsage, 'keyUsage', USAGES)
    .oneOf(input.CustomerMasterKeySpec, 'customerMasterKeySpec', SUPPORTED_KEY_SPECS)
    .oneOf(input.KeySpec, 'keySpec', SUPPORTED_KEY_SPECS)
    .oneOf(input.Origin, 'origin', ORIGINS)
    .length(input.CustomKeyStoreId, 'customKeyStoreId', 1, 64)
    .done();
  if (input.KeySpec !== undefined && input.CustomerMasterKeySpec !== undefined) {
    throw invalid('You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.');
  }
  const keySpec: KeySpec = specIn ?? 'SYMMETRIC_DEFAULT';
  const info = specInfo(keySpec);
  if (!info) throw invalid(`KeySpec ${keySpec} is not supported.`);
  if (input.KeyUsage === undefined && keySpec !== 'SYMMETRIC_DEFAULT') {
    throw invalid('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
  }
  const keyUsage: KeyUsageType = input.KeyUsage ?? 'ENCRYPT_DECRYPT';
  if (!info.usages.includes(keyUsage)) throw invalid(`KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
  const origin: OriginType = input.Origin ?? (input.CustomKeyStoreId !== undefined ? 'AWS_CLOUDHSM' : 'AWS_KMS');
  if ((origin === 'AWS_CLOUDHSM') !== (input.CustomKeyStoreId !== undefined)) {
    throw invalid('Origin AWS_CLOUDHSM requires a CustomKeyStoreId, and a CustomKeyStoreId requires Origin AWS_CLOUDHSM.');
  }
  if (origin === 'AWS_CLOUDHSM' && (keySpec !== 'SYMMETRIC_DEFAULT' || keyUsage !== 'ENCRYPT_DECRYPT')) {
    throw kmsError('UnsupportedOperationException', 'KMS keys in a custom key store must be symmetric encryption keys (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT).');
  }
  if (origin === 'EXTERNAL_KEY_STORE') throw kmsError('UnsupportedOperationException', 'External key stores (XKS) are not supported by hanul.');
  checkTags(input.Tags);
  await kms.access.authorizeAccount(ctx, 'CreateKey');

  const multiRegion = input.MultiRegion === true;
  const keyId = multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID();
  const arn = keyArn(ctx.region, ctx.accountId, keyId);
  const policy = input.Policy ?? defaultKeyPolicy(ctx.accountId);
  if (input.Policy !== undefined) checkPolicyForCaller(ctx, policy, arn, input.BypassPolicyLockoutSafetyCheck === true);

  const now = ctx.clock.now();
  const rec: KeyRecord = {
    keyId, arn, accountId: ctx.accountId, region: ctx.region, createdAt: now,
    description: input.Description ?? '', keySpec, keyUsage, origin,
    state: origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
    multiRegion, policy, tags: input.Tags ?? [], rotationEnabled: false, materials: [], version: 1,
    ...(multiRegion ? { primaryRegion: ctx.region, replicaRegions: [] } : {}),
  };
  if (origin === 'AWS_CLOUDHSM') {
    // Generated inside the token, never seen here: the record holds only its id.
    const cks = kms.customKeyStores;
    const store = cks ? await cks.get(ctx, input.CustomKeyStoreId) : undefined;
    const token = store ? cks?.token(store.id) : undefined;
    if (!store || !token || store.state !== 'CONNECTED') {
      throw kmsError('CustomKeyStoreInvalidStateException', `Custom key store ${String(input.CustomKeyStoreId)} is not connected.`);
    }
    const id = newMaterialId();
    await token.generateAesKey(tokenKeyLabel(keyId, id));
    rec.materials.push({ id, sealed: new Uint8Array(0), createdAt: now });
    rec.currentMaterialId = id;
    rec.customKeyStoreId = store.id;
    rec.cloudHsmClusterId = store.clusterId;
  }
  if (origin === 'AWS_KMS') {
    const raw = await generateMaterial(info);
    const id = newMaterialId();
    rec.materials.push({ id, sealed: kms.store.seal(keyId, id, raw), createdAt: now });
    rec.currentMaterialId = id;
    const pub = publicKeyDer(loadMaterial(info, raw));
    if (pub) rec.publicKey = pub;
    raw.fill(0);
  }
  await kms.store.write((tx) => tx.put(NS_KEY, keyKey(ctx.region, keyId), rec), [{ region: ctx.region, keyId }]);
  return { KeyMetadata: keyMetadata(rec) };
}
