/**
 * The encrypted object format: a blob's plaintext is cut into frames of
 * FRAME_BYTES (the last one shorter), each sealed with AES-256-GCM on its
 * own, so a range GET opens only the frames it overlaps and a stream never
 * holds more than one frame.
 *
 *   blob  = frame_0 ‖ frame_1 ‖ … ‖ frame_{n-1}       n = max(1, ⌈size / FRAME_BYTES⌉)
 *   frame = ciphertext ‖ tag(16) per layer             (DSSE-KMS: two layers, inner first)
 *   key   = HKDF-SHA256(data key, salt, "hanul/s3/sse/frame-key/v1")   one per layer
 *   nonce = 0⁴ ‖ uint64be(i)
 *   AAD   = "hanul-s3-frame/v1" ‖ salt ‖ uint64be(i) ‖ final(0|1)
 *
 * The salt is random per blob (kept in its BlobRef), so every blob has its
 * own frame keys and the counter nonce never repeats under a key. The AAD
 * binds each frame to its blob, position and whether it is the last: frames
 * swapped, moved between blobs, dropped at the end or tampered with fail
 * authentication; the record's plaintext size fixes n, so truncation is
 * noticed as well. An empty blob is one empty final frame (its tag only).
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { type GcmKey, nativeGcm } from '../../crypto/aes-gcm.js';
import { randomBytesPooled } from '../../lib/ids.js';

export const FRAME_BYTES = 64 * 1024;
const TAG = 16;
const AAD_PREFIX = Buffer.from('hanul-s3-frame/v1');

/** The frame keys of one blob: one per layer, outermost last. */
export interface FrameKeys {
  salt: Buffer;
  keys: Buffer[];
  /** The addon's opening contexts for `keys`, made by the first FrameOpener (this thread's only). */
  openers?: GcmKey[];
}

export function newSalt(): Buffer {
  return randomBytesPooled(16);
}

/** HKDF's expand input for the one output block: info ‖ 0x01. */
const FRAME_KEY_INFO = Buffer.from('hanul/s3/sse/frame-key/v1\x01', 'latin1');

/**
 * HKDF-SHA256(ikm, salt, "hanul/s3/sse/frame-key/v1") to 32 bytes (RFC 5869),
 * written out as its two HMACs: the same bytes as hkdfSync at half the cost
 * (no KeyObjects), which every small object's PUT and GET pays once.
 */
function frameKey(dataKey: Uint8Array, salt: Buffer): Buffer {
  const prk = createHmac('sha256', salt).update(dataKey).digest();
  return createHmac('sha256', prk).update(FRAME_KEY_INFO).digest();
}

export function frameKeys(dataKeys: readonly Uint8Array[], salt: Buffer): FrameKeys {
  return { salt, keys: dataKeys.map((k) => frameKey(k, salt)) };
}

export function frameCount(size: number): number {
  return Math.max(1, Math.ceil(size / FRAME_BYTES));
}

/** Stored bytes for `size` plaintext bytes. */
export function cipherSize(size: number, layers: number): number {
  return size + frameCount(size) * TAG * layers;
}

function nonce(i: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(i), 4);
  return n;
}

function aad(salt: Buffer, i: number, final: boolean): Buffer {
  const a = Buffer.alloc(AAD_PREFIX.length + salt.length + 9);
  AAD_PREFIX.copy(a, 0);
  salt.copy(a, AAD_PREFIX.length);
  a.writeBigUInt64BE(BigInt(i), AAD_PREFIX.length + salt.length);
  a[a.length - 1] = final ? 1 : 0;
  return a;
}

/** Frame i of a blob sealed with node:crypto: the reference for the bytes on disk (FrameSealer uses the addon when it can). */
export function sealFrame(k: FrameKeys, i: number, final: boolean, plain: Buffer): Buffer {
  let data = plain;
  const iv = nonce(i);
  const ad = aad(k.salt, i, final);
  for (const key of k.keys) {
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(ad);
    const body = c.update(data);
    c.final();
    data = Buffer.concat([body, c.getAuthTag()], body.length + TAG);
  }
  return data;
}

/**
 * One blob's nonce and AAD, kept in two scratch buffers and rewritten per
 * frame (node:crypto's cipher takes both in when it is made and the AAD is
 * consumed by setAAD; the addon reads them within its call: reuse between
 * frames is safe).
 */
class FrameNonce {
  protected readonly iv = Buffer.alloc(12);
  protected readonly ad: Buffer;
  private readonly at: number;

