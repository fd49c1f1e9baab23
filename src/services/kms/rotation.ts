import { randomBytes } from 'node:crypto';
import * as sdk from '@aws-sdk/client-kms';
import type {
  DisableKeyRotationRequest, EnableKeyRotationRequest, GetKeyRotationStatusRequest, GetKeyRotationStatusResponse, ListKeyRotationsRequest, ListKeyRotationsResponse,
  RotateKeyOnDemandRequest, RotateKeyOnDemandResponse, RotationsListEntry,
} from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import { kmsError } from './errors.js';
import { newMaterialId } from './maintenance.js';
import type { KeyRecord } from './model.js';
import { setState } from './mutate.js';
import { requireState, requireUsable, resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { keyAudit, noteResource } from './shared.js';
import { checks } from './validate.js';

const DAY_MS = 86_400_000;
const MAX_ON_DEMAND = 25;

/** Rotation is for symmetric encryption keys with KMS-generated material (the primary, for multi-Region keys). */
function requireRotatable(k: KeyRecord): void {
  if (k.keySpec !== 'SYMMETRIC_DEFAULT') throw kmsError('UnsupportedOperationException', `${k.arn} key spec is ${k.keySpec} which is not valid for this operation.`);
  if (k.origin !== 'AWS_KMS') throw kmsError('UnsupportedOperationException', `${k.arn} origin is ${k.origin} which is not valid for this operation.`);
  if (k.multiRegion && k.primaryRegion !== k.region) throw kmsError('UnsupportedOperationException', `${k.arn} is a multi-Region replica key; rotate its primary key.`);
}

export function rotationOperations(kms: Kms): Record<string, OperationSpec> {
  return {
    EnableKeyRotation: {
      schema: sdk.EnableKeyRotation$,
      action: 'kms:EnableKeyRotation',
      audit: keyAudit<EnableKeyRotationRequest>({ request: (i) => ({ keyId: i.KeyId, ...(i.RotationPeriodInDays !== undefined ? { rotationPeriodInDays: i.RotationPeriodInDays } : {}) }) }),
      async handler(input: EnableKeyRotationRequest, ctx) {
        checks().range(input.RotationPeriodInDays, 'rotationPeriodInDays', 90, 2560).done();
        const days = input.RotationPeriodInDays ?? 365;
        await setState(kms, ctx, input.KeyId, 'EnableKeyRotation', (k) => {
          requireState(k, ['PendingDeletion', 'PendingImport', 'PendingReplicaDeletion', 'Unavailable']);
          if (k.state === 'Disabled') throw kmsError('DisabledException', `${k.arn} is disabled.`);
          requireRotatable(k);
          k.rotationEnabled = true;
          k.rotationPeriodDays = days;
          k.nextRotation = new Date(ctx.clock.nowMs() + days * DAY_MS);
        });
        return {};
      },
    },
    DisableKeyRotation: {
      schema: sdk.DisableKeyRotation$,
      action: 'kms:DisableKeyRotation',
      audit: keyAudit(),
      async handler(input: DisableKeyRotationRequest, ctx) {
        await setState(kms, ctx, input.KeyId, 'DisableKeyRotation', (k) => {
          requireState(k, ['PendingDeletion', 'PendingImport', 'PendingReplicaDeletion', 'Unavailable']);
          if (k.state === 'Disabled') throw kmsError('DisabledException', `${k.arn} is disabled.`);
          requireRotatable(k);
          k.rotationEnabled = false;
          delete k.nextRotation;
        });
        return {};
      },
    },
    GetKeyRotationStatus: {
      schema: sdk.GetKeyRotationStatus$,
      action: 'kms:GetKeyRotationStatus',
      audit: keyAudit({ readOnly: true }),
      async handler(input: GetKeyRotationStatusRequest, ctx): Promise<GetKeyRotationStatusResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).done();
        const r = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, r.key.arn);
        await kms.access.authorize(ctx, r, 'GetKeyRotationStatus');
        const k = r.key;
        if (k.keySpec !== 'SYMMETRIC_DEFAULT') throw kmsError('UnsupportedOperationException', `${k.arn} key spec is ${k.keySpec} which is not valid for this operation.`);
        return {
          KeyRotationEnabled: k.rotationEnabled, KeyId: k.arn,
          ...(k.rotationEnabled ? { RotationPeriodInDays: k.rotationPeriodDays ?? 365, ...(k.nextRotation ? { NextRotationDate: k.nextRotation } : {}) } : {}),
          ...(k.onDemandRotationStartDate ? { OnDemandRotationStartDate: k.onDemandRotationStartDate } : {}),
        };
      },
    },
    RotateKeyOnDemand: {
      schema: sdk.RotateKeyOnDemand$,
      action: 'kms:RotateKeyOnDemand',
      audit: keyAudit(),
      async handler(input: RotateKeyOnDemandRequest, ctx): Promise<RotateKeyOnDemandResponse> {
        const k = await setState(kms, ctx, input.KeyId, 'RotateKeyOnDemand', (k) => {
          requireUsable(k);
          requireRotatable(k);
          if (k.materials.filter((m) => m.rotationType === 'ON_DEMAND').length >= MAX_ON_DEMAND) {
            throw kmsError('LimitExceededException', `${k.arn} has reached the limit of ${MAX_ON_DEMAND} on-demand rotations.`);
          }
          const id = newMaterialId();
          k.materials.push({ id, sealed: kms.store.seal(k.keyId, id, randomBytes(32)), createdAt: ctx.clock.now(), rotationType: 'ON_DEMAND' });
          k.currentMaterialId = id;
        });
        await kms.store.syncReplicas(k);
        return { KeyId: k.arn };
      },
    },
    ListKeyRotations: {
      schema: sdk.ListKeyRotations$,
      action: 'kms:ListKeyRotations',
      audit: keyAudit({ readOnly: true }),
      async handler(input: ListKeyRotationsRequest, ctx): Promise<ListKeyRotationsResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).range(input.Limit, 'limit', 1, 1000).oneOf(input.IncludeKeyMaterial, 'includeKeyMaterial', ['ALL_KEY_MATERIAL', 'ROTATIONS_ONLY']).done();
        const r = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, r.key.arn);
        await kms.access.authorize(ctx, r, 'ListKeyRotations');
        const k = r.key;
        if (k.keySpec !== 'SYMMETRIC_DEFAULT') throw kmsError('UnsupportedOperationException', `${k.arn} key spec is ${k.keySpec} which is not valid for this operation.`);
        const all = input.IncludeKeyMaterial === 'ALL_KEY_MATERIAL';
        const rows: RotationsListEntry[] = k.materials
          .filter((m) => all || m.rotationType !== undefined)
          .map((m) => ({
            KeyId: k.arn, KeyMaterialId: m.id, RotationDate: m.createdAt, KeyMaterialState: m.id === k.currentMaterialId ? 'CURRENT' : 'NON_CURRENT',
            ...(m.rotationType ? { RotationType: m.rotationType } : {}),
          }));
        const start = input.Marker !== undefined ? Number(Buffer.from(input.Marker, 'base64url').toString()) : 0;
        if (!Number.isInteger(start) || start < 0) throw kmsError('InvalidMarkerException', 'The request was rejected because the marker that specifies where pagination should next begin is not valid.');
        const limit = input.Limit ?? 100;
        const truncated = start + limit < rows.length;
        return { Rotations: rows.slice(start, start + limit), Truncated: truncated, ...(truncated ? { NextMarker: Buffer.from(String(start + limit)).toString('base64url') } : {}) };
      },
    },
  };
}
