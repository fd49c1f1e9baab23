import type net from 'node:net';
import { clientKey, type CidrList } from './addr.js';
import type { ShieldCounters } from './counters.js';

export interface GateLimits {
  maxConnections: number;
  clientConnections: number;
  /** New connections per second per client (token bucket, burst = 2 s worth). */
  connectionRate: number;
  headerTimeoutMs: number;
  bodyMinRate: number;
  watchWindowMs: number;
  /** How long a refused connection is held open, unread, before it is dropped. */
  holdMs: number;
  /** At most this many held connections; beyond it refusals close at once. */
  maxHeld: number;
}

type Kind = 'pending' | 'h1' | 'h2' | 'tls';

/**
 * Starting and cutting connections in bulk: about this much of an event-loop turn goes to the first
 * reads of new connections (their first requests: a signed PUT's setup costs ~1 ms of CPU) and to
 * tearing down the connections the watchdogs cut (an aborted upload's cleanup, ~0.5 ms). A burst
 * of thousands is then spread over many turns, and requests on connections already open are served
 * between them instead of waiting behind one turn of seconds.
 */
const TURN_MS = 8;
/** Starts and cuts per turn: the first turn's allowance, and the most ever. */
const FIRST_BATCH = 32;
const MAX_BATCH = 1024;
/**
 * Node 20's libuv accepts one connection per event-loop iteration, so while the kernel's accept queue
 * holds a burst of thousands, a newcomer (a legitimate client's new socket) waits as many iterations,
 * and an iteration that starts connections lasts a turn's budget: seconds in all. While iterations
 * keep accepting (ACCEPT_STREAK in a row: the queue holds more), turns only accept — cheap, ~0.1 ms —
 * and start or tear down nothing, except once per this many ms, so that a steady stream of new
 * connections cannot starve the ones already accepted.
 */
const ACCEPT_FIRST_MS = 50;
/**
 * How many iterations in a row must each accept a connection before the queue counts as backed up: a
 * steady stream of connects from legitimate clients seldom lands in every iteration, a burst does.
 */
const ACCEPT_STREAK = 4;
/** Waiting clients compared per start (see nextClient). */
const NEXT_CLIENT_SCAN = 64;
/** An accepted connection waiting for its turn to start. */
type Waiter = { socket: net.Socket; begin: () => void };
const SCAN_MS = 250;
/**
 * The watchdogs' clock advances at most this much from one scan to the next: when the server
 * itself stalls (a burst of work, a starved machine), the time it was not reading does not count
 * against its clients' deadlines — otherwise every connection would look slow after a stall.
 */
const MAX_SCAN_STEP_MS = 2 * SCAN_MS;

/** What the watchdog knows about one socket (one scan every ~250 ms reads these). */
interface Watched {
  socket: net.Socket;
  key: string;
  kind: Kind;
  since: number;
  /** Requests in progress on the socket (h1: at most one). */
  active: number;
  /** bytesRead when the socket last became idle, and when bytes past it were first seen (a head started). */
  idleMark: number;
  headStart: number;
  /** The open request whose body is still arriving, for the slow-body guard. */
  body: { complete: () => boolean; starved: () => boolean; mark: number; at: number } | undefined;
  writeMark: number;
  writeAt: number;
  /** Its first bytes read, waiting its turn in the start queue since then (watch time; 0: not waiting). The wait does not count towards its head deadline. */
  queuedAt: number;
}

interface Client {
  open: number;
  tokens: number;
  refill: number;
  blockedUntil: number;
}

/**
 * The connection gate, before any HTTP parsing: allowlist, global and
 * per-client connection caps, a per-client new-connection rate, blocked
 * clients held (paused, never read) instead of closed into a reconnect
 * storm, new connections started a turn's worth at a time (none while the
 * accept queue is backed up), the client with the fewest started first, and
 * socket watchdogs (head deadline, slow body, slow read).
 */
