/**
 * Dynamic partitioning's MetadataExtraction processor (inline parsing,
 * JsonParsingEngine JQ-1.6): each record's JSON goes through the user's
 * MetadataExtractionQuery in real jq (jq.ts). The query must produce one
 * object whose values are scalars: those are the record's partition keys.
 * A record that is not JSON, makes jq fail, or yields anything else goes to
 * the error prefix as `partitioning-failed`.
 */
import type { Processor } from '@aws-sdk/client-firehose';
import { evaluate } from './jq.js';
import { params, type FailedRecord, type OutRecord } from './processing.js';

function failure(r: OutRecord, message: string): FailedRecord {
  return { data: r.data, at: r.at, errorCode: 'DynamicPartitioning.MetadataExtractionFailed', errorMessage: message, attempts: 1, errorType: 'partitioning-failed' };
}

function keysOf(outputs: unknown[]): Record<string, string> | string {
  if (outputs.length !== 1) return `The query produced ${outputs.length} results; it must produce one JSON object.`;
  const o = outputs[0];
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return 'The query result is not a JSON object.';
  const keys: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === null || v === undefined) return `Partition key ${k} is null.`;
    if (typeof v === 'object') return `Partition key ${k} is not a scalar value.`;
    keys[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return keys;
}

export async function extractPartitionKeys(p: Processor, recs: OutRecord[]): Promise<{ ok: OutRecord[]; failed: FailedRecord[] }> {
  const query = params(p).get('MetadataExtractionQuery') ?? '.';
  const ok: OutRecord[] = [];
  const failed: FailedRecord[] = [];
  const texts: string[] = [];
  const parsed: OutRecord[] = [];
  for (const r of recs) {
    const text = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString().trim();
    try {
      JSON.parse(text);
    } catch (e) {
      failed.push(failure(r, `The record is not valid JSON: ${e instanceof Error ? e.message : String(e)}`));
      continue;
    }
    texts.push(text);
    parsed.push(r);
  }
  const results = await evaluate(query, texts);
  for (const [i, r] of parsed.entries()) {
    const res = results[i];
    if (!res || 'error' in res) {
      failed.push(failure(r, res?.error ?? 'No result from jq.'));
      continue;
    }
    const keys = keysOf(res.outputs);
    if (typeof keys === 'string') failed.push(failure(r, keys));
    else ok.push({ ...r, partitionKeys: { ...r.partitionKeys, ...keys } });
  }
  return { ok, failed };
}
