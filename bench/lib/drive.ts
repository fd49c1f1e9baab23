// A fixed-count load driver for profiling: N requests over C keep-alive
// connections, each connection replaying pre-built raw HTTP/1.1 requests one
// at a time. Unlike wrk (fixed duration), the server does the same work in
// every run, so CPU seconds and callgrind instruction counts compare directly.
import net from 'node:net';

export interface RawRequest {
  /** The full request bytes (head and body). */
  bytes: Buffer;
  /** HEAD: the response has no body whatever content-length says. */
  head: boolean;
}

/** Builds the bytes of one HTTP/1.1 request. */
export function rawRequest(method: string, path: string, host: string, headers: Record<string, string>, body?: Buffer): RawRequest {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'host') head += `${k}: ${v}\r\n`;
  if (body && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) head += `content-length: ${body.length}\r\n`;
  head += '\r\n';
  return { bytes: body ? Buffer.concat([Buffer.from(head), body]) : Buffer.from(head), head: method === 'HEAD' };
}

/**
 * Sends `total` requests (cycling over `requests`) on `connections` sockets to
 * 127.0.0.1:`port`; resolves with the status counts. Rejects on a socket error.
 */
export async function drive(port: number, requests: RawRequest[], total: number, connections: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.setNoDelay(true);
      let buf: Buffer = Buffer.alloc(0);
      let current: RawRequest | undefined;
      const send = (): void => {
        if (next >= total) {
          sock.end();
          resolve();
          return;
        }
        current = requests[next++ % requests.length];
        sock.write(current!.bytes);
      };
      sock.on('connect', send);
      sock.on('error', reject);
      sock.on('data', (d: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const status = Number(head.slice(9, 12));
          const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
          const len = current?.head || status === 204 || status === 304 ? 0 : Number(cl?.[1] ?? 0);
          if (buf.length < end + 4 + len) return;
          buf = buf.subarray(end + 4 + len);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          send();
        }
      });
    });
  await Promise.all(Array.from({ length: connections }, one));
  return statuses;
}