  constructor(protected readonly k: FrameKeys) {
    this.at = AAD_PREFIX.length + k.salt.length;
    this.ad = Buffer.alloc(this.at + 9);
    AAD_PREFIX.copy(this.ad, 0);
    k.salt.copy(this.ad, AAD_PREFIX.length);
  }

  protected frame(i: number, final: boolean): void {
    // uint64be(i) without BigInt: frame indexes stay far below 2^53.
    const hi = Math.floor(i / 0x1_0000_0000);
    const lo = i >>> 0;
    const { iv, ad, at } = this;
    iv.writeUInt32BE(hi, 4);
    iv.writeUInt32BE(lo, 8);
    ad.writeUInt32BE(hi, at);
    ad.writeUInt32BE(lo, at + 4);
    ad[at + 8] = final ? 1 : 0;
  }
}

/**
 * Seals the frames of one blob. With the native addon (crypto/aes-gcm.ts):
 * one cipher context per layer for the whole blob (keys expanded once), each
 * frame sealed straight into its output, inner layer first, the outer one in
 * place over it. Without it: sealFrame.
 */
export class FrameSealer extends FrameNonce {
  private readonly gcm: GcmKey[] | undefined;

  constructor(k: FrameKeys) {
    super(k);
    const n = nativeGcm();
    this.gcm = n && k.keys.map((key) => n.key(key, true));
  }

  /** Stored bytes of frame i (its plaintext and one tag per layer) written at dst[at]; returns their length. */
  sealInto(i: number, final: boolean, plain: Buffer, dst: Buffer, at: number): number {
    if (this.gcm === undefined) {
      const sealed = sealFrame(this.k, i, final, plain);
      if (dst.length - at < sealed.length) throw new RangeError('s3: frame does not fit');
      return sealed.copy(dst, at);
    }
    this.frame(i, final);
    let n = plain.length;
    let src: Buffer = plain;
    for (const g of this.gcm) {
      n = g.seal(this.iv, this.ad, src, dst, at);
      src = dst.subarray(at, at + n);
    }
    return n;
  }

  seal(i: number, final: boolean, plain: Buffer): Buffer {
    if (this.gcm === undefined) return sealFrame(this.k, i, final, plain);
    const out = Buffer.allocUnsafe(plain.length + TAG * this.gcm.length);
    this.sealInto(i, final, plain, out, 0);
    return out;
  }
}

/**
 * Opens the frames of one blob. With the native addon: one context per layer,
 * cached on the FrameKeys (FrameKeyCache keeps those of recent small objects),
 * the outer layer opened into the caller's buffer and the inner ones in place
 * there. Without it: node:crypto, a new Decipher per frame and layer.
 */
export class FrameOpener extends FrameNonce {
  private readonly gcm: GcmKey[] | undefined;

  constructor(k: FrameKeys) {
    super(k);
    const n = nativeGcm();
    this.gcm = n && (k.openers ??= k.keys.map((key) => n.key(key, false)));
  }

  open(i: number, final: boolean, sealed: Buffer): Buffer {
    if (this.gcm !== undefined) {
      if (sealed.length < TAG * this.gcm.length) throw new FrameError();
      const out = Buffer.allocUnsafe(sealed.length - TAG * this.gcm.length);
      this.openInto(i, final, sealed, out, 0);
      return out;
    }
    this.frame(i, final);
    const { iv, ad } = this;
    const keys = this.k.keys;
    let data = sealed;
    for (let l = keys.length - 1; l >= 0; l--) {
      if (data.length < TAG) throw new FrameError();
      const d = createDecipheriv('aes-256-gcm', keys[l] as Buffer, iv);
      d.setAAD(ad);
      d.setAuthTag(data.subarray(data.length - TAG));
      const body = d.update(data.subarray(0, data.length - TAG));
      try {
        d.final();
      } catch {
        throw new FrameError();
      }
      data = body;
    }
    return data;
  }

  /**
   * Frame i's plaintext written at dst[at]; returns its length. Throws
   * FrameError when it does not authenticate (the addon zeroes what it wrote),
   * RangeError when it does not fit.
   */
  openInto(i: number, final: boolean, sealed: Buffer, dst: Buffer, at: number): number {
    const gcm = this.gcm;
    if (gcm === undefined) {
      const plain = this.open(i, final, sealed);
      if (dst.length - at < plain.length) throw new RangeError('s3: frame does not fit');
      return plain.copy(dst, at);
    }
    this.frame(i, final);
    let src = sealed;
    let n = 0;
    for (let l = gcm.length - 1; l >= 0; l--) {
      // Outer layers (DSSE) open into a scratch buffer (in place there), the innermost into dst.
      const into = l === 0 ? dst : this.scratchFor(src.length);
      const off = l === 0 ? at : 0;
      n = (gcm[l] as GcmKey).open(this.iv, this.ad, src, into, off);
      if (n < 0) throw new FrameError();
      src = into.subarray(off, off + n);
    }
    return n;
  }

