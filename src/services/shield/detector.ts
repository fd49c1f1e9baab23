import { randomUUID } from 'node:crypto';
import type * as T from '@aws-sdk/client-shield';
import type { Clock } from '../../lib/clock.js';
import type { Protection as Layer, TrafficSample } from '../../server/shield/protection.js';
import { membersOf } from './groups.js';
import { bucketOf, requestHitsBucket } from './resources.js';
import { K, NS, ShieldStore, type StoredAttack } from './store.js';
import { DIMENSIONS, newTables, TopK, type DimTables, type Dimension } from './top-k.js';
import { attackDetail, CONNECTION_VECTOR } from './attack-view.js';

export interface DetectorOptions {
  /** Requests per second below which nothing is an attack. */
  floor: number;
  /** An attack is traffic above k × the learned baseline (and the floor)… */
  k: number;
  /** …for this many consecutive seconds; it ends after `quietSeconds` below. */
  sustainSeconds: number;
  quietSeconds: number;
  /** Watchdog kills per second (slow headers/body/read) that count as a slow-connection attack. */
  slowFloor: number;
  /** Traffic above this many times the threshold within one second is an attack at once (a massive flood needs no waiting). */
  surge: number;
}
export const DEFAULT_DETECTOR: DetectorOptions = { floor: 100, k: 3, sustainSeconds: 3, quietSeconds: 5, slowFloor: 3, surge: 3 };

type Sample = Omit<TrafficSample, 'status' | 'bytesIn' | 'bytesOut'> & Partial<TrafficSample>;

/** An attack in progress: what the API shows and what the response installed. */
export interface LiveAttack {
  id: string;
  start: Date;
  perSecond: number[];
  bitsPerSecond: number[];
  connections: number[];
  dims: DimTables;
  slow: Map<string, number>;
  /** Addresses whose connections the watchdogs cut during the attack. */
  slowSources: TopK;
  threshold: number;
  /** Requests the automatic rule matched, per second (refused under Block, only counted under Count). */
  ruleMatches: number[];
  ruleNow: number;
  mitigation?: string;
  removeRule?: () => void;
}

interface Monitor {
  arn: string;
  match?: (s: Sample) => boolean;
  members?: Monitor[];
  aggregation?: string | undefined;
  cur: { n: number; bits: number; dims: DimTables; slow: Map<string, number>; slowSources: TopK };
  pendingSlow: TopK;
  pendingKinds: Map<string, number>;
  rate: number;
  baseline: number;
  base: DimTables;
  /** Seconds with traffic learned into `base`: a young baseline (a flood from the start, or its ramp) is not trusted. */
  baseSeconds: number;
  pending: DimTables;
  over: number;
  under: number;
  attack?: LiveAttack;
  auto?: T.ApplicationLayerAutomaticResponseConfiguration | undefined;
}

/**
 * Matching requests per second from one source that the automatic rule tolerates. Low: the
 * signature is a value rare in baseline traffic, and a flood spread over many sources sends
 * little from each (40 sources on a busy machine: a few a second each).
 */
const RULE_RATE = 3;
/** Seconds of traffic before the learned baseline weighs in the signature choice. */
const MIN_BASE_SECONDS = 10;


function dimValue(s: Sample, d: Dimension): string {
  return d === 'SOURCE_IP_ADDRESS' ? s.address : d === 'DESTINATION_URL' ? s.path : d === 'SOURCE_USER_AGENT' ? s.userAgent : s.referer;
}

/**
 * Detection per protected resource and protection group: per-second
 * counters and bounded top-K tables; an attack starts when traffic exceeds
 * max(floor, k × learned baseline) for a few seconds, and (when automatic
 * response is on) a rule on the attack's signature is installed until it ends.
 */
export class Detector {
  private monitors = new Map<string, Monitor>();
  private groups: Monitor[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ShieldStore,
    private readonly clock: Clock,
    private readonly endpoint: string,
    private readonly layer: Layer | undefined,
    private readonly opts: DetectorOptions = DEFAULT_DETECTOR,
  ) {
    layer?.onTraffic((s) => this.observe(s));
    layer?.counters.onReject?.((reason, client) => this.slowEvent(reason, client));
    layer?.attackGauge(() => this.live().length);
  }

