import { randomUUID } from 'node:crypto';
import type * as T from '@aws-sdk/client-shield';
import type { ServiceDefinition } from '../../aws/service.js';
import { checkPassRole } from '../../iam/authorize.js';
import type { RequestContext } from '../../server/context.js';
import { invalidParam, shieldError } from './errors.js';
import { K, NS, ShieldStore, type DrtAccess, type StoredSubscription } from './store.js';

const YEAR_S = 365 * 86400;
const LAST_30_DAYS_MS = 30 * 86400_000;

/** The limits AWS reports for a subscription (hanul enforces the protection and group ones). */
export const LIMITS = { protectionsPerType: 1000, groups: 1000, arbitraryMembers: 10000, logBuckets: 10, contacts: 10 };

function view(s: StoredSubscription): T.Subscription {
  return {
    ...s,
    Limits: [{ Type: 'MitigationCapacityUnits', Max: 10000 }],
    SubscriptionLimits: {
      ProtectionLimits: {
        ProtectedResourceTypeLimits: [
          { Type: 'APPLICATION_LOAD_BALANCER', Max: LIMITS.protectionsPerType },
          { Type: 'S3_BUCKET_WEBSITE', Max: LIMITS.protectionsPerType },
        ],
      },
      ProtectionGroupLimits: {
        MaxProtectionGroups: LIMITS.groups,
        PatternTypeLimits: { ArbitraryPatternLimits: { MaxMembers: LIMITS.arbitraryMembers } },
      },
    },
  };
}

/** AutoRenew may change, and the subscription end, only in the commitment's last 30 days. */
function locked(s: StoredSubscription, nowMs: number): boolean {
  return nowMs < s.EndTime.getTime() - LAST_30_DAYS_MS;
}

/** Rolls an auto-renewing subscription over its end (another year), as AWS renews it. */
function renewed(s: StoredSubscription, nowMs: number): StoredSubscription {
  let end = s.EndTime;
  if (s.AutoRenew !== 'ENABLED') return s;
  while (end.getTime() <= nowMs) end = new Date(end.getTime() + YEAR_S * 1000);
  return end === s.EndTime ? s : { ...s, EndTime: end };
}