  private scratch: Buffer | undefined;

  private scratchFor(n: number): Buffer {
    if (this.scratch === undefined || this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(n, FRAME_BYTES + TAG * this.k.keys.length));
    return this.scratch;
  }
}

export class FrameError extends Error {
  constructor() {
    super('s3: encrypted object data failed authentication (tampered or truncated)');
  }
}

/** Plaintext in, frames out; a frame is sealed only once more data (or the end) shows whether it is the last. */
export async function* encryptFrames(src: AsyncIterable<Uint8Array>, k: FrameKeys): AsyncGenerator<Buffer> {
  const sealer = new FrameSealer(k);
  const buf = Buffer.allocUnsafe(FRAME_BYTES);
  let fill = 0;
  let i = 0;
  for await (const c of src) {
    let off = 0;
    while (off < c.length) {
      if (fill === FRAME_BYTES) {
        yield sealer.seal(i++, false, buf);
        fill = 0;
      }
      const n = Math.min(FRAME_BYTES - fill, c.length - off);
      buf.set(c.subarray(off, off + n), fill);
      fill += n;
      off += n;
    }
  }
  yield sealer.seal(i, true, buf.subarray(0, fill));
}

/** Seals a whole (small) plaintext at once: the same format as EncryptFrames. */
export function sealAll(k: FrameKeys, plain: Buffer): Buffer {
  const n = frameCount(plain.length);
  const sealer = new FrameSealer(k);
  const out = Buffer.allocUnsafe(cipherSize(plain.length, k.keys.length));
  let at = 0;
  for (let i = 0; i < n; i++) at += sealer.sealInto(i, i === n - 1, plain.subarray(i * FRAME_BYTES, Math.min(plain.length, (i + 1) * FRAME_BYTES)), out, at);
  return out;
}

/**
 * Stored bytes per blob-store read when streaming frames: a whole number of
 * frames (~1 MiB), so reads start and end on frame boundaries and no frame is
 * reassembled from two reads.
 */
export function readChunkBytes(layers: number): number {
  return 16 * frameStride(layers);
}

/** Which stored bytes hold plaintext [start, end] (inclusive) of a blob of `size`, and which frames they are. */
export function cipherRange(size: number, layers: number, start: number, end: number): { first: number; last: number; start: number; end: number } {
  const first = Math.floor(start / FRAME_BYTES);
  const last = Math.floor(end / FRAME_BYTES);
  const stride = FRAME_BYTES + TAG * layers;
  const lastPlain = Math.min(size, (last + 1) * FRAME_BYTES) - last * FRAME_BYTES;
  return { first, last, start: first * stride, end: last * stride + lastPlain + TAG * layers - 1 };
}

/** The part [from, to) of frame i's n plaintext bytes that lies within [start, end] of the blob (to ≤ from: none). */
function keptOf(i: number, n: number, start: number, end: number): { from: number; to: number } {
  const base = i * FRAME_BYTES;
  return { from: Math.max(0, start - base), to: Math.min(n, end - base + 1) };
}

/** Frame i's plaintext, trimmed to [start, end] of the blob (empty when outside). */
function openTrimmed(k: FrameOpener, size: number, i: number, sealed: Buffer, start: number, end: number): Buffer {
  const plain = k.open(i, i === frameCount(size) - 1, sealed);
  const { from, to } = keptOf(i, plain.length, start, end);
  return to > from ? (from === 0 && to === plain.length ? plain : plain.subarray(from, to)) : Buffer.alloc(0);
}

/** The last frame [start, end] touches (an empty blob's range still reads its one frame). */
export function lastFrame(size: number, start: number, end: number): number {
  return Math.max(Math.floor(start / FRAME_BYTES), Math.min(frameCount(size) - 1, Math.floor(end / FRAME_BYTES)));
}

function frameLen(size: number, layers: number, i: number): number {
  return Math.min(size, (i + 1) * FRAME_BYTES) - i * FRAME_BYTES + TAG * layers;
}

