/**
 * PutRecord and PutRecordBatch: each call's records are committed to the
 * stream's buffer in one durable transaction before the call answers.
 * Limits as AWS: a record ≤ 1,000 KiB, a batch ≤ 500 records and ≤ 4 MiB.
 */
import { randomBytes } from 'node:crypto';
import type { PutRecordBatchInput, PutRecordBatchOutput, PutRecordInput, PutRecordOutput } from '@aws-sdk/client-firehose';
import type { RequestContext } from '../../server/context.js';
import type { FirehoseCore } from './core.js';
import { gzipMember } from './compress.js';
import { constraint, firehoseError } from './errors.js';
import { encodeChunk, nsBuffer, type BufferedChunk, type DeliveryStreamMeta } from './model.js';
import { deliversPackedGzip } from './s3-writer.js';
import { checkStreamName } from './validate.js';

export const MAX_RECORD_BYTES = 1_024_000;
export const MAX_BATCH_RECORDS = 500;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

const BOOT = randomBytes(4).toString('hex');
let counter = 0;

/** Arrival-ordered, collision-free buffer keys (see model.ts). */
export function bufferKey(at: number): string {
  counter = (counter + 1) % 1e10;
  return `${String(at).padStart(13, '0')}-${BOOT}-${String(counter).padStart(10, '0')}`;
}

/**
 * The opaque RecordIds callers get back: the buffer key, the index, and
 * entropy (one draw per call: a draw per record cost more than the put).
 */
function recordIds(key: string, count: number): string[] {
  // One buffer `<key>-<index, 3+ digits><salt>`: only the index changes from id to id.
  const head = Buffer.from(`${key}-`);
  const salt = randomBytes(24);
  const ids: string[] = new Array<string>(count);
  let buf = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    const index = String(i).padStart(3, '0');
    if (buf.length !== head.length + index.length + salt.length) {
      buf = Buffer.allocUnsafe(head.length + index.length + salt.length);
      head.copy(buf, 0);
      salt.copy(buf, head.length + index.length);
    }
    buf.write(index, head.length, 'latin1');
    ids[i] = buf.toString('base64url');
  }
  return ids;
}

/** How AWS's Java front end prints a blob in validation messages. */
function heap(d: Uint8Array): string {
  return `java.nio.HeapByteBuffer[pos=0 lim=${d.byteLength} cap=${d.byteLength}]`;
}

function checkDirectPut(s: DeliveryStreamMeta): void {
  if (s.type !== 'DirectPut') {
    throw firehoseError('InvalidArgumentException', `This operation is not permitted on KinesisStreamAsSource delivery stream type.`);
  }
}

export function recordHandlers(core: FirehoseCore) {
  /** Commits records and answers their keys; sealing (encryption at rest) happens here when on. */
  async function append(name: string, datas: Uint8Array[], ctx: RequestContext): Promise<{ key: string; encrypted: boolean }> {
    const s0 = await core.store.read((tx) => core.activeStream(tx, name));
    checkDirectPut(s0);
    const bytes = datas.reduce((n, d) => n + d.byteLength, 0);
    // Real time, not hanul's clock: quotas are about the caller's actual rate.
    core.throttle.take(name, Date.now(), datas.length, bytes);
    const sealer = await core.encryption?.sealer(s0, ctx);
    const at = ctx.clock.nowMs();
    const key = bufferKey(at);
    let chunk: BufferedChunk;
    if (deliversPackedGzip(s0)) {
      // Compressed now (in the threadpool) rather than at delivery: the
      // store writes and reads back a fraction of the bytes. If the
      // destination changes before delivery, the flusher unpacks the chunk.
      const gzip = await gzipMember(datas);
      chunk = { records: [], packed: { gzip: sealer ? sealer.seal(gzip) : gzip, lengths: datas.map((d) => d.byteLength) }, bytes, at, ...(sealer ? { ref: sealer.ref } : {}) };
    } else chunk = sealer ? { records: datas.map((d) => sealer.seal(d)), bytes, at, ref: sealer.ref } : { records: datas, bytes, at };
    await core.store.write(async (tx) => {
      const s = await core.activeStream(tx, name);
      if ((s.currentKeyRef ?? '') !== (sealer?.ref ?? '')) throw firehoseError('ServiceUnavailableException', 'The stream encryption changed during the request; retry.');
      await tx.put(nsBuffer(name), key, encodeChunk(chunk));
    });
    core.onPut(name, bytes, datas.length);
    return { key, encrypted: sealer !== undefined };
  }

  return {
    async PutRecord(input: PutRecordInput, ctx: RequestContext): Promise<PutRecordOutput> {
      const name = checkStreamName(input.DeliveryStreamName);
      const data = input.Record?.Data;
      if (!input.Record || data === undefined) throw constraint('null', 'record.data', 'Member must not be null');
      if (data.byteLength > MAX_RECORD_BYTES) throw constraint(heap(data), 'record.data', `Member must have length less than or equal to ${MAX_RECORD_BYTES}`);
      const { key, encrypted } = await append(name, [data], ctx);
      return { RecordId: recordIds(key, 1)[0] as string, Encrypted: encrypted };
    },

    async PutRecordBatch(input: PutRecordBatchInput, ctx: RequestContext): Promise<PutRecordBatchOutput> {
      const name = checkStreamName(input.DeliveryStreamName);
      const records = input.Records;
      if (!records) throw constraint('null', 'records', 'Member must not be null');
      if (records.length < 1) throw constraint('[]', 'records', 'Member must have length greater than or equal to 1');
      if (records.length > MAX_BATCH_RECORDS) throw constraint(`[${records.length} records]`, 'records', `Member must have length less than or equal to ${MAX_BATCH_RECORDS}`);
      let total = 0;
      const datas: Uint8Array[] = [];
      const problems: string[] = [];
      for (const [i, r] of records.entries()) {
        const d = r.Data;
        if (d === undefined) {
          problems.push(`Value null at 'records.${i + 1}.member.data' failed to satisfy constraint: Member must not be null`);
          continue;
        }
        if (d.byteLength > MAX_RECORD_BYTES) problems.push(`Value '${heap(d)}' at 'records.${i + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORD_BYTES}`);
        total += d.byteLength;
        datas.push(d);
      }
      // AWS lists every failing member in one ValidationException.
      if (problems.length > 0) throw firehoseError('ValidationException', `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`);
      if (total > MAX_BATCH_BYTES) throw firehoseError('InvalidArgumentException', 'Records size exceeds 4 MB limit');
      const { key, encrypted } = await append(name, datas, ctx);
      return { FailedPutCount: 0, Encrypted: encrypted, RequestResponses: recordIds(key, datas.length).map((RecordId) => ({ RecordId })) };
    },
  };
}
