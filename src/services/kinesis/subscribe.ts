/**
 * SubscribeToShard: enhanced fan-out over an AWS event stream.
 *
 * The response is `application/vnd.amazon.eventstream`: an initial-response
 * event, then SubscribeToShardEvent events (Records, ContinuationSequenceNumber,
 * MillisBehindLatest, ChildShards at a closed shard's end), encoded with
 * @smithy/eventstream-codec; payloads are JSON or CBOR as the request was.
 * Records are pushed as puts commit: the reader waits on the shard's signal
 * (core.ts), not on a polling timer; an idle subscription gets an empty event
 * every heartbeat. A subscription lasts 5 minutes. A second subscription of
 * the same consumer to the same shard within 5 s is refused
 * (ResourceInUseException); a later one takes over, and the earlier stream
 * ends with a ResourceInUseException event.
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { NormalizedSchema } from '@smithy/core/schema';
import { SubscribeToShardEvent$, type SubscribeToShardEvent, type SubscribeToShardInput } from '@aws-sdk/client-kinesis';
import { Encoder } from 'cbor-x';
import { rawResponse, type HttpResponse } from '../../aws/http.js';
import { CBOR, JSON_RPC, compileWriter } from '../../aws/protocols/json-shapes.js';
import type { RequestContext } from '../../server/context.js';
import type { KinesisCore } from './core.js';
import { findConsumer } from './consumers.js';
import { dryRunSucceeded, kinesisError } from './errors.js';
import { findShardOrThrow, resolvePosition } from './iterators.js';
import type { StreamMeta } from './model.js';
import { readBatch } from './records.js';
import { formatSeq, shardIdOf } from './seq.js';
import { CONSUMER_ARN_PATTERN, ShardIdRule, check } from './validate.js';

const toUtf8 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
const fromUtf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const codec = new EventStreamCodec(toUtf8, fromUtf8);
const cbor = new Encoder({ useRecords: false, tagUint8Array: false });
const eventSchema = NormalizedSchema.of(SubscribeToShardEvent$);
const TAKEOVER_MS = 5_000;
const EVENT_MAX_BYTES = 2 * 1024 * 1024;

interface Live {
  startedMs: number;
  stop: AbortController;
  consumerKey: string;
}

export class Subscriptions {
  private readonly live = new Map<string, Live>();

  /** Ends every subscription of a consumer (it was deregistered). */
  closeConsumer(consumerKey: string): void {
    for (const [k, l] of this.live) {
      if (l.consumerKey === consumerKey) {
        l.stop.abort(kinesisError('ResourceNotFoundException', 'The consumer was deregistered.'));
        this.live.delete(k);
      }
    }
  }

  stopAll(): void {
    for (const l of this.live.values()) l.stop.abort(new Error('server shutting down'));
    this.live.clear();
  }

  /** Claims consumer×shard at `now`; throws ResourceInUseException within 5 s of the last claim. */
  claim(key: string, consumerKey: string, now: number, what: string): AbortController {
    const prev = this.live.get(key);
    if (prev && !prev.stop.signal.aborted && now - prev.startedMs < TAKEOVER_MS) {
      throw kinesisError('ResourceInUseException', `Another active subscription exists for this consumer: ${what}`);
    }
    prev?.stop.abort(kinesisError('ResourceInUseException', `Another subscription took over for this consumer: ${what}`));
    const stop = new AbortController();
    this.live.set(key, { startedMs: now, stop, consumerKey });
    return stop;
  }

  release(key: string, stop: AbortController): void {
    if (this.live.get(key)?.stop === stop) this.live.delete(key);
  }
}

function header(value: string) {
  return { type: 'string' as const, value };
}