  /** Attacks left open by a stop or crash end at restart: their counters stop there. */
  async closeDangling(): Promise<void> {
    const now = this.clock.now();
    await this.store.write(async (tx) => {
      for (const e of await tx.scan<StoredAttack>(NS, { prefix: K.attackPrefix })) if (!e.value.EndTime) await tx.put(NS, e.key, { ...e.value, EndTime: now });
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const m of this.all()) m.attack?.removeRule?.();
  }

  /** Re-reads protections and groups (after any change to them). */
  async reload(): Promise<void> {
    const { protections, groups } = await this.store.read(async (tx) => {
      const sub = await tx.get(NS, K.subscription);
      return sub ? { protections: await ShieldStore.protections(tx), groups: await ShieldStore.groups(tx) } : { protections: [], groups: [] };
    });
    const next = new Map<string, Monitor>();
    for (const p of protections) {
      const arn = p.ResourceArn as string;
      const m = this.monitors.get(arn) ?? this.monitor(arn);
      const bucket = bucketOf(arn);
      m.match = bucket ? (s) => requestHitsBucket(bucket, s.hostname, s.path) : () => true;
      const was = m.auto;
      m.auto = p.ApplicationLayerAutomaticResponseConfiguration;
      const changed = m.auto?.Status !== 'ENABLED' || (was?.Action?.Block === undefined) !== (m.auto.Action?.Block === undefined);
      if (changed && m.attack?.removeRule) {
        m.attack.removeRule();
        delete m.attack.removeRule;
      }
      // Enabled (or switched between Block and Count) during an attack: the rule follows at once.
      if (m.attack && !m.attack.removeRule && m.auto?.Status === 'ENABLED' && m.attack.perSecond.some((n) => n > (m.attack?.threshold ?? 0))) this.respond(m, m.attack);
      next.set(arn, m);
    }
    for (const [arn, m] of this.monitors) if (!next.has(arn)) m.attack?.removeRule?.();
    this.monitors = next;
    const oldGroups = new Map(this.groups.map((g) => [g.arn, g]));
    this.groups = groups.map((g) => {
      const m = oldGroups.get(g.ProtectionGroupArn as string) ?? this.monitor(g.ProtectionGroupArn as string);
      m.members = membersOf(g, protections).map((a) => next.get(a)).filter((x): x is Monitor => x !== undefined);
      m.aggregation = g.Aggregation;
      return m;
    });
  }

  /** Attacks in progress, as stored records (for ListAttacks/DescribeAttack). */
  live(): StoredAttack[] {
    return this.all().filter((m) => m.attack).map((m) => attackDetail(m.arn, m.attack as LiveAttack, undefined));
  }

  private all(): Monitor[] {
    return [...this.monitors.values(), ...this.groups];
  }

  private monitor(arn: string): Monitor {
    return { arn, cur: this.fresh(), pendingSlow: new TopK(), pendingKinds: new Map(), rate: 0, baseline: 0, base: newTables(), baseSeconds: 0, pending: newTables(), over: 0, under: 0 };
  }

  private fresh(): Monitor['cur'] {
    return { n: 0, bits: 0, dims: newTables(), slow: new Map(), slowSources: new TopK() };
  }

  private observe(s: Sample): void {
    for (const m of this.monitors.values()) {
      if (!m.match?.(s)) continue;
      m.cur.n++;
      m.cur.bits += ((s.bytesIn ?? 0) + (s.bytesOut ?? 0)) * 8;
      for (const d of DIMENSIONS) {
        const v = dimValue(s, d);
        if (v) m.cur.dims[d].add(v);
      }
      if (!m.attack) this.surging(m);
    }
  }

  private slowEvent(reason: string, client: string | undefined): void {
    if (!CONNECTION_VECTOR[reason]) return;
    const m = this.monitors.get(this.endpoint);
    if (!m) return;
    m.cur.slow.set(reason, (m.cur.slow.get(reason) ?? 0) + 1);
    if (client) m.cur.slowSources.add(client);
  }

  private async tick(): Promise<void> {
    for (const g of this.groups) {
      const rates = (g.members ?? []).map((m) => m.cur.n);
      const sum = rates.reduce((a, b) => a + b, 0);
      g.cur.n = g.aggregation === 'MAX' ? Math.max(0, ...rates) : g.aggregation === 'MEAN' ? (rates.length ? sum / rates.length : 0) : sum;
      g.cur.bits = (g.members ?? []).reduce((a, m) => a + m.cur.bits, 0);
      g.cur.dims = newTables();
      for (const m of g.members ?? []) for (const d of DIMENSIONS) g.cur.dims[d].merge(m.cur.dims[d]);
    }
    const events: Promise<void>[] = [];
    for (const m of this.all()) {
      const e = this.step(m);
      if (e) events.push(e);
    }
    for (const m of this.all()) m.cur = this.fresh();
    await Promise.allSettled(events);
  }

  /** One second of one monitor; returns the store write of a start or end, if any. */
  private step(m: Monitor): Promise<void> | undefined {
    const { floor, k, sustainSeconds, quietSeconds, slowFloor, surge } = this.opts;
    const rate = m.cur.n;
    const slowKills = [...m.cur.slow.values()].reduce((a, b) => a + b, 0);
    if (!m.attack) {
      const threshold = Math.max(floor, k * m.baseline);
      const hot = rate > threshold || slowKills >= slowFloor;
      if (hot) {
        m.over = rate > surge * threshold ? Math.max(m.over + 1, sustainSeconds) : m.over + 1;
        for (const d of DIMENSIONS) m.pending[d].merge(m.cur.dims[d]);
        m.pendingSlow.merge(m.cur.slowSources);
        for (const [r, n] of m.cur.slow) m.pendingKinds.set(r, (m.pendingKinds.get(r) ?? 0) + n);
      } else {
        m.over = 0;
        m.pending = newTables();
        m.pendingSlow = new TopK();
        m.pendingKinds = new Map();
        m.baseline = m.baseline * 0.9 + rate * 0.1;
        if (rate > 0) m.baseSeconds++;
        for (const d of DIMENSIONS) {
          m.base[d].decay(0.98);
          m.base[d].merge(m.cur.dims[d]);
        }
      }
      if (m.over < sustainSeconds) return undefined;
      const a = this.begin(m, threshold, rate > threshold, Math.min(m.over, sustainSeconds) * 1000);
      this.record(m, a);
      return this.persist(m.arn, a, undefined);
    }
    const a = m.attack;
    a.perSecond.push(rate);
    a.bitsPerSecond.push(m.cur.bits);
    a.connections.push(this.layer?.gate.stats().connections ?? 0);
    if (a.mitigation) {
      a.ruleMatches.push(a.ruleNow);
      a.ruleNow = 0;
    }
    this.record(m, a);
    for (const [r, n] of m.cur.slow) a.slow.set(r, (a.slow.get(r) ?? 0) + n);
    a.slowSources.merge(m.cur.slowSources);
    // A slow-connection attack that turns into a request flood gets its rule now.
    if (rate > a.threshold && !a.removeRule && !a.mitigation && m.auto?.Status === 'ENABLED') this.respond(m, a);
    const hot = rate > a.threshold || slowKills >= slowFloor;
    m.under = hot ? 0 : m.under + 1;
    if (m.under < quietSeconds) return undefined;
    delete m.attack;
    m.over = 0;
    a.removeRule?.();
    return this.persist(m.arn, a, this.clock.now());
  }

  /** An attack starts on `m`: what was pending becomes its first counts; a request flood gets its rule. */
  private begin(m: Monitor, threshold: number, flood: boolean, sinceMs: number): LiveAttack {
    const a: LiveAttack = { id: randomUUID(), start: new Date(this.clock.nowMs() - sinceMs), perSecond: [], bitsPerSecond: [], connections: [], dims: m.pending, slow: m.pendingKinds, slowSources: m.pendingSlow, threshold, ruleMatches: [], ruleNow: 0 };
    m.attack = a;
    m.pending = newTables();
    m.pendingSlow = new TopK();
    m.pendingKinds = new Map();
    m.under = 0;
    // A request rule answers a request flood only: a slow-connection attack is the watchdogs'
    // (its few finished requests are the legitimate ones — a rule on them would block the innocent).
    if (flood && m.auto?.Status === 'ENABLED') this.respond(m, a);
    this.layer?.counters.attackStarted(m.arn);
    return a;
  }

  /**
   * A surge — surge × threshold requests within one second — is an attack the moment it is
   * reached, not at the next tick: a massive flood is answered within a fraction of a second.
   */
  private surging(m: Monitor): void {
    const threshold = Math.max(this.opts.floor, this.opts.k * m.baseline);
    if (m.cur.n !== Math.floor(this.opts.surge * threshold) + 1) return;
    for (const d of DIMENSIONS) m.pending[d].merge(m.cur.dims[d]);
    // The rest of this second counts towards the attack from here (its first part is in `pending`).
    m.cur.dims = newTables();
    const a = this.begin(m, threshold, true, 0);
    void this.persist(m.arn, a, undefined).catch(() => undefined);
  }

  private record(m: Monitor, a: LiveAttack): void {
    for (const d of DIMENSIONS) a.dims[d].merge(m.cur.dims[d]);
  }

  /**
   * The signature: the dimension value that covers the most attack traffic
   * and the least baseline traffic (score = share in attack − share in baseline).
   */
  private respond(m: Monitor, a: LiveAttack): void {
    let best: { d: Dimension; v: string; score: number } | undefined;
    for (const d of ['SOURCE_USER_AGENT', 'DESTINATION_URL', 'REFERRER', 'SOURCE_IP_ADDRESS'] as const) {
      const total = a.dims[d].total || 1;
      const baseTotal = m.baseSeconds >= MIN_BASE_SECONDS ? m.base[d].total : 0;
      for (const { value, count } of a.dims[d].top(5)) {
        const share = count / total;
        const baseShare = baseTotal > 0 ? m.base[d].get(value) / baseTotal : 0;
        const score = share - baseShare;
        if (share >= 0.3 && baseShare <= 0.2 && (!best || score > best.score)) best = { d, v: value, score };
      }
    }
    if (!best || !this.layer) return;
    const action = m.auto?.Action?.Block ? 'Block' : 'Count';
    const { d, v } = best;
    const scope = m.members ? (s: Sample) => (m.members ?? []).some((x) => x.match?.(s)) : (m.match ?? (() => true));
    // Rate-based, as AWS's automatic response installs it: a source sending the signature faster
    // than RULE_RATE/s is refused (Block) or only counted (Count) until the attack ends.
    const offenders = new Set<string>();
    const windows = new Map<string, { sec: number; n: number }>();
    a.mitigation = `hanul-automatic-response/${action}/${d}=${v} (rate-based: more than ${RULE_RATE} matching requests/s from one source)`;
    const layer = this.layer;
    a.removeRule = this.layer.addRule((s) => {
      if (dimValue(s, d) !== v || !scope(s)) return false;
      if (!offenders.has(s.address)) {
        const sec = Math.floor(performance.now() / 1000);
        let w = windows.get(s.address);
        if (!w || w.sec !== sec) {
          if (windows.size > 10_000) windows.clear();
          w = { sec, n: 0 };
          windows.set(s.address, w);
        }
        if (++w.n <= RULE_RATE) return false;
        offenders.add(s.address);
      }
      a.ruleNow++;
      layer.counters.ruleMatched(action);
      return action === 'Block';
    });
  }

  private async persist(arn: string, a: LiveAttack, end: Date | undefined): Promise<void> {
    const rec = attackDetail(arn, a, end);
    await this.store.write((tx) => tx.put(NS, K.attack(a.id), rec));
  }
}
