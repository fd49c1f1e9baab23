import * as k from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { TestServer } from '../../support/hanul.js';

export type Protocol = 'HTTP/2' | 'HTTP/1.1';

/**
 * `signHost`: over HTTP/2 the SDK signs `:authority` instead of `host`; while
 * the server's SigV4 verifier accepts only `host`, tests still exercise
 * Kinesis over HTTP/2 by moving the value back to `host` before signing.
 */
export function kinesisClient(server: TestServer, protocol: Protocol, opts: { signHost?: boolean } = {}): k.KinesisClient {
  const c = new k.KinesisClient({ ...server.clientConfig, ...(protocol === 'HTTP/1.1' ? { requestHandler: new NodeHttpHandler() } : {}) });
  if (opts.signHost) {
    type Args = { request: { headers: Record<string, string> } };
    c.middlewareStack.addRelativeTo(
      ((next: (a: Args) => Promise<unknown>) => async (args: Args) => {
        const h = args.request.headers;
        const authority = h[':authority'];
        if (authority !== undefined) {
          h['host'] = authority;
          delete h[':authority'];
        }
        return next(args);
      }) as never,
      { relation: 'after', toMiddleware: 'hostHeaderMiddleware', name: 'hanulSignHost' },
    );
  }
  return c;
}

/**
 * Whether the server accepts the SDK's HTTP/2 requests (the JS SDK signs
 * `:authority` there, not `host`). Undefined when it does; else the reason,
 * so HTTP/2-only tests can say why they did not run.
 */
export async function http2Problem(server: TestServer): Promise<string | undefined> {
  const c = kinesisClient(server, 'HTTP/2');
  try {
    await c.send(new k.ListStreamsCommand({ Limit: 1 }));
    return undefined;
  } catch (e) {
    const err = e as Error;
    return `the server refused the SDK's HTTP/2 request: ${err.name}: ${err.message}`;
  } finally {
    c.destroy();
  }
}
