/**
 * Server access logging: one record per request to a bucket with logging on,
 * in S3's log line format, delivered in batches as objects into the target
 * bucket (under TargetPrefix, SimplePrefix or PartitionedPrefix keys).
 *
 * The pipeline hands every finished S3 request to `note` (ServiceDefinition.served);
 * while no bucket has logging on that is one size check. Records wait in
 * memory and are written on an interval of hanul's clock (checked every
 * second, so time travel flushes too), when a bucket has many waiting, and
 * at shutdown. Like S3's, delivery is best effort: records waiting when the
 * process dies are lost, and a target that is gone drops them.
 *
 * Log objects are written as the bucket owner (the handler's own PutObject),
 * not as S3's logging service principal: hanul does not require the target
 * bucket's policy to grant logging.s3.amazonaws.com.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { LoggingEnabled } from '@aws-sdk/client-s3';
import type { AwsError } from '../../aws/errors.js';
import type { HttpRequest } from '../../aws/http.js';
import { canonicalUserId } from '../../iam/ids.js';
import type { RequestContext } from '../../server/context.js';
import { type BucketRecord, NS_BUCKETS } from './model.js';
import { putObject } from './objects-put.js';
import type { S3 } from './state.js';

/** One request, as much of it as the log line needs (formatted at delivery). */
interface Entry {
  at: number;
  ip: string;
  requester: string;
  requestId: string;
  operation: string;
  key: string | undefined;
  uri: string;
  status: number;
  error: string | undefined;
  bytesSent: number;
  objectSize: number | undefined;
  totalMs: number;
  referer: string | undefined;
  userAgent: string | undefined;
  versionId: string | undefined;
  signed: 'AuthHeader' | 'QueryString' | undefined;
  host: string | undefined;
  tls: boolean;
}

/** Records per bucket that make a delivery due before the interval. */
const EARLY_FLUSH = 10_000;
/** Records held in all: beyond this, new ones are dropped until a delivery (best effort, as S3). */
const MAX_HELD = 200_000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** `[06/Feb/2019:00:00:38 +0000]` */
export function logTime(ms: number): string {
  const d = new Date(ms);
  return `[${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()] ?? ''}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000]`;
}

const quoted = (s: string | undefined) => (s === undefined || s === '' ? '"-"' : `"${s.replace(/"/g, '\\"')}"`);
const dash = (v: string | number | undefined) => (v === undefined || v === '' ? '-' : String(v));

/** One line of S3's server access log format (fields S3 documents, in its order). */
export function formatLine(bucket: BucketRecord, e: Entry): string {
  return [
    canonicalUserId(bucket.ownerAccount),
    bucket.name,
    logTime(e.at),
    dash(e.ip),
    dash(e.requester),
    e.requestId,
    e.operation,
    e.key === undefined ? '-' : encodeURIComponent(e.key).replace(/%2F/g, '/'),
    quoted(e.uri),
    String(e.status),
    dash(e.error),
    e.bytesSent > 0 ? String(e.bytesSent) : '-',
    dash(e.objectSize),
    String(Math.max(0, Math.round(e.totalMs))),
    '-',
    quoted(e.referer),
    quoted(e.userAgent),
    dash(e.versionId),
    '-',
    e.signed ? 'SigV4' : '-',
    e.tls ? 'TLS_AES_128_GCM_SHA256' : '-',
    dash(e.signed),
    dash(e.host),
    e.tls ? 'TLSv1.3' : '-',
    '-',
    '-',
  ].join(' ');
}

/** REST.<METHOD>.<RESOURCE>: OBJECT for a key, the subresource (e.g. ACL, VERSIONING) when the query names one, else BUCKET. */
export function operationName(method: string, rawQuery: string, key: string | undefined, operation: string): string {
  if (operation === 'ListBuckets') return 'REST.GET.SERVICE';
  if (operation === 'PostObject') return 'REST.POST.OBJECT';
  if (operation === 'PreflightRequest') return `REST.OPTIONS.PREFLIGHT`;
  let sub = '';
  if (rawQuery !== '') {
    const first = rawQuery.split('&')[0] ?? '';
    const name = first.split('=')[0] ?? '';
    if (/^[a-z-]+$/.test(name) && !['prefix', 'delimiter', 'marker', 'max-keys', 'list-type', 'x-id', 'encoding-type', 'continuation-token', 'start-after', 'fetch-owner', 'versionId', 'partNumber', 'response-content-type'].includes(name)) {
      sub = name === 'uploadId' || name === 'uploads' ? 'UPLOAD' : name === 'logging' ? 'LOGGING_STATUS' : name.replace(/-/g, '_').toUpperCase();
    }
  }
  if (key !== undefined) return `REST.${method}.${sub === 'UPLOAD' ? 'UPLOAD' : sub !== '' ? `OBJECT_${sub}` : 'OBJECT'}`;
  return `REST.${method}.${sub === '' ? 'BUCKET' : sub}`;
}

