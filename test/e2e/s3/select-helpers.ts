/** The S3 Select e2e tests' fixture and what they read from a SelectObjectContent response's Payload event stream. */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, S3Client, type SelectObjectContentEventStream } from '@aws-sdk/client-s3';
import { startHanul, type TestServer } from '../../support/hanul.js';

export interface SelectResult {
  records: string;
  events: string[];
  stats?: { BytesScanned?: number | undefined; BytesProcessed?: number | undefined; BytesReturned?: number | undefined } | undefined;
  maxRecordsEvent: number;
}

/** Iterates the event stream as the SDK parses it: the Records payloads joined, the event names in order, Stats. */
export async function collect(events: AsyncIterable<SelectObjectContentEventStream> | undefined): Promise<SelectResult> {
  const out: SelectResult = { records: '', events: [], maxRecordsEvent: 0 };
  const parts: Buffer[] = [];
  for await (const ev of events ?? []) {
    if (ev.Records?.Payload) {
      out.events.push('Records');
      parts.push(Buffer.from(ev.Records.Payload));
      out.maxRecordsEvent = Math.max(out.maxRecordsEvent, ev.Records.Payload.length);
    } else if (ev.Stats) {
      out.events.push('Stats');
      out.stats = ev.Stats.Details;
    } else if (ev.Progress) out.events.push('Progress');
    else if (ev.Cont) out.events.push('Cont');
    else if (ev.End) out.events.push('End');
  }
  out.records = Buffer.concat(parts).toString('utf8');
  return out;
}

/** A started server, an S3 client, a bucket and a KMS key for SSE-KMS objects. */
export async function selectFixture(bucket: string): Promise<{ server: TestServer; s3: S3Client; keyArn: string }> {
  const server = await startHanul();
  const s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const kms = new KMSClient(server.clientConfig);
  const keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.Arn as string;
  kms.destroy();
  return { server, s3, keyArn };
}