/**
 * Stored frames in (starting at the frame holding `start`), plaintext
 * [start, end] of the blob out, one batch per stored chunk: every frame a
 * chunk completes is opened before the batch is yielded (a chunk of whole
 * frames, as readChunks reads them, is one batch with no copying), so a
 * consumer pays one async step per chunk, not per frame. Fails on the first
 * frame that does not authenticate, or when the stored bytes end early or run
 * long: never yields unauthenticated bytes. `stats.opened` counts frames
 * decrypted.
 */
export async function* decryptFrameBatches(
  src: AsyncIterable<Uint8Array>,
  k: FrameKeys,
  size: number,
  start: number,
  end: number,
  stats?: { opened: number },
): AsyncGenerator<Buffer[]> {
  const opener = new FrameOpener(k);
  const layers = k.keys.length;
  const buf = Buffer.allocUnsafe(FRAME_BYTES + TAG * layers);
  let i = Math.floor(start / FRAME_BYTES);
  const last = lastFrame(size, start, end);
  let want = frameLen(size, layers, i);
  let fill = 0;
  for await (const raw of src) {
    // `raw` may be a buffer the store reuses (readChunks): nothing below keeps a reference to
    // it past this iteration (a frame it cuts is copied into `buf`; plaintext is new memory).
    const c = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: Buffer[] = [];
    let off = 0;
    while (off < c.length) {
      if (i > last) throw new FrameError();
      let frame: Buffer;
      if (fill === 0 && c.length - off >= want) {
        frame = c.subarray(off, off + want);
        off += want;
      } else {
        const n = Math.min(want - fill, c.length - off);
        c.copy(buf, fill, off, off + n);
        fill += n;
        off += n;
        if (fill < want) continue;
        frame = buf.subarray(0, want);
        fill = 0;
      }
      const plain = openTrimmed(opener, size, i, frame, start, end);
      if (stats) stats.opened++;
      i++;
      if (i <= last) want = frameLen(size, layers, i);
      // Each frame's plaintext goes out as it is: joining them would copy every byte once more
      // into a new buffer (and fault its pages in); the socket gathers queued writes by itself.
      if (plain.length > 0) out.push(plain);
    }
    if (out.length > 0) yield out;
  }
  if (i <= last || fill !== 0) throw new FrameError();
}

/**
 * Opens the whole frames of stored bytes that start at frame `i` (one or more
 * chunks of readChunkBytes, aligned as cipherRange gives them; only the blob's
 * last frame may be short) straight into `dst` from its start: the plaintext
 * within [start, end], frame after frame, each one's length pushed to `lens`.
 * The next frame's index comes back. Throws FrameError when a frame does not
 * authenticate, or when the chunk does not hold whole frames, or frames past
 * `last`; RangeError when dst cannot hold every frame's whole plaintext.
 */
export function openChunkInto(k: FrameOpener, size: number, layers: number, i: number, last: number, chunk: Buffer, start: number, end: number, dst: Buffer, lens: number[]): number {
  const finalFrame = frameCount(size) - 1;
  let off = 0;
  let at = i;
  let put = 0;
  while (off < chunk.length) {
    if (at > last) throw new FrameError();
    const want = frameLen(size, layers, at);
    if (chunk.length - off < want) throw new FrameError();
    const n = k.openInto(at, at === finalFrame, chunk.subarray(off, off + want), dst, put);
    // A range's first and last frames are trimmed: what is kept moves to where the frame started.
    const { from, to } = keptOf(at, n, start, end);
    if (to > from) {
      if (from > 0) dst.copyWithin(put, put + from, put + to);
      lens.push(to - from);
      put += to - from;
    }
    off += want;
    at++;
  }
  return at;
}

/** Stored bytes of one whole frame (the last frame of a blob may be shorter). */
export function frameStride(layers: number): number {
  return FRAME_BYTES + TAG * layers;
}

/** Opens plaintext [start, end] of a whole stored (small) blob held in memory. */
export function openRange(k: FrameKeys, size: number, stored: Uint8Array, start: number, end: number): Buffer {
  const b = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const layers = k.keys.length;
  if (b.length !== cipherSize(size, layers)) throw new FrameError();
  const stride = FRAME_BYTES + TAG * layers;
  const out: Buffer[] = [];
  const last = lastFrame(size, start, end);
  const opener = new FrameOpener(k);
  for (let i = Math.floor(start / FRAME_BYTES); i <= last; i++) {
    out.push(openTrimmed(opener, size, i, b.subarray(i * stride, i * stride + frameLen(size, layers, i)), start, end));
  }
  return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
}
