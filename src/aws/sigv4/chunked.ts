/**
 * aws-chunked decoding (S3 streaming uploads), as a Transform that emits only
 * the payload bytes:
 *
 *   signed:   <hex-size>;chunk-signature=<sig>\r\n<data>\r\n … 0;chunk-signature=<sig>\r\n
 *   unsigned: <hex-size>\r\n<data>\r\n … 0\r\n
 *   then, with trailers: <name>:<value>\r\n … [x-amz-trailer-signature:<sig>\r\n] \r\n
 *
 * Data is forwarded as slices of the input buffers (no copies) and hashed as
 * it passes; framing lines are small and bounded. A chunk's bytes are emitted
 * before its signature is checked at the chunk's end: like every verified
 * body, the stream errors instead of ending when anything is wrong, and
 * consumers commit nothing before 'end'.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { newChecksum, checksumLabel, isChecksumAlgorithm, type Checksum } from './checksums.js';
import { SigV4Failure, type SigV4FailureKind } from './failure.js';
import { EMPTY_SHA256, parseSignature, sameBytes, sha256Hex, type Signer } from './keys.js';

export interface ChunkedOptions {
  /** Signed modes: the request's signer and the seed (request) signature, hex. */
  signed?: { signer: Signer; seedSignature: string };
  /** Trailing headers may follow the final chunk. */
  trailer: boolean;
  /** Lower-cased trailer names announced in x-amz-trailer: each must arrive. */
  announced: readonly string[];
  /** x-amz-decoded-content-length, when given. */
  decodedLength?: number;
}

const SIZE = 0;
const DATA = 1;
const DATA_CR = 2;
const DATA_LF = 3;
const TRAILER = 4;
const DONE = 5;

/** "<12 hex digits>;chunk-signature=<64>" is 98 bytes; anything longer is not a size line. */
const MAX_SIZE_LINE = 128;
const MAX_TRAILER_LINE = 4096;
const MAX_TRAILERS = 16;
const SIGNED_SIZE = /^([0-9a-fA-F]{1,12});chunk-signature=([0-9a-fA-F]{64})$/;
const UNSIGNED_SIZE = /^[0-9a-fA-F]{1,12}$/;
const CHECKSUM_PREFIX = 'x-amz-checksum-';

function failure(kind: SigV4FailureKind, message: string, details?: Record<string, string>): SigV4Failure {
  return new SigV4Failure(kind, message, undefined, details);
}

export class AwsChunkedDecoder extends Transform {
  readonly #signer: Signer | undefined;
  readonly #trailer: boolean;
  readonly #announced: readonly string[];
  readonly #decodedLength: number | undefined;
  readonly #toError: (f: SigV4Failure) => Error;
  readonly #sums = new Map<string, Checksum>();
  readonly #sumList: Checksum[] = [];
  readonly #trailers = new Map<string, string>();
  readonly #line = Buffer.allocUnsafe(MAX_TRAILER_LINE);
  #lineLen = 0;
  #state = SIZE;
  #remaining = 0;
  #decoded = 0;
  #chunkHash: Hash | undefined;
  #chunkSignature: Buffer | undefined;
  #previous: string;
  #trailerSignature: string | undefined;

  /** Throws SigV4Failure (trailer-invalid) when x-amz-trailer names an unsupported checksum. */
  constructor(opts: ChunkedOptions, toError: (f: SigV4Failure) => Error) {
    super();
    this.#signer = opts.signed?.signer;
    this.#previous = opts.signed?.seedSignature ?? '';
    this.#trailer = opts.trailer;
    this.#announced = opts.announced;
    this.#decodedLength = opts.decodedLength;
    this.#toError = toError;
    for (const name of opts.announced) {
      if (!name.startsWith(CHECKSUM_PREFIX)) continue;
      const algorithm = name.slice(CHECKSUM_PREFIX.length);
      if (!isChecksumAlgorithm(algorithm)) {
        throw failure('trailer-invalid', 'The value specified in the x-amz-trailer header is not supported', { Trailer: name });
      }
      const sum = newChecksum(algorithm);
      this.#sums.set(name, sum);
      this.#sumList.push(sum);
    }
  }

