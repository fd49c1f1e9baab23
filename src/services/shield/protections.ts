import { randomUUID } from 'node:crypto';
import type * as T from '@aws-sdk/client-shield';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx } from '../../storage/ports.js';
import { invalidParam, shieldError } from './errors.js';
import { page } from './paging.js';
import { checkProtectable, kindOf } from './resources.js';
import { K, NS, ShieldStore } from './store.js';
import { LIMITS } from './subscription.js';

const NAME = /^[ a-zA-Z0-9_\\.\\-]{1,128}$/;

export function validTags(tags: T.Tag[] | undefined): T.Tag[] {
  const list = tags ?? [];
  if (list.length > 200) throw invalidParam('A resource can have at most 200 tags.');
  for (const t of list) {
    if (!t.Key || t.Key.length > 128 || t.Key.startsWith('aws:')) throw invalidParam(`Invalid tag key '${t.Key ?? ''}'.`);
    if (t.Value === undefined || t.Value.length > 256) throw invalidParam(`Invalid tag value for key '${t.Key}'.`);
  }
  return list.map((t) => ({ Key: t.Key as string, Value: t.Value as string }));
}

export async function protectionById(tx: ReadTx, id: string | undefined): Promise<T.Protection> {
  const p = id ? await tx.get<T.Protection>(NS, K.protection(id)) : undefined;
  if (!p) throw shieldError('ResourceNotFoundException', 'The referenced protection does not exist.', { resourceType: 'protection' });
  return p;
}

/** Called when automatic-response settings change, so detection applies them now. */
export type ProtectionsChanged = () => void;

