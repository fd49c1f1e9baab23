/**
 * KinesisStreamAsSource: reads a hanul Kinesis stream (from the time the
 * Firehose stream was created — LATEST as of creation) and buffers its
 * records. Each shard's checkpoint (last sequence number) is committed in
 * the same transaction as the records it covers, so a restart resumes
 * exactly where the buffer ends. Reads run as the source's RoleARN (role.ts):
 * ListShards, GetShardIterator and GetRecords each need the role's permission
 * on the stream (with the stream's resource policy); a poll that may not read
 * is counted and retried on the next one, and nothing is lost — the records
 * stay in the Kinesis stream.
 */
import type { GetRecordsOutput, GetShardIteratorOutput, ListShardsOutput } from '@aws-sdk/client-kinesis';
import type { FirehoseCore } from './core.js';
import { encodeChunk, NS_SOURCE, NS_STREAM, nsBuffer, type BufferedChunk, type DeliveryStreamMeta } from './model.js';
import { bufferKey } from './records.js';
import { checkAction, roleContext } from './role.js';

interface ShardCursor {
  iterator?: string | undefined;
}

export class KinesisSource {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly cursors = new Map<string, ShardCursor>();
  private readonly lastError = new Map<string, string>();

  constructor(
    private readonly core: FirehoseCore,
    private readonly added: (stream: string, bytes: number, at: number, count: number) => void,
    private readonly failed: (stream: string) => void = () => undefined,
    private readonly pollMs = 200,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.running || !this.core.peers) return;
    this.running = true;
    try {
      const streams = await this.core.store.read((tx) => tx.scan<DeliveryStreamMeta>(NS_STREAM));
      for (const { value: s } of streams) {
        if (s.source && this.core.status(s) === 'ACTIVE') {
          const ok = await this.pollStream(s).then(() => true, (e: unknown) => {
            this.failed(s.name);
            // A poll runs every 200 ms: a failure that persists is logged once, at its first occurrence.
            const message = e instanceof Error ? e.message : String(e);
            if (this.lastError.get(s.name) !== message) this.core.log.warn({ err: e, stream: s.name }, 'firehose kinesis source poll failed');
            this.lastError.set(s.name, message);
            return false;
          });
          if (ok) this.lastError.delete(s.name);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async pollStream(s: DeliveryStreamMeta): Promise<void> {
    const peers = this.core.peers!;
    const arn = s.source!.streamArn;
    const ctx = await roleContext(this.core, s.source!.roleArn, 'ReadSource');
    // Each action is checked once a poll, not once a shard: a refusal fails the whole poll anyway.
    const checked = new Map<string, Promise<void>>();
    const may = (action: string): Promise<void> => {
      let p = checked.get(action);
      if (!p) checked.set(action, (p = checkAction(this.core, ctx, 'kinesis', `kinesis:${action}`, arn)));
      return p;
    };
    await may('ListShards');
    const shards = await peers.call<ListShardsOutput>('kinesis', 'ListShards', { StreamARN: arn }, ctx);
    for (const shard of shards.Shards ?? []) {
      const id = shard.ShardId as string;
      const ckKey = `${s.name}/${id}`;
      const cursor = this.cursors.get(ckKey) ?? {};
      this.cursors.set(ckKey, cursor);
      if (!cursor.iterator) {
        await may('GetShardIterator');
        const last = await this.core.store.read((tx) => tx.get<string>(NS_SOURCE, ckKey));
        const it = await peers.call<GetShardIteratorOutput>('kinesis', 'GetShardIterator', last
          ? { StreamARN: arn, ShardId: id, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: last }
          : { StreamARN: arn, ShardId: id, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: s.source!.startedAt }, ctx);
        cursor.iterator = it.ShardIterator;
      }
      if (!cursor.iterator) continue;
      let out: GetRecordsOutput;
      await may('GetRecords');
      try {
        out = await peers.call<GetRecordsOutput>('kinesis', 'GetRecords', { StreamARN: arn, ShardIterator: cursor.iterator, Limit: 10_000 }, ctx);
      } catch (e) {
        delete cursor.iterator;
        throw e;
      }
      const recs = out.Records ?? [];
      if (recs.length > 0) {
        const at = this.core.clock.nowMs();
        const datas = recs.map((r) => r.Data as Uint8Array);
        const bytes = datas.reduce((n, d) => n + d.byteLength, 0);
        const first = recs[0]?.ApproximateArrivalTimestamp?.getTime() ?? at;
        const kinesis = recs.map((r) => ({
          shardId: id, partitionKey: r.PartitionKey as string, approximateArrivalTimestamp: r.ApproximateArrivalTimestamp?.getTime() ?? at,
          sequenceNumber: r.SequenceNumber as string, subsequenceNumber: '',
        }));
        const chunk: BufferedChunk = { records: datas, bytes, at: Math.min(first, at), kinesis };
        await this.core.store.write(async (tx) => {
          if (!(await tx.get(NS_STREAM, s.name))) return;
          await tx.put(nsBuffer(s.name), bufferKey(at), encodeChunk(chunk));
          await tx.put(NS_SOURCE, ckKey, recs[recs.length - 1]?.SequenceNumber);
        });
        this.added(s.name, bytes, at, recs.length);
      }
      cursor.iterator = out.NextShardIterator;
    }
  }

  forget(name: string): void {
    this.lastError.delete(name);
    for (const k of this.cursors.keys()) if (k.startsWith(`${name}/`)) this.cursors.delete(k);
  }
}
