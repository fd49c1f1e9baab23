/**
 * S3's key hierarchy for encryption at rest. Every object (and every
 * multipart upload) has a random data key (SSE-S3: shared by the bucket's
 * objects for a while, see below); only its wrapped form is stored
 * (SseRecord.wrapped):
 *
 *   SSE-S3    sealed (AES-256-GCM, crypto/envelope.ts) under the S3 master key,
 *             derived by HKDF from hanul's root key — the one KMS seals its key
 *             material under (kms-root.key / HANUL_KMS_ROOT_KEY); nothing new on disk.
 *             As with S3 Bucket Keys, one data key serves a bucket's new objects
 *             for BUCKET_KEY_TTL_MS (then a new one is made): every blob still gets
 *             its own frame keys from it and a random per-blob salt (sse-frames.ts),
 *             so nothing is shared below the data key; a small object's PUT and
 *             GET no longer pay an AES-GCM seal / open of the key each.
 *   SSE-KMS   GenerateDataKey / Decrypt on hanul's KMS, in-process as the caller
 *             (so the caller needs kms:GenerateDataKey / kms:Decrypt, and CloudTrail
 *             shows each call invoked by s3.amazonaws.com). With S3 Bucket Keys a
 *             bucket-level data key is reused for a while (per caller) instead.
 *   DSSE-KMS  two data keys from KMS, one per layer.
 *   SSE-C     the customer's key itself; never stored. A salted HMAC of it (under
 *             another key derived from the root key) proves a later request's key
 *             is the same.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DecryptResponse, EncryptResponse, GenerateDataKeyResponse } from '@aws-sdk/client-kms';
import { AwsError, isAwsError } from '../../aws/errors.js';
import { randomBytesPooled } from '../../lib/ids.js';
import { createSealer, type Sealer } from '../../crypto/envelope.js';
import type { Clock } from '../../lib/clock.js';
import type { PeerServices, RequestContext } from '../../server/context.js';
import { s3Error } from './errors.js';
import type { SseRecord } from './model.js';
import { frameKeys, type FrameKeys } from './sse-frames.js';

/** How long a bucket key is reused (and a decrypted one kept) before KMS is asked again. */
export const BUCKET_KEY_TTL_MS = 5 * 60_000;
const S3_KEY_AAD = 'hanul/s3/sse-s3/data-key';

/** KMS's errors as S3 answers them (S3 prefixes KMS's own codes with `KMS.`). */
export function kmsFailure(e: unknown): unknown {
  if (!isAwsError(e)) return e;
  if (e.code === 'AccessDeniedException') return s3Error('AccessDenied', e.message);
  const code = `KMS.${e.code}`;
  return new AwsError(code, e.status >= 500 ? e.status : 400, e.message);
}

interface KmsKeys {
  keyArn: string;
  plain: Buffer[];
  wrapped: string[];
}

/** How many blobs' frame keys FrameKeyCache keeps (about 200 bytes each). */
export const FRAME_KEY_CACHE_MAX = 4096;

/**
 * The frame keys of recently read small (inline) blobs, by the blob's salt (its
 * BlobRef.enc): a small object's GET otherwise derives them anew (HKDF, two
 * HMACs) every time, as much CPU as opening its 4 KiB. Filled by reads only: a
 * PUT keeps nothing (an object overwritten unread would only push others out). An entry is used only
 * for the very data keys it was derived from, so a salt seen under another
 * key (or a tampered record) derives afresh. Frame keys are no more secret
 * than the data keys already kept in memory here. Oldest entries go first.
 */
export class FrameKeyCache {
  private readonly entries = new Map<string, { dataKeys: readonly Buffer[]; keys: FrameKeys }>();
  hits = 0;

  constructor(private readonly max = FRAME_KEY_CACHE_MAX) {}

  /** The frame keys of the blob whose salt is `enc` (base64), from these data keys. */
  get(dataKeys: readonly Buffer[], enc: string): FrameKeys {
    const hit = this.entries.get(enc);
    if (hit && sameKeys(hit.dataKeys, dataKeys)) {
      this.hits++;
      return hit.keys;
    }
    // The salt in memory of its own: a slice of Buffer's shared pool would keep the whole slab alive as long as the entry.
    const decoded = Buffer.from(enc, 'base64');
    const salt = Buffer.allocUnsafeSlow(decoded.length);
    decoded.copy(salt);
    const keys = frameKeys(dataKeys, salt);
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(enc, { dataKeys: dataKeys.slice(), keys });
    return keys;
  }