export function subscriptionHandlers(store: ShieldStore, service: () => ServiceDefinition) {
  const current = async (tx: Parameters<typeof ShieldStore.subscription>[0], now: number) => {
    const s = renewed(await ShieldStore.subscription(tx), now);
    if (s.AutoRenew !== 'ENABLED' && s.EndTime.getTime() <= now) throw shieldError('ResourceNotFoundException', 'The subscription does not exist.');
    return s;
  };
  return {
    async CreateSubscription(_: T.CreateSubscriptionRequest, ctx: RequestContext): Promise<T.CreateSubscriptionResponse> {
      const now = ctx.clock.nowMs();
      await store.write(async (tx) => {
        const old = await tx.get<StoredSubscription>(NS, K.subscription);
        if (old && (old.AutoRenew === 'ENABLED' || old.EndTime.getTime() > now)) {
          throw shieldError('ResourceAlreadyExistsException', 'The subscription already exists.', { resourceType: 'subscription' });
        }
        const s: StoredSubscription = {
          SubscriptionArn: `arn:aws:shield::${ctx.accountId}:subscription/${randomUUID().replace(/-/g, '').slice(0, 12)}`,
          StartTime: new Date(now),
          EndTime: new Date(now + YEAR_S * 1000),
          TimeCommitmentInSeconds: YEAR_S,
          AutoRenew: 'ENABLED',
        };
        await tx.put(NS, K.subscription, s);
      });
      return {};
    },

    async DescribeSubscription(_: T.DescribeSubscriptionRequest, ctx: RequestContext): Promise<T.DescribeSubscriptionResponse> {
      return store.read(async (tx) => ({ Subscription: view(await current(tx, ctx.clock.nowMs())) }));
    },

    async GetSubscriptionState(_: T.GetSubscriptionStateRequest, ctx: RequestContext): Promise<T.GetSubscriptionStateResponse> {
      const active = await store.read(async (tx) => current(tx, ctx.clock.nowMs()).then(() => true, () => false));
      return { SubscriptionState: active ? 'ACTIVE' : 'INACTIVE' };
    },

    async UpdateSubscription(input: T.UpdateSubscriptionRequest, ctx: RequestContext): Promise<T.UpdateSubscriptionResponse> {
      if (input.AutoRenew !== undefined && input.AutoRenew !== 'ENABLED' && input.AutoRenew !== 'DISABLED') {
        throw invalidParam(`1 validation error detected: Value '${String(input.AutoRenew)}' at 'autoRenew' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`);
      }
      const now = ctx.clock.nowMs();
      await store.write(async (tx) => {
        const s = await current(tx, now);
        if (input.AutoRenew === undefined || input.AutoRenew === s.AutoRenew) return;
        if (locked(s, now)) {
          throw shieldError(
            'LockedSubscriptionException',
            'You are trying to update a subscription that has not yet completed the 1-year commitment. You can change the AutoRenew parameter during the last 30 days of your subscription.',
          );
        }
        await tx.put(NS, K.subscription, { ...s, AutoRenew: input.AutoRenew });
      });
      return {};
    },

    async DeleteSubscription(_: T.DeleteSubscriptionRequest, ctx: RequestContext): Promise<T.DeleteSubscriptionResponse> {
      const now = ctx.clock.nowMs();
      await store.write(async (tx) => {
        const s = await current(tx, now);
        if (s.AutoRenew === 'ENABLED' || s.EndTime.getTime() > now) {
          throw shieldError('LockedSubscriptionException', 'You are trying to delete a subscription that has not yet completed the 1-year commitment or that renews automatically.');
        }
        await tx.delete(NS, K.subscription);
      });
      return {};
    },

    async AssociateDRTRole(input: T.AssociateDRTRoleRequest, ctx: RequestContext): Promise<T.AssociateDRTRoleResponse> {
      if (!input.RoleArn || !/^arn:aws:iam::\d{12}:role\/.+/.test(input.RoleArn)) throw invalidParam('RoleArn must be an IAM role ARN.');
      // The Shield Response Team would act with this role: the caller must be allowed to pass it, as in AWS.
      await checkPassRole(ctx, service(), input.RoleArn, 'drt.shield.amazonaws.com');
      await store.write(async (tx) => {
        await current(tx, ctx.clock.nowMs());
        const d = (await tx.get<DrtAccess>(NS, K.drt)) ?? { LogBucketList: [] };
        await tx.put(NS, K.drt, { ...d, RoleArn: input.RoleArn });
      });
      return {};
    },
    async DisassociateDRTRole(_: T.DisassociateDRTRoleRequest, ctx: RequestContext): Promise<T.DisassociateDRTRoleResponse> {
      await store.write(async (tx) => {
        await current(tx, ctx.clock.nowMs());
        const d = (await tx.get<DrtAccess>(NS, K.drt)) ?? { LogBucketList: [] };
        await tx.put(NS, K.drt, { LogBucketList: d.LogBucketList });
      });
      return {};
    },
    async AssociateDRTLogBucket(input: T.AssociateDRTLogBucketRequest, ctx: RequestContext): Promise<T.AssociateDRTLogBucketResponse> {
      const b = input.LogBucket ?? '';
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b)) throw invalidParam('LogBucket must be a bucket name (3 to 63 characters).');
      await store.write(async (tx) => {
        await current(tx, ctx.clock.nowMs());
        const d = (await tx.get<DrtAccess>(NS, K.drt)) ?? { LogBucketList: [] };
        if (!d.RoleArn) throw shieldError('NoAssociatedRoleException', 'The ARN of the role that you specified does not exist.');
        if (d.LogBucketList.includes(b)) return;
        if (d.LogBucketList.length >= LIMITS.logBuckets) throw shieldError('LimitsExceededException', 'Exceeded the limit of 10 log buckets.', { Type: 'LogBucket', Limit: LIMITS.logBuckets });
        await tx.put(NS, K.drt, { ...d, LogBucketList: [...d.LogBucketList, b] });
      });
      return {};
    },
    async DisassociateDRTLogBucket(input: T.DisassociateDRTLogBucketRequest, ctx: RequestContext): Promise<T.DisassociateDRTLogBucketResponse> {
      await store.write(async (tx) => {
        await current(tx, ctx.clock.nowMs());
        const d = (await tx.get<DrtAccess>(NS, K.drt)) ?? { LogBucketList: [] };
        if (!d.RoleArn) throw shieldError('NoAssociatedRoleException', 'The ARN of the role that you specified does not exist.');
        if (!d.LogBucketList.includes(input.LogBucket ?? '')) throw shieldError('ResourceNotFoundException', `The log bucket ${input.LogBucket ?? ''} is not associated.`);
        await tx.put(NS, K.drt, { ...d, LogBucketList: d.LogBucketList.filter((x) => x !== input.LogBucket) });
      });
      return {};
    },
    async DescribeDRTAccess(_: T.DescribeDRTAccessRequest, ctx: RequestContext): Promise<T.DescribeDRTAccessResponse> {
      return store.read(async (tx) => {
        await current(tx, ctx.clock.nowMs());
        const d = (await tx.get<DrtAccess>(NS, K.drt)) ?? { LogBucketList: [] };
        return { ...(d.RoleArn ? { RoleArn: d.RoleArn } : {}), LogBucketList: d.LogBucketList };
      });
    },

    async UpdateEmergencyContactSettings(input: T.UpdateEmergencyContactSettingsRequest, ctx: RequestContext): Promise<T.UpdateEmergencyContactSettingsResponse> {
      const list = validContacts(input.EmergencyContactList ?? []);
      await store.write(async (tx) => {
        await current(tx, ctx.clock.nowMs());
        await tx.put(NS, K.contacts, list);
      });
      return {};
    },
    async DescribeEmergencyContactSettings(_: T.DescribeEmergencyContactSettingsRequest, ctx: RequestContext): Promise<T.DescribeEmergencyContactSettingsResponse> {
      return store.read(async (tx) => {
        await current(tx, ctx.clock.nowMs());
        return { EmergencyContactList: await ShieldStore.contacts(tx) };
      });
    },
    async AssociateProactiveEngagementDetails(input: T.AssociateProactiveEngagementDetailsRequest, ctx: RequestContext): Promise<T.AssociateProactiveEngagementDetailsResponse> {
      const list = validContacts(input.EmergencyContactList ?? []);
      await store.write(async (tx) => {
        const s = await current(tx, ctx.clock.nowMs());
        if (s.ProactiveEngagementStatus !== undefined) throw shieldError('InvalidOperationException', 'Proactive engagement details are already associated; use UpdateEmergencyContactSettings.');
        await tx.put(NS, K.contacts, list);
        await tx.put(NS, K.subscription, { ...s, ProactiveEngagementStatus: 'DISABLED' });
      });
      return {};
    },
    async EnableProactiveEngagement(_: T.EnableProactiveEngagementRequest, ctx: RequestContext): Promise<T.EnableProactiveEngagementResponse> {
      return setEngagement(store, ctx, 'ENABLED', current);
    },
    async DisableProactiveEngagement(_: T.DisableProactiveEngagementRequest, ctx: RequestContext): Promise<T.DisableProactiveEngagementResponse> {
      return setEngagement(store, ctx, 'DISABLED', current);
    },
  };
}

