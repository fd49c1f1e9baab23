/**
 * Server-side encryption of objects: which encryption a write gets (its
 * SSE headers, else the bucket's default, else SSE-S3 as AWS since 2023
 * unless the server turns that default off), the data keys a read needs
 * (SSE-C keys checked against the stored proof, KMS asked as the caller),
 * the SSE response headers, and the two seams into the byte path:
 * `sealingBody` (receive-body.ts encrypts what it stores) and
 * `decryptedStream` (GET / copy read plaintext back). Formats and keys:
 * sse-frames.ts, sse-keys.ts.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { ServerSideEncryption } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { LENDER } from '../../lib/streams.js';
import { inlineBytes, type InlineData, joined, objectStream, segmentsFor } from './blob-stream.js';
import { invalidArgument, s3Error } from './errors.js';
import type { BlobRef, BucketRecord, SseRecord } from './model.js';
import { cipherRange, cipherSize, decryptFrameBatches, encryptFrames, FrameError, frameKeys, newSalt, openRange, readChunkBytes, sealAll } from './sse-frames.js';
import type { FrameKeyCache } from './sse-keys.js';
import { SlotLoans, workerFrameBatches, worthWorker } from './sse-worker.js';
import type { S3 } from './state.js';

export const SSE_ALGORITHMS = ['AES256', 'aws:kms', 'aws:kms:dsse'] as const;
type Algorithm = (typeof SSE_ALGORITHMS)[number];

/** A customer key (SSE-C) as a request gave it, checked. */
export interface CustomerKey {
  key: Buffer;
  md5: string;
}

export interface SseRequest {
  algorithm?: Algorithm;
  kmsKeyId?: string;
  /** Decoded x-amz-server-side-encryption-context. */
  context?: Record<string, string>;
  bucketKey?: boolean;
  customer?: CustomerKey;
}

interface SseInput {
  ServerSideEncryption?: string | undefined;
  SSEKMSKeyId?: string | undefined;
  SSEKMSEncryptionContext?: string | undefined;
  BucketKeyEnabled?: boolean | undefined;
  SSECustomerAlgorithm?: string | undefined;
  SSECustomerKey?: string | undefined;
  SSECustomerKeyMD5?: string | undefined;
}

interface CopySourceSseInput {
  CopySourceSSECustomerAlgorithm?: string | undefined;
  CopySourceSSECustomerKey?: string | undefined;
  CopySourceSSECustomerKeyMD5?: string | undefined;
}

const SSEC = 'Requests specifying Server Side Encryption with Customer provided keys';

function isLoopback(ip: string): boolean {
  const v = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v === '::1' || (isIP(v) === 4 && v.startsWith('127.'));
}

/**
 * SSE-C headers (x-amz-[copy-source-]server-side-encryption-customer-*), checked as S3 does.
 * AWS refuses them over plain HTTP; hanul does too, except from loopback, where the key
 * crosses no network (the local-development case).
 */
export function customerKey(ctx: RequestContext, alg: string | undefined, key: string | undefined, md5: string | undefined, prefix = 'x-amz-server-side-encryption-customer'): CustomerKey | undefined {
  if (alg === undefined && key === undefined && md5 === undefined) return undefined;
  if (alg !== 'AES256') throw invalidArgument(`${SSEC} must provide a valid encryption algorithm.`, `${prefix}-algorithm`, alg ?? 'null');
  if (key === undefined || key === '') throw invalidArgument(`${SSEC} must provide an appropriate secret key.`, `${prefix}-key`, 'null');
  if (md5 === undefined || md5 === '') throw invalidArgument(`${SSEC} must provide the client calculated MD5 of the secret key.`, `${prefix}-key-MD5`, 'null');
  const raw = Buffer.from(key, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== key.trim()) throw invalidArgument('The secret key was invalid for the specified algorithm.', `${prefix}-key`, '');
  if (createHash('md5').update(raw).digest('base64') !== md5.trim()) {
    throw invalidArgument('The calculated MD5 hash of the key did not match the hash that was provided.', `${prefix}-key-MD5`, '');
  }
  if (!ctx.secure && !isLoopback(ctx.sourceIp)) throw s3Error('InvalidRequest', `${SSEC} must be made over a secure connection.`);
  return { key: raw, md5: md5.trim() };
}

