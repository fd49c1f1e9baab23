import type * as T from '@aws-sdk/client-shield';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx } from '../../storage/ports.js';
import { invalidParam, shieldError } from './errors.js';
import { page } from './paging.js';
import { validTags } from './protections.js';
import { kindOf } from './resources.js';
import { K, NS, ShieldStore } from './store.js';
import { LIMITS } from './subscription.js';

const AGGREGATIONS = ['SUM', 'MEAN', 'MAX'];
const PATTERNS = ['ALL', 'ARBITRARY', 'BY_RESOURCE_TYPE'];
const TYPES = ['CLOUDFRONT_DISTRIBUTION', 'ROUTE_53_HOSTED_ZONE', 'ELASTIC_IP_ALLOCATION', 'CLASSIC_LOAD_BALANCER', 'APPLICATION_LOAD_BALANCER', 'GLOBAL_ACCELERATOR'];

type GroupInput = T.CreateProtectionGroupRequest | T.UpdateProtectionGroupRequest;

/** Checks a group definition the way AWS does: the fields a pattern needs, and only those. */
function validate(g: GroupInput): T.ProtectionGroup {
  const id = g.ProtectionGroupId ?? '';
  if (!/^[a-zA-Z0-9\\-]{1,36}$/.test(id)) throw invalidParam('ProtectionGroupId must be 1 to 36 letters, digits or hyphens.');
  if (!AGGREGATIONS.includes(g.Aggregation ?? '')) throw invalidParam(`Invalid Aggregation '${g.Aggregation ?? ''}': one of SUM, MEAN, MAX.`);
  if (!PATTERNS.includes(g.Pattern ?? '')) throw invalidParam(`Invalid Pattern '${g.Pattern ?? ''}': one of ALL, ARBITRARY, BY_RESOURCE_TYPE.`);
  if (g.Pattern === 'BY_RESOURCE_TYPE') {
    if (!TYPES.includes(g.ResourceType ?? '')) throw invalidParam('ResourceType is required for the BY_RESOURCE_TYPE pattern.');
  } else if (g.ResourceType !== undefined) throw invalidParam('ResourceType is only allowed with the BY_RESOURCE_TYPE pattern.');
  if (g.Pattern === 'ARBITRARY') {
    if (!g.Members) throw invalidParam('Members is required for the ARBITRARY pattern.');
    if (g.Members.length > LIMITS.arbitraryMembers) throw shieldError('LimitsExceededException', 'Too many members in the protection group.', { Type: 'ArbitraryPatternMembers', Limit: LIMITS.arbitraryMembers });
  } else if (g.Members?.length) throw invalidParam('Members is only allowed with the ARBITRARY pattern.');
  return {
    ProtectionGroupId: id,
    Aggregation: g.Aggregation,
    Pattern: g.Pattern,
    ...(g.ResourceType ? { ResourceType: g.ResourceType } : {}),
    Members: g.Pattern === 'ARBITRARY' ? [...new Set(g.Members)] : [],
  };
}

async function groupById(tx: ReadTx, id: string | undefined): Promise<T.ProtectionGroup> {
  const g = id ? await tx.get<T.ProtectionGroup>(NS, K.group(id)) : undefined;
  if (!g) throw shieldError('ResourceNotFoundException', 'The referenced protection group does not exist.', { resourceType: 'protection-group' });
  return g;
}

/** The protected resources a group covers now (ALL and BY_RESOURCE_TYPE follow the protections). */
export function membersOf(g: T.ProtectionGroup, protections: T.Protection[]): string[] {
  const arns = protections.map((p) => p.ResourceArn ?? '');
  if (g.Pattern === 'ALL') return arns;
  if (g.Pattern === 'BY_RESOURCE_TYPE') return arns.filter((a) => kindOf(a) === g.ResourceType);
  return (g.Members ?? []).filter((m) => arns.includes(m));
}

