/**
 * The Lambda processor: hanul runs the function itself. A LambdaArn
 * `arn:aws:lambda:<region>:<account>:function:<name>` resolves to
 * `<name>.mjs` (or `.js`) in the functions directory; an optional
 * `<name>.json` holds `{"Timeout": seconds}` (default 60, as Firehose's
 * invocations may run up to 5 minutes). Records go in batches of
 * BufferSizeInMBs (default 1 MB) as AWS's transformation event; the answer
 * must name every recordId once with result Ok / Dropped / ProcessingFailed.
 * A failed invocation is retried NumberOfRetries times (default 3), then its
 * records go to the error prefix (`processing-failed/`).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Processor } from '@aws-sdk/client-firehose';
import type { RequestContext } from '../../server/context.js';
import type { FirehoseCore } from './core.js';
import type { DeliveryStreamMeta } from './model.js';
import { params, type FailedRecord, type OutRecord } from './processing.js';

const WORKER = new URL('./lambda-worker.js', import.meta.url);
const DEFAULT_TIMEOUT_S = 60;

interface Warm {
  worker: Worker;
  next: number;
  calls: Map<number, { resolve(v: unknown): void; reject(e: Error): void }>;
}

class InvokeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One warm worker per function file, like a Lambda execution environment. */
const warm = new Map<string, Warm>();

function environment(file: string): Warm {
  const w = warm.get(file);
  if (w) return w;
  const worker = new Worker(WORKER, { workerData: { file } });
  worker.unref();
  const env: Warm = { worker, next: 0, calls: new Map() };
  worker.on('message', (m: { id: number; ok: boolean; result?: string; error?: { errorType: string; errorMessage: string } }) => {
    const call = env.calls.get(m.id);
    env.calls.delete(m.id);
    if (!call) return;
    if (m.ok) call.resolve(JSON.parse(m.result ?? 'null'));
    else call.reject(new InvokeError('Lambda.FunctionError', `${m.error?.errorType}: ${m.error?.errorMessage}`));
  });
  const fail = (e: Error) => {
    warm.delete(file);
    for (const c of env.calls.values()) c.reject(new InvokeError('Lambda.FunctionError', e.message));
    env.calls.clear();
  };
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('Runtime.ExitError: the function exited')));
  warm.set(file, env);
  return env;
}

export function functionFile(dir: string, arn: string): { file: string; name: string; timeoutS: number } {
  const name = /:function:([A-Za-z0-9_-]+)/.exec(arn)?.[1] ?? '';
  const base = resolve(dir);
  const file = [join(base, `${name}.mjs`), join(base, `${name}.js`)].find((f) => existsSync(f));
  if (!file) throw new InvokeError('Lambda.FunctionNotFound', `Function not found: ${arn} (no ${name}.mjs or ${name}.js in ${base})`);
  let timeoutS = DEFAULT_TIMEOUT_S;
  const conf = join(base, `${name}.json`);
  if (existsSync(conf)) {
    const t = (JSON.parse(readFileSync(conf, 'utf8')) as { Timeout?: number }).Timeout;
    if (typeof t === 'number' && t > 0) timeoutS = t;
  }
  return { file, name, timeoutS };
}

async function invoke(arn: string, dir: string, event: unknown): Promise<unknown> {
  const { file, name, timeoutS } = functionFile(dir, arn);
  const env = environment(file);
  const id = env.next++;
  const deadline = Date.now() + timeoutS * 1000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      env.calls.delete(id);
      warm.delete(file);
      void env.worker.terminate();
      reject(new InvokeError('Lambda.FunctionError', `Task timed out after ${timeoutS.toFixed(2)} seconds`));
    }, timeoutS * 1000);
    env.calls.set(id, {
      resolve: (v) => (clearTimeout(timer), resolve(v)),
      reject: (e) => (clearTimeout(timer), reject(e)),
    });
    env.worker.postMessage({ id, event, context: { functionName: name, invokedFunctionArn: arn, awsRequestId: randomUUID(), deadline, memoryLimitInMB: '128' } });
  });
}

interface LambdaRecord {
  recordId?: string;
  result?: string;
  data?: string;
  metadata?: { partitionKeys?: Record<string, string> };
}