export function copySourceCustomerKey(ctx: RequestContext, input: CopySourceSseInput): CustomerKey | undefined {
  return customerKey(ctx, input.CopySourceSSECustomerAlgorithm, input.CopySourceSSECustomerKey, input.CopySourceSSECustomerKeyMD5, 'x-amz-copy-source-server-side-encryption-customer');
}

function parseContext(raw: string): Record<string, string> {
  const bad = () => invalidArgument('The header \'x-amz-server-side-encryption-context\' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map', 'x-amz-server-side-encryption-context', raw);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) throw bad();
  if (Object.keys(v).some((k) => k.startsWith('aws:'))) throw invalidArgument('Encryption context keys cannot start with aws:', 'x-amz-server-side-encryption-context', raw);
  return v as Record<string, string>;
}

/** The encryption a write request asks for (PutObject, CopyObject, CreateMultipartUpload, POST). */
export function sseRequest(ctx: RequestContext, input: SseInput): SseRequest {
  const out: SseRequest = {};
  const alg = input.ServerSideEncryption;
  if (alg !== undefined) {
    if (!(SSE_ALGORITHMS as readonly string[]).includes(alg)) throw invalidArgument('The encryption method specified is not supported', 'x-amz-server-side-encryption', alg);
    out.algorithm = alg as Algorithm;
  }
  const customer = customerKey(ctx, input.SSECustomerAlgorithm, input.SSECustomerKey, input.SSECustomerKeyMD5);
  if (customer) {
    if (alg !== undefined || input.SSEKMSKeyId !== undefined) {
      throw invalidArgument('Server Side Encryption with Customer provided key is incompatible with the encryption method specified', 'x-amz-server-side-encryption', alg ?? '');
    }
    out.customer = customer;
  }
  const kms = out.algorithm === 'aws:kms' || out.algorithm === 'aws:kms:dsse';
  if (input.SSEKMSKeyId !== undefined) {
    if (!kms) throw invalidArgument('Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id', input.SSEKMSKeyId);
    if (input.SSEKMSKeyId.trim() === '') throw invalidArgument('KMS key id must not be empty', 'x-amz-server-side-encryption-aws-kms-key-id', '');
    out.kmsKeyId = input.SSEKMSKeyId;
  }
  if (input.SSEKMSEncryptionContext !== undefined) {
    if (!kms) throw invalidArgument('Server Side Encryption context requires HTTP header x-amz-server-side-encryption : aws:kms', 'x-amz-server-side-encryption-context', input.SSEKMSEncryptionContext);
    out.context = parseContext(input.SSEKMSEncryptionContext);
  }
  if (input.BucketKeyEnabled !== undefined) out.bucketKey = input.BucketKeyEnabled;
  return out;
}

export function hasSse(r: SseRequest): boolean {
  return r.algorithm !== undefined || r.customer !== undefined;
}

/** A write's encryption: the record to store and the plaintext data keys to seal blobs with. */
export interface Cipher {
  sse: SseRecord;
  keys: Buffer[];
}