export class ConnectionGate {
  private readonly clients = new Map<string, Client>();
  private readonly watched = new Map<net.Socket, Watched>();
  private readonly held = new Set<net.Socket>();
  private total = 0;
  private scans = 0;
  private readonly timer: NodeJS.Timeout;
  /** Accepted connections waiting to be started, per client; Map order breaks ties (see nextClient). */
  private readonly waiting = new Map<string, Waiter[]>();
  private waitingCount = 0;
  /** New connections this turn may still start (adapted to what the last batches cost), and started so far. */
  private batch = FIRST_BATCH;
  private startedThisTurn = 0;
  private turnAt = 0;
  private turnArmed = false;
  /** Connections accepted since the last turn, turns in a row that saw one, whether that makes the accept queue backed up, and when a turn last did work. */
  private acceptedSinceTurn = 0;
  private acceptStreak = 0;
  private accepting = false;
  private workedAt = 0;
  /** Connections the watchdogs cut, still to be torn down (paused meanwhile), a turn's worth at a time. */
  private readonly dying: net.Socket[] = [];
  /** The watchdogs' clock (see MAX_SCAN_STEP_MS): its value at the last scan, and the real time then. */
  private watchBase = 0;
  private watchBaseReal: number;

  constructor(
    private readonly limits: GateLimits,
    private readonly allow: CidrList,
    private readonly counters: ShieldCounters,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.watchBaseReal = now();
    this.timer = setInterval(() => this.scan(), SCAN_MS);
    this.timer.unref();
  }

  /** Takes a fresh socket; false → the gate has taken it over (held or closed). */
  accept(socket: net.Socket): boolean {
    this.acceptedSinceTurn++;
    this.armTurn();
    const key = clientKey(socket.remoteAddress);
    if (this.allow.contains(socket.remoteAddress)) {
      this.track(socket, key, false);
      return true;
    }
    const t = this.now();
    const c = this.client(key, t);
    let reason: string | undefined;
    if (c.blockedUntil > t) reason = 'blocked';
    else if (this.total >= this.limits.maxConnections) reason = 'max-connections';
    else if (c.open >= this.limits.clientConnections) reason = 'client-connections';
    else if (c.tokens < 1) reason = 'connection-rate';
    if (reason) {
      this.counters.rejected(reason);
      this.hold(socket, reason === 'max-connections');
      return false;
    }
    c.tokens -= 1;
    this.track(socket, key, true);
    return true;
  }

  /**
   * A new connection's first bytes have come: its first request is handled now, unless this turn's
   * allowance is spent (or others wait, or connections are being accepted) — then it waits its turn,
   * fewest-started client first (see nextClient), so one source's thousand connections cannot delay
   * another's few. Its head deadline restarts then.
   */
  start(socket: net.Socket, begin: () => void): void {
    const w = this.watched.get(socket);
    if (!w || this.allow.contains(socket.remoteAddress)) {
      begin();
      return;
    }
    this.armTurn();
    if (this.waitingCount === 0 && this.startedThisTurn < this.batch && !this.accepting) {
      this.startedThisTurn++;
      begin();
      return;
    }
    w.queuedAt = this.watchNow();
    let q = this.waiting.get(w.key);
    if (!q) {
      q = [];
      this.waiting.set(w.key, q);
    }
    q.push({ socket, begin });
    this.waitingCount++;
  }

  /** The listener has told HTTP/1.1 from HTTP/2 and TLS. */
  classified(socket: net.Socket, kind: 'h1' | 'h2' | 'tls'): void {
    const w = this.watched.get(socket);
    if (w) w.kind = kind;
  }

  requestStarted(socket: net.Socket, body?: { complete: () => boolean; starved: () => boolean }): void {
    const w = this.watched.get(socket);
    if (!w) return;
    w.active++;
    w.headStart = 0;
    const t = this.watchNow();
    w.body = body && !body.complete() ? { ...body, mark: socket.bytesRead, at: t } : undefined;
    w.writeMark = socket.bytesWritten;
    w.writeAt = t;
  }

  requestEnded(socket: net.Socket): void {
    const w = this.watched.get(socket);
    if (!w) return;
    w.active = Math.max(0, w.active - 1);
    w.body = undefined;
    if (w.active === 0) {
      w.idleMark = socket.bytesRead;
      w.headStart = 0;
    }
  }

  /** Blocks a client for `ms`: its open connections close, new ones are held. */
  block(address: string, ms: number): void {
    const key = clientKey(address);
    if (this.allow.contains(address)) return;
    const c = this.client(key, this.now());
    c.blockedUntil = this.now() + ms;
    this.counters.blocked(key, ms);
    for (const w of this.watched.values()) if (w.key === key) w.socket.destroy();
  }

  isBlocked(address: string | undefined): boolean {
    const c = this.clients.get(clientKey(address));
    return c !== undefined && c.blockedUntil > this.now();
  }

