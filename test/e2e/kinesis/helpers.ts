import * as k from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { TestServer } from '../../support/hanul.js';

export type Protocol = 'HTTP/2' | 'HTTP/1.1';

/** A Kinesis client over the SDK's default HTTP/2 handler, or HTTP/1.1. */
export function kinesisClient(server: TestServer, protocol: Protocol): k.KinesisClient {
  return new k.KinesisClient({ ...server.clientConfig, ...(protocol === 'HTTP/1.1' ? { requestHandler: new NodeHttpHandler() } : {}) });
}
