/**
 * KinesisStreamAsSource: reads a hanul Kinesis stream (from the time the
 * Firehose stream was created — LATEST as of creation) and buffers its
 * records. Each shard's checkpoint (last sequence number) is committed in
 * the same transaction as the records it covers, so a restart resumes
 * exactly where the buffer ends.
 */
import type { GetRecordsOutput, GetShardIteratorOutput, ListShardsOutput } from '@aws-sdk/client-kinesis';
import type { FirehoseCore } from './core.js';
import { encodeChunk, NS_SOURCE, NS_STREAM, nsBuffer, type BufferedChunk, type DeliveryStreamMeta } from './model.js';
import { bufferKey } from './records.js';

interface ShardCursor {
  iterator?: string | undefined;
}

export class KinesisSource {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly cursors = new Map<string, ShardCursor>();

  constructor(
    private readonly core: FirehoseCore,
    private readonly added: (stream: string, bytes: number, at: number, count: number) => void,
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
        if (s.source && this.core.status(s) === 'ACTIVE') await this.pollStream(s).catch((e: unknown) => this.core.log.debug({ err: e, stream: s.name }, 'firehose kinesis source poll failed'));
      }
    } finally {
      this.running = false;
    }
  }

  private async pollStream(s: DeliveryStreamMeta): Promise<void> {
    const peers = this.core.peers!;
    const ctx = this.core.backgroundCtx('ReadSource');
    const arn = s.source!.streamArn;
    const shards = await peers.call<ListShardsOutput>('kinesis', 'ListShards', { StreamARN: arn }, ctx);
    for (const shard of shards.Shards ?? []) {
      const id = shard.ShardId as string;
      const ckKey = `${s.name}/${id}`;
      const cursor = this.cursors.get(ckKey) ?? {};
      this.cursors.set(ckKey, cursor);
      if (!cursor.iterator) {
        const last = await this.core.store.read((tx) => tx.get<string>(NS_SOURCE, ckKey));
        const it = await peers.call<GetShardIteratorOutput>('kinesis', 'GetShardIterator', last
          ? { StreamARN: arn, ShardId: id, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: last }
          : { StreamARN: arn, ShardId: id, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: s.source!.startedAt }, ctx);
        cursor.iterator = it.ShardIterator;
      }
      if (!cursor.iterator) continue;
      let out: GetRecordsOutput;
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
    for (const k of this.cursors.keys()) if (k.startsWith(`${name}/`)) this.cursors.delete(k);
  }
}