  get size(): number {
    return this.entries.size;
  }
}

function sameKeys(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Buffer;
    const y = b[i] as Buffer;
    // timingSafeEqual: for SSE-C these are the customer's keys.
    if (x !== y && (x.length !== y.length || !timingSafeEqual(x, y))) return false;
  }
  return true;
}

export class SseKeys {
  /** Frame keys of recently read small blobs (see FrameKeyCache). */
  readonly frames = new FrameKeyCache();
  private readonly sealer: Sealer;
  private readonly verifierKey: Buffer;
  private readonly bucketKeys = new Map<string, KmsKeys & { until: number }>();
  private readonly opened = new Map<string, { plain: Buffer[]; until: number }>();
  /** SSE-S3: the current data key per bucket (by bucket id), and data keys already unwrapped (by wrapped form). */
  private readonly s3Keys = new Map<string, { plain: Buffer; wrapped: string; until: number }>();
  private readonly s3Opened = new Map<string, Buffer>();
  /** KMS calls made, for tests and the bench. */
  kmsCalls = 0;

  constructor(
    rootKey: Uint8Array,
    private readonly peers: PeerServices | undefined,
    private readonly clock: Clock,
  ) {
    this.sealer = createSealer(rootKey, 'hanul/s3/sse-s3-master-key/v1');
    this.verifierKey = Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), 'hanul/s3/sse-c-verifier/v1', 32));
  }

  /**
   * An SSE-S3 data key for a new object: with `bucket` (its id), the bucket's current
   * key, made anew every BUCKET_KEY_TTL_MS; without, a key of its own.
   */
  newS3Key(bucket?: string): { plain: Buffer; wrapped: string } {
    if (bucket === undefined) return this.makeS3Key();
    const now = this.clock.nowMs();
    const hit = this.s3Keys.get(bucket);
    if (hit && hit.until > now) return hit;
    const k = this.makeS3Key();
    if (this.s3Keys.size >= 1000) this.s3Keys.clear();
    this.s3Keys.set(bucket, { ...k, until: now + BUCKET_KEY_TTL_MS });
    this.rememberS3Key(k.wrapped, k.plain);
    return k;
  }

  private makeS3Key(): { plain: Buffer; wrapped: string } {
    const plain = randomBytesPooled(32);
    return { plain, wrapped: Buffer.from(this.sealer.seal(plain, S3_KEY_AAD)).toString('base64') };
  }

  /** The plaintext of a wrapped SSE-S3 data key (kept for the next object under the same key). Callers must not modify it. */
  openS3Key(wrapped: string): Buffer {
    const hit = this.s3Opened.get(wrapped);
    if (hit) return hit;
    let plain: Buffer;
    try {
      plain = this.sealer.open(Buffer.from(wrapped, 'base64'), S3_KEY_AAD);
    } catch {
      throw s3Error('InternalError', 'The object key could not be unwrapped: the hanul root key is not the one it was encrypted under.');
    }
    this.rememberS3Key(wrapped, plain);
    return plain;
  }

  private rememberS3Key(wrapped: string, plain: Buffer): void {
    // Objects written before bucket-level keys each have their own: bounded, so reading many of them cannot grow it.
    if (this.s3Opened.size >= 4096) this.s3Opened.clear();
    this.s3Opened.set(wrapped, plain);
  }

  customerProof(key: Buffer): { salt: string; mac: string } {
    const salt = randomBytes(16);
    return { salt: salt.toString('base64'), mac: this.mac(salt, key).toString('base64') };
  }

  customerMatches(key: Buffer, proof: { salt: string; mac: string }): boolean {
    const mac = Buffer.from(proof.mac, 'base64');
    const got = this.mac(Buffer.from(proof.salt, 'base64'), key);
    return mac.length === got.length && timingSafeEqual(mac, got);
  }

  private mac(salt: Buffer, key: Buffer): Buffer {
    return createHmac('sha256', this.verifierKey).update(salt).update(key).digest();
  }

  private kms(): PeerServices {
    if (!this.peers) throw s3Error('InternalError', 'KMS is not available in this server.');
    return this.peers;
  }

  /** `layers` data keys under the KMS key (bucketKey: reused per bucket, key, context and caller for BUCKET_KEY_TTL_MS). */
  async generate(ctx: RequestContext, keyId: string, context: Record<string, string>, layers: number, bucketKey: string | undefined): Promise<KmsKeys> {
    const cacheKey = bucketKey !== undefined ? `${bucketKey}\u0000${keyId}\u0000${JSON.stringify(context)}\u0000${ctx.principal.arn}` : undefined;
    const now = this.clock.nowMs();
    if (cacheKey !== undefined) {
      const hit = this.bucketKeys.get(cacheKey);
      if (hit && hit.until > now) return hit;
    }
    const out: KmsKeys = { keyArn: '', plain: [], wrapped: [] };
    for (let i = 0; i < layers; i++) {
      this.kmsCalls++;
      let r: GenerateDataKeyResponse;
      try {
        r = await this.kms().call<GenerateDataKeyResponse>('kms', 'GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }, ctx);
      } catch (e) {
        throw kmsFailure(e);
      }
      out.keyArn = r.KeyId as string;
      out.plain.push(Buffer.from(r.Plaintext as Uint8Array));
      out.wrapped.push(Buffer.from(r.CiphertextBlob as Uint8Array).toString('base64'));
    }
    if (cacheKey !== undefined) {
      if (this.bucketKeys.size > 1000) this.bucketKeys.clear();
      this.bucketKeys.set(cacheKey, { ...out, until: now + BUCKET_KEY_TTL_MS });
      this.opened.set(`${out.wrapped[0]}\u0000${ctx.principal.arn}`, { plain: out.plain, until: now + BUCKET_KEY_TTL_MS });
    }
    return out;
  }

  /**
   * Wraps existing data keys under a KMS key with KMS Encrypt, as the caller
   * (kms:Encrypt on that key): UpdateObjectEncryption re-wraps an object's keys
   * without touching its bytes (update-encryption.ts).
   */
  async encrypt(ctx: RequestContext, keyId: string, plain: readonly Buffer[], context: Record<string, string>): Promise<{ keyArn: string; wrapped: string[] }> {
    const out = { keyArn: '', wrapped: [] as string[] };
    for (const p of plain) {
      this.kmsCalls++;
      let r: EncryptResponse;
      try {
        r = await this.kms().call<EncryptResponse>('kms', 'Encrypt', { KeyId: keyId, Plaintext: p, EncryptionContext: context }, ctx);
      } catch (e) {
        throw kmsFailure(e);
      }
      out.keyArn = r.KeyId as string;
      out.wrapped.push(Buffer.from(r.CiphertextBlob as Uint8Array).toString('base64'));
    }
    return out;
  }

  /** The plaintext data keys of a KMS-encrypted object (a bucket key decrypted once per caller for a while). */
  async decrypt(ctx: RequestContext, sse: SseRecord, context: Record<string, string>): Promise<Buffer[]> {
    const cacheKey = sse.bucketKey ? `${sse.wrapped[0]}\u0000${ctx.principal.arn}` : undefined;
    const now = this.clock.nowMs();
    if (cacheKey !== undefined) {
      const hit = this.opened.get(cacheKey);
      if (hit && hit.until > now) return hit.plain;
    }
    const plain: Buffer[] = [];
    for (const w of sse.wrapped) {
      this.kmsCalls++;
      try {
        const r = await this.kms().call<DecryptResponse>('kms', 'Decrypt', { CiphertextBlob: Buffer.from(w, 'base64'), KeyId: sse.kmsKeyArn, EncryptionContext: context }, ctx);
        plain.push(Buffer.from(r.Plaintext as Uint8Array));
      } catch (e) {
        throw kmsFailure(e);
      }
    }
    if (cacheKey !== undefined) {
      if (this.opened.size > 1000) this.opened.clear();
      this.opened.set(cacheKey, { plain, until: now + BUCKET_KEY_TTL_MS });
    }
    return plain;
  }
}
