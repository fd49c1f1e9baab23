/**
 * Receiving an object body (PutObject, UploadPart, POST Object): which
 * checksum the client asked for and where its value comes from (header or
 * aws-chunked trailer), the declared length, and the streamed write to the
 * BlobStore with MD5 + checksum computed on the way. Only a small (inline) body is held whole.
 */
import { Readable } from 'node:stream';
import { isAwsError } from '../../aws/errors.js';
import { header } from '../../aws/http.js';
import type { HttpRequest } from '../../aws/http.js';
import type { RequestContext } from '../../server/context.js';
import { BlobTooLargeError } from '../../storage/errors.js';
import { ALGORITHMS, checkContentMd5, checkDigestFormat, checksumHeader, checksumMismatch, hashingSource, localHasher, parseAlgorithm, type StreamDigests } from './checksums.js';
import { offloadedHasher } from './hash-worker.js';
import { s3Error } from './errors.js';
import type { BlobRef, ChecksumAlgorithm } from './model.js';
import type { S3 } from './state.js';
import { randomId } from '../../lib/ids.js';
import type { BodySealer } from './sse.js';

export const MAX_PUT_BYTES = 5 * 1024 ** 3;

export interface ChecksumRequest {
  algorithm: ChecksumAlgorithm | undefined;
  /** The client's value from a header (undefined when it comes in a trailer or not at all). */
  value: string | undefined;
  trailer: string | undefined;
}

/** Reads the checksum request from x-amz-checksum-*, x-amz-trailer and x-amz-sdk-checksum-algorithm. */
export function checksumRequest(headers: HttpRequest['headers'], sdkAlgorithm: string | undefined): ChecksumRequest {
  const h = { headers };
  const found: Array<[ChecksumAlgorithm, string]> = [];
  for (const a of ALGORITHMS) {
    const v = header(h, checksumHeader(a));
    if (v !== undefined) found.push([a, v]);
  }
  if (found.length > 1) throw s3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const sdk = parseAlgorithm(sdkAlgorithm, 'x-amz-sdk-checksum-algorithm');
  const trailerHeader = header(h, 'x-amz-trailer')?.trim().toLowerCase();
  if (found[0]) {
    const [algorithm, value] = found[0];
    checkDigestFormat(algorithm, value);
    if (sdk !== undefined && sdk !== algorithm) throw s3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    return { algorithm, value, trailer: undefined };
  }
  if (trailerHeader !== undefined && trailerHeader.startsWith('x-amz-checksum-')) {
    const algorithm = parseAlgorithm(trailerHeader.slice('x-amz-checksum-'.length), 'x-amz-trailer');
    return { algorithm, value: undefined, trailer: trailerHeader };
  }
  if (sdk === 'MD5') {
    // The JavaScript SDK sends an MD5 checksum as Content-MD5 (header, checked as such) or as a
    // `content-md5` trailer, never as x-amz-checksum-md5: either is the object's MD5 checksum.
    const md5 = header(h, 'content-md5');
    if (md5 !== undefined) return { algorithm: sdk, value: md5.trim(), trailer: undefined };
    if (trailerHeader === 'content-md5') return { algorithm: sdk, value: undefined, trailer: trailerHeader };
  }
  if (sdk !== undefined) {
    throw s3Error('InvalidRequest', 'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.');
  }
  return { algorithm: undefined, value: undefined, trailer: undefined };
}

function isChunked(headers: HttpRequest['headers']): boolean {
  const sha = header({ headers }, 'x-amz-content-sha256') ?? '';
  const enc = header({ headers }, 'content-encoding') ?? '';
  return sha.startsWith('STREAMING-') || /(^|,)\s*aws-chunked\s*(,|$)/i.test(enc);
}

/** The object's size as the client declared it (decoded length for aws-chunked bodies). */
export function declaredLength(headers: HttpRequest['headers'], contentLength: number | undefined): number | undefined {
  if (isChunked(headers)) {
    const d = header({ headers }, 'x-amz-decoded-content-length');
    if (d === undefined) return undefined;
    const n = Number(d);
    if (!Number.isSafeInteger(n) || n < 0) throw s3Error('InvalidArgument', 'Invalid x-amz-decoded-content-length', { ArgumentName: 'x-amz-decoded-content-length', ArgumentValue: d });
    return n;
  }
  if (contentLength !== undefined && (!Number.isSafeInteger(contentLength) || contentLength < 0)) {
    throw s3Error('InvalidArgument', 'Invalid Content-Length', { ArgumentName: 'Content-Length', ArgumentValue: String(contentLength) });
  }
  if (contentLength === undefined && /chunked/i.test(header({ headers }, 'transfer-encoding') ?? '')) {
    throw s3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.');
  }
  return contentLength;
}

/** Content-Encoding without the transfer-only `aws-chunked` token (S3 does not store it). */
export function storedContentEncoding(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const rest = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked');
  return rest.length > 0 ? rest.join(',') : undefined;
}

export interface ReceiveOptions {
  declared: number | undefined;
  maxBytes: number;
  checksum: ChecksumRequest;
  /** Also compute these (e.g. the default CRC64NVME, or an upload's algorithm). */
  extraAlgorithms?: readonly ChecksumAlgorithm[];
  contentMd5Hex: string | undefined;
  trailers?: () => Readonly<Record<string, string>>;
  /** A body declared at most this long is kept for the metadata record instead of a file (see BlobRef.inline). */
  inlineMax?: number;
  /** Store the body encrypted (sse.ts): the returned blob and inline bytes are ciphertext. */
  seal?: BodySealer | undefined;
}