/** The object key a delivery is written under (S3's SimplePrefix or PartitionedPrefix form). */
export function logObjectKey(cfg: LoggingEnabled, source: BucketRecord, at: number): string {
  const d = new Date(at);
  const y = String(d.getUTCFullYear());
  const stamp = `${y}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}-${two(d.getUTCHours())}-${two(d.getUTCMinutes())}-${two(d.getUTCSeconds())}`;
  const unique = randomBytes(8).toString('hex').toUpperCase();
  const prefix = cfg.TargetPrefix ?? '';
  const part = cfg.TargetObjectKeyFormat?.PartitionedPrefix;
  if (part === undefined) return `${prefix}${stamp}-${unique}`;
  return `${prefix}${source.ownerAccount}/${source.region}/${source.name}/${y}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${stamp}-${unique}`;
}

export class AccessLog {
  /** Buckets with logging on (as this node last saw them): the pipeline's check. */
  private readonly sources = new Set<string>();
  private readonly held = new Map<string, Entry[]>();
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastFlush: number;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly s3: S3,
    private readonly intervalMs: number,
    private readonly ownerCtx: (account: string) => RequestContext,
    /** Bucket and key from the request itself, for requests answered before decoding (POST forms, signature errors). */
    private readonly targetOf: (req: HttpRequest) => { bucket?: string | undefined; key?: string | undefined } | undefined,
  ) {
    this.lastFlush = s3.clock.nowMs();
  }

  /** Loads which buckets log (one scan of bucket records) and starts the delivery tick. */
  async start(): Promise<void> {
    const rows = await this.s3.meta.read((tx) => tx.scan<BucketRecord>(NS_BUCKETS, {}));
    for (const r of rows) if (r.value.logging) this.sources.add(r.value.name);
    this.lastFlush = this.s3.clock.nowMs();
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** PutBucketLogging changed a bucket's setting. */
  setSource(bucket: string, on: boolean): void {
    if (on) this.sources.add(bucket);
    else this.sources.delete(bucket);
  }

  /** A finished S3 request (ServiceDefinition.served). Cheap unless its bucket logs. */
  note(req: HttpRequest, input: unknown, output: unknown, ctx: RequestContext | undefined, status: number, bytesOut: number, requestId: string, failure: AwsError | undefined, startedMs: number): void {
    if (this.sources.size === 0) return;
    let i = (input ?? undefined) as { Bucket?: unknown; Key?: unknown; VersionId?: unknown } | undefined;
    if (i === undefined) {
      const t = this.targetOf(req);
      i = { Bucket: t?.bucket, Key: t?.key };
    }
    const bucket = i.Bucket;
    if (typeof bucket !== 'string' || !this.sources.has(bucket) || this.count >= MAX_HELD) return;
    const key = typeof i.Key === 'string' ? i.Key : undefined;
    const out = (output ?? {}) as { ContentLength?: unknown; VersionId?: unknown };
    const h = req.headers;
    const header = (n: string) => {
      const v = h[n];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const signed = header('authorization') !== undefined ? 'AuthHeader' : req.rawQuery.includes('X-Amz-Signature=') ? 'QueryString' : undefined;
    const p = ctx?.principal;
    const e: Entry = {
      at: this.s3.clock.nowMs(),
      ip: ctx?.sourceIp ?? '-',
      requester: p === undefined || p.type === 'anonymous' ? '-' : p.arn,
      requestId,
      operation: operationName(req.method, req.rawQuery, key, ctx?.operation ?? ''),
      key,
      uri: `${req.method} ${req.rawPath}${req.rawQuery === '' ? '' : `?${req.rawQuery}`} HTTP/1.1`,
      status,
      error: failure?.code,
      bytesSent: bytesOut,
      objectSize: typeof out.ContentLength === 'number' ? out.ContentLength : undefined,
      totalMs: performance.now() - startedMs,
      referer: header('referer'),
      userAgent: header('user-agent'),
      versionId: typeof out.VersionId === 'string' ? out.VersionId : typeof i.VersionId === 'string' ? i.VersionId : undefined,
      signed,
      host: header('host') ?? header(':authority'),
      tls: ctx?.secure === true,
    };
    let list = this.held.get(bucket);
    if (!list) this.held.set(bucket, (list = []));
    list.push(e);
    this.count++;
  }

  private tick(): void {
    if (this.flushing || this.count === 0) return;
    const due = this.s3.clock.nowMs() - this.lastFlush >= this.intervalMs || [...this.held.values()].some((l) => l.length >= EARLY_FLUSH);
    if (due) void this.flush();
  }

  /** Delivers everything held: one object per source bucket. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    this.flushing = this.deliver().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async deliver(): Promise<void> {
    this.lastFlush = this.s3.clock.nowMs();
    const batches = [...this.held];
    this.held.clear();
    this.count = 0;
    for (const [name, entries] of batches) {
      try {
        const source = await this.s3.buckets.get(this.s3, name);
        const cfg = source?.logging;
        if (!source || !cfg) {
          this.sources.delete(name);
          continue;
        }
        const body = Buffer.from(entries.map((e) => formatLine(source, e) + '\n').join(''));
        const key = logObjectKey(cfg, source, this.lastFlush);
        await putObject(this.s3, { Bucket: cfg.TargetBucket, Key: key, Body: Readable.from([body]), ContentLength: body.length, ContentType: 'text/plain' }, this.ownerCtx(source.ownerAccount));
      } catch (err) {
        this.s3.log.warn({ err, bucket: name, records: entries.length }, 'server access log delivery failed; records dropped');
      }
    }
  }
}
