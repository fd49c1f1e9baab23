import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { cipherRange, FRAME_BYTES, FrameError, frameKeys, newSalt, readChunkBytes, sealAll } from './sse-frames.js';
import { openOffloaded } from './sse-worker.js';

/** As FsBlobStore.readChunks cuts them: chunkBytes each (the last shorter), in one reused buffer. */
async function* storeChunks(b: Buffer, size: number): AsyncGenerator<Buffer> {
  const reused = Buffer.alloc(size);
  for (let i = 0; i < b.length; i += size) {
    const n = b.copy(reused, 0, i, Math.min(b.length, i + size));
    yield reused.subarray(0, n);
    // The consumer let go of it: anything it kept would now read garbage.
    reused.fill(0xee);
  }
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

describe('sse-worker: frames opened on a worker thread', () => {
  for (const layers of [1, 2]) {
    it(`returns the same plaintext as in place, whole and by range, in order (${layers} layer${layers > 1 ? 's' : ''})`, async () => {
      const size = 40 * FRAME_BYTES + 1234;
      const plain = randomBytes(size);
      const k = frameKeys(Array.from({ length: layers }, () => randomBytes(32)), newSalt());
      const stored = sealAll(k, plain);
      const read = (start: number, end: number): Promise<Buffer> => {
        const r = cipherRange(size, layers, start, end);
        return collect(openOffloaded(storeChunks(stored.subarray(r.start, r.end + 1), readChunkBytes(layers)), k, size, start, end));
      };
      assert.ok((await read(0, size - 1)).equals(plain));
      for (const [start, end] of [[5, 20 * FRAME_BYTES + 7], [17 * FRAME_BYTES - 1, size - 1], [3 * FRAME_BYTES, 12 * FRAME_BYTES - 1]] as const) {
        assert.ok((await read(start, end)).equals(plain.subarray(start, end + 1)), `${start}-${end}`);
      }
      // Several reads at once share the pool and each stays in order.
      const all = await Promise.all([read(0, size - 1), read(100, size - 100), read(0, size - 1)]);
      assert.ok(all[0]?.equals(plain) && all[2]?.equals(plain) && all[1]?.equals(plain.subarray(100, size - 99)));
    });
  }

  it('tampering, truncation or the wrong key fail; nothing unauthenticated comes out', async () => {
    const size = 40 * FRAME_BYTES;
    const plain = randomBytes(size);
    const salt = newSalt();
    const keys = [randomBytes(32)];
    const k = frameKeys(keys, salt);
    const stored = sealAll(k, plain);
    const stride = FRAME_BYTES + 16;
    const flipped = Buffer.from(stored);
    flipped[30 * stride + 9] = (flipped[30 * stride + 9] as number) ^ 1;
    const cases: Array<[string, Buffer, ReturnType<typeof frameKeys>]> = [
      ['flipped byte', flipped, k],
      ['cut inside a frame', stored.subarray(0, stored.length - 100), k],
      ['last frames dropped', stored.subarray(0, 35 * stride), k],
      ['other key', stored, frameKeys([randomBytes(32)], salt)],
    ];
    for (const [what, bytes, kk] of cases) {
      const out: Buffer[] = [];
      await assert.rejects(
        (async () => {
          for await (const c of openOffloaded(storeChunks(bytes, readChunkBytes(1)), kk, size, 0, size - 1)) out.push(c);
        })(),
        FrameError,
        what,
      );
      const got = Buffer.concat(out);
      assert.ok(got.equals(plain.subarray(0, got.length)), what);
      // Frames before the bad one may have come out (they authenticated); none from it on.
      if (what === 'flipped byte') assert.ok(got.length <= 30 * FRAME_BYTES, what);
    }
    // The pool still works after failures.
    assert.ok((await collect(openOffloaded(storeChunks(stored, readChunkBytes(1)), k, size, 0, size - 1))).equals(plain));
  });

  it('a reader that stops early releases its slots', async () => {
    const size = 64 * FRAME_BYTES;
    const plain = randomBytes(size);
    const k = frameKeys([randomBytes(32)], newSalt());
    const stored = sealAll(k, plain);
    for (let n = 0; n < 10; n++) {
      for await (const c of openOffloaded(storeChunks(stored, readChunkBytes(1)), k, size, 0, size - 1)) {
        assert.ok(c.equals(plain.subarray(0, c.length)));
        break;
      }
    }
    assert.ok((await collect(openOffloaded(storeChunks(stored, readChunkBytes(1)), k, size, 0, size - 1))).equals(plain));
  });
});
