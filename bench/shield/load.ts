import http from 'node:http';
import net from 'node:net';

/**
 * Loopback-only load generators for Shield's proof under load. Every loop
 * stops by itself at its deadline; every address must be in 127.0.0.0/8.
 */
function loopback(addr: string): string {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(addr)) throw new Error(`refusing non-loopback address ${addr}`);
  return addr;
}

export interface FloodResult {
  sent: number;
  /** Answered with anything but a throttling status (503/429) or a refusal. */
  served: number;
  throttled: number;
  /** Connection errors, resets and timeouts (held or cut by the gate). */
  failed: number;
}

function once(agent: http.Agent, port: number, path: string, headers: Record<string, string>, timeoutMs: number, info?: { fresh: boolean }): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      if (info) info.fresh = !req.reusedSocket;
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(-1));
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on('error', () => resolve(-1));
    req.end();
  });
}

/** `connections` request loops spread over `sources`, each as fast as answers come, until `durationMs`. */
export async function flood(opts: { port: number; sources: string[]; connections: number; durationMs: number; path?: string; userAgent?: string; timeoutMs?: number }): Promise<FloodResult> {
  const r: FloodResult = { sent: 0, served: 0, throttled: 0, failed: 0 };
  const deadline = Date.now() + opts.durationMs;
  const agents = opts.sources.map((s) => new http.Agent({ keepAlive: true, localAddress: loopback(s) }));
  const headers = { 'user-agent': opts.userAgent ?? 'flood/1.0' };
  const loop = async (i: number) => {
    const agent = agents[i % agents.length] as http.Agent;
    while (Date.now() < deadline) {
      r.sent++;
      const status = await once(agent, opts.port, opts.path ?? '/', headers, Math.min(opts.timeoutMs ?? 2000, Math.max(1, deadline - Date.now())));
      if (status === -1) {
        r.failed++;
        await new Promise((res) => setTimeout(res, 20));
      } else if (status === 503 || status === 429 || status === 400) r.throttled++;
      else r.served++;
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, (_, i) => loop(i)));
  for (const a of agents) a.destroy();
  return r;
}

export interface LegitResult {
  sent: number;
  ok: number;
  latenciesMs: number[];
  /** Failures by status (-1: no answer within 5 s). */
  failures: Record<string, number>;
  /** With SHIELD_BENCH_TRACE: the slow requests (≥ 25 ms): sent at (ms from start), latency, whether on a new connection. */
  slow?: { at: number; ms: number; fresh: boolean; status: number }[];
}

/** A well-behaved client: `rps` requests per second from one address, each timed. */
export async function legit(opts: { port: number; from: string; rps: number; durationMs: number; path?: string; timeoutMs?: number }): Promise<LegitResult> {
  const agent = new http.Agent({ keepAlive: true, localAddress: loopback(opts.from) });
  const r: LegitResult = { sent: 0, ok: 0, latenciesMs: [], failures: {} };
  const trace: NonNullable<LegitResult['slow']> | undefined = process.env['SHIELD_BENCH_TRACE'] ? (r.slow = []) : undefined;
  const start = performance.now();
  const deadline = Date.now() + opts.durationMs;
  const gap = 1000 / opts.rps;
  const inflight: Promise<void>[] = [];
  let next = Date.now();
  while (Date.now() < deadline) {
    r.sent++;
    const t0 = performance.now();
    const info = { fresh: false };
    inflight.push(
      once(agent, opts.port, opts.path ?? '/_hanul/health', { 'user-agent': 'legit-client/1.0' }, opts.timeoutMs ?? 5000, info).then((s) => {
        const took = performance.now() - t0;
        r.latenciesMs.push(took);
        if (trace && took >= 25) trace.push({ at: Math.round(t0 - start), ms: Math.round(took), fresh: info.fresh, status: s });
        if (s === 200) r.ok++;
        else r.failures[s] = (r.failures[s] ?? 0) + 1;
      }),
    );
    // A real client does not fire a backlog after a stall: missed slots are skipped, not burst.
    next = Math.max(next + gap, Date.now());
    await new Promise((res) => setTimeout(res, Math.max(0, next - Date.now())));
  }
  await Promise.all(inflight);
  agent.destroy();
  return r;
}

export function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? 0;
}

/**
 * Slow headers (or, with `body`, a slow body): connections that drip a byte at a time. Resolves with how many the server cut.
 * The drip starts only once the head is written: a write queued while the socket still connects is sent before the
 * head (on a loaded machine a connect can take longer than `everyMs`), and the server then answers a parse error
 * instead of facing a slow body.
 */
export async function slowloris(opts: { port: number; sources: string[]; connections: number; durationMs: number; everyMs: number; body?: boolean; head?: string }): Promise<{ opened: number; cut: number }> {
  const deadline = Date.now() + opts.durationMs;
  let opened = 0;
  let cut = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: opts.port, localAddress: loopback(opts.sources[i % opts.sources.length] as string) });
      let byUs = false;
      let drip: NodeJS.Timeout | undefined;
      s.on('error', () => undefined);
      s.on('connect', () => {
        opened++;
        if (opts.body) s.write(opts.head ?? 'PUT /slow/body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n');
        else s.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
        drip = setInterval(() => {
          if (s.writable) s.write(opts.body ? 'x' : 'X');
        }, opts.everyMs);
      });
      // The deadline ends a socket in any state, still connecting (held by the server) included.
      const stop = setTimeout(() => {
        byUs = true;
        s.destroy();
      }, Math.max(0, deadline - Date.now()));
      s.on('close', () => {
        clearTimeout(stop);
        clearInterval(drip);
        if (!byUs) cut++;
        resolve();
      });
    });
  await Promise.all(Array.from({ length: opts.connections }, (_, i) => one(i)));
  return { opened, cut };
}

export const range = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `127.0.0.${from + i}`);