export interface Received {
  blob: BlobRef;
  digests: StreamDigests;
  /** The bytes, for an inline blob. */
  data?: Buffer;
}

/** Bodies at least this large are hashed on a worker thread. */
const OFFLOAD_MIN_BYTES = 1024 * 1024;

/** Objects this small are stored inline with their metadata. */
export const INLINE_MAX_BYTES = 64 * 1024;

function tooLarge(size: number | undefined, max: number) {
  return s3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.', { ProposedSize: size, MaxSizeAllowed: max });
}

/** Streams the body to a new blob and verifies length, Content-MD5 and checksum; the blob is deleted on any failure. */
export async function receiveBody(s3: S3, ctx: RequestContext, body: Readable | AsyncIterable<Uint8Array>, o: ReceiveOptions): Promise<Received> {
  if (o.declared !== undefined && o.declared > o.maxBytes) throw tooLarge(o.declared, o.maxBytes);
  const algs = new Set<ChecksumAlgorithm>(o.extraAlgorithms ?? []);
  if (o.checksum.algorithm) algs.add(o.checksum.algorithm);
  // A trailer's checksum is computed by the aws-chunked decoder (aws/sigv4/chunked.ts), the only source of
  // trailers, which fails the body before its end unless the trailer matches: its value is taken, not
  // computed a second time (the xxHash family costs ~20 ms of CPU per MB).
  const trailed = o.checksum.trailer?.startsWith('x-amz-checksum-') ? o.checksum.algorithm : undefined;
  if (trailed) algs.delete(trailed);
  // Large bodies are hashed on a worker, overlapping with receiving and writing (hash-worker.ts).
  const large = o.declared === undefined || o.declared >= OFFLOAD_MIN_BYTES;
  const hasher = large ? offloadedHasher([...algs]) : localHasher([...algs]);
  // A small body is read whole and hashed in one call per algorithm: no batching generator between.
  const small = o.inlineMax !== undefined && o.declared !== undefined && o.declared <= o.inlineMax;
  const hashing = small ? undefined : hashingSource(body, hasher);
  let blob: BlobRef;
  let data: Buffer | undefined;
  let digested: StreamDigests | undefined;
  try {
    const seal = o.seal;
    if (small) {
      data = await collect(body, o.declared as number);
      await hasher.update(data);
      const r = await hasher.result();
      digested = { md5Hex: r.md5Hex, checksums: r.checksums, size: data.length };
      blob = { id: randomId(), size: data.length, inline: true };
      if (seal) {
        blob = seal.finish(blob, data.length);
        data = seal.all(data);
      }
    } else if (seal) {
      blob = await s3.blobs.write(seal.stream((hashing as HashingSource).stream), { signal: ctx.signal, maxBytes: seal.storedMax(o.maxBytes) });
    } else {
      blob = await s3.blobs.write((hashing as HashingSource).stream, { signal: ctx.signal, maxBytes: o.maxBytes });
    }
  } catch (e) {
    hasher.drop();
    if (isAwsError(e)) throw e;
    if (e instanceof BlobTooLargeError) throw tooLarge(o.declared, o.maxBytes);
    if (ctx.signal.aborted) throw s3Error('IncompleteBody', 'The request body terminated unexpectedly');
    throw e;
  }
  try {
    const digests = digested ?? (await (hashing as HashingSource).result());
    if (o.declared !== undefined && digests.size !== o.declared) {
      throw s3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
    }
    checkContentMd5(o.contentMd5Hex, digests.md5Hex);
    const alg = o.checksum.algorithm;
    if (alg) {
      let expected = o.checksum.value;
      if (expected === undefined && o.checksum.trailer !== undefined) {
        expected = o.trailers?.()[o.checksum.trailer];
        if (expected === undefined) throw s3Error('InvalidRequest', `The trailing header ${o.checksum.trailer} was declared but not sent.`);
        checkDigestFormat(alg, expected);
      }
      if (alg === trailed && expected !== undefined) digests.checksums[alg] = expected;
      else if (expected !== undefined && expected !== digests.checksums[alg]) throw checksumMismatch(alg);
    }
    if (o.seal && !blob.inline) blob = o.seal.finish(blob, digests.size);
    return data ? { blob, digests, data } : { blob, digests };
  } catch (e) {
    if (!blob.inline) s3.reaper.discard([blob.id]);
    throw e;
  }
}

type HashingSource = ReturnType<typeof hashingSource>;

/** Reads a small body whole; more than declared is the client's error, read no further. */
function collect(stream: Readable | AsyncIterable<Uint8Array>, declared: number): Promise<Buffer> {
  // A live stream is read through its events: an async iterator per request costs more than the 4 KiB it reads.
  // Not when it already flows to someone else (what it emitted before is gone); paused (the pipeline pauses
  // a request body) or untouched, nothing was emitted yet, and resume() below starts it.
  if (!(stream instanceof Readable) || stream.destroyed || stream.readableFlowing === true) return collectIterating(stream, declared);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error: Error | undefined, out?: Buffer): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error === undefined) resolve(out as Buffer);
      else reject(error);
    };
    const onData = (c: Uint8Array): void => {
      size += c.length;
      if (size > declared) {
        // As leaving a for-await loop would: the rest is not read.
        stream.destroy();
        done(s3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header'));
        return;
      }
      chunks.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    };
    const onEnd = (): void => done(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    const onError = (e: Error): void => done(e);
    const onClose = (): void => done(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
    stream.resume();
  });
}

async function collectIterating(stream: AsyncIterable<Uint8Array>, declared: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += c.length;
    if (size > declared) throw s3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
    chunks.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}
