/**
 * Dynamic partitioning's MetadataExtraction processor (inline parsing).
 * AWS evaluates MetadataExtractionQuery with jq 1.6; hanul evaluates the
 * form partitioning queries use — an object of path expressions,
 * `{customer: .customer_id, year: .event.year}` (also `."quoted key"` and
 * `.[n]`). Anything else needs a real jq (npm `jq-wasm`, not installed).
 * A record that is not JSON, or lacks a key, fails to partition and goes to
 * the error prefix as `partitioning-failed`.
 */
import type { Processor } from '@aws-sdk/client-firehose';
import { firehoseError } from './errors.js';
import { params, type FailedRecord, type OutRecord } from './processing.js';

type Path = Array<string | number>;

const cache = new Map<string, Array<[string, Path]>>();

export function parseQuery(q: string): Array<[string, Path]> {
  const hit = cache.get(q);
  if (hit) return hit;
  const body = /^\s*\{(.*)\}\s*$/s.exec(q)?.[1];
  if (body === undefined) throw firehoseError('InvalidArgumentException', `MetadataExtractionQuery '${q}' is not supported: hanul evaluates object-of-paths queries like {key: .field}.`);
  const out: Array<[string, Path]> = [];
  for (const part of body.split(',')) {
    const m = /^\s*("?)([A-Za-z0-9_-]+)\1\s*:\s*(\..*?)\s*$/.exec(part);
    if (!m) throw firehoseError('InvalidArgumentException', `MetadataExtractionQuery '${q}' is not supported near '${part.trim()}'.`);
    const path: Path = [];
    const re = /\.(?:([A-Za-z_][A-Za-z0-9_]*)|"((?:[^"\\]|\\.)*)"|\[(\d+)\])|\[(\d+)\]/gy;
    const expr = m[3] as string;
    let pos = 0;
    while (pos < expr.length) {
      re.lastIndex = pos;
      const t = re.exec(expr);
      if (!t) throw firehoseError('InvalidArgumentException', `MetadataExtractionQuery path '${expr}' is not supported.`);
      path.push(t[1] ?? t[2] ?? Number(t[3] ?? t[4]));
      pos = re.lastIndex;
    }
    out.push([m[2] as string, path]);
  }
  cache.set(q, out);
  return out;
}

export function extractPartitionKeys(p: Processor, recs: OutRecord[]): { ok: OutRecord[]; failed: FailedRecord[] } {
  const query = parseQuery(params(p).get('MetadataExtractionQuery') ?? '');
  const ok: OutRecord[] = [];
  const failed: FailedRecord[] = [];
  for (const r of recs) {
    try {
      const doc = JSON.parse(Buffer.from(r.data).toString()) as unknown;
      const keys: Record<string, string> = { ...r.partitionKeys };
      for (const [name, path] of query) {
        let v: unknown = doc;
        for (const step of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[step] : undefined;
        if (v === undefined || v === null || typeof v === 'object') throw new Error(`partition key ${name} is missing or not a scalar`);
        keys[name] = typeof v === 'string' ? v : JSON.stringify(v);
      }
      ok.push({ ...r, partitionKeys: keys });
    } catch (e) {
      failed.push({ data: r.data, at: r.at, errorCode: 'DynamicPartitioning.MetadataExtractionFailed', errorMessage: e instanceof Error ? e.message : String(e), attempts: 1, errorType: 'partitioning-failed' });
    }
  }
  return { ok, failed };
}
