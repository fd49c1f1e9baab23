import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { nativeGcm, useNativeGcm } from '../../crypto/aes-gcm.js';
import { cipherRange, cipherSize, frameCount, decryptFrameBatches, encryptFrames, FRAME_BYTES, FrameError, FrameOpener, frameKeys, lastFrame, newSalt, openChunkInto, openRange, sealAll, sealFrame } from './sse-frames.js';

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

/** decryptFrameBatches, one frame's plaintext at a time. */
async function* decryptFrames(...args: Parameters<typeof decryptFrameBatches>): AsyncGenerator<Buffer> {
  for await (const batch of decryptFrameBatches(...args)) yield* batch;
}

async function* chunks(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

const keys1 = [randomBytes(32)];
const keys2 = [randomBytes(32), randomBytes(32)];

/** The same suite with the native addon and with node:crypto alone (the reference). */
for (const [impl, native] of [
  ['native addon', true],
  ['node:crypto', false],
] as const) {
describe(`sse-frames: chunked AES-256-GCM (${impl})`, () => {
  before(() => {
    useNativeGcm(native);
    assert.equal(nativeGcm() !== undefined, native);
  });
  after(() => useNativeGcm(true));

  for (const [name, keys] of [['one layer', keys1], ['two layers (DSSE)', keys2]] as const) {
    it(`round-trips sizes around frame boundaries (${name}), streamed in odd chunks, same bytes as sealAll`, async () => {
      for (const size of [0, 1, FRAME_BYTES - 1, FRAME_BYTES, FRAME_BYTES + 1, 3 * FRAME_BYTES, 3 * FRAME_BYTES + 7]) {
        const plain = randomBytes(size);
        const k = frameKeys(keys, newSalt());
        const stored = await collect(encryptFrames(chunks(plain, 10_007), k));
        assert.equal(stored.length, cipherSize(size, keys.length));
        assert.ok(stored.equals(sealAll(k, plain)));
        const back = await collect(decryptFrames(chunks(stored, 9_999), k, size, 0, size - 1));
        assert.ok(back.equals(plain), `size ${size}`);
      }
    });
  }

  it('a range reads and opens only the frames it overlaps', async () => {
    const size = 10 * FRAME_BYTES + 500;
    const plain = randomBytes(size);
    const k = frameKeys(keys1, newSalt());
    const stored = sealAll(k, plain);
    const start = 3 * FRAME_BYTES + 100;
    const end = 4 * FRAME_BYTES + 10;
    const r = cipherRange(size, 1, start, end);
    assert.deepEqual([r.first, r.last], [3, 4]);
    assert.equal(r.end - r.start + 1, 2 * (FRAME_BYTES + 16));
    const stats = { opened: 0 };
    const got = await collect(decryptFrames(chunks(stored.subarray(r.start, r.end + 1), 4096), k, size, start, end, stats));
    assert.ok(got.equals(plain.subarray(start, end + 1)));
    assert.equal(stats.opened, 2);
    // The last, short frame.
    const tail = cipherRange(size, 1, size - 3, size - 1);
    assert.equal(tail.end, stored.length - 1);
    assert.ok(openRange(k, size, stored, size - 3, size - 1).equals(plain.subarray(size - 3)));
  });

  it('tampering, reordering, truncation, a wrong salt or key all fail, never return bytes', async () => {
    const size = 3 * FRAME_BYTES;
    const plain = randomBytes(size);
    const salt = newSalt();
    const k = frameKeys(keys1, salt);
    const stored = sealAll(k, plain);
    const flipped = Buffer.from(stored);
    flipped[FRAME_BYTES + 40] = (flipped[FRAME_BYTES + 40] as number) ^ 1;
    const swapped = Buffer.concat([stored.subarray(FRAME_BYTES + 16, 2 * (FRAME_BYTES + 16)), stored.subarray(0, FRAME_BYTES + 16), stored.subarray(2 * (FRAME_BYTES + 16))]);
    const cases: Array<[string, Buffer, ReturnType<typeof frameKeys>]> = [
      ['flipped byte', flipped, k],
      ['swapped frames', swapped, k],
      ['truncated', stored.subarray(0, stored.length - 100), k],
      ['last frame dropped', stored.subarray(0, 2 * (FRAME_BYTES + 16)), k],
      ['other salt', stored, frameKeys(keys1, newSalt())],
      ['other key', stored, frameKeys([randomBytes(32)], salt)],
    ];
    for (const [what, bytes, keys] of cases) {
      const out: Buffer[] = [];
      await assert.rejects(
        (async () => {
          for await (const c of decryptFrames(chunks(bytes, 65_536), keys, size, 0, size - 1)) out.push(c);
        })(),
        FrameError,
        what,
      );
      // Frames before the bad one may have been yielded (they authenticated); none after.
      assert.ok(Buffer.concat(out).equals(plain.subarray(0, Buffer.concat(out).length)), what);
    }
    // A 2-frame blob read as if it were final at frame 1 (dropped tail) fails even when read by range.
    assert.throws(() => openRange(k, size, stored.subarray(0, 2 * (FRAME_BYTES + 16)), 0, 10), FrameError);
  });
  it('derives frame keys as HKDF-SHA256 (the stored format: objects written before stay readable)', () => {
    for (let i = 0; i < 20; i++) {
      const salt = newSalt();
      const k = frameKeys(keys2, salt);
      keys2.forEach((dk, l) => assert.ok(k.keys[l]?.equals(Buffer.from(hkdfSync('sha256', dk, salt, 'hanul/s3/sse/frame-key/v1', 32)))));
    }
  });

  it('gives every blob a salt of its own', () => {
    const salts = new Set(Array.from({ length: 2000 }, () => newSalt().toString('hex')));
    assert.equal(salts.size, 2000);
  });
});
}

/** Stored bytes [first frame of start … last frame of end] of a sealed blob, opened with openChunkInto into one buffer. */
function openIntoAll(k: ReturnType<typeof frameKeys>, size: number, stored: Buffer, start: number, end: number, dst: Buffer): Buffer {
  const r = cipherRange(size, k.keys.length, start, end);
  const lens: number[] = [];
  const next = openChunkInto(new FrameOpener(k), size, k.keys.length, r.first, lastFrame(size, start, end), stored.subarray(r.start, r.end + 1), start, end, dst, lens);
  assert.equal(next, r.last + 1);
  return dst.subarray(0, lens.reduce((a, b) => a + b, 0));
}

describe('sse-frames: the native addon and node:crypto read each other', () => {
  after(() => useNativeGcm(true));

  for (const [name, keys] of [['one layer', keys1], ['two layers (DSSE)', keys2]] as const) {
    it(`seal with either, open with either: the same bytes on disk (${name})`, async () => {
      for (const size of [0, 1, 15, 16, 17, 4096, FRAME_BYTES - 1, FRAME_BYTES, FRAME_BYTES + 1, 3 * FRAME_BYTES + 7]) {
        const plain = randomBytes(size);
        const k = frameKeys(keys, newSalt());
        useNativeGcm(false);
        const byJs = sealAll(k, plain);
        const streamedJs = await collect(encryptFrames(chunks(plain, 10_007), k));
        useNativeGcm(true);
        assert.ok(nativeGcm());
        const byNative = sealAll(k, plain);
        assert.ok(byNative.equals(byJs), `size ${size}: sealAll`);
        assert.ok((await collect(encryptFrames(chunks(plain, 10_007), k))).equals(streamedJs), `size ${size}: encryptFrames`);
        // Frame by frame against the reference sealFrame.
        if (size > 0) assert.ok(byNative.subarray(0, Math.min(size, FRAME_BYTES) + 16 * keys.length).equals(sealFrame(k, 0, size <= FRAME_BYTES, plain.subarray(0, FRAME_BYTES))));
        for (const on of [true, false]) {
          useNativeGcm(on);
          const fresh = frameKeys(keys, k.salt);
          assert.ok(openRange(fresh, size, byJs, 0, Math.max(0, size - 1)).equals(plain), `size ${size}, native ${on}: openRange`);
          assert.ok((await collect(decryptFrames(chunks(byJs, 9_999), fresh, size, 0, size - 1))).equals(plain), `size ${size}, native ${on}: stream`);
          const dst = Buffer.alloc(Math.max(1, frameCount(size)) * FRAME_BYTES);
          assert.ok(openIntoAll(fresh, size, byJs, 0, Math.max(0, size - 1), dst).equals(plain), `size ${size}, native ${on}: openChunkInto`);
        }
      }
    });
  }

  it('openChunkInto trims a range into dst the same way with both; fails a tampered frame with FrameError, a short dst with RangeError', () => {
    const size = 5 * FRAME_BYTES + 123;
    const plain = randomBytes(size);
    const k = frameKeys(keys2, newSalt());
    const stored = sealAll(k, plain);
    const flipped = Buffer.from(stored);
    const stride = FRAME_BYTES + 32;
    flipped[2 * stride + 7] = (flipped[2 * stride + 7] as number) ^ 1;
    for (const on of [true, false]) {
      useNativeGcm(on);
      for (const [start, end] of [
        [0, size - 1],
        [100, 200],
        [FRAME_BYTES - 1, FRAME_BYTES],
        [2 * FRAME_BYTES + 5, 4 * FRAME_BYTES + 9],
        [size - 1, size - 1],
      ] as const) {
        const got = openIntoAll(frameKeys(keys2, k.salt), size, stored, start, end, Buffer.alloc(6 * FRAME_BYTES));
        assert.ok(got.equals(plain.subarray(start, end + 1)), `native ${on}: [${start}, ${end}]`);
      }
      assert.throws(() => openIntoAll(frameKeys(keys2, k.salt), size, flipped, 0, size - 1, Buffer.alloc(6 * FRAME_BYTES)), FrameError, `native ${on}`);
      assert.throws(() => openIntoAll(frameKeys(keys2, k.salt), size, stored, 0, size - 1, Buffer.alloc(5 * FRAME_BYTES)), RangeError, `native ${on}`);
    }
  });
});
