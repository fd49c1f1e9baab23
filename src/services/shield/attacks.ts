import type * as T from '@aws-sdk/client-shield';
import type { RequestContext } from '../../server/context.js';
import type { Detector } from './detector.js';
import { invalidParam, shieldError } from './errors.js';
import { page } from './paging.js';
import { K, NS, type ShieldStore, type StoredAttack } from './store.js';

type Stored = StoredAttack & { Vectors?: { VectorType: string }[] };

function within(t: Date | undefined, range: T.TimeRange | undefined): boolean {
  if (!range) return true;
  if (!t) return range.ToExclusive === undefined;
  if (range.FromInclusive && t < range.FromInclusive) return false;
  if (range.ToExclusive && t >= range.ToExclusive) return false;
  return true;
}

/** Drops the summary-only field before a record goes on the wire. */
function detail(a: Stored): T.AttackDetail {
  const { Vectors: _v, ...rest } = a;
  return rest;
}

export function attackHandlers(store: ShieldStore, detector: () => Detector | undefined) {
  const everything = async (): Promise<Stored[]> => {
    const stored = await store.read((tx) => tx.scan<Stored>(NS, { prefix: K.attackPrefix }));
    const byId = new Map(stored.map((e) => [e.value.AttackId, e.value]));
    for (const l of detector()?.live() ?? []) byId.set(l.AttackId, l);
    return [...byId.values()].sort((a, b) => b.StartTime.getTime() - a.StartTime.getTime());
  };
  return {
    async ListAttacks(input: T.ListAttacksRequest): Promise<T.ListAttacksResponse> {
      for (const r of [input.StartTime, input.EndTime]) {
        if (r?.FromInclusive && r.ToExclusive && r.FromInclusive > r.ToExclusive) throw invalidParam('FromInclusive must not be after ToExclusive.');
      }
      const all = (await everything()).filter(
        (a) => (!input.ResourceArns?.length || input.ResourceArns.includes(a.ResourceArn)) && within(a.StartTime, input.StartTime) && (input.EndTime === undefined || within(a.EndTime, input.EndTime)),
      );
      const { items, next } = page(all, input.NextToken, input.MaxResults, 'attacks');
      return {
        AttackSummaries: items.map((a) => ({
          AttackId: a.AttackId,
          ResourceArn: a.ResourceArn,
          StartTime: a.StartTime,
          ...(a.EndTime ? { EndTime: a.EndTime } : {}),
          AttackVectors: (a.Vectors ?? [{ VectorType: 'REQUEST_FLOOD' }]).map((v) => ({ VectorType: v.VectorType })),
        })),
        ...(next ? { NextToken: next } : {}),
      };
    },
    async DescribeAttack(input: T.DescribeAttackRequest): Promise<T.DescribeAttackResponse> {
      if (!input.AttackId || !/^[a-zA-Z0-9\\-]{1,128}$/.test(input.AttackId)) throw invalidParam('AttackId must be 1 to 128 letters, digits or hyphens.');
      const live = detector()?.live().find((a) => a.AttackId === input.AttackId);
      const a = (live as Stored | undefined) ?? (await store.read((tx) => tx.get<Stored>(NS, K.attack(input.AttackId as string))));
      if (!a) throw shieldError('AccessDeniedException', 'The attack does not exist or belongs to another account.');
      return { Attack: detail(a) };
    },
    async DescribeAttackStatistics(_: T.DescribeAttackStatisticsRequest, ctx: RequestContext): Promise<T.DescribeAttackStatisticsResponse> {
      const to = ctx.clock.now();
      const from = new Date(to.getTime() - 365 * 86400_000);
      const hits = (await everything()).filter((a) => a.StartTime >= from);
      const peak = hits.reduce((m, a) => Math.max(m, a.AttackCounters?.find((c) => c.Unit === 'REQUESTS')?.Max ?? 0), 0);
      return {
        TimeRange: { FromInclusive: from, ToExclusive: to },
        DataItems: [{ AttackCount: hits.length, ...(hits.length ? { AttackVolume: { RequestsPerSecond: { Max: peak } } } : {}) }],
      };
    },
  };
}