export function groupHandlers(store: ShieldStore, changed: () => void) {
  return {
    async CreateProtectionGroup(input: T.CreateProtectionGroupRequest, ctx: RequestContext): Promise<T.CreateProtectionGroupResponse> {
      const g = validate(input);
      const tags = validTags(input.Tags);
      await store.write(async (tx) => {
        await ShieldStore.subscription(tx);
        if (await tx.get(NS, K.group(g.ProtectionGroupId as string))) throw shieldError('ResourceAlreadyExistsException', 'The referenced protection group already exists.', { resourceType: 'protection-group' });
        if ((await tx.count(NS, { prefix: K.groupPrefix })) >= LIMITS.groups) throw shieldError('LimitsExceededException', 'Exceeded the maximum number of protection groups.', { Type: 'ProtectionGroup', Limit: LIMITS.groups });
        g.ProtectionGroupArn = `arn:aws:shield::${ctx.accountId}:protection-group/${g.ProtectionGroupId as string}`;
        await tx.put(NS, K.group(g.ProtectionGroupId as string), g);
        if (tags.length) await tx.put(NS, K.tags(g.ProtectionGroupArn), tags);
      });
      changed();
      return {};
    },
    async UpdateProtectionGroup(input: T.UpdateProtectionGroupRequest): Promise<T.UpdateProtectionGroupResponse> {
      const g = validate(input);
      await store.write(async (tx) => {
        await ShieldStore.subscription(tx);
        const old = await groupById(tx, g.ProtectionGroupId);
        await tx.put(NS, K.group(g.ProtectionGroupId as string), { ...g, ProtectionGroupArn: old.ProtectionGroupArn });
      });
      changed();
      return {};
    },
    async DescribeProtectionGroup(input: T.DescribeProtectionGroupRequest): Promise<T.DescribeProtectionGroupResponse> {
      return store.read(async (tx) => {
        await ShieldStore.subscription(tx);
        return { ProtectionGroup: await groupById(tx, input.ProtectionGroupId) };
      });
    },
    async DeleteProtectionGroup(input: T.DeleteProtectionGroupRequest): Promise<T.DeleteProtectionGroupResponse> {
      await store.write(async (tx) => {
        await ShieldStore.subscription(tx);
        const g = await groupById(tx, input.ProtectionGroupId);
        await tx.delete(NS, K.group(g.ProtectionGroupId as string));
        await tx.delete(NS, K.tags(g.ProtectionGroupArn as string));
      });
      changed();
      return {};
    },
    async ListProtectionGroups(input: T.ListProtectionGroupsRequest): Promise<T.ListProtectionGroupsResponse> {
      const f = input.InclusionFilters;
      const all = await store.read(async (tx) => {
        await ShieldStore.subscription(tx);
        return ShieldStore.groups(tx);
      });
      const hits = all.filter(
        (g) =>
          (!f?.ProtectionGroupIds?.length || f.ProtectionGroupIds.includes(g.ProtectionGroupId ?? '')) &&
          (!f?.Patterns?.length || f.Patterns.includes(g.Pattern as T.ProtectionGroupPattern)) &&
          (!f?.ResourceTypes?.length || f.ResourceTypes.includes(g.ResourceType as T.ProtectedResourceType)) &&
          (!f?.Aggregations?.length || f.Aggregations.includes(g.Aggregation as T.ProtectionGroupAggregation)),
      );
      const { items, next } = page(hits, input.NextToken, input.MaxResults, 'groups');
      return { ProtectionGroups: items, ...(next ? { NextToken: next } : {}) };
    },
    async ListResourcesInProtectionGroup(input: T.ListResourcesInProtectionGroupRequest): Promise<T.ListResourcesInProtectionGroupResponse> {
      const arns = await store.read(async (tx) => {
        await ShieldStore.subscription(tx);
        return membersOf(await groupById(tx, input.ProtectionGroupId), await ShieldStore.protections(tx));
      });
      const { items, next } = page(arns, input.NextToken, input.MaxResults, 'members');
      return { ResourceArns: items, ...(next ? { NextToken: next } : {}) };
    },
  };
}
