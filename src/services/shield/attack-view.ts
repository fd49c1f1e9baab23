import type * as T from '@aws-sdk/client-shield';
import type { LiveAttack } from './detector.js';
import type { StoredAttack } from './store.js';
import { DIMENSIONS } from './top-k.js';

/**
 * Connection-level vectors, from the watchdogs' real cuts. AWS names no vector for these
 * (its documented ones are network floods/reflections and REQUEST_FLOOD): hanul's own names.
 */
export const CONNECTION_VECTOR: Record<string, string> = { 'header-timeout': 'SLOW_HEADERS', 'slow-body': 'SLOW_BODY', 'slow-read': 'SLOW_READ', 'h2-rapid-reset': 'HTTP2_RAPID_RESET' };

function summarize(name: string, unit: string, series: number[]): T.SummarizedCounter {
  const sum = series.reduce((a, b) => a + b, 0);
  return { Name: name, Max: series.length ? Math.max(...series) : 0, Average: series.length ? sum / series.length : 0, Sum: sum, N: series.length, Unit: unit };
}

/** An attack as DescribeAttack shows it (AttackDetail), from the live counters. */
export function attackDetail(arn: string, a: LiveAttack, end: Date | undefined): StoredAttack {
  const requests = summarize('Requests', 'REQUESTS', a.perSecond);
  const vectors: T.SubResourceSummary['AttackVectors'] = [];
  if (a.perSecond.some((n) => n > a.threshold) || a.slow.size === 0) vectors.push({ VectorType: 'REQUEST_FLOOD', VectorCounters: [requests] });
  for (const [reason, n] of a.slow) {
    const v = CONNECTION_VECTOR[reason];
    if (v && n > 0) vectors.push({ VectorType: v, VectorCounters: [{ Name: 'Connections', Max: n, Average: n, Sum: n, N: 1, Unit: 'CONNECTIONS' }] });
  }
  const properties: T.AttackProperty[] = DIMENSIONS.filter((d) => a.dims[d].total > 0).map((d) => ({
    AttackLayer: 'APPLICATION',
    AttackPropertyIdentifier: d,
    TopContributors: a.dims[d].top(10).map((c) => ({ Name: c.value, Value: Math.round(c.count) })),
    Unit: 'REQUESTS',
    Total: Math.round(a.dims[d].total),
  }));
  // Sources of the cut connections: the network side of a slow-connection attack.
  if (a.slowSources.total > 0) {
    properties.push({ AttackLayer: 'NETWORK', AttackPropertyIdentifier: 'SOURCE_IP_ADDRESS', TopContributors: a.slowSources.top(10).map((c) => ({ Name: c.value, Value: Math.round(c.count) })), Unit: 'REQUESTS', Total: Math.round(a.slowSources.total) });
  }
  const urls = a.dims.DESTINATION_URL.top(5);
  return {
    AttackId: a.id,
    ResourceArn: arn,
    SubResources: urls.map((u) => ({ Type: 'URL', Id: u.value, AttackVectors: [{ VectorType: 'REQUEST_FLOOD', VectorCounters: [{ Name: 'Requests', Max: u.count, Average: u.count, Sum: u.count, N: 1, Unit: 'REQUESTS' }] }], Counters: [] })),
    StartTime: a.start,
    ...(end ? { EndTime: end } : {}),
    AttackCounters: [
      requests,
      summarize('Bits', 'BITS', a.bitsPerSecond),
      summarize('Connections', 'CONNECTIONS', a.connections),
      // What the automatic response did: requests it refused (Block) or only counted (Count).
      ...(a.mitigation ? [summarize(/\/Count\//.test(a.mitigation) ? 'AutomaticResponseCounted' : 'AutomaticResponseBlocked', 'REQUESTS', a.ruleNow > 0 || a.ruleMatches.length === 0 ? [...a.ruleMatches, a.ruleNow] : a.ruleMatches)] : []),
    ],
    AttackProperties: properties,
    Mitigations: a.mitigation ? [{ MitigationName: a.mitigation }] : [],
    // Kept for ListAttacks' summaries (dropped from DescribeAttack).
    ...({ Vectors: vectors } as object),
  };
}
