import * as sdk from '@aws-sdk/client-kms';
import type { ReplicateKeyRequest, ReplicateKeyResponse, UpdatePrimaryRegionRequest } from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import { kmsError } from './errors.js';
import { NS_KEY, keyArn, keyKey, keyMetadata, type KeyRecord } from './model.js';
import { checkPolicyForCaller } from './policies.js';
import { requireState, resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { keyAudit, noteResource } from './shared.js';
import { checkTags } from './tags.js';
import { checks, invalid } from './validate.js';

/** Every region a multi-Region key lives in (primary first). */
const regionsOf = (k: KeyRecord): string[] => [k.primaryRegion as string, ...(k.replicaRegions ?? [])];

export function multiRegionOperations(kms: Kms): Record<string, OperationSpec> {
  return {
    ReplicateKey: {
      schema: sdk.ReplicateKey$,
      action: 'kms:ReplicateKey',
      audit: keyAudit<ReplicateKeyRequest>({ request: (i) => ({ keyId: i.KeyId, replicaRegion: i.ReplicaRegion, ...(i.Description !== undefined ? { description: i.Description } : {}) }) }),
      async handler(input: ReplicateKeyRequest, ctx): Promise<ReplicateKeyResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.ReplicaRegion, 'replicaRegion').length(input.ReplicaRegion, 'replicaRegion', 1, 32)
          .pattern(input.ReplicaRegion, 'replicaRegion', /^([a-z]+-){2,3}\d+$/, '^([a-z]+-){2,3}\\d+$').length(input.Policy, 'policy', 1, 32768).length(input.Description, 'description', 0, 8192).done();
        checkTags(input.Tags);
        const region = input.ReplicaRegion as string;
        if (!kms.isRegion(region)) throw invalid(`${region} is not a valid region.`);
        const r = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, r.key.arn);
        await kms.access.authorize(ctx, r, 'ReplicateKey');
        const p = r.key;
        requireState(p);
        if (!p.multiRegion) throw kmsError('UnsupportedOperationException', `${p.arn} is not a multi-Region key.`);
        if (p.primaryRegion !== p.region) throw kmsError('UnsupportedOperationException', `${p.arn} is not a multi-Region primary key.`);
        if (region === p.region) throw invalid(`The replica region ${region} must be different from the primary key's region.`);
        const arn = keyArn(region, p.accountId, p.keyId);
        const policy = input.Policy ?? p.policy;
        checkPolicyForCaller(ctx, policy, arn, input.BypassPolicyLockoutSafetyCheck === true);
        const replica = await kms.store.write(async (tx) => {
          if (await tx.get(NS_KEY, keyKey(region, p.keyId))) throw kmsError('AlreadyExistsException', `Key '${arn}' already exists`);
          const primary = await tx.get<KeyRecord>(NS_KEY, keyKey(p.region, p.keyId));
          if (!primary) throw kmsError('NotFoundException', `Key '${p.arn}' does not exist`);
          const rep: KeyRecord = {
            ...primary, arn, region, createdAt: ctx.clock.now(), description: input.Description ?? '', policy, tags: input.Tags ?? [],
            state: primary.currentMaterialId === undefined ? 'PendingImport' : 'Enabled', rotationEnabled: false, materials: primary.materials.map((m) => ({ ...m })), version: 1,
          };
          delete rep.deletionDate;
          delete rep.pendingWindowDays;
          delete rep.nextRotation;
          const all = [...(primary.replicaRegions ?? []), region];
          for (const reg of regionsOf(primary)) {
            const sib = reg === primary.region ? primary : await tx.get<KeyRecord>(NS_KEY, keyKey(reg, p.keyId));
            if (!sib) continue;
            sib.replicaRegions = all;
            sib.version++;
            await tx.put(NS_KEY, keyKey(reg, p.keyId), sib);
          }
          rep.replicaRegions = all;
          await tx.put(NS_KEY, keyKey(region, p.keyId), rep);
          return rep;
        });
        kms.store.forgetAll();
        return { ReplicaKeyMetadata: keyMetadata(replica), ReplicaPolicy: replica.policy, ReplicaTags: replica.tags };
      },
    },
    UpdatePrimaryRegion: {
      schema: sdk.UpdatePrimaryRegion$,
      action: 'kms:UpdatePrimaryRegion',
      audit: keyAudit<UpdatePrimaryRegionRequest>({ request: (i) => ({ keyId: i.KeyId, primaryRegion: i.PrimaryRegion }) }),
      async handler(input: UpdatePrimaryRegionRequest, ctx) {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.PrimaryRegion, 'primaryRegion').length(input.PrimaryRegion, 'primaryRegion', 1, 32).done();
        const r = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, r.key.arn);
        await kms.access.authorize(ctx, r, 'UpdatePrimaryRegion');
        const p = r.key;
        requireState(p);
        if (!p.multiRegion) throw kmsError('UnsupportedOperationException', `${p.arn} is not a multi-Region key.`);
        if (p.primaryRegion !== p.region) throw kmsError('UnsupportedOperationException', `${p.arn} is not a multi-Region primary key.`);
        const target = input.PrimaryRegion as string;
        if (!(p.replicaRegions ?? []).includes(target)) throw kmsError('NotFoundException', `Key '${keyArn(target, p.accountId, p.keyId)}' does not exist`);
        await kms.store.write(async (tx) => {
          const all = regionsOf(p);
          for (const reg of all) {
            const sib = await tx.get<KeyRecord>(NS_KEY, keyKey(reg, p.keyId));
            if (!sib) continue;
            sib.primaryRegion = target;
            sib.replicaRegions = all.filter((x) => x !== target);
            // Automatic rotation belongs to the primary.
            if (reg !== target) {
              sib.rotationEnabled = false;
              delete sib.nextRotation;
            } else if (p.rotationEnabled) {
              sib.rotationEnabled = true;
              if (p.rotationPeriodDays !== undefined) sib.rotationPeriodDays = p.rotationPeriodDays;
              if (p.nextRotation) sib.nextRotation = p.nextRotation;
            }
            sib.version++;
            await tx.put(NS_KEY, keyKey(reg, p.keyId), sib);
          }
        });
        kms.store.forgetAll();
        return {};
      },
    },
  };
}
