import http from 'node:http';
import net from 'node:net';

/** One plain HTTP request from a chosen loopback source address (never outside 127.0.0.0/8). */
export function rawRequest(
  port: number,
  opts: { from: string; method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent; timeoutMs?: number },
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  if (!opts.from.startsWith('127.')) throw new Error('loopback only');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, localAddress: opts.from, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers ?? {}, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A raw socket from a loopback source; resolves when connected. */
export function rawSocket(port: number, from: string): Promise<net.Socket> {
  if (!from.startsWith('127.')) throw new Error('loopback only');
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from }, () => resolve(s));
    s.on('error', reject);
  });
}

/** Resolves with how long (ms) until the socket closes, or rejects after `deadlineMs`. */
export function closedWithin(s: net.Socket, deadlineMs: number): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    if (s.destroyed) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`socket still open after ${deadlineMs} ms`)), deadlineMs);
    s.on('error', () => undefined);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
}

/** Drips `text` onto the socket, `bytes` at a time every `everyMs`, until the socket closes or `maxMs` passes. */
export function drip(s: net.Socket, text: string, bytes: number, everyMs: number, maxMs: number): void {
  let i = 0;
  const t0 = Date.now();
  const timer = setInterval(() => {
    if (s.destroyed || i >= text.length || Date.now() - t0 > maxMs) {
      clearInterval(timer);
      return;
    }
    s.write(text.slice(i, i + bytes));
    i += bytes;
  }, everyMs);
  s.once('close', () => clearInterval(timer));
}