async function setEngagement(store: ShieldStore, ctx: RequestContext, status: 'ENABLED' | 'DISABLED', current: (tx: never, now: number) => Promise<StoredSubscription>): Promise<object> {
  await store.write(async (tx) => {
    const s = await current(tx as never, ctx.clock.nowMs());
    if (s.ProactiveEngagementStatus === undefined) {
      throw shieldError('InvalidOperationException', 'No proactive engagement details are associated; call AssociateProactiveEngagementDetails first.');
    }
    if (status === 'ENABLED' && !(await ShieldStore.contacts(tx)).some((c) => c.PhoneNumber)) {
      throw invalidParam('Proactive engagement needs at least one emergency contact with a phone number.');
    }
    await tx.put(NS, K.subscription, { ...s, ProactiveEngagementStatus: status });
  });
  return {};
}

function validContacts(list: T.EmergencyContact[]): T.EmergencyContact[] {
  if (list.length > LIMITS.contacts) throw invalidParam('EmergencyContactList has more than 10 contacts.');
  for (const c of list) {
    if (!c.EmailAddress || !/^\S+@\S+\.\S+$/.test(c.EmailAddress) || c.EmailAddress.length > 150) throw invalidParam(`'${c.EmailAddress ?? ''}' is not a valid email address.`);
    if (c.PhoneNumber !== undefined && !/^\+[1-9]\d{1,14}$/.test(c.PhoneNumber)) throw invalidParam(`'${c.PhoneNumber}' is not a valid phone number (E.164, like +15555550100).`);
    if (c.ContactNotes !== undefined && c.ContactNotes.length > 1024) throw invalidParam('ContactNotes is longer than 1024 characters.');
  }
  return list.map((c) => ({ EmailAddress: c.EmailAddress, ...(c.PhoneNumber ? { PhoneNumber: c.PhoneNumber } : {}), ...(c.ContactNotes ? { ContactNotes: c.ContactNotes } : {}) }));
}
