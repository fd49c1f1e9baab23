// One PutRecordBatch body, SigV4-signed once and sent again and again over
// keep-alive connections: measures the server, not an SDK client. Shared by
// bench/firehose/run.ts and profile.ts.
import http from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_KEY } from '../../test/support/hanul.js';

export interface RawBatchSender {
  /** Sends `calls` copies of the batch, `concurrency` in flight; rejects on any non-200 or failed record. */
  run(calls: number): Promise<void>;
  close(): void;
}

export async function rawBatchSender(endpoint: string, stream: string, records: Buffer[], concurrency: number): Promise<RawBatchSender> {
  const url = new URL(endpoint);
  const body = JSON.stringify({ DeliveryStreamName: stream, Records: records.map((r) => ({ Data: r.toString('base64') })) });
  const signer = new SignatureV4({ service: 'firehose', region: 'us-east-1', credentials: TEST_KEY, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/',
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Firehose_20150804.PutRecordBatch', 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const send = (): Promise<void> => new Promise<void>((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: 'POST', path: '/', headers: signed.headers, agent }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => (res.statusCode === 200 && text.includes('"FailedPutCount":0') ? resolve() : reject(new Error(`${res.statusCode} ${text.slice(0, 200)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
  return {
    async run(calls) {
      let left = calls;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await send();
      }));
    },
    close: () => agent.destroy(),
  };
}
