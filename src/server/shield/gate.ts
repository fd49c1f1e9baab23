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
 * storm, and socket watchdogs (head deadline, slow body, slow read).
 */
export class ConnectionGate {
  private readonly clients = new Map<string, Client>();
  private readonly watched = new Map<net.Socket, Watched>();
  private readonly held = new Set<net.Socket>();
  private total = 0;
  private scans = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly limits: GateLimits,
    private readonly allow: CidrList,
    private readonly counters: ShieldCounters,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.timer = setInterval(() => this.scan(), 250);
    this.timer.unref();
  }

  /** Takes a fresh socket; false → the gate has taken it over (held or closed). */
  accept(socket: net.Socket): boolean {
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
    const t = this.now();
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
    return { connections: this.total, held: this.held.size, clients: this.clients.size, blocks: this.activeBlocks() };
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.held) s.destroy();
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
    this.watched.set(socket, { socket, key, kind: 'pending', since: t, active: 0, idleMark: 0, headStart: t, body: undefined, writeMark: 0, writeAt: t });
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
    const t = this.now();
    // Forget idle clients now and then, so many distinct sources cannot grow the table for ever.
    if (++this.scans % 40 === 0) {
      for (const [key, c] of this.clients) if (c.open <= 0 && c.blockedUntil <= t && t - c.refill > 10_000) this.clients.delete(key);
    }
    const { headerTimeoutMs, bodyMinRate, watchWindowMs } = this.limits;
    const minBytes = (bodyMinRate * watchWindowMs) / 1000;
    for (const w of this.watched.values()) {
      const s = w.socket;
      if (w.active === 0) {
        // Idle between requests is Node's keep-alive timeout; a head that has begun must finish in time.
        if (w.kind === 'pending' || w.kind === 'tls') {
          if (t - w.since > headerTimeoutMs && w.kind === 'pending') this.kill(w, 'header-timeout');
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

  private kill(w: Watched, reason: string): void {
    this.counters.rejected(reason, w.key);
    this.watched.delete(w.socket);
    w.socket.destroy();
  }
}