/** Runs one batch and maps the answer back to records; throws InvokeError when the whole batch failed. */
async function runBatch(core: FirehoseCore, meta: DeliveryStreamMeta, arn: string, batch: OutRecord[]) {
  const ids = batch.map((_, i) => `${String(i).padStart(8, '0')}${randomUUID().replace(/-/g, '')}`);
  const event = {
    invocationId: randomUUID(),
    deliveryStreamArn: meta.arn,
    region: meta.region,
    ...(meta.source ? { sourceKinesisStreamArn: meta.source.streamArn } : {}),
    records: batch.map((r, i) => ({
      recordId: ids[i], approximateArrivalTimestamp: r.at, data: Buffer.from(r.data).toString('base64'),
      ...(r.kinesis ? { kinesisRecordMetadata: r.kinesis } : {}),
    })),
  };
  const res = (await invoke(arn, core.opts.functionsDir, event)) as { records?: LambdaRecord[] } | null;
  if (!res || !Array.isArray(res.records)) throw new InvokeError('Lambda.JsonProcessingException', 'The Lambda response is not a JSON object with a records array.');
  const byId = new Map<string, LambdaRecord>();
  for (const r of res.records) {
    if (typeof r.recordId !== 'string' || !ids.includes(r.recordId)) throw new InvokeError('Lambda.MissingRecordId', `Record ID ${String(r.recordId)} was not expected in the response.`);
    if (byId.has(r.recordId)) throw new InvokeError('Lambda.DuplicatedRecordId', `Record ID ${r.recordId} appears more than once in the response.`);
    byId.set(r.recordId, r);
  }
  const ok: OutRecord[] = [];
  const failed: FailedRecord[] = [];
  for (const [i, rec] of batch.entries()) {
    const r = byId.get(ids[i] as string);
    if (!r) throw new InvokeError('Lambda.MissingRecordId', `Record ID ${ids[i]} is missing from the response.`);
    if (r.result === 'Dropped') continue;
    if (r.result === 'Ok') {
      if (typeof r.data !== 'string') throw new InvokeError('Lambda.JsonProcessingException', `Record ${r.recordId} has result Ok but no data.`);
      ok.push({ data: Buffer.from(r.data, 'base64'), at: rec.at, ...(rec.kinesis ? { kinesis: rec.kinesis } : {}), ...(r.metadata?.partitionKeys ? { partitionKeys: { ...rec.partitionKeys, ...r.metadata.partitionKeys } } : rec.partitionKeys ? { partitionKeys: rec.partitionKeys } : {}) });
    } else if (r.result === 'ProcessingFailed') {
      failed.push({ data: rec.data, at: rec.at, errorCode: 'Lambda.ProcessingFailedStatus', errorMessage: 'ProcessingFailed status set for record', attempts: 1, lambdaArn: arn });
    } else throw new InvokeError('Lambda.InvalidResult', `Record ${r.recordId} has result ${String(r.result)}: expected Ok, Dropped or ProcessingFailed.`);
  }
  return { ok, failed };
}

export async function invokeTransform(core: FirehoseCore, meta: DeliveryStreamMeta, p: Processor, recs: OutRecord[], _ctx: RequestContext) {
  const ps = params(p);
  const arn = ps.get('LambdaArn') as string;
  const retries = Number(ps.get('NumberOfRetries') ?? 3);
  const batchBytes = Math.max(0.2, Number(ps.get('BufferSizeInMBs') ?? 1)) * 1024 * 1024;
  const ok: OutRecord[] = [];
  const failed: FailedRecord[] = [];
  for (let i = 0; i < recs.length; ) {
    const batch: OutRecord[] = [];
    let size = 0;
    while (i < recs.length && (batch.length === 0 || size + (recs[i] as OutRecord).data.byteLength <= batchBytes)) {
      size += (recs[i] as OutRecord).data.byteLength;
      batch.push(recs[i++] as OutRecord);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await runBatch(core, meta, arn, batch);
        ok.push(...r.ok);
        failed.push(...r.failed.map((f) => ({ ...f, attempts: attempt })));
        break;
      } catch (e) {
        if (attempt <= retries) continue;
        const code = e instanceof InvokeError ? e.code : 'Lambda.FunctionError';
        const message = e instanceof Error ? e.message : String(e);
        core.log.warn({ arn, code, message }, 'firehose lambda transform failed');
        for (const r of batch) failed.push({ data: r.data, at: r.at, errorCode: code, errorMessage: message, attempts: attempt, lambdaArn: arn });
        break;
      }
    }
  }
  return { ok, failed };
}

export function stopFunctions(): void {
  for (const w of warm.values()) void w.worker.terminate();
  warm.clear();
}
