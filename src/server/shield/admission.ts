import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { clientKey } from './addr.js';

export interface AdmissionLimits {
  /** Per-client ceiling, always (token bucket, burst = 2 s worth). */
  clientRps: number;
  /** Per-client ceiling while the server is under pressure and serves more than one client. */
  pressureClientRps: number;
  /** Event-loop delay (p99 over the last window, ms) that means pressure. */
  pressureDelayMs: number;
  /** Requests in flight (peak over a window) that mean pressure. */
  pressureInFlight: number;
  /** A client rejected in every window for this long is blocked at the gate. */
  blockAfterMs: number;
}

/** Counting window: a flood is shed within its first quarter second, not after a whole second. */
const WINDOW_MS = 250;
/** A client shed this often in every window for blockAfterMs is blocked (it did not back off). */
const MIN_SHED = 10;

interface ClientRate {
  tokens: number;
  refill: number;
  /** Requests in the current and previous window, and in the three windows before that. */
  cur: number;
  prev: number;
  older: number;
  /** The previous windows' counts, newest first (the last second, with `prev`). */
  hist: [number, number, number];
  /** Consecutive windows with rejections, and whether this window had one. */
  badWindows: number;
  /** This window: refused at the hard ceiling, and how many shed. */
  overCeiling: boolean;
  shedNow: number;
  /** Windows since its last request: a client seen in the last second is still active. */
  idle: number;
}

export type Verdict = { ok: true } | { ok: false; reason: 'client-rate' | 'load-shed'; block: boolean };

/**
 * Request admission: a generous per-client rate ceiling, and under pressure
 * (event-loop delay or in-flight requests) a much lower one for clients that
 * share the server with others — or that take more than half of all traffic
 * among others — so one heavy client cannot starve the rest.
 * A lone client (a test, a benchmark) is never shed for being busy.
 * Rates are counted per quarter second (the pressure ceiling is pressureClientRps / 4
 * a quarter, for two quarters running or twice over in one), so a flood is shed within
 * half a second rather than after a whole second's worth has been served.
 */
export class Admission {
  private readonly clients = new Map<string, ClientRate>();
  private readonly eld: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private readonly perWindow: number;
  private readonly blockAfter: number;
  private pressure = false;
  private activeClients = 0;
  /** All requests in the previous window: a client with more than half of them, among others, dominates. */
  private totalPrev = 0;
  /** This window so far: clients seen and requests. */
  private activeNow = 0;
  private totalCur = 0;
  private inFlightNow = 0;
  private inFlightPeak = 0;

  constructor(private readonly limits: AdmissionLimits, private readonly now: () => number = () => performance.now()) {
    this.perWindow = Math.max(1, (limits.pressureClientRps * WINDOW_MS) / 1000);
    this.blockAfter = Math.max(1, Math.round(limits.blockAfterMs / WINDOW_MS));
    this.eld = monitorEventLoopDelay({ resolution: 10 });
    this.eld.enable();
    this.timer = setInterval(() => this.tick(), WINDOW_MS);
    this.timer.unref();
  }

  started(): void {
    this.inFlightNow++;
    if (this.inFlightNow > this.inFlightPeak) this.inFlightPeak = this.inFlightNow;
  }

  ended(): void {
    this.inFlightNow = Math.max(0, this.inFlightNow - 1);
  }

  underPressure(): boolean {
    return this.pressure;
  }

  check(address: string | undefined): Verdict {
    const key = clientKey(address);
    const t = this.now();
    let c = this.clients.get(key);
    if (!c) {
      c = { tokens: this.limits.clientRps * 2, refill: t, cur: 0, prev: 0, older: 0, hist: [0, 0, 0], badWindows: 0, overCeiling: false, shedNow: 0, idle: 0 };
      this.clients.set(key, c);
    } else {
      c.tokens = Math.min(this.limits.clientRps * 2, c.tokens + ((t - c.refill) / 1000) * this.limits.clientRps);
      c.refill = t;
    }
    if (c.cur === 0) this.activeNow++;
    c.cur++;
    this.totalCur++;
    let reason: 'client-rate' | 'load-shed' | undefined;
    if (c.tokens < 1) reason = 'client-rate';
    else if (this.shed(c)) reason = 'load-shed';
    if (!reason) {
      c.tokens -= 1;
      return { ok: true };
    }
    if (reason === 'client-rate') c.overCeiling = true;
    else c.shedNow++;
    return { ok: false, reason, block: c.badWindows + 1 >= this.blockAfter && this.bad(c) };
  }

  /** Only among other clients: a lone client is never shed for being busy. */
  private shed(c: ClientRate): boolean {
    const active = Math.max(this.activeClients, this.activeNow);
    if (active <= 1) return false;
    // Under pressure, a heavy hitter waits: well over its fair share of the last window, a quarter or more
    // of all traffic, and more than half the pressure rate — over the last second too, not in one quarter
    // only. (Not merely the largest of many small sources: among a distributed flood the legitimate client
    // is often that, and detection handles the flood. Nor a modest client whose requests queued behind a
    // stall of the server and arrived together: its second is no busier than before.)
    if (this.pressure && c.prev > Math.max(this.perWindow / 2, (1.5 * this.totalPrev) / active, this.totalPrev / 4) && c.prev + c.older > 2 * this.perWindow) return true;
    // Always: a client over the pressure rate for two quarters running (or twice over in one — an
    // SDK's burst of 50 passes) that also takes more than half of all traffic.
    // Once shed, a client still over the rate is shed from its first request of the next window.
    const fast = (c.prev > this.perWindow && (c.cur > this.perWindow || c.badWindows > 0)) || c.cur > 2 * this.perWindow;
    return fast && (c.prev > this.totalPrev / 2 || c.cur > this.totalCur / 2);
  }

  /**
   * A window that counts towards a block: refused at the hard ceiling, or shed many times —
   * a client that keeps sending after being told to slow down (an SDK backs off; a flood does not).
   */
  private bad(c: ClientRate): boolean {
    return c.overCeiling || c.shedNow >= MIN_SHED;
  }

  close(): void {
    clearInterval(this.timer);
    this.eld.disable();
  }

  private tick(): void {
    const p99 = this.eld.percentile(99) / 1e6;
    this.eld.reset();
    let active = 0;
    let total = 0;
    for (const [key, c] of this.clients) {
      c.idle = c.cur > 0 ? 0 : c.idle + 1;
      // A client seen in the last second is active: a quarter without its request is not its departure.
      if (c.idle < 4) active++;
      total += c.cur;
      c.badWindows = this.bad(c) ? c.badWindows + 1 : 0;
      c.overCeiling = false;
      c.shedNow = 0;
      if (c.idle >= 8 && c.badWindows === 0) this.clients.delete(key);
      const h = c.hist;
      h[2] = h[1];
      h[1] = h[0];
      h[0] = c.prev;
      c.older = h[0] + h[1] + h[2];
      c.prev = c.cur;
      c.cur = 0;
    }
    this.activeClients = active;
    this.totalPrev = total;
    this.activeNow = 0;
    this.totalCur = 0;
    this.pressure = p99 > this.limits.pressureDelayMs || this.inFlightPeak > this.limits.pressureInFlight;
    this.inFlightPeak = this.inFlightNow;
  }
}