export function subscribeHandlers(core: KinesisCore, subs: Subscriptions) {
  const acct = core.account;
  return {
    async SubscribeToShard(input: SubscribeToShardInput, ctx: RequestContext): Promise<unknown> {
      check(input, [
        { field: 'ConsumerARN', notNull: true, pattern: CONSUMER_ARN_PATTERN, lenMin: 1, lenMax: 2048 },
        ShardIdRule('ShardId'),
        {
          field: 'StartingPosition',
          notNull: true,
          kind: 'struct',
          children: [{ field: 'Type', notNull: true, enum: ['AT_SEQUENCE_NUMBER', 'AFTER_SEQUENCE_NUMBER', 'TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] }, { field: 'SequenceNumber', pattern: '0|([1-9]\\d{0,128})' }],
        },
      ]);
      const start = input.StartingPosition as NonNullable<SubscribeToShardInput['StartingPosition']>;
      const { stream, shardIx, consumerKey, pos } = await core.store.read(async (tx) => {
        const f = await findConsumer(core, tx, { ConsumerARN: input.ConsumerARN });
        if (f.consumer.status !== 'ACTIVE') throw kinesisError('ResourceInUseException', `Consumer ${f.consumer.arn} under account ${acct} is not ACTIVE, instead in state ${f.consumer.status}`);
        const s = f.stream;
        if (s.status !== 'ACTIVE' && s.status !== 'UPDATING') throw kinesisError('ResourceInUseException', `Stream ${s.name} under account ${acct} not ACTIVE, instead in state ${s.status}`);
        const sh = findShardOrThrow(core, s, input.ShardId as string);
        const p = await resolvePosition(core, tx, s, sh, { type: start.Type as string, seq: start.SequenceNumber, timestamp: start.Timestamp }, 'SubscribeToShard');
        return { stream: s, shardIx: sh.ix, consumerKey: f.key, pos: p };
      });
      if (input.DryRun === true) throw dryRunSucceeded();
      const subKey = `${consumerKey}/${shardIx}`;
      const stop = subs.claim(subKey, consumerKey, core.clock.nowMs(), `${acct}:${stream.name}:${consumerKey.slice(consumerKey.indexOf('/') + 1)}:${shardIdOf(shardIx)}`);
      return rawResponse((wire): HttpResponse => ({
        status: 200,
        headers: { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': ctx.requestId },
        body: events(core, ctx, stream, shardIx, pos, AbortSignal.any([stop.signal, ctx.signal]), wire.requestContentType?.includes('cbor') ?? false, () => subs.release(subKey, stop)),
      }));
    },
  };
}

async function* events(core: KinesisCore, ctx: RequestContext, first: StreamMeta, shardIx: number, startPos: number, signal: AbortSignal, asCbor: boolean, done: () => void): AsyncGenerator<Uint8Array> {
  const contentType = asCbor ? 'application/x-amz-cbor-1.1' : 'application/json';
  const write = compileWriter(eventSchema, asCbor ? CBOR : JSON_RPC);
  const encode = (v: unknown) => (asCbor ? cbor.encode(v) : fromUtf8(JSON.stringify(v)));
  const frame = (type: string, payload: unknown) =>
    codec.encode({ headers: { ':event-type': header(type), ':message-type': header('event'), ':content-type': header(contentType) }, body: encode(payload) });
  const failure = (code: string, message: string) =>
    codec.encode({ headers: { ':exception-type': header(code), ':message-type': header('exception'), ':content-type': header(contentType) }, body: encode({ message }) });
  const until = Date.now() + core.opts.subscriptionMs;
  const clockUntil = core.clock.nowMs() + core.opts.subscriptionMs;
  let pos = startPos;
  let lastEvent = 0;
  try {
    yield frame('initial-response', {});
    while (!signal.aborted && Date.now() < until && core.clock.nowMs() < clockUntil) {
      const gen = core.signals.generation(first.id, shardIx);
      const now = core.clock.nowMs();
      const batch = await core.store.read(async (tx) => {
        const s = await tx.get<StreamMeta>('kinesis:stream', first.name);
        if (!s || s.id !== first.id || s.status === 'DELETING') return undefined;
        const sh = s.shards.find((x) => x.ix === shardIx);
        return sh ? { b: await readBatch(core, tx, s, sh, pos, 10000, EVENT_MAX_BYTES, now), sh } : undefined;
      });
      if (!batch) {
        yield failure('ResourceNotFoundException', `Stream ${first.name} under account ${core.account} not found.`);
        return;
      }
      const { b, sh } = batch;
      const heartbeat = Date.now() - lastEvent >= core.opts.heartbeatMs;
      if (b.count > 0 || b.childShards || heartbeat) {
        const ev: SubscribeToShardEvent = {
          Records: await b.records(ctx),
          ContinuationSequenceNumber: b.childShards
            ? undefined
            : (b.lastSeq ?? formatSeq({ shardCreatedSecs: sh.createdSecs, shardIx, index: BigInt(Math.max(0, b.next - 1)), arrivalSecs: Math.floor(now / 1000) })),
          MillisBehindLatest: b.behindMs,
          ...(b.childShards ? { ChildShards: b.childShards } : {}),
        };
        yield frame('SubscribeToShardEvent', write(ev));
        lastEvent = Date.now();
      }
      pos = b.next;
      if (b.childShards) return;
      if (b.behindMs > 0) continue;
      const wait = Math.max(1, Math.min(core.opts.heartbeatMs - (Date.now() - lastEvent), until - Date.now()));
      await core.signals.wait(first.id, shardIx, gen, wait, signal);
    }
    const reason: unknown = signal.reason;
    if (signal.aborted && reason instanceof Error && 'code' in reason && typeof reason.code === 'string') {
      yield failure(reason.code, reason.message);
    }
  } finally {
    done();
  }
}
