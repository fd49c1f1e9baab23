// bench/s3/sse-gcm: the frame crypto alone, on this thread, with the native addon and with
// node:crypto (HANUL_NATIVE_GCM=off's path): CPU seconds per GiB to open 64 MiB of stored
// frames into 2 MiB slots (the SSE worker's step) and as per-frame buffers (the main thread's
// short reads), to seal 64 MiB (a PUT), and µs per 4 KiB object sealed and opened whole.
// Thread CPU from /proc (this thread only), best of N rounds, the two interleaved.
// Run: npm run build && node dist/bench/s3/sse-gcm.js [rounds]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { nativeGcm, useNativeGcm } from '../../src/crypto/aes-gcm.js';
import { cipherRange, encryptFrames, FRAME_BYTES, FrameOpener, frameKeys, lastFrame, newSalt, openChunkInto, openRange, readChunkBytes, sealAll } from '../../src/services/s3/sse-frames.js';

const rounds = Number(process.argv[2] ?? 5);
const GiB = 2 ** 30;

/** CPU seconds of this (main) thread from /proc, all of this process's other threads excluded. */
function threadCpu(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8');
  return Number(stat.split(' ')[0]) / 1e9;
}

async function measure(f: () => Promise<void> | void): Promise<number> {
  const t = threadCpu();
  await f();
  return threadCpu() - t;
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

const size = 64 * 2 ** 20;
const plain = randomBytes(size);
const keys = [randomBytes(32)];
const salt = newSalt();
const stored = sealAll(frameKeys(keys, salt), plain);
const slot = Buffer.allocUnsafeSlow(32 * FRAME_BYTES);
const small = randomBytes(4096);
const smallStored = sealAll(frameKeys(keys, salt), small);

const cases: Record<string, () => Promise<void> | void> = {
  'open into slots (worker), s/GiB': () => {
    const k = frameKeys(keys, salt);
    const opener = new FrameOpener(k);
    const r = cipherRange(size, 1, 0, size - 1);
    const step = 2 * readChunkBytes(1);
    let i = r.first;
    for (let pos = r.start; pos <= r.end; pos += step) i = openChunkInto(opener, size, 1, i, lastFrame(size, 0, size - 1), stored.subarray(pos, Math.min(r.end + 1, pos + step)), 0, size - 1, slot, []);
  },
  'open per frame (main thread), s/GiB': () => {
    const opener = new FrameOpener(frameKeys(keys, salt));
    const stride = FRAME_BYTES + 16;
    for (let i = 0; i * stride < stored.length; i++) opener.open(i, (i + 1) * stride >= stored.length, stored.subarray(i * stride, (i + 1) * stride));
  },
  'seal (PUT), s/GiB': async () => {
    for await (const c of encryptFrames(once(plain), frameKeys(keys, newSalt()))) void c;
  },
  '4 KiB seal + open, µs/object': () => {
    for (let n = 0; n < 10_000; n++) {
      const k = frameKeys(keys, salt);
      sealAll(k, small);
      openRange(k, small.length, smallStored, 0, small.length - 1);
    }
  },
};

const best: Record<string, { native: number; js: number }> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(cases)) {
    for (const native of r % 2 === 0 ? [true, false] : [false, true]) {
      useNativeGcm(native);
      if (native && nativeGcm() === undefined) throw new Error('native addon not loaded');
      const s = await measure(f);
      const v = name.startsWith('4 KiB') ? (s / 10_000) * 1e6 : s / (size / GiB);
      const b = (best[name] ??= { native: Infinity, js: Infinity });
      b[native ? 'native' : 'js'] = Math.min(b[native ? 'native' : 'js'], v);
    }
  }
}
console.log(`\nbench/s3/sse-gcm — best of ${rounds}, this thread's CPU\n`);
console.log('| | native addon | node:crypto | native ÷ node:crypto |\n|---|---|---|---|');
for (const [name, b] of Object.entries(best)) console.log(`| ${name} | ${b.native.toFixed(3)} | ${b.js.toFixed(3)} | ${((100 * b.native) / b.js).toFixed(0)}% |`);