  /** The trailing headers (lower-cased names), complete once the stream has ended. */
  trailers(): Record<string, string> {
    return Object.fromEntries(this.#trailers);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#consume(chunk);
      cb();
    } catch (e) {
      cb(e instanceof SigV4Failure ? this.#toError(e) : (e as Error));
    }
  }

  override _flush(cb: TransformCallback): void {
    if (this.#state !== DONE && !(this.#state === TRAILER && this.#lineLen === 0)) {
      cb(this.#toError(failure('body-truncated', 'The request body terminated unexpectedly')));
      return;
    }
    this.#finish().then(
      () => cb(),
      (e: unknown) => cb(e instanceof SigV4Failure ? this.#toError(e) : (e as Error)),
    );
  }

  #consume(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    while (i < n) {
      switch (this.#state) {
        case SIZE:
        case TRAILER: {
          const nl = buf.indexOf(0x0a, i);
          const end = nl < 0 ? n : nl;
          const limit = this.#state === SIZE ? MAX_SIZE_LINE : MAX_TRAILER_LINE;
          if (this.#lineLen + (end - i) > limit) {
            throw failure(this.#state === SIZE ? 'chunk-invalid' : 'trailer-invalid', 'aws-chunked line too long');
          }
          buf.copy(this.#line, this.#lineLen, i, end);
          this.#lineLen += end - i;
          if (nl < 0) return;
          i = nl + 1;
          const len = this.#lineLen;
          this.#lineLen = 0;
          if (len === 0 || this.#line[len - 1] !== 0x0d) throw failure('chunk-invalid', 'aws-chunked line not terminated by CRLF');
          const line = this.#line.toString('latin1', 0, len - 1);
          if (this.#state === SIZE) this.#sizeLine(line);
          else this.#trailerLine(line);
          break;
        }
        case DATA: {
          const take = Math.min(this.#remaining, n - i);
          const slice = buf.subarray(i, i + take);
          this.#chunkHash?.update(slice);
          for (const sum of this.#sumList) sum.update(slice);
          this.push(slice);
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) {
            this.#endChunk();
            this.#state = DATA_CR;
          }
          break;
        }
        case DATA_CR:
          if (buf[i++] !== 0x0d) throw failure('chunk-invalid', 'aws-chunked chunk data not followed by CRLF');
          this.#state = DATA_LF;
          break;
        case DATA_LF:
          if (buf[i++] !== 0x0a) throw failure('chunk-invalid', 'aws-chunked chunk data not followed by CRLF');
          this.#state = SIZE;
          break;
        default:
          throw failure('chunk-invalid', 'data after the end of the aws-chunked body');
      }
    }
  }

  #sizeLine(line: string): void {
    let hex = line;
    let signature: Buffer | undefined;
    if (this.#signer) {
      const m = SIGNED_SIZE.exec(line);
      if (!m) throw failure('chunk-invalid', 'malformed aws-chunked size line (expected <hex>;chunk-signature=<sig>)');
      hex = m[1] as string;
      signature = parseSignature(m[2] as string);
    } else if (!UNSIGNED_SIZE.test(line)) {
      throw failure('chunk-invalid', 'malformed aws-chunked size line (expected <hex>)');
    }
    const size = parseInt(hex, 16);
    this.#decoded += size;
    if (this.#decodedLength !== undefined && this.#decoded > this.#decodedLength) {
      throw failure('decoded-length-mismatch', 'The body is longer than x-amz-decoded-content-length');
    }
    this.#chunkSignature = signature;
    if (size === 0) {
      if (this.#signer) this.#verifyChunk(EMPTY_SHA256);
      this.#state = TRAILER;
      return;
    }
    this.#remaining = size;
    this.#chunkHash = this.#signer ? createHash('sha256') : undefined;
    this.#state = DATA;
  }

  #endChunk(): void {
    if (!this.#chunkHash) return;
    const hash = this.#chunkHash.digest('hex');
    this.#chunkHash = undefined;
    this.#verifyChunk(hash);
  }

  #verifyChunk(chunkSha256: string): void {
    const provided = this.#chunkSignature as Buffer;
    if (!sameBytes((this.#signer as Signer).chunk(this.#previous, chunkSha256), provided)) {
      throw failure('chunk-signature', 'The chunk signature we calculated does not match the signature you provided.', {
        SignatureProvided: provided.toString('hex'),
      });
    }
    this.#previous = provided.toString('hex');
  }

  #trailerLine(line: string): void {
    if (line === '') {
      this.#state = DONE;
      return;
    }
    if (!this.#trailer) throw failure('chunk-invalid', 'trailing headers after the final chunk, but none were announced');
    if (this.#trailers.size >= MAX_TRAILERS) throw failure('trailer-invalid', 'too many trailing headers');
    const colon = line.indexOf(':');
    if (colon <= 0) throw failure('trailer-invalid', 'malformed trailing header line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (this.#trailerSignature !== undefined) throw failure('trailer-invalid', 'x-amz-trailer-signature must be the last trailing header');
    if (name === 'x-amz-trailer-signature') {
      if (!this.#signer) throw failure('trailer-invalid', 'x-amz-trailer-signature in an unsigned payload');
      this.#trailerSignature = value;
      return;
    }
    if (this.#trailers.has(name)) throw failure('trailer-invalid', `trailing header ${name} repeated`);
    this.#trailers.set(name, value);
  }

  async #finish(): Promise<void> {
    if (this.#decodedLength !== undefined && this.#decoded !== this.#decodedLength) {
      throw failure('decoded-length-mismatch', 'The body is shorter than x-amz-decoded-content-length', {
        DecodedContentLength: String(this.#decodedLength), Received: String(this.#decoded),
      });
    }
    if (this.#signer && this.#trailer) this.#verifyTrailerSignature();
    for (const name of this.#announced) {
      if (!this.#trailers.has(name)) throw failure('trailer-invalid', `the trailing header ${name} announced in x-amz-trailer is missing`);
    }
    for (const [name, value] of this.#trailers) {
      if (!name.startsWith(CHECKSUM_PREFIX)) continue;
      const sum = this.#sums.get(name);
      if (!sum) throw failure('trailer-invalid', `trailing header ${name} was not announced in x-amz-trailer`);
      const computed = (await sum.digest()).toString('base64');
      if (computed !== value) {
        const algorithm = checksumLabel(name.slice(CHECKSUM_PREFIX.length));
        throw failure('checksum-mismatch', `The ${algorithm} you specified did not match the calculated checksum.`, {
          Algorithm: algorithm, Provided: value.slice(0, 100), Calculated: computed,
        });
      }
    }
  }

  #verifyTrailerSignature(): void {
    const provided = this.#trailerSignature === undefined ? undefined : parseSignature(this.#trailerSignature);
    if (!provided) throw failure('chunk-signature', 'The trailing headers carry no valid x-amz-trailer-signature.');
    let canonical = '';
    for (const name of [...this.#trailers.keys()].sort()) canonical += `${name}:${this.#trailers.get(name) as string}\n`;
    if (!sameBytes((this.#signer as Signer).trailer(this.#previous, sha256Hex(canonical)), provided)) {
      throw failure('chunk-signature', 'The trailer signature we calculated does not match the signature you provided.', {
        SignatureProvided: provided.toString('hex'),
      });
    }
  }
}