  activeBlocks(): number {
    const t = this.now();
    let n = 0;
    for (const c of this.clients.values()) if (c.blockedUntil > t) n++;
    return n;
  }

  stats() {
    return { connections: this.total, held: this.held.size, waiting: this.waitingCount, dying: this.dying.length, batch: this.batch, clients: this.clients.size, blocks: this.activeBlocks() };
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.held) s.destroy();
    for (const q of this.waiting.values()) for (const e of q) e.socket.destroy();
    this.waiting.clear();
    this.waitingCount = 0;
    for (const s of this.dying) s.destroy();
    this.dying.length = 0;
  }

  /** The watchdogs' time: real time, except that a stall of the server counts as at most MAX_SCAN_STEP_MS. */
  private watchNow(): number {
    return this.watchBase + Math.min(this.now() - this.watchBaseReal, MAX_SCAN_STEP_MS);
  }

  private armTurn(): void {
    if (this.turnArmed) return;
    this.turnArmed = true;
    if (this.turnAt === 0) this.turnAt = this.now();
    setImmediate(() => this.nextTurn());
  }

  /**
   * Once per event-loop turn while connections are being started or cut: the last turn's length
   * says what its starts and cuts cost, which sizes this turn's batch; then the waiting ones
   * start, one per client in turn, and the cut connections are torn down.
   */
  private nextTurn(): void {
    this.turnArmed = false;
    const t = this.now();
    const took = t - this.turnAt;
    if (this.startedThisTurn > 0) {
      // Halve when the turn ran long, double when it was short: the batch follows the cost of a start.
      if (took > TURN_MS) this.batch = Math.max(1, this.batch >> 1);
      else if (took < TURN_MS / 2 && this.startedThisTurn >= this.batch) this.batch = Math.min(MAX_BATCH, this.batch * 2);
    }
    this.turnAt = t;
    this.startedThisTurn = 0;
    // Accepts in several iterations in a row: the kernel's queue holds more, taken one per iteration (see ACCEPT_FIRST_MS).
    this.acceptStreak = this.acceptedSinceTurn > 0 ? this.acceptStreak + 1 : 0;
    this.accepting = this.acceptStreak >= ACCEPT_STREAK;
    this.acceptedSinceTurn = 0;
    const work = this.waitingCount > 0 || this.dying.length > 0;
    if (this.accepting && work && t - this.workedAt < ACCEPT_FIRST_MS) {
      this.armTurn();
      return;
    }
    if (work) this.workedAt = t;
    // Starts go first: a legitimate client's new connection waits on them (fewest-started client first),
    // while tearing down what the watchdogs cut can wait a turn — but always gets a share of the
    // turn, so a flood of starts cannot pile up cut connections.
    const cuts = this.dying.length === 0 ? 0 : Math.min(this.dying.length, Math.max(1, this.batch >> 2));
    const starts = Math.max(1, this.batch - cuts);
    const watchT = this.watchNow();
    while (this.waitingCount > 0 && this.startedThisTurn < starts) {
      const [key, q] = this.nextClient();
      const e = q.shift();
      this.waitingCount--;
      // To the back of the round: the next start goes to the next client.
      this.waiting.delete(key);
      if (q.length > 0) this.waiting.set(key, q);
      if (!e || e.socket.destroyed) continue;
      const w = this.watched.get(e.socket);
      if (w) {
        const waited = watchT - w.queuedAt;
        w.since += waited;
        w.headStart += waited;
        w.queuedAt = 0;
      }
      this.startedThisTurn++;
      e.begin();
    }
    for (let cut = 0; this.dying.length > 0 && (cut < cuts || this.startedThisTurn < this.batch); cut++) {
      this.startedThisTurn++;
      (this.dying.shift() as net.Socket).destroy();
    }
    if (this.waitingCount > 0 || this.dying.length > 0 || this.startedThisTurn > 0 || this.acceptStreak > 0) this.armTurn();
    else this.turnAt = 0;
  }

  /**
   * Whose connection starts next: the waiting client with the fewest connections already started (open, not
   * waiting) — a client with a few sockets is not made to wait behind one with hundreds — and among equals
   * the one waiting longest (Map order: a client goes to the back once served). Only the first
   * NEXT_CLIENT_SCAN clients in that order are compared, so thousands of waiting sources cost a bounded
   * scan per start.
   */
  private nextClient(): [string, Waiter[]] {
    let best: [string, Waiter[]] | undefined;
    let bestStarted = Infinity;
    let seen = 0;
    for (const entry of this.waiting) {
      const started = (this.clients.get(entry[0])?.open ?? 0) - entry[1].length;
      if (started < bestStarted) {
        best = entry;
        bestStarted = started;
        if (started <= 0) break;
      }
      if (++seen >= NEXT_CLIENT_SCAN) break;
    }
    return best as [string, Waiter[]];
  }

  private client(key: string, t: number): Client {
    let c = this.clients.get(key);
    const burst = this.limits.connectionRate * 2;
    if (!c) {
      c = { open: 0, tokens: burst, refill: t, blockedUntil: 0 };
      this.clients.set(key, c);
    } else {
      c.tokens = Math.min(burst, c.tokens + ((t - c.refill) / 1000) * this.limits.connectionRate);
      c.refill = t;
    }
    return c;
  }

  private track(socket: net.Socket, key: string, counted: boolean): void {
    const t = this.now();
    this.total++;
    const c = counted ? this.client(key, t) : undefined;
    if (c) c.open++;
    const wt = this.watchNow();
    this.watched.set(socket, { socket, key, kind: 'pending', since: wt, active: 0, idleMark: 0, headStart: wt, body: undefined, writeMark: 0, writeAt: wt, queuedAt: 0 });
    socket.once('close', () => {
      this.total--;
      if (c) c.open--;
      this.watched.delete(socket);
    });
  }

  /** Refused: keep the socket open and unread (costs a descriptor, no CPU), drop it later. */
  private hold(socket: net.Socket, closeNow: boolean): void {
    socket.on('error', () => socket.destroy());
    if (closeNow || this.held.size >= this.limits.maxHeld) {
      socket.destroy();
      return;
    }
    socket.pause();
    this.held.add(socket);
    socket.once('close', () => this.held.delete(socket));
    setTimeout(() => socket.destroy(), this.limits.holdMs).unref();
  }

  private scan(): void {
    const real = this.now();
    // Forget idle clients now and then, so many distinct sources cannot grow the table for ever.
    if (++this.scans % 40 === 0) {
      for (const [key, c] of this.clients) if (c.open <= 0 && c.blockedUntil <= real && real - c.refill > 10_000) this.clients.delete(key);
    }
    const t = (this.watchBase = this.watchNow());
    this.watchBaseReal = real;
    const { headerTimeoutMs, bodyMinRate, watchWindowMs } = this.limits;
    const minBytes = (bodyMinRate * watchWindowMs) / 1000;
    for (const w of this.watched.values()) {
      const s = w.socket;
      if (w.active === 0) {
        // Idle between requests is Node's keep-alive timeout; a head that has begun must finish in time.
        if (w.kind === 'pending' || w.kind === 'tls') {
          if (t - w.since > headerTimeoutMs && w.kind === 'pending' && w.queuedAt === 0) this.kill(w, 'header-timeout');
          continue;
        }
        if (w.kind !== 'h1') continue;
        if (w.headStart === 0 && s.bytesRead > w.idleMark) w.headStart = t;
        if (w.headStart !== 0 && t - w.headStart > headerTimeoutMs) this.kill(w, 'header-timeout');
        continue;
      }
      const b = w.body;
      if (b && bodyMinRate > 0) {
        if (b.complete()) w.body = undefined;
        else if (b.starved()) {
          // We are the slow side (the handler is not reading): restart the window.
          b.mark = s.bytesRead;
          b.at = t;
        } else if (t - b.at >= watchWindowMs) {
          if (s.bytesRead - b.mark < minBytes) {
            this.kill(w, 'slow-body');
            continue;
          }
          b.mark = s.bytesRead;
          b.at = t;
        }
      }
      // Slow read: output queued in the socket while the peer takes almost nothing.
      if (bodyMinRate > 0 && s.writableLength > 0) {
        if (t - w.writeAt >= watchWindowMs) {
          if (s.bytesWritten - w.writeMark < minBytes) this.kill(w, 'slow-read');
          w.writeMark = s.bytesWritten;
          w.writeAt = t;
        }
      } else {
        w.writeMark = s.bytesWritten;
        w.writeAt = t;
      }
    }
  }

  /** Cut: counted (and seen by detection) now, read no more, torn down in the next turns (see TURN_MS). */
  private kill(w: Watched, reason: string): void {
    this.counters.rejected(reason, w.key);
    this.watched.delete(w.socket);
    w.socket.pause();
    this.dying.push(w.socket);
    this.armTurn();
  }
}
