import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

export type RequestListener = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface ListenerOptions {
  host: string;
  port: number;
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** Largest request head (bytes); more → 431. */
  maxHeaderSize: number;
  /** Flood protection (src/server/shield/): sees each socket before any parsing, and each request's start and end. */
  gate?: ConnectionHooks | undefined;
}

export interface ConnectionHooks {
  /** false → the gate has taken the socket (held or closed). */
  accept(socket: net.Socket): boolean;
  /** A new connection's first bytes have come: `dispatch` now or in a later turn (a burst of new connections is started a few per turn). */
  start?(socket: net.Socket, dispatch: () => void): void;
  classified(socket: net.Socket, kind: 'h1' | 'h2' | 'tls'): void;
  requestStarted(socket: net.Socket, req: http.IncomingMessage | undefined): void;
  requestEnded(socket: net.Socket): void;
  /** HTTP/2: SETTINGS_MAX_CONCURRENT_STREAMS, and each new session (rapid-reset watch). */
  readonly h2MaxStreams?: number;
  h2Session?(session: http2.ServerHttp2Session): void;
}

export interface Listener {
  readonly port: number;
  readonly host: string;
  /** Stop accepting; resolves when every connection has closed or `graceMs` passed (then they are destroyed). */
  close(graceMs: number): Promise<void>;
  inFlight(): number;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const TLS_HANDSHAKE = 0x16;

/**
 * One port for everything: HTTP/1.1, prior-knowledge HTTP/2 (h2c: the Kinesis
 * SDK speaks only that) and, when a certificate is configured, TLS with ALPN
 * h2/http1.1. The first bytes of a connection tell which: 0x16 starts a TLS
 * handshake, the HTTP/2 preface starts h2c, anything else is HTTP/1.1.
 */
export async function listen(opts: ListenerOptions, onRequest: RequestListener): Promise<Listener> {
  const sockets = new Set<Duplex>();
  let active = 0;
  const counted: RequestListener = (req, res) => {
    active++;
    const sock = req.socket;
    // Only a request with a body to wait for is handed over for the slow-body watch: an HTTP/1 request
    // without content-length or transfer-encoding (or with length 0) has none, and watching it cost
    // the gate an object per request for a body that is complete once its head is parsed.
    const h = req.headers;
    const body = req.httpVersionMajor === 1 && !((h['content-length'] === undefined || h['content-length'] === '0') && h['transfer-encoding'] === undefined);
    opts.gate?.requestStarted(sock, body ? (req as http.IncomingMessage) : undefined);
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        active--;
        opts.gate?.requestEnded(sock);
      }
    };
    // 'close' alone: a response emits it after 'finish' (HTTP/1: on the next tick; HTTP/2: when its
    // stream closes) and also when the connection dies first. `on`, not `once`: `once` wraps each
    // listener in a fresh closure and state object, and a second 'finish' listener turns Node's own
    // (resOnFinish) into an array — per request; `done` already makes it run once.
    res.on('close', finish);
    onRequest(req, res);
  };

  const h1 = http.createServer(
    {
      maxHeaderSize: opts.maxHeaderSize,
      // Multi-GB uploads that keep progressing must never be cut by Node's own timer.
      requestTimeout: 0,
      headersTimeout: 60_000,
      keepAliveTimeout: 65_000,
    },
    counted,
  );
  const h2settings: http2.Settings = { maxConcurrentStreams: opts.gate?.h2MaxStreams ?? 256, maxHeaderListSize: opts.maxHeaderSize };
  const h2 = http2.createServer({ settings: h2settings, maxSessionMemory: 32 });
  h2.on('request', counted);
  h2.on('sessionError', () => undefined);
  h2.on('session', (session: http2.ServerHttp2Session) => opts.gate?.h2Session?.(session));
  let secure: tls.Server | undefined;
  if (opts.tls) {
    const s = http2.createSecureServer({
      cert: opts.tls.cert,
      key: opts.tls.key,
      allowHTTP1: true,
      settings: h2settings,
      maxSessionMemory: 32,
    });
    s.on('request', counted);
    s.on('sessionError', () => undefined);
    s.on('session', (session: http2.ServerHttp2Session) => opts.gate?.h2Session?.(session));
    s.on('tlsClientError', () => undefined);
    secure = s;
  }

  // noDelay as http.createServer sets it: connections reach the HTTP servers through this
  // listener (emit('connection')), which skips theirs, and with Nagle on the sub-segment tail
  // of each large write waits for the client's (delayed) ACK.
  const server = net.createServer({ noDelay: true }, (socket) => {
    if (opts.gate && !opts.gate.accept(socket)) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    const onReadable = (): void => {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) return;
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, H2_PREFACE.length);
      const maybeH2 = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      // Wait for enough bytes to tell a partial h2 preface from HTTP/1.1.
      if (maybeH2 && head.length < H2_PREFACE.length && head[0] !== TLS_HANDSHAKE) return;
      socket.off('readable', onReadable);
      socket.unshift(head);
      const kind = head[0] === TLS_HANDSHAKE && secure ? 'tls' : maybeH2 ? 'h2' : 'h1';
      const dispatch = (): void => {
        opts.gate?.classified(socket, kind);
        (kind === 'tls' ? (secure as tls.Server) : kind === 'h2' ? h2 : h1).emit('connection', socket);
      };
      if (opts.gate?.start) opts.gate.start(socket, dispatch);
      else dispatch();
    };
    socket.on('readable', onReadable);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Node's default accept queue (511) overflows when a few thousand connections arrive at once:
    // the kernel then drops every newcomer's SYN, the legitimate ones too, and they retry 1, 3, 7 s later.
    // The kernel caps this at net.core.somaxconn.
    server.listen({ port: opts.port, host: opts.host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;

  return {
    port: addr.port,
    host: opts.host,
    inFlight: () => active,
    async close(graceMs: number) {
      server.close();
      h1.closeIdleConnections();
      h2.close();
      secure?.close();
      const deadline = Date.now() + graceMs;
      while (active > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        h1.closeIdleConnections();
      }
      for (const s of sockets) s.destroy();
    },
  };
}
