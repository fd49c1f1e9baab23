/**
 * The BlobStore contract: every adapter runs this suite unchanged. Checks that
 * need to look behind the port (temp files) use optional harness hooks.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe as suite, it as test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BlobStore } from '../ports.js';
import { BlobNotFoundError, BlobTooLargeError } from '../errors.js';

// node:test returns promises the runner itself awaits; nothing to await here.
const describe = (name: string, fn: () => void): void => void suite(name, fn);
const it = (name: string, fn: () => Promise<void>): void => void test(name, fn);

export interface BlobHarness {
  store: BlobStore;
  /** Removes the data; the suite has closed the store. */
  cleanup(): Promise<void>;
  /** A new store over the same data, after `store` was closed. */
  reopen?(): Promise<BlobStore>;
  /** How many temp files and finished blobs exist behind the port. */
  inspect?(): Promise<{ temp: number; blobs: number }>;
  /** Leaves what a crash mid-write would leave. */
  plantTempLeftover?(): Promise<void>;
}

async function* chunksOf(...chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

/** Deterministic content: chunk i of a large blob, reproducible without keeping it. */
function fillChunk(buf: Buffer, i: number): Buffer {
  for (let o = 0; o < buf.length; o += 4) buf.writeUInt32LE((i * 2654435761 + o) >>> 0, o);
  return buf;
}

/**
 * A full GC before sampling memory, so the check sees what is retained, not
 * garbage not yet collected. (The flag works when set at run time.)
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export function runBlobStoreContract(name: string, open: () => Promise<BlobHarness>): void {
  const withStore = (body: (s: BlobStore, h: BlobHarness) => Promise<void>) => async (): Promise<void> => {
    const h = await open();
    try {
      await body(h.store, h);
    } finally {
      await h.store.close();
      await h.cleanup();
    }
  };
  const assertClean = async (h: BlobHarness, blobs: number): Promise<void> => {
    if (h.inspect === undefined) return;
    assert.deepEqual(await h.inspect(), { temp: 0, blobs });
  };

  describe(`BlobStore contract: ${name}`, () => {
    it('writes and reads back, with its size', withStore(async (s, h) => {
      const data = randomBytes(100_000);
      const r = await s.write(chunksOf(data.subarray(0, 10), data.subarray(10, 70_000), data.subarray(70_000)));
      assert.equal(r.size, data.length);
      assert.equal(await s.size(r.id), data.length);
      assert.deepEqual(await readAll(s.read(r.id)), data);
      const empty = await s.write(chunksOf());
      assert.equal(empty.size, 0);
      assert.equal((await readAll(s.read(empty.id))).length, 0);
      assert.notEqual(empty.id, r.id);
      await assertClean(h, 2);
    }));

    it('reads byte ranges: first, last, middle, whole', withStore(async (s) => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const { id } = await s.write(chunksOf(data));
      const last = data.length - 1;
      for (const [start, end] of [[0, 0], [last, last], [1000, 2_500_000], [0, last], [12345, 12345]] as const) {
        assert.deepEqual(await readAll(s.read(id, { start, end })), data.subarray(start, end + 1), `${start}-${end}`);
      }
    }));

    it('readChunks: exact chunk sizes over a range or the whole blob, each valid until the next is asked for', withStore(async (s) => {
      const data = randomBytes(100_000);
      const { id } = await s.write(chunksOf(data));
      for (const [range, size] of [[undefined, 7_000], [{ start: 13, end: 70_012 }, 10_000], [{ start: 99_999, end: 99_999 }, 4096], [{ start: 0, end: 99_999 }, 100_000]] as const) {
        const from = range?.start ?? 0;
        const want = data.subarray(from, (range?.end ?? data.length - 1) + 1);
        const lens: number[] = [];
        let at = 0;
        for await (const c of s.readChunks(id, range, size)) {
          lens.push(c.length);
          // Checked now: the buffer may be reused for the next chunk.
          assert.ok(Buffer.from(c).equals(want.subarray(at, at + c.length)));
          at += c.length;
        }
        assert.equal(at, want.length);
        assert.ok(lens.slice(0, -1).every((n) => n === size) && (lens.at(-1) as number) <= size, String(lens));
      }
      // A range past the end stops where the blob does (a reader detects the short read).
      let n = 0;
      for await (const c of s.readChunks(id, { start: 90_000, end: 120_000 }, 8_000)) n += c.length;
      assert.equal(n, 10_000);
      const empty = await s.write(chunksOf());
      for await (const c of s.readChunks(empty.id, undefined, 1024)) assert.fail(`empty blob gave ${c.length} bytes`);
      await assert.rejects(readAll(s.readChunks('0123456789abcdef0123456789abcdef', undefined, 1024)), BlobNotFoundError);
      await assert.rejects(readAll(s.readChunks(id, undefined, 0)), RangeError);
      // Stopping early closes the file (no leak; the next test's cleanup would notice an open handle only on some systems).
      for await (const c of s.readChunks(id, undefined, 1000)) {
        assert.equal(c.length, 1000);
        break;
      }
    }));

    it('readChunks with reads ahead: the same chunks in order, never past the range, each valid until the next is asked for', withStore(async (s) => {
      const data = randomBytes(100_000);
      const { id } = await s.write(chunksOf(data));
      const other = (await s.write(chunksOf(randomBytes(30_000)))).id;
      for (const ahead of [1, 3, 8, 1000]) {
        for (const [range, size] of [[undefined, 7_000], [{ start: 13, end: 70_012 }, 10_000], [{ start: 99_999, end: 99_999 }, 4096], [{ start: 90_000, end: 120_000 }, 8_000]] as const) {
          const from = range?.start ?? 0;
          const want = data.subarray(from, Math.min(data.length, (range?.end ?? data.length - 1) + 1));
          const lens: number[] = [];
          let at = 0;
          for await (const c of s.readChunks(id, range, size, ahead)) {
            lens.push(c.length);
            // Other reads run (and the ones ahead of this chunk complete) before it is checked:
            // none of them may have written into the buffer the consumer holds.
            await readAll(s.read(other));
            assert.ok(Buffer.from(c).equals(want.subarray(at, at + c.length)), `ahead ${ahead}, chunk ${lens.length}`);
            at += c.length;
          }
          assert.equal(at, want.length, `ahead ${ahead}`);
          assert.ok(lens.slice(0, -1).every((n) => n === size) && (lens.at(-1) as number) <= size, String(lens));
        }
        // Stopping early with reads still in flight ends cleanly, and the store reads on afterwards.
        for await (const c of s.readChunks(id, undefined, 1000, ahead)) {
          assert.equal(c.length, 1000);
          break;
        }
        const copies: Buffer[] = [];
        for await (const c of s.readChunks(id, undefined, 30_000, ahead)) copies.push(Buffer.from(c));
        assert.ok(Buffer.concat(copies).equals(data), `ahead ${ahead}, whole blob`);
      }
    }));

    it('readChunks: readers one after another and side by side each get their own bytes (buffers may be reused between reads)', withStore(async (s) => {
      const a = randomBytes(50_000);
      const b = randomBytes(50_000);
      const ida = (await s.write(chunksOf(a))).id;
      const idb = (await s.write(chunksOf(b))).id;
      const collect = async (id: string, stopAfter = Infinity): Promise<Buffer> => {
        const out: Buffer[] = [];
        for await (const c of s.readChunks(id, undefined, 8_192)) {
          out.push(Buffer.from(c));
          if (out.length >= stopAfter) break;
        }
        return Buffer.concat(out);
      };
      for (let round = 0; round < 3; round++) {
        assert.ok((await collect(ida, 2)).equals(a.subarray(0, 16_384)));
        const [ga, gb] = await Promise.all([collect(ida), collect(idb)]);
        assert.ok(ga.equals(a) && gb.equals(b), `round ${round}`);
      }
    }));

    it('reports unknown ids: size undefined, read errors with BlobNotFoundError', withStore(async (s) => {
      for (const id of ['0123456789abcdef0123456789abcdef', '../../etc/passwd', '', 'A'.repeat(32)]) {
        assert.equal(await s.size(id), undefined);
        await assert.rejects(readAll(s.read(id)), BlobNotFoundError);
        await s.delete(id);
      }
    }));

    it('deletes idempotently', withStore(async (s, h) => {
      const { id } = await s.write(chunksOf(Buffer.from('x')));
      await s.delete(id);
      await s.delete(id);
      assert.equal(await s.size(id), undefined);
      await assert.rejects(readAll(s.read(id)), BlobNotFoundError);
      await assertClean(h, 0);
    }));

    it('rejects past maxBytes at once, reading no further and leaving nothing', withStore(async (s, h) => {
      let pulled = 0;
      async function* source(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < 10; i++) {
          pulled++;
          yield Buffer.alloc(1000, i);
        }
      }
      await assert.rejects(s.write(source(), { maxBytes: 2500 }), BlobTooLargeError);
      assert.equal(pulled, 3);
      const exact = await s.write(chunksOf(Buffer.alloc(2500)), { maxBytes: 2500 });
      assert.equal(exact.size, 2500);
      await assertClean(h, 1);
    }));

    it('a source that errors midway rejects with its error and leaves nothing', withStore(async (s, h) => {
      const boom = new Error('client went away');
      async function* source(): AsyncGenerator<Uint8Array> {
        yield Buffer.alloc(2 * 1024 * 1024, 1);
        yield Buffer.alloc(10, 2);
        throw boom;
      }
      await assert.rejects(s.write(source()), (e) => e === boom);
      await assertClean(h, 0);
    }));

    it('aborts on its signal, even while the source stalls, leaving nothing', withStore(async (s, h) => {
      const ac = new AbortController();
      const reason = new Error('request aborted');
      async function* stalls(): AsyncGenerator<Uint8Array> {
        yield Buffer.alloc(1024 * 1024 + 5, 1);
        ac.abort(reason);
        await new Promise(() => undefined);
      }
      await assert.rejects(s.write(stalls(), { signal: ac.signal }), (e) => e === reason);
      await assert.rejects(s.write(chunksOf(Buffer.from('x')), { signal: AbortSignal.abort() }));
      await assertClean(h, 0);
    }));

    it('cleanup removes what a crash left in temp', withStore(async (s, h) => {
      if (h.plantTempLeftover === undefined || h.inspect === undefined) return;
      const { id } = await s.write(chunksOf(Buffer.from('kept')));
      await h.plantTempLeftover();
      assert.equal((await h.inspect()).temp > 0, true);
      await s.cleanup();
      await assertClean(h, 1);
      assert.deepEqual(await readAll(s.read(id)), Buffer.from('kept'));
    }));

    it('streams a 32 MiB blob both ways without buffering it', withStore(async (s) => {
      const chunk = Buffer.alloc(64 * 1024);
      const n = 512;
      const want = createHash('sha256');
      collectGarbage();
      const base = process.memoryUsage().arrayBuffers;
      let peak = 0;
      const sample = (): void => {
        collectGarbage();
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
      };
      async function* source(): AsyncGenerator<Uint8Array> {
        // One buffer refilled per chunk: also proves the store copies what it keeps.
        for (let i = 0; i < n; i++) {
          want.update(fillChunk(chunk, i));
          if (i % 64 === 63) sample();
          yield chunk;
        }
      }
      const { id, size } = await s.write(source());
      assert.equal(size, n * chunk.length);
      const got = createHash('sha256');
      let seen = 0;
      for await (const c of s.read(id)) {
        got.update(c);
        seen += c.length;
        if (seen % (4 * 1024 * 1024) < c.length) sample();
      }
      assert.equal(got.digest('hex'), want.digest('hex'));
      assert.ok(peak < 12 * 1024 * 1024, `peak retained memory ${peak} bytes`);
    }));

    it('lists every stored blob with its size and creation time', withStore(async (s) => {
      if (s.list === undefined) return;
      const before = Date.now();
      const written = await Promise.all([1, 10, 1000].map((n) => s.write(chunksOf(Buffer.alloc(n)))));
      await s.delete((written[0] as { id: string }).id);
      const listed = new Map<string, { size: number; createdAt: Date }>();
      for await (const b of s.list()) listed.set(b.id, b);
      assert.deepEqual([...listed.keys()].sort(), written.slice(1).map((w) => w.id).sort());
      for (const w of written.slice(1)) {
        const info = listed.get(w.id);
        assert.equal(info?.size, w.size);
        // Filesystem timestamps may be coarser than Date.now(): allow a second.
        assert.ok(info.createdAt.getTime() >= before - 1000 && info.createdAt.getTime() <= Date.now() + 1000);
      }
    }));

    it('handles concurrent writes independently', withStore(async (s, h) => {
      const datas = Array.from({ length: 20 }, (_, i) => randomBytes(1000 + i * 5000));
      const results = await Promise.all(datas.map((d) => s.write(chunksOf(d.subarray(0, 500), d.subarray(500)))));
      assert.equal(new Set(results.map((r) => r.id)).size, datas.length);
      for (const [i, r] of results.entries()) assert.deepEqual(await readAll(s.read(r.id)), datas[i]);
      await assertClean(h, datas.length);
    }));

    it('is durable across close and reopen; refuses writes after close', withStore(async (s, h) => {
      const data = randomBytes(5000);
      const { id } = await s.write(chunksOf(data));
      await s.close();
      await assert.rejects(s.write(chunksOf(data)));
      if (h.reopen === undefined) return;
      const again = await h.reopen();
      try {
        assert.deepEqual(await readAll(again.read(id)), data);
      } finally {
        await again.close();
      }
    }));
  });
}
