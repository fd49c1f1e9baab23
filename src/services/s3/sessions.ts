/**
 * S3 Express One Zone sessions (CreateSession): five-minute credentials
 * scoped to one directory bucket and a mode (ReadWrite / ReadOnly), which
 * clients sign with as service `s3express`, carrying the token in
 * x-amz-s3session-token. The secret and token are derived (HMAC) from the
 * root key and the random access key id, so nothing secret is stored: the
 * metadata row holds who created the session, for what, until when. Rows
 * survive a restart (an SDK keeps using a session for up to five minutes,
 * and would otherwise fail after a restart until it expires) and are shared
 * by cluster nodes; expired rows are swept as new sessions are made.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { CreateSessionOutput, CreateSessionRequest } from '@aws-sdk/client-s3';
import type { CredentialLookup, CredentialRecord } from '../../aws/sigv4/index.js';
import type { Principal, RequestContext } from '../../server/context.js';
import { s3Error } from './errors.js';
import { directoryZone } from './directory.js';
import { accountOf, getBucket, type S3 } from './state.js';

/** Session access key ids start with this (app.ts sends them here, not to IAM). */
export const SESSION_KEY_PREFIX = 'S3XS';
const NS_SESSIONS = 's3:session';
const LIFETIME_MS = 5 * 60 * 1000;
const SWEEP_EVERY_MS = 60 * 1000;
const MAX_CACHED = 10_000;
/** The SDK signs session calls as s3express; one given its own identity provider signs them as s3. Never another service. */
const SESSION_TOKEN_IN = Object.freeze({ header: 'x-amz-s3session-token', query: 'X-Amz-S3session-Token', services: Object.freeze(['s3express', 's3']) });

interface SessionRow {
  principal: Principal;
  bucket: string;
  mode: 'ReadWrite' | 'ReadOnly';
  expiresAt: Date;
}

export class S3Sessions {
  readonly #key: Buffer;
  readonly #cache = new Map<string, CredentialRecord>();
  #lastSweep = 0;

  constructor(
    private readonly s3: S3,
    rootKey: Buffer,
  ) {
    this.#key = createHmac('sha256', rootKey).update('hanul s3express session keys').digest();
  }

  #derive(label: string, accessKeyId: string): string {
    return createHmac('sha256', this.#key).update(`${label}\n${accessKeyId}`).digest('base64');
  }

  #record(accessKeyId: string, row: SessionRow): CredentialRecord {
    const tokenIssueTime = row.principal.tokenIssueTime;
    const principal: Principal = {
      ...row.principal,
      ...(tokenIssueTime !== undefined ? { tokenIssueTime: new Date(tokenIssueTime) } : {}),
      s3Session: { bucket: row.bucket, mode: row.mode },
    };
    return {
      secretAccessKey: this.#derive('secret', accessKeyId),
      principal,
      sessionToken: this.#derive('token', accessKeyId),
      expiresAt: new Date(row.expiresAt),
      tokenIn: SESSION_TOKEN_IN,
    };
  }

  /** The credential source for session keys; an expired session is still found (its requests then fail as ExpiredToken). */
  readonly lookup: CredentialLookup = (accessKeyId) => {
    const hit = this.#cache.get(accessKeyId);
    if (hit !== undefined) return hit;
    return this.s3.meta.read((tx) => tx.get<SessionRow>(NS_SESSIONS, accessKeyId)).then((row) => {
      if (row === undefined) return undefined;
      const rec = this.#record(accessKeyId, row);
      this.#remember(accessKeyId, rec);
      return rec;
    });
  };

  #remember(accessKeyId: string, rec: CredentialRecord): void {
    if (this.#cache.size >= MAX_CACHED) {
      const now = this.s3.clock.nowMs();
      for (const [id, r] of this.#cache) if ((r.expiresAt?.getTime() ?? 0) <= now) this.#cache.delete(id);
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
    }
    this.#cache.set(accessKeyId, rec);
  }

  async create(input: CreateSessionRequest, ctx: RequestContext): Promise<CreateSessionOutput> {
    const bucket = input.Bucket ?? '';
    directoryZone(bucket);
    const mode = input.SessionMode ?? 'ReadWrite';
    if (mode !== 'ReadWrite' && mode !== 'ReadOnly') throw s3Error('InvalidArgument', 'Invalid session mode', { ArgumentName: 'x-amz-create-session-mode', ArgumentValue: String(mode) });
    if (input.ServerSideEncryption !== undefined && input.ServerSideEncryption !== 'AES256' && input.ServerSideEncryption !== 'aws:kms') {
      throw s3Error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: String(input.ServerSideEncryption) });
    }
    const now = this.s3.clock.nowMs();
    const accessKeyId = `${SESSION_KEY_PREFIX}${randomBytes(16).toString('hex').toUpperCase()}`;
    const { s3Session: _, ...principal } = ctx.principal;
    const row: SessionRow = { principal, bucket, mode, expiresAt: new Date(now + LIFETIME_MS) };
    const sweep = now - this.#lastSweep >= SWEEP_EVERY_MS;
    if (sweep) this.#lastSweep = now;
    await this.s3.meta.write(async (tx) => {
      // A session may be made for a bucket not yet created: the SDKs, given a custom endpoint, sign even
      // CreateBucket with one. Someone else's bucket is refused here.
      const b = await getBucket(tx, bucket);
      if (b !== undefined && (b.ownerAccount !== accountOf(ctx) || b.directory === undefined)) throw s3Error('AccessDenied', 'Access Denied');
      if (b === undefined && bucket === '') throw s3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
      if (sweep) {
        for (const r of await tx.scan<SessionRow>(NS_SESSIONS, {})) {
          if (new Date(r.value.expiresAt).getTime() <= now) await tx.delete(NS_SESSIONS, r.key);
        }
      }
      await tx.put(NS_SESSIONS, accessKeyId, row);
    });
    const rec = this.#record(accessKeyId, row);
    this.#remember(accessKeyId, rec);
    return {
      ServerSideEncryption: input.ServerSideEncryption ?? 'AES256',
      ...(input.BucketKeyEnabled !== undefined ? { BucketKeyEnabled: input.BucketKeyEnabled } : {}),
      Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: rec.secretAccessKey, SessionToken: this.#derive('token', accessKeyId), Expiration: row.expiresAt },
    };
  }
}
