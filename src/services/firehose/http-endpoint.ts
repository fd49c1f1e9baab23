/**
 * HTTP endpoint destination: POST AWS's request format to the configured
 * URL — headers X-Amz-Firehose-Request-Id, -Access-Key, -Source-Arn,
 * -Protocol-Version, -Common-Attributes; body {requestId, timestamp,
 * records:[{data}]} (optionally gzip). Only a 200 whose JSON answers the same
 * requestId is success; anything else is retried with backoff until
 * RetryOptions.DurationInSeconds has passed, then the records go to the S3
 * backup under `http-endpoint-failed/`.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { RequestContext } from '../../server/context.js';
import type { FirehoseCore } from './core.js';
import type { DeliveryStreamMeta } from './model.js';
import type { FailedRecord, Processed, SourceRecord } from './processing.js';
import { writeBackup, writeFailed } from './s3-writer.js';

const gzipAsync = promisify(gzip);
const REQUEST_TIMEOUT_MS = 30_000;

async function postOnce(url: string, headers: Record<string, string>, body: Buffer, requestId: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    if (res.status !== 200) return `HTTP ${res.status}: ${text.slice(0, 200)}`;
    const parsed = JSON.parse(text) as { requestId?: string };
    if (parsed.requestId !== requestId) return `The response's requestId ${String(parsed.requestId)} does not match ${requestId}.`;
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export async function deliverHttp(core: FirehoseCore, meta: DeliveryStreamMeta, source: SourceRecord[], processed: Processed, ctx: RequestContext): Promise<void> {
  const conf = meta.http as NonNullable<DeliveryStreamMeta['http']>;
  const backup = conf.S3Configuration;
  const failed: FailedRecord[] = [...processed.failed];
  if (processed.ok.length > 0) {
    const requestId = randomUUID();
    const json = Buffer.from(JSON.stringify({ requestId, timestamp: core.clock.nowMs(), records: processed.ok.map((r) => ({ data: Buffer.from(r.data).toString('base64') })) }));
    const gz = conf.RequestConfiguration?.ContentEncoding === 'GZIP';
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amz-firehose-protocol-version': '1.0',
      'x-amz-firehose-request-id': requestId,
      'x-amz-firehose-source-arn': meta.arn,
      'user-agent': 'Amazon Kinesis Data Firehose Agent/1.0',
    };
    if (conf.EndpointConfiguration?.AccessKey) headers['x-amz-firehose-access-key'] = conf.EndpointConfiguration.AccessKey;
    const attrs = conf.RequestConfiguration?.CommonAttributes ?? [];
    if (attrs.length > 0) headers['x-amz-firehose-common-attributes'] = JSON.stringify({ commonAttributes: Object.fromEntries(attrs.map((a) => [a.AttributeName, a.AttributeValue])) });
    const body = gz ? await gzipAsync(json) : json;
    if (gz) headers['content-encoding'] = 'gzip';
    const deadline = core.clock.nowMs() + (conf.RetryOptions?.DurationInSeconds ?? 300) * 1000;
    let attempts = 0;
    let error: string | undefined;
    for (let delay = 200; ; delay = Math.min(delay * 2, 10_000)) {
      attempts++;
      error = await postOnce(conf.EndpointConfiguration?.Url as string, headers, body, requestId);
      if (error === undefined || core.clock.nowMs() + delay > deadline) break;
      await new Promise((r) => setTimeout(r, delay));
    }
    if (error !== undefined) {
      core.log.warn({ stream: meta.name, error, attempts }, 'firehose http endpoint delivery failed; records go to the S3 backup');
      for (const r of processed.ok) failed.push({ data: r.data, at: r.at, errorCode: 'HttpEndpoint.DeliveryFailed', errorMessage: error, attempts, errorType: 'http-endpoint-failed' });
    }
  }
  if (!backup) return;
  if (failed.length > 0) await writeFailed(core, meta, backup, failed, 'processing-failed', ctx);
  if (conf.S3BackupMode === 'AllData') await writeBackup(core, meta, backup, source, ctx);
}
