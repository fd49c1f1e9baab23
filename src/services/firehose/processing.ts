/**
 * Data transformation before delivery: the processors of a stream's
 * ProcessingConfiguration, in order — RecordDeAggregation (JSON arrays,
 * delimited text, KPL aggregates), Decompression and CloudWatchLogProcessing
 * (CloudWatch Logs subscription data), Lambda (hanul runs the handler),
 * MetadataExtraction (partition keys) and AppendDelimiterToRecord.
 */
import { gunzipSync } from 'node:zlib';
import type { Processor } from '@aws-sdk/client-firehose';
import { deaggregateSync } from 'aws-kinesis-agg';
import type { RequestContext } from '../../server/context.js';
import type { FirehoseCore } from './core.js';
import { invokeTransform } from './lambda.js';
import { extractPartitionKeys } from './partitioning.js';
import type { DeliveryStreamMeta, KinesisRecordMetadata } from './model.js';

export interface SourceRecord {
  key: string;
  data: Uint8Array;
  at: number;
  kinesis?: KinesisRecordMetadata;
}

export interface OutRecord {
  data: Uint8Array;
  at: number;
  partitionKeys?: Record<string, string>;
  kinesis?: KinesisRecordMetadata;
}

export interface FailedRecord {
  data: Uint8Array;
  at: number;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  lambdaArn?: string;
  /** The error prefix's `!{firehose:error-output-type}` (default processing-failed). */
  errorType?: string;
}

export interface Processed {
  ok: OutRecord[];
  failed: FailedRecord[];
}

export function params(p: Processor): Map<string, string> {
  return new Map((p.Parameters ?? []).map((x) => [x.ParameterName as string, x.ParameterValue as string]));
}

function unescapeDelimiter(base64OrText: string): string {
  // AWS takes the delimiter base64-encoded (e.g. "Cg==" for "\n").
  try {
    return Buffer.from(base64OrText, 'base64').toString();
  } catch {
    return base64OrText;
  }
}

function deaggregate(p: Processor, recs: OutRecord[]): OutRecord[] {
  const ps = params(p);
  const type = ps.get('SubRecordType') ?? 'JSON';
  const out: OutRecord[] = [];
  for (const r of recs) {
    if (type === 'KPL') {
      const buf = Buffer.from(r.data);
      let parts: Array<{ data: string }> = [];
      deaggregateSync({ data: buf.toString('base64') }, true, ((err: unknown, res?: Array<{ data: string }>) => {
        if (!err && res) parts = res;
      }));
      if (parts.length === 0) out.push(r);
      for (const s of parts) out.push({ ...r, data: Buffer.from(s.data, 'base64') });
    } else if (type === 'DELIMITED') {
      const delim = unescapeDelimiter(ps.get('Delimiter') ?? 'Cg==');
      for (const piece of Buffer.from(r.data).toString().split(delim)) if (piece !== '') out.push({ ...r, data: Buffer.from(piece) });
    } else {
      // JSON: concatenated or newline-separated JSON objects.
      const text = Buffer.from(r.data).toString();
      let depth = 0;
      let start = -1;
      let inStr = false;
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inStr) {
          if (c === '\\') i++;
          else if (c === '"') inStr = false;
          continue;
        }
        if (c === '"') inStr = true;
        else if (c === '{') {
          if (depth++ === 0) start = i;
        } else if (c === '}' && --depth === 0) out.push({ ...r, data: Buffer.from(text.slice(start, i + 1)) });
      }
    }
  }
  return out;
}

/** Decompression (CompressionFormat GZIP): CloudWatch Logs subscriptions send gzip'd records. */
function decompress(recs: OutRecord[], failed: FailedRecord[]): OutRecord[] {
  const out: OutRecord[] = [];
  for (const r of recs) {
    try {
      out.push({ ...r, data: gunzipSync(r.data) });
    } catch (e) {
      failed.push({ data: r.data, at: r.at, errorCode: 'Decompression.Failed', errorMessage: e instanceof Error ? e.message : String(e), attempts: 1 });
    }
  }
  return out;
}

/** CloudWatchLogProcessing with DataMessageExtraction: each log event's message becomes a record; control messages are dropped. */
function extractLogEvents(recs: OutRecord[], failed: FailedRecord[]): OutRecord[] {
  const out: OutRecord[] = [];
  for (const r of recs) {
    try {
      const doc = JSON.parse(Buffer.from(r.data).toString()) as { messageType?: string; logEvents?: Array<{ message?: string }> };
      if (doc.messageType === 'CONTROL_MESSAGE') continue;
      for (const ev of doc.logEvents ?? []) out.push({ ...r, data: Buffer.from(ev.message ?? '') });
    } catch (e) {
      failed.push({ data: r.data, at: r.at, errorCode: 'CloudWatchLogProcessing.Failed', errorMessage: e instanceof Error ? e.message : String(e), attempts: 1 });
    }
  }
  return out;
}

export async function processRecords(core: FirehoseCore, meta: DeliveryStreamMeta, recs: SourceRecord[], ctx: RequestContext): Promise<Processed> {
  const conf = meta.s3?.ProcessingConfiguration ?? meta.http?.ProcessingConfiguration;
  let ok: OutRecord[] = recs.map((r) => ({ data: r.data, at: r.at, ...(r.kinesis ? { kinesis: r.kinesis } : {}) }));
  const failed: FailedRecord[] = [];
  if (!conf?.Enabled) return { ok, failed };
  for (const p of conf.Processors ?? []) {
    if (p.Type === 'RecordDeAggregation') ok = deaggregate(p, ok);
    else if (p.Type === 'Decompression') ok = decompress(ok, failed);
    else if (p.Type === 'CloudWatchLogProcessing') ok = params(p).get('DataMessageExtraction') === 'true' ? extractLogEvents(ok, failed) : ok;
    else if (p.Type === 'Lambda') {
      const r = await invokeTransform(core, meta, p, ok, ctx);
      ok = r.ok;
      failed.push(...r.failed);
    } else if (p.Type === 'MetadataExtraction') {
      const r = await extractPartitionKeys(p, ok);
      ok = r.ok;
      failed.push(...r.failed);
    } else if (p.Type === 'AppendDelimiterToRecord') {
      const delim = Buffer.from(unescapeDelimiter(params(p).get('Delimiter') ?? 'Cg=='));
      ok = ok.map((r) => ({ ...r, data: Buffer.concat([r.data, delim]) }));
    }
  }
  return { ok, failed };
}
