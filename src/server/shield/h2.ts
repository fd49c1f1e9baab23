import http2 from 'node:http2';
import { clientKey } from './addr.js';
import type { ShieldCounters } from './counters.js';

export interface H2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to every HTTP/2 client. */
  maxStreams: number;
  /** Streams a client may reset (RST_STREAM before its response ended) per second on one connection. */
  resetRate: number;
}

/**
 * HTTP/2 rapid reset (CVE-2023-44487): a client opens streams and cancels them
 * at once, so the server starts work it never finishes while the concurrency
 * limit never binds. Client resets are counted per connection over a sliding
 * second; past the limit the connection gets GOAWAY (ENHANCE_YOUR_CALM) and is
 * closed, and the refusal is counted (reason 'h2-rapid-reset', an attack vector).
 */
export function watchH2Session(session: http2.ServerHttp2Session, limits: H2Limits, counters: ShieldCounters, now: () => number = () => performance.now()): void {
  let windowStart = now();
  let resets = 0;
  let cut = false;
  session.on('stream', (stream) => {
    // Closed with an error code: the client cancelled it (hanul itself resets a stream only when
    // it fails, never at this rate). Not 'aborted', which misses streams whose answer was already
    // queued when the RST_STREAM arrived in the same packet as the request.
    stream.once('close', () => {
      if (cut || stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) return;
      const t = now();
      if (t - windowStart >= 1000) {
        windowStart = t;
        resets = 0;
      }
      if (++resets <= limits.resetRate) return;
      cut = true;
      counters.rejected('h2-rapid-reset', clientKey(session.socket?.remoteAddress));
      session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      // GOAWAY first so the client learns why; then the socket goes.
      setImmediate(() => session.destroy());
    });
  });
}
