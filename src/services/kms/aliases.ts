import * as sdk from '@aws-sdk/client-kms';
import type { CreateAliasRequest, DeleteAliasRequest, ListAliasesRequest, ListAliasesResponse, UpdateAliasRequest } from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { kmsError } from './errors.js';
import { NS_ALIAS, aliasArn, aliasKey, type AliasRecord } from './model.js';
import { requireState, resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { listPage, noteResource, pageMarker, touchedResources } from './shared.js';
import { checks, invalid } from './validate.js';

const ALIAS_PATTERN = /^[a-zA-Z0-9:/_-]+$/;

function checkAliasName(name: string | undefined, creating: boolean): string {
  checks().required(name, 'aliasName').length(name, 'aliasName', 1, 256).pattern(name, 'aliasName', ALIAS_PATTERN, '^[a-zA-Z0-9:/_-]+$').done();
  const n = name as string;
  if (!n.startsWith('alias/')) throw invalid('Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  if (creating && n.startsWith('alias/aws/')) throw kmsError('InvalidAliasNameException', 'Alias names that begin with alias/aws/ are reserved for AWS managed keys.');
  if (n === 'alias/') throw kmsError('InvalidAliasNameException', 'Alias name must have a name after alias/.');
  return n;
}

const aliasAudit = <I extends { AliasName?: string | undefined }>(extra: (i: I) => Record<string, unknown> = () => ({})) => ({
  request: (i: I) => ({ aliasName: i.AliasName, ...extra(i) }),
  response: () => null,
  resources: (_i: I, _o: unknown, ctx: RequestContext) => touchedResources(ctx),
});

export function aliasOperations(kms: Kms): Record<string, OperationSpec> {
  /** The target of CreateAlias/UpdateAlias: key id or ARN, a customer key not pending deletion, and allowed by its policy. */
  async function target(ctx: RequestContext, keyId: string | undefined, op: string) {
    checks().required(keyId, 'targetKeyId').length(keyId, 'targetKeyId', 1, 2048).done();
    const k = await resolveKey(kms, ctx, keyId as string, 'key');
    noteResource(ctx, k.key.arn);
    await kms.access.authorize(ctx, k, op);
    requireState(k.key);
    return k.key;
  }

  return {
    CreateAlias: {
      schema: sdk.CreateAlias$,
      action: 'kms:CreateAlias',
      audit: aliasAudit<CreateAliasRequest>((i) => ({ targetKeyId: i.TargetKeyId })),
      async handler(input: CreateAliasRequest, ctx) {
        const name = checkAliasName(input.AliasName, true);
        const key = await target(ctx, input.TargetKeyId, 'CreateAlias');
        const now = ctx.clock.now();
        await kms.store.write(async (tx) => {
          if (await tx.get(NS_ALIAS, aliasKey(ctx.region, name))) {
            throw kmsError('AlreadyExistsException', `An alias with the name ${aliasArn(ctx.region, ctx.accountId, name)} already exists`);
          }
          const rec: AliasRecord = { aliasName: name, targetKeyId: key.keyId, createdAt: now, updatedAt: now };
          await tx.put(NS_ALIAS, aliasKey(ctx.region, name), rec);
        }, [{ region: ctx.region, alias: name }]);
        return {};
      },
    },
    UpdateAlias: {
      schema: sdk.UpdateAlias$,
      action: 'kms:UpdateAlias',
      audit: aliasAudit<UpdateAliasRequest>((i) => ({ targetKeyId: i.TargetKeyId })),
      async handler(input: UpdateAliasRequest, ctx) {
        const name = checkAliasName(input.AliasName, false);
        const current = await kms.store.getAlias(ctx.region, name);
        if (!current) throw kmsError('NotFoundException', `Alias ${aliasArn(ctx.region, ctx.accountId, name)} is not found.`);
        const key = await target(ctx, input.TargetKeyId, 'UpdateAlias');
        const old = await kms.store.getKey(ctx.region, current.targetKeyId);
        if (old && (old.key.keyUsage !== key.keyUsage || (old.key.keySpec === 'SYMMETRIC_DEFAULT') !== (key.keySpec === 'SYMMETRIC_DEFAULT'))) {
          throw invalid(`Alias ${name} cannot be changed from a key with key usage ${old.key.keyUsage} and key spec ${old.key.keySpec} to a key with key usage ${key.keyUsage} and key spec ${key.keySpec}.`);
        }
        await kms.store.write(async (tx) => {
          const rec = await tx.get<AliasRecord>(NS_ALIAS, aliasKey(ctx.region, name));
          if (!rec) throw kmsError('NotFoundException', `Alias ${aliasArn(ctx.region, ctx.accountId, name)} is not found.`);
          await tx.put(NS_ALIAS, aliasKey(ctx.region, name), { ...rec, targetKeyId: key.keyId, updatedAt: ctx.clock.now() });
        }, [{ region: ctx.region, alias: name }]);
        return {};
      },
    },
    DeleteAlias: {
      schema: sdk.DeleteAlias$,
      action: 'kms:DeleteAlias',
      audit: aliasAudit<DeleteAliasRequest>(),
      async handler(input: DeleteAliasRequest, ctx) {
        const name = checkAliasName(input.AliasName, false);
        const current = await kms.store.getAlias(ctx.region, name);
        if (!current) throw kmsError('NotFoundException', `Alias ${aliasArn(ctx.region, ctx.accountId, name)} is not found.`);
        const k = await kms.store.getKey(ctx.region, current.targetKeyId);
        if (k) {
          noteResource(ctx, k.key.arn);
          await kms.access.authorize(ctx, k, 'DeleteAlias');
        }
        await kms.store.write((tx) => tx.delete(NS_ALIAS, aliasKey(ctx.region, name)), [{ region: ctx.region, alias: name }]);
        return {};
      },
    },
    ListAliases: {
      schema: sdk.ListAliases$,
      action: 'kms:ListAliases',
      audit: { readOnly: true, request: (i: ListAliasesRequest) => (i.KeyId ? { keyId: i.KeyId } : null), response: () => null },
      async handler(input: ListAliasesRequest, ctx): Promise<ListAliasesResponse> {
        checks().length(input.KeyId, 'keyId', 1, 2048).range(input.Limit, 'limit', 1, 100).length(input.Marker, 'marker', 1, 320).done();
        let keyId: string | undefined;
        if (input.KeyId !== undefined) {
          const k = await resolveKey(kms, ctx, input.KeyId, 'key');
          await kms.access.authorize(ctx, k, 'ListAliases');
          keyId = k.key.keyId;
        } else await kms.access.authorizeAccount(ctx, 'ListAliases');
        const page = await listPage<AliasRecord>(kms, NS_ALIAS, `${ctx.region}/`, input.Marker, input.Limit ?? 100, (a) => keyId === undefined || a.targetKeyId === keyId);
        return {
          Aliases: page.items.map((a) => ({
            AliasName: a.aliasName, AliasArn: aliasArn(ctx.region, ctx.accountId, a.aliasName), TargetKeyId: a.targetKeyId, CreationDate: a.createdAt, LastUpdatedDate: a.updatedAt,
          })),
          Truncated: page.truncated,
          ...pageMarker(page),
        };
      },
    },
  };
}