export function protectionHandlers(store: ShieldStore, changed: ProtectionsChanged) {
  const withSub = async <R>(fn: (tx: Parameters<Parameters<ShieldStore['write']>[0]>[0]) => Promise<R>): Promise<R> =>
    store.write(async (tx) => {
      await ShieldStore.subscription(tx);
      return fn(tx);
    });
  const byResource = async (tx: ReadTx, arn: string | undefined): Promise<T.Protection> => {
    const p = (await ShieldStore.protections(tx)).find((x) => x.ResourceArn === arn);
    if (!p) throw shieldError('ResourceNotFoundException', 'The referenced protection does not exist.', { resourceType: 'protection' });
    return p;
  };
  const setAuto = async (arn: string | undefined, action: T.ResponseAction | undefined, mode: 'enable' | 'update' | 'disable') => {
    if (mode !== 'disable') {
      const n = (action?.Block ? 1 : 0) + (action?.Count ? 1 : 0);
      if (n !== 1) throw invalidParam('Action must specify exactly one of Block or Count.');
    }
    await withSub(async (tx) => {
      const p = await byResource(tx, arn);
      const enabled = p.ApplicationLayerAutomaticResponseConfiguration?.Status === 'ENABLED';
      if (mode === 'enable' && enabled) throw shieldError('InvalidOperationException', 'Application layer automatic response is already enabled for this resource.');
      if (mode !== 'enable' && !enabled) throw shieldError('InvalidOperationException', 'Application layer automatic response is not enabled for this resource.');
      const next: T.Protection = { ...p };
      if (mode === 'disable') next.ApplicationLayerAutomaticResponseConfiguration = { Status: 'DISABLED', Action: p.ApplicationLayerAutomaticResponseConfiguration?.Action ?? { Block: {} } };
      else next.ApplicationLayerAutomaticResponseConfiguration = { Status: 'ENABLED', Action: action?.Block ? { Block: {} } : { Count: {} } };
      await tx.put(NS, K.protection(p.Id as string), next);
    });
    changed();
    return {};
  };
  return {
    async CreateProtection(input: T.CreateProtectionRequest, ctx: RequestContext): Promise<T.CreateProtectionResponse> {
      if (!input.Name || !NAME.test(input.Name)) throw invalidParam('Name must be 1 to 128 characters of letters, digits, spaces, _ . -');
      const arn = input.ResourceArn ?? '';
      const tags = validTags(input.Tags);
      await store.read((tx) => ShieldStore.subscription(tx));
      const kind = await checkProtectable(arn, ctx);
      const id = randomUUID();
      await withSub(async (tx) => {
        const all = await ShieldStore.protections(tx);
        if (all.some((p) => p.ResourceArn === arn)) throw shieldError('ResourceAlreadyExistsException', 'The referenced protection already exists.', { resourceType: 'protection' });
        if (all.filter((p) => kindOf(p.ResourceArn ?? '') === kind).length >= LIMITS.protectionsPerType) {
          throw shieldError('LimitsExceededException', 'Exceeded the maximum number of protections.', { Type: kind, Limit: LIMITS.protectionsPerType });
        }
        const p: T.Protection = { Id: id, Name: input.Name, ResourceArn: arn, HealthCheckIds: [], ProtectionArn: `arn:aws:shield::${ctx.accountId}:protection/${id}` };
        await tx.put(NS, K.protection(id), p);
        if (tags.length) await tx.put(NS, K.tags(p.ProtectionArn as string), tags);
      });
      changed();
      return { ProtectionId: id };
    },

    async DescribeProtection(input: T.DescribeProtectionRequest): Promise<T.DescribeProtectionResponse> {
      if ((input.ProtectionId === undefined) === (input.ResourceArn === undefined)) throw invalidParam('Specify exactly one of ProtectionId or ResourceArn.');
      return store.read(async (tx) => {
        await ShieldStore.subscription(tx);
        return { Protection: input.ProtectionId !== undefined ? await protectionById(tx, input.ProtectionId) : await byResource(tx, input.ResourceArn) };
      });
    },

    async ListProtections(input: T.ListProtectionsRequest): Promise<T.ListProtectionsResponse> {
      const f = input.InclusionFilters;
      const all = await store.read(async (tx) => {
        await ShieldStore.subscription(tx);
        return ShieldStore.protections(tx);
      });
      const hits = all.filter(
        (p) =>
          (!f?.ResourceArns?.length || f.ResourceArns.includes(p.ResourceArn ?? '')) &&
          (!f?.ProtectionNames?.length || f.ProtectionNames.includes(p.Name ?? '')) &&
          (!f?.ResourceTypes?.length || f.ResourceTypes.includes(kindOf(p.ResourceArn ?? '') as T.ProtectedResourceType)),
      );
      const { items, next } = page(hits, input.NextToken, input.MaxResults, 'protections');
      return { Protections: items, ...(next ? { NextToken: next } : {}) };
    },

    async DeleteProtection(input: T.DeleteProtectionRequest): Promise<T.DeleteProtectionResponse> {
      await withSub(async (tx) => {
        const p = await protectionById(tx, input.ProtectionId);
        await tx.delete(NS, K.protection(p.Id as string));
        await tx.delete(NS, K.tags(p.ProtectionArn as string));
      });
      changed();
      return {};
    },

    async AssociateHealthCheck(input: T.AssociateHealthCheckRequest): Promise<T.AssociateHealthCheckResponse> {
      const m = /^arn:aws:route53:::healthcheck\/(\S{1,64})$/.exec(input.HealthCheckArn ?? '');
      if (!m) throw invalidParam(`Invalid HealthCheckArn: ${input.HealthCheckArn ?? ''}`);
      await withSub(async (tx) => {
        const p = await protectionById(tx, input.ProtectionId);
        const ids = p.HealthCheckIds ?? [];
        if (ids.includes(m[1] as string)) return;
        if (ids.length >= 1) throw shieldError('LimitsExceededException', 'A protection can have only one health check.', { Type: 'HealthCheck', Limit: 1 });
        await tx.put(NS, K.protection(p.Id as string), { ...p, HealthCheckIds: [...ids, m[1]] });
      });
      return {};
    },

    async DisassociateHealthCheck(input: T.DisassociateHealthCheckRequest): Promise<T.DisassociateHealthCheckResponse> {
      const m = /^arn:aws:route53:::healthcheck\/(\S{1,64})$/.exec(input.HealthCheckArn ?? '');
      if (!m) throw invalidParam(`Invalid HealthCheckArn: ${input.HealthCheckArn ?? ''}`);
      await withSub(async (tx) => {
        const p = await protectionById(tx, input.ProtectionId);
        await tx.put(NS, K.protection(p.Id as string), { ...p, HealthCheckIds: (p.HealthCheckIds ?? []).filter((x) => x !== m[1]) });
      });
      return {};
    },

    EnableApplicationLayerAutomaticResponse: async (i: T.EnableApplicationLayerAutomaticResponseRequest) => setAuto(i.ResourceArn, i.Action, 'enable'),
    UpdateApplicationLayerAutomaticResponse: async (i: T.UpdateApplicationLayerAutomaticResponseRequest) => setAuto(i.ResourceArn, i.Action, 'update'),
    DisableApplicationLayerAutomaticResponse: async (i: T.DisableApplicationLayerAutomaticResponseRequest) => setAuto(i.ResourceArn, undefined, 'disable'),

    async ListTagsForResource(input: T.ListTagsForResourceRequest): Promise<T.ListTagsForResourceResponse> {
      return store.read(async (tx) => {
        await taggable(tx, input.ResourceARN);
        return { Tags: await ShieldStore.tags(tx, input.ResourceARN as string) };
      });
    },
    async TagResource(input: T.TagResourceRequest): Promise<T.TagResourceResponse> {
      const add = validTags(input.Tags);
      await store.write(async (tx) => {
        await taggable(tx, input.ResourceARN);
        const cur = (await ShieldStore.tags(tx, input.ResourceARN as string)).filter((t) => !add.some((a) => a.Key === t.Key));
        const next = [...cur, ...add];
        if (next.length > 200) throw invalidParam('A resource can have at most 200 tags.');
        await tx.put(NS, K.tags(input.ResourceARN as string), next);
      });
      return {};
    },
    async UntagResource(input: T.UntagResourceRequest): Promise<T.UntagResourceResponse> {
      await store.write(async (tx) => {
        await taggable(tx, input.ResourceARN);
        const keys = new Set(input.TagKeys ?? []);
        await tx.put(NS, K.tags(input.ResourceARN as string), (await ShieldStore.tags(tx, input.ResourceARN as string)).filter((t) => !keys.has(t.Key ?? '')));
      });
      return {};
    },
  };
}

/** Tags live on protections and protection groups. */
async function taggable(tx: ReadTx, arn: string | undefined): Promise<void> {
  await ShieldStore.subscription(tx);
  const m = /^arn:aws:shield::\d{12}:(protection|protection-group)\/(.+)$/.exec(arn ?? '');
  if (!m) throw shieldError('InvalidResourceException', `Invalid resource ARN: ${arn ?? ''}`);
  const found = m[1] === 'protection' ? await tx.get(NS, K.protection(m[2] as string)) : await tx.get(NS, K.group(m[2] as string));
  if (!found) throw shieldError('ResourceNotFoundException', `The resource ${arn ?? ''} does not exist.`);
}
