/**
 * The Kinesis service's runtime, shared by every handler: storage, clock,
 * limits, the put → subscriber wake-ups, and how a request names a stream.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock.js';
import type { RequestContext } from '../../server/context.js';
import type { MetadataStore, ReadTx, StreamLog } from '../../storage/ports.js';
import { kinesisError, streamNotFound } from './errors.js';
import { ShardLimits } from './limits.js';
import { NS_STREAM, openShards, parseArn, type ShardMeta, type StreamMeta } from './model.js';
import type { StreamCrypto } from './encryption.js';
import type { Lifecycle } from './lifecycle.js';
import type { Subscriptions } from './subscribe.js';

export interface KinesisOptions {
  /** How long CREATING / UPDATING / DELETING last (real ms; timestamps come from the clock). */
  stateDelayMs: number;
  /** Enforce per-shard throughput limits. */
  limits: boolean;
  /** Account-wide open shard limit (DescribeLimits' ShardLimit). */
  shardLimit: number;
  onDemandStreamLimit: number;
  /** How often expired records are trimmed (real ms). */
  trimIntervalMs: number;
  /** How long a SubscribeToShard subscription lasts (ms). */
  subscriptionMs: number;
  /** Empty SubscribeToShardEvents keep an idle subscription alive this often (ms). */
  heartbeatMs: number;
}

export const DEFAULT_OPTIONS: KinesisOptions = {
  stateDelayMs: 500,
  limits: true,
  shardLimit: 500,
  onDemandStreamLimit: 50,
  trimIntervalMs: 10_000,
  subscriptionMs: 5 * 60_000,
  heartbeatMs: 5_000,
};

/**
 * Wakes whoever waits on a shard (SubscribeToShard) once a put has committed.
 * Each shard has a generation number bumped by every put: a reader notes it
 * before reading, and waits only if no put came in since — so a put that
 * commits between the read and the wait is never missed.
 */
export class ShardSignals {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly generations = new Map<string, number>();

  generation(streamId: string, shardIx: number): number {
    return this.generations.get(`${streamId}/${shardIx}`) ?? 0;
  }

  notify(streamId: string, shardIx: number): void {
    const key = `${streamId}/${shardIx}`;
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const w of set) w();
  }

  /** Resolves at the next put into the shard after generation `since`, after `ms`, or when `signal` aborts. */
  wait(streamId: string, shardIx: number, since: number, ms: number, signal: AbortSignal): Promise<void> {
    const key = `${streamId}/${shardIx}`;
    if ((this.generations.get(key) ?? 0) !== since || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) {
        set = new Set();
        this.waiters.set(key, set);
      }
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.get(key)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }
}

/** Sorted open shards of one stream version: where a hash key lands. */
interface Route {
  version: number;
  starts: string[];
  shards: ShardMeta[];
}

export class KinesisCore {
  readonly limits: ShardLimits;
  readonly signals = new ShardSignals();
  private readonly routes = new Map<string, Route>();
  crypto: StreamCrypto | undefined;
  /** Where record chunks go (chunks.ts); without one, rows hold them. */
  streamLog: StreamLog | undefined;
  lifecycle: Lifecycle | undefined;
  subscriptions: Subscriptions | undefined;
  /** Ends a stream's transitional status after the configured delay (lifecycle.ts sets this). */
  schedule: (streamName: string) => void = () => undefined;

  constructor(
    readonly store: MetadataStore,
    readonly clock: Clock,
    readonly log: Logger,
    readonly region: string,
    readonly account: string,
    readonly opts: KinesisOptions,
    readonly iteratorKey: Uint8Array,
  ) {
    this.limits = new ShardLimits(clock, opts.limits);
  }

  /**
   * The stream a request names by StreamName and/or StreamARN. Both may be
   * given (they must agree); one is required.
   */
  streamName(input: { StreamName?: string | undefined; StreamARN?: string | undefined }, ctx: Pick<RequestContext, 'accountId'>): string {
    const { StreamName: name, StreamARN: arn } = input;
    if (arn !== undefined) {
      const p = parseArn(arn);
      if (!p || p.consumer !== undefined) throw kinesisError('InvalidArgumentException', `StreamARN ${arn} is not a valid stream ARN.`);
      if (p.account !== ctx.accountId) throw kinesisError('AccessDeniedException', `User is not authorized to access stream ${arn}: it belongs to account ${p.account}.`);
      if (name !== undefined && name !== p.stream) {
        throw kinesisError('InvalidArgumentException', `StreamName ${name} and StreamARN ${arn} name different streams.`);
      }
      return p.stream;
    }
    if (name === undefined) throw kinesisError('InvalidArgumentException', 'Either StreamName or StreamARN should be provided.');
    return name;
  }

  async getStream(tx: ReadTx, name: string): Promise<StreamMeta> {
    const s = await tx.get<StreamMeta>(NS_STREAM, name);
    if (!s) throw streamNotFound(name, this.account);
    return s;
  }

  /** The open shard whose hash range holds `hashHex` (32-char hex). */
  shardFor(stream: StreamMeta, hashHex: string): ShardMeta {
    let r = this.routes.get(stream.id);
    if (!r || r.version !== stream.version) {
      const shards = openShards(stream).sort((a, b) => (a.start < b.start ? -1 : 1));
      r = { version: stream.version, starts: shards.map((s) => s.start), shards };
      this.routes.set(stream.id, r);
    }
    // The last shard starting at or before the key: open ranges cover the space without gaps.
    let lo = 0;
    let hi = r.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((r.starts[mid] as string) <= hashHex) lo = mid;
      else hi = mid - 1;
    }
    return r.shards[lo] as ShardMeta;
  }

  forgetStream(id: string): void {
    this.routes.delete(id);
    this.limits.forget(`${id}/`);
  }
}