/** The KMS encryption context of an object's data keys: the caller's context and aws:s3:arn (the bucket's ARN with a bucket key). */
export function kmsContext(bucket: string, key: string, sse: Pick<SseRecord, 'context' | 'bucketKey'>): Record<string, string> {
  const user = sse.context !== undefined ? (JSON.parse(sse.context) as Record<string, string>) : {};
  return { ...user, 'aws:s3:arn': sse.bucketKey ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}` };
}

/** Makes the data keys for a new object (or upload): the request's encryption, else the bucket's default. */
export async function newCipher(s3: S3, ctx: RequestContext, bucket: BucketRecord, key: string, req: SseRequest): Promise<Cipher | undefined> {
  if (req.customer) {
    return { sse: { algorithm: 'AES256', wrapped: [], customer: { keyMd5: req.customer.md5, ...s3.sse.customerProof(req.customer.key) } }, keys: [req.customer.key] };
  }
  const def = bucket.encryption ?? (s3.config.s3DefaultEncryption ? { algorithm: 'AES256' as const, bucketKey: false } : undefined);
  const algorithm = req.algorithm ?? def?.algorithm;
  if (algorithm === undefined) return undefined;
  if (algorithm === 'AES256') {
    const k = s3.sse.newS3Key(bucket.id);
    return { sse: { algorithm, wrapped: [k.wrapped] }, keys: [k.plain] };
  }
  const fromDefault = req.algorithm === undefined || req.algorithm === def?.algorithm;
  const keyId = req.kmsKeyId ?? (fromDefault ? def?.kmsKeyId : undefined) ?? 'alias/aws/s3';
  // AWS does not use bucket keys with DSSE-KMS.
  const bucketKey = algorithm === 'aws:kms' && (req.bucketKey ?? (def?.algorithm === 'aws:kms' ? def.bucketKey : false));
  const shape: Pick<SseRecord, 'context' | 'bucketKey'> = {
    ...(req.context ? { context: JSON.stringify(req.context) } : {}),
    ...(bucketKey ? { bucketKey: true as const } : {}),
  };
  const made = await s3.sse.generate(ctx, keyId, kmsContext(bucket.name, key, shape), algorithm === 'aws:kms:dsse' ? 2 : 1, bucketKey ? bucket.id : undefined);
  return { sse: { algorithm, wrapped: made.wrapped, kmsKeyArn: made.keyArn, ...shape }, keys: made.plain };
}

/**
 * SSE-C rules for reading (or writing parts of) a stored object/upload: the
 * key must be given exactly when the object has one, and must be that key.
 */
export function checkCustomer(s3: S3, sse: SseRecord | undefined, given: CustomerKey | undefined): void {
  const c = sse?.customer;
  if (!c) {
    if (given) throw s3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
    return;
  }
  if (!given) throw s3Error('InvalidRequest', 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
  if (!s3.sse.customerMatches(given.key, c)) throw s3Error('AccessDenied', 'Access Denied');
}

/** The plaintext data keys of a stored object or upload (checkCustomer first). */
/** At once (no Promise) for SSE-S3 and SSE-C, whose keys are opened here; SSE-KMS asks KMS. A wrong SSE-C key throws. */
export function dataKeys(s3: S3, ctx: RequestContext, bucket: string, key: string, sse: SseRecord | undefined, given: CustomerKey | undefined): Buffer[] | undefined | Promise<Buffer[]> {
  checkCustomer(s3, sse, given);
  if (!sse) return undefined;
  if (sse.customer) return [(given as CustomerKey).key];
  if (sse.algorithm === 'AES256') return [s3.sse.openS3Key(sse.wrapped[0] as string)];
  return s3.sse.decrypt(ctx, sse, kmsContext(bucket, key, sse));
}

export interface SseHeaders {
  ServerSideEncryption?: ServerSideEncryption;
  SSEKMSKeyId?: string;
  BucketKeyEnabled?: boolean;
  SSECustomerAlgorithm?: string;
  SSECustomerKeyMD5?: string;
  SSEKMSEncryptionContext?: string;
}

/** The SSE response headers of an object; with bucket and key, also the KMS context (PUT, copy and CreateMultipartUpload echo it). */
export function sseHeaders(sse: SseRecord | undefined, bucket?: string, key?: string): SseHeaders {
  const out: SseHeaders = {};
  return writeSseHeaders(out, sse, bucket, key);
}

/** sseHeaders, set on `out` (a GET's headers: no object of its own per request). */
export function writeSseHeaders<T extends { [K in keyof SseHeaders]?: SseHeaders[K] | undefined }>(out: T, sse: SseRecord | undefined, bucket?: string, key?: string): T {
  if (!sse) return out;
  if (sse.customer) {
    out.SSECustomerAlgorithm = 'AES256';
    out.SSECustomerKeyMD5 = sse.customer.keyMd5;
    return out;
  }
  out.ServerSideEncryption = sse.algorithm;
  if (sse.kmsKeyArn !== undefined) out.SSEKMSKeyId = sse.kmsKeyArn;
  if (sse.bucketKey) out.BucketKeyEnabled = true;
  if (sse.context !== undefined && bucket !== undefined && key !== undefined) {
    out.SSEKMSEncryptionContext = Buffer.from(JSON.stringify(kmsContext(bucket, key, sse))).toString('base64');
  }
  return out;
}

/**
 * The ETag of a stored body. SSE-S3 (and unencrypted) objects keep the MD5
 * of their data; AWS says SSE-C and SSE-KMS ETags are not an MD5 of the
 * data, so those hash the MD5 with the blob's random salt.
 */
export function etagHex(sse: SseRecord | undefined, md5Hex: string, blob: BlobRef): string {
  if (!sse || (sse.algorithm === 'AES256' && !sse.customer)) return md5Hex;
  return createHash('md5').update('hanul-sse-etag').update(blob.enc ?? '').update(md5Hex).digest('hex');
}

/** What receive-body.ts needs to store a body encrypted: one new salt per blob. */
export interface BodySealer {
  layers: number;
  stream(src: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>;
  all(plain: Buffer): Buffer;
  storedMax(n: number): number;
  finish(blob: BlobRef, size: number): BlobRef;
}

export function sealingBody(keys: readonly Buffer[]): BodySealer {
  const salt = newSalt();
  const k = frameKeys(keys, salt);
  return {
    layers: keys.length,
    stream: (src) => encryptFrames(src, k),
    all: (plain) => sealAll(k, plain),
    storedMax: (n) => cipherSize(n, keys.length),
    finish: (blob, size) => Object.assign({}, blob, { size, enc: salt.toString('base64') }),
  };
}

function frameFailure(e: unknown): unknown {
  return e instanceof FrameError ? s3Error('InternalError', 'We encountered an internal error. Please try again.') : e;
}

/**
 * The plaintext (or a range) of an object whose blobs there are all inline,
 * opened into one buffer; undefined when a file blob is involved (then
 * decryptedStream). Small GETs answer with it, without a stream.
 */
export function inlinePlaintext(
  blobs: readonly BlobRef[],
  keys: readonly Buffer[] | undefined,
  range?: { start: number; end: number },
  inline?: InlineData,
  cache?: FrameKeyCache,
): Buffer | undefined {
  const only = blobs.length === 1 ? blobs[0] : undefined;
  if (keys && cache && only?.inline && only.enc !== undefined && only.size > 0 && (!range || (range.start <= range.end && range.end < only.size))) {
    // The common small object: one encrypted inline blob (no segment list, no map).
    const stored = inline?.get(only.id);
    if (!stored) throw new Error(`s3: inline data ${only.id} was not loaded`);
    try {
      return openRange(cache.get(keys, only.enc), only.size, stored, range?.start ?? 0, range?.end ?? only.size - 1);
    } catch (e) {
      throw frameFailure(e);
    }
  }
  if (!keys || !blobs.some((b) => b.enc !== undefined)) return inlineBytes(blobs, range, inline);
  const segments = segmentsFor(blobs, range);
  if (!segments.every((s) => s.inline)) return undefined;
  const byId = new Map(blobs.map((b) => [b.id, b]));
  try {
    return joined(segments.map((s) => openInline(keys, byId.get(s.id) as BlobRef, s, inline)));
  } catch (e) {
    throw frameFailure(e);
  }
}

/** One inline segment's plaintext: its stored frames opened with the blob's frame keys. */
function openInline(keys: readonly Buffer[], b: BlobRef, s: { id: string; start: number; end: number }, inline: InlineData | undefined): Buffer {
  return openRange(frameKeys(keys, Buffer.from(b.enc as string, 'base64')), b.size, inline?.get(s.id) as Uint8Array, s.start, s.end);
}

/**
 * An encrypted object's plaintext (or a range of it): per blob, only the
 * stored bytes of the frames the range overlaps are read and opened. An
 * all-inline object is opened before anything is sent, so tampering shows
 * as an error response rather than a cut stream.
 */
export function decryptedStream(s3: S3, blobs: readonly BlobRef[], keys: readonly Buffer[] | undefined, range?: { start: number; end: number }, inline?: InlineData): Readable {
  if (!keys || !blobs.some((b) => b.enc !== undefined)) return objectStream(s3, blobs, range, inline);
  const whole = inlinePlaintext(blobs, keys, range, inline);
  if (whole) return Readable.from([whole], { objectMode: false });
  const byId = new Map(blobs.map((b) => [b.id, b]));
  const segments = segmentsFor(blobs, range).map((s) => ({ s, b: byId.get(s.id) as BlobRef }));
  const open = (b: BlobRef) => frameKeys(keys, Buffer.from(b.enc as string, 'base64'));
  const release = s3.reaper.acquire(segments.filter(({ s }) => !s.inline).map(({ s }) => s.id));
  const blobStore = s3.blobs;
  const loans = new SlotLoans();
  const stream = batchStream(
    (async function* () {
      for (const { s, b } of segments) {
        if (s.inline) {
          yield [openInline(keys, b, s, inline)];
          continue;
        }
        // A long read is read and opened on a worker (sse-worker.ts), beside this thread's socket
        // writes, its batches lent to the response's socket; a few frames are opened in place (a
        // round trip would cost more).
        if (blobStore.filePath !== undefined && worthWorker(b.size, s.start, s.end)) {
          yield* workerFrameBatches(blobStore.filePath(s.id), open(b), b.size, s.start, s.end, loans);
          continue;
        }
        const r = cipherRange(b.size, keys.length, s.start, s.end);
        const stored = blobStore.readChunks(s.id, { start: r.start, end: r.end }, readChunkBytes(keys.length), READS_AHEAD);
        yield* decryptFrameBatches(stored, open(b), b.size, s.start, s.end);
      }
    })(),
  );
  stream.once('close', release);
  return Object.assign(stream, { [LENDER]: loans });
}

/**
 * Stored chunks (~1 MiB each) a GET reads ahead of the one being opened: a
 * file read through libuv's pool waits for a thread to be scheduled, and with
 * one read at a time that wait was paid once per chunk, in series with
 * opening and sending it.
 */
const READS_AHEAD = 2;

/**
 * Opened plaintext a GET keeps queued before it stops asking for more (one
 * stored chunk's worth): the next chunk is opened while the last one is still
 * being written to the socket, instead of only once the stream has run dry
 * (Node's 16 KiB default), which left the socket idle for every chunk's
 * read and decryption. Bounded: a GET holds at most this plus one batch.
 */
const PLAINTEXT_AHEAD = 1024 * 1024;

/**
 * A byte stream of batches of buffers: one async step per batch (a stored
 * chunk of 16 frames), its buffers pushed together, where Readable.from would
 * take a generator step, a promise and a read cycle per frame. Destroying the
 * stream ends the generator (closing what it has open).
 */
function batchStream(batches: AsyncGenerator<Buffer[]>): Readable {
  let reading = false;
  return new Readable({
    highWaterMark: PLAINTEXT_AHEAD,
    read() {
      if (reading) return;
      reading = true;
      const step = (): void => {
        batches.next().then(
          (r) => {
            if (r.done === true) {
              reading = false;
              this.push(null);
              return;
            }
            // A batch with no bytes pushes nothing, and nothing would ask for the next one.
            if (!r.value.some((b) => b.length > 0)) {
              step();
              return;
            }
            reading = false;
            for (const b of r.value) if (b.length > 0) this.push(b);
          },
          (e: unknown) => {
            reading = false;
            this.destroy(e as Error);
          },
        );
      };
      step();
    },
    destroy(err, cb) {
      batches.return(undefined).then(
        () => cb(err),
        (e: unknown) => cb((err ?? e) as Error | null),
      );
    },
  });
}
