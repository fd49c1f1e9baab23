import { randomBytes } from 'node:crypto';
import * as sdk from '@aws-sdk/client-kms';
import type {
  CreateGrantRequest, CreateGrantResponse, GrantListEntry, GrantOperation, ListGrantsRequest, ListGrantsResponse, ListRetirableGrantsRequest, RetireGrantRequest, RevokeGrantRequest,
} from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { granteeNames } from './access.js';
import { dryRunSucceeded, kmsError } from './errors.js';
import type { GrantRecord } from './grant-model.js';
import { checkGrantTokens, newGrantToken, parseGrantToken } from './grant-tokens.js';
import { NS_GRANT, keyArn } from './model.js';
import { requireState, resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { keyAudit, listPage, noteResource, pageMarker } from './shared.js';
import { checks, invalid } from './validate.js';

const OPERATIONS = Object.values(sdk.GrantOperation) as GrantOperation[];
const NAME = /^[a-zA-Z0-9:/_-]+$/;
const PRINCIPAL = /^(\*|\d{12}|arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+|[a-z0-9.-]+\.amazonaws\.com)$/;
const grantKey = (g: { region: string; keyId: string; grantId: string }) => `${g.region}/${g.keyId}/${g.grantId}`;

function entry(g: GrantRecord): GrantListEntry {
  return {
    KeyId: g.keyArn, GrantId: g.grantId, ...(g.name !== undefined ? { Name: g.name } : {}), CreationDate: g.createdAt, GranteePrincipal: g.granteePrincipal,
    ...(g.retiringPrincipal !== undefined ? { RetiringPrincipal: g.retiringPrincipal } : {}), IssuingAccount: g.issuingAccount, Operations: g.operations,
    ...(g.constraints ? { Constraints: g.constraints } : {}),
  };
}

const sameGrant = (g: GrantRecord, i: CreateGrantRequest): boolean =>
  g.granteePrincipal === i.GranteePrincipal && g.retiringPrincipal === i.RetiringPrincipal &&
  JSON.stringify([...g.operations].sort()) === JSON.stringify([...(i.Operations ?? [])].sort()) && JSON.stringify(g.constraints ?? null) === JSON.stringify(i.Constraints ?? null);

export function grantOperations(kms: Kms): Record<string, OperationSpec> {
  /** Finds the grant a RetireGrant names (by token, or by key + id). */
  async function findGrant(ctx: RequestContext, i: RetireGrantRequest): Promise<GrantRecord> {
    let ref: { region: string; keyId: string; grantId: string } | undefined;
    if (i.GrantToken !== undefined) {
      ref = parseGrantToken(i.GrantToken);
      if (!ref) throw kmsError('InvalidGrantTokenException', 'Grant token is invalid');
    } else {
      if (i.KeyId === undefined || i.GrantId === undefined) throw invalid('Either GrantToken, or both KeyId and GrantId, must be specified.');
      const k = await resolveKey(kms, ctx, i.KeyId, 'key');
      ref = { region: k.key.region, keyId: k.key.keyId, grantId: i.GrantId };
    }
    const g = await kms.store.read((tx) => tx.get<GrantRecord>(NS_GRANT, grantKey(ref)));
    if (!g || (i.GrantToken !== undefined && !g.tokens.includes(i.GrantToken))) throw kmsError('NotFoundException', `Grant ID ${ref.grantId} not found`);
    return g;
  }

  return {
    CreateGrant: {
      schema: sdk.CreateGrant$,
      action: 'kms:CreateGrant',
      audit: keyAudit<CreateGrantRequest, CreateGrantResponse>({
        request: (i) => ({ keyId: i.KeyId, granteePrincipal: i.GranteePrincipal, ...(i.RetiringPrincipal ? { retiringPrincipal: i.RetiringPrincipal } : {}), operations: i.Operations, ...(i.Constraints ? { constraints: i.Constraints } : {}), ...(i.Name ? { name: i.Name } : {}) }),
        response: (o) => ({ grantId: o.GrantId }),
      }),
      async handler(input: CreateGrantRequest, ctx): Promise<CreateGrantResponse> {
        const c = checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.GranteePrincipal, 'granteePrincipal').length(input.GranteePrincipal, 'granteePrincipal', 1, 256)
          .length(input.RetiringPrincipal, 'retiringPrincipal', 1, 256).required(input.Operations, 'operations').length(input.Name, 'name', 1, 256)
          .pattern(input.Name, 'name', NAME, '^[a-zA-Z0-9:/_-]+$').grantTokens(input.GrantTokens);
        (input.Operations ?? []).forEach((op, n) => c.oneOf(op, `operations.${n + 1}.member`, OPERATIONS));
        c.done();
        if ((input.Operations ?? []).length === 0) throw invalid('Operations must contain at least one operation.');
        for (const p of [input.GranteePrincipal, input.RetiringPrincipal]) if (p !== undefined && !PRINCIPAL.test(p)) throw invalid(`Invalid principal: ${p}`);
        if (input.Constraints && !(input.Operations ?? []).every((o) => ['Encrypt', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'CreateGrant', 'RetireGrant', 'DescribeKey'].includes(o))) {
          throw invalid('Grant constraints are supported only for grants with cryptographic operations that accept an encryption context.');
        }
        checkGrantTokens(input.GrantTokens);
        const k = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, k.key.arn);
        await kms.access.authorize(ctx, k, 'CreateGrant', {
          grantTokens: input.GrantTokens,
          conditions: { 'kms:granteeprincipal': input.GranteePrincipal, 'kms:retiringprincipal': input.RetiringPrincipal, 'kms:grantoperations': input.Operations, 'kms:grantisforawsresource': 'false' },
        });
        requireState(k.key);
        if (input.DryRun === true) throw dryRunSucceeded();
        const { region, keyId } = k.key;
        return kms.store.write(async (tx) => {
          if (input.Name !== undefined) {
            for (const e of await tx.scan<GrantRecord>(NS_GRANT, { prefix: `${region}/${keyId}/` })) {
              if (e.value.name === input.Name && sameGrant(e.value, input)) {
                const token = newGrantToken(region, keyId, e.value.grantId);
                e.value.tokens.push(token);
                await tx.put(NS_GRANT, e.key, e.value);
                return { GrantToken: token, GrantId: e.value.grantId };
              }
            }
          }
          const grantId = randomBytes(32).toString('hex');
          const token = newGrantToken(region, keyId, grantId);
          const g: GrantRecord = {
            grantId, keyId, keyArn: keyArn(region, k.key.accountId, keyId), region, createdAt: ctx.clock.now(), granteePrincipal: input.GranteePrincipal as string,
            issuingAccount: `arn:aws:iam::${ctx.accountId}:root`, operations: [...(input.Operations ?? [])], tokens: [token],
            ...(input.Name !== undefined ? { name: input.Name } : {}), ...(input.RetiringPrincipal !== undefined ? { retiringPrincipal: input.RetiringPrincipal } : {}),
            ...(input.Constraints ? { constraints: input.Constraints } : {}),
          };
          await tx.put(NS_GRANT, grantKey(g), g);
          return { GrantToken: token, GrantId: grantId };
        }, [{ region, keyId }]);
      },
    },
    ListGrants: {
      schema: sdk.ListGrants$,
      action: 'kms:ListGrants',
      audit: keyAudit({ readOnly: true }),
      async handler(input: ListGrantsRequest, ctx): Promise<ListGrantsResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).range(input.Limit, 'limit', 1, 100).length(input.GrantId, 'grantId', 1, 128).done();
        const k = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, k.key.arn);
        await kms.access.authorize(ctx, k, 'ListGrants');
        const page = await listPage<GrantRecord>(kms, NS_GRANT, `${k.key.region}/${k.key.keyId}/`, input.Marker, input.Limit ?? 50,
          (g) => (input.GrantId === undefined || g.grantId === input.GrantId) && (input.GranteePrincipal === undefined || g.granteePrincipal === input.GranteePrincipal));
        return { Grants: page.items.map(entry), Truncated: page.truncated, ...pageMarker(page) };
      },
    },
    ListRetirableGrants: {
      schema: sdk.ListRetirableGrants$,
      action: 'kms:ListRetirableGrants',
      audit: { readOnly: true, request: (i: ListRetirableGrantsRequest) => ({ retiringPrincipal: i.RetiringPrincipal }), response: () => null },
      async handler(input: ListRetirableGrantsRequest, ctx): Promise<ListGrantsResponse> {
        checks().required(input.RetiringPrincipal, 'retiringPrincipal').length(input.RetiringPrincipal, 'retiringPrincipal', 1, 256).range(input.Limit, 'limit', 1, 100).done();
        await kms.access.authorizeAccount(ctx, 'ListRetirableGrants');
        const page = await listPage<GrantRecord>(kms, NS_GRANT, `${ctx.region}/`, input.Marker, input.Limit ?? 50, (g) => g.retiringPrincipal === input.RetiringPrincipal);
        return { Grants: page.items.map(entry), Truncated: page.truncated, ...pageMarker(page) };
      },
    },
    RetireGrant: {
      schema: sdk.RetireGrant$,
      action: 'kms:RetireGrant',
      audit: keyAudit<RetireGrantRequest>({ request: (i) => ({ ...(i.KeyId ? { keyId: i.KeyId } : {}), ...(i.GrantId ? { grantId: i.GrantId } : {}) }) }),
      async handler(input: RetireGrantRequest, ctx) {
        checks().length(input.GrantToken, 'grantToken', 1, 8192).length(input.KeyId, 'keyId', 1, 2048).length(input.GrantId, 'grantId', 1, 128).done();
        const g = await findGrant(ctx, input);
        noteResource(ctx, g.keyArn);
        const who = granteeNames(ctx);
        const may = (ctx.principal.type === 'root' && g.issuingAccount === `arn:aws:iam::${ctx.principal.accountId}:root`) ||
          (g.retiringPrincipal !== undefined && who.includes(g.retiringPrincipal)) || (who.includes(g.granteePrincipal) && g.operations.includes('RetireGrant'));
        if (!may) throw kmsError('AccessDeniedException', `User: ${ctx.principal.arn} is not authorized to perform: kms:RetireGrant on resource: ${g.keyArn}`);
        if (input.DryRun === true) throw dryRunSucceeded();
        await kms.store.write((tx) => tx.delete(NS_GRANT, grantKey(g)), [{ region: g.region, keyId: g.keyId }]);
        return {};
      },
    },
    RevokeGrant: {
      schema: sdk.RevokeGrant$,
      action: 'kms:RevokeGrant',
      audit: keyAudit<RevokeGrantRequest>({ request: (i) => ({ keyId: i.KeyId, grantId: i.GrantId }) }),
      async handler(input: RevokeGrantRequest, ctx) {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.GrantId, 'grantId').length(input.GrantId, 'grantId', 1, 128).done();
        const k = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, k.key.arn);
        await kms.access.authorize(ctx, k, 'RevokeGrant');
        const key = grantKey({ region: k.key.region, keyId: k.key.keyId, grantId: input.GrantId as string });
        if (input.DryRun === true) {
          if (!k.grants.some((g) => g.grantId === input.GrantId)) throw kmsError('NotFoundException', `Grant ID ${input.GrantId} not found`);
          throw dryRunSucceeded();
        }
        const existed = await kms.store.write((tx) => tx.delete(NS_GRANT, key), [{ region: k.key.region, keyId: k.key.keyId }]);
        if (!existed) throw kmsError('NotFoundException', `Grant ID ${input.GrantId} not found`);
        return {};
      },
    },
  };
}
