/**
 * The Firehose runtime every handler shares: storage, clock, names, status,
 * and the background context deliveries run under.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock.js';
import type { ServiceDefinition } from '../../aws/service.js';
import type { PeerServices, RequestContext, ServiceDeps } from '../../server/context.js';
import type { ReadTx } from '../../storage/ports.js';
import type { StreamEncryption } from './encryption.js';
import { firehoseError, streamNotFound } from './errors.js';
import { NS_STREAM, type DeliveryStreamMeta } from './model.js';
import { quotasFor, Throttle } from './throttle.js';

export interface FirehoseOptions {
  /** How long a new stream stays CREATING (clock ms). */
  creatingMs: number;
  /** How often the flusher looks at buffers (real ms): also notices clock advances. */
  tickMs: number;
  /** Directory of Lambda handlers (`<name>.mjs` / `.js`). */
  functionsDir: string;
  /** How long a deleted stream stays DELETING (real ms). */
  deletingMs: number;
  /** DirectPut quotas enforced (HANUL_FIREHOSE_LIMITS). */
  limits: boolean;
}

export class FirehoseCore {
  readonly store: ServiceDeps['stores']['metadata'];
  readonly clock: Clock;
  readonly log: Logger;
  readonly region: string;
  readonly account: string;
  readonly peers: PeerServices | undefined;
  /** Called after records are committed so the flusher can deliver a full buffer at once. */
  onPut: (stream: string, bytes: number, count: number) => void = () => undefined;
  encryption: StreamEncryption | undefined;
  /** The service's definition (set once built, index.ts): handlers' extra IAM checks name it. */
  service: (() => ServiceDefinition) | undefined = undefined;
  readonly throttle: Throttle;

  constructor(
    readonly deps: ServiceDeps,
    readonly opts: FirehoseOptions,
  ) {
    this.store = deps.stores.metadata;
    this.clock = deps.clock;
    this.log = deps.log;
    this.region = deps.config.region;
    this.account = deps.config.accountId;
    this.peers = deps.peers;
    this.throttle = new Throttle(opts.limits ? quotasFor(this.region) : undefined);
  }

  status(s: DeliveryStreamMeta): 'CREATING' | 'ACTIVE' | 'DELETING' {
    if (s.deletingSince !== undefined) return 'DELETING';
    return this.clock.nowMs() >= s.activeAt ? 'ACTIVE' : 'CREATING';
  }

  async getStream(tx: ReadTx, name: string): Promise<DeliveryStreamMeta> {
    const s = await tx.get<DeliveryStreamMeta>(NS_STREAM, name);
    if (!s) throw streamNotFound(name, this.account);
    return s;
  }

  /** Puts on a CREATING stream answer ResourceNotFoundException; control-plane changes ResourceInUseException. */
  async activeStream(tx: ReadTx, name: string, code: 'ResourceNotFoundException' | 'ResourceInUseException' = 'ResourceNotFoundException'): Promise<DeliveryStreamMeta> {
    const s = await this.getStream(tx, name);
    const status = this.status(s);
    if (status !== 'ACTIVE') throw firehoseError(code, `Firehose ${name} under account ${this.account} is not ACTIVE, instead in state ${status}.`);
    return s;
  }

  /**
   * Deliveries happen after the request that put the records has gone: they
   * run as the account's root (standing in for the stream's RoleARN, which
   * hanul does not assume yet) with a context of their own.
   */
  backgroundCtx(operation: string): RequestContext {
    const arn = `arn:aws:iam::${this.account}:root`;
    return {
      ...this.deps,
      requestId: `firehose-${operation}-${Date.now().toString(36)}`,
      principal: { type: 'root', arn, accountId: this.account, userId: this.account },
      region: this.region,
      accountId: this.account,
      signal: new AbortController().signal,
      sourceIp: '127.0.0.1',
      secure: false,
      userAgent: 'firehose.amazonaws.com',
      service: 'firehose',
      operation,
    };
  }
}
