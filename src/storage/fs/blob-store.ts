/**
 * BlobStore on a local (or shared) filesystem. A blob is one file at
 * `<dir>/<id[0..2]>/<id[2..4]>/<id>`; ids are random, so no client-supplied
 * name ever becomes a path, and the two shard levels keep directories small.
 *
 * A write lands in `<dir>/tmp/` first and becomes visible by rename only after
 * its bytes are fsync'd; the rename is made durable by fsyncing the shard
 * directory. A crash therefore leaves either the whole blob or a temp file
 * that cleanup() removes.
 *
 * delete() does not fsync: services delete the blob after committing the
 * metadata that stops referring to it, so a delete lost in a crash leaves an
 * orphan, never a dangling reference.
 */
import { randomFillSync } from 'node:crypto';
import { close as closeFd, createReadStream, open as openFd, read as readFd } from 'node:fs';
import { type FileHandle, open, opendir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BlobInfo, BlobStore, BlobWriteResult, ByteRange } from '../ports.js';
import { BlobNotFoundError, BlobTooLargeError, StoreClosedError } from '../errors.js';
import { BufferedFileWriter } from './buffered-writer.js';
import { mkdirDurable, syncDir } from './sync-dir.js';

const READ_HIGH_WATER_MARK = 1024 * 1024;
/** Idle readChunks buffers kept for the next read (a fresh one faults its pages in on first use). */
const SPARE_READ_BUFFERS = 8;
/** readChunks' bound on reads in flight at once (each a buffer of the chunk size). */
const MAX_READS_AHEAD = 8;
const SPARE_READ_BUFFER_MAX = 2 * 1024 * 1024;
const ID = /^[0-9a-f]{32}$/;

type BlobStream = AsyncIterable<Uint8Array> & NodeJS.ReadableStream;

function checkRange(range: ByteRange | undefined): { start?: number; end?: number } {
  if (range === undefined) return {};
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${String(start)}-${String(end)}`);
  }
  return { start, end };
}

/** Random bytes for ids, drawn 256 ids at a time: one randomBytes call per id cost ~30 µs under load. */
const idPool = Buffer.allocUnsafeSlow(16 * 256);
let idPoolAt = idPool.length;

function newId(): string {
  if (idPoolAt === idPool.length) {
    randomFillSync(idPool);
    idPoolAt = 0;
  }
  idPoolAt += 16;
  return idPool.toString('hex', idPoolAt - 16, idPoolAt);
}

/** The abort's own reason, so the caller sees exactly what it aborted with. */
function abortReason(signal: AbortSignal): Error {
  return (signal.reason ?? new DOMException('This operation was aborted', 'AbortError')) as Error;
}

function isAborted(signal: AbortSignal | undefined): signal is AbortSignal {
  return signal?.aborted === true;
}

/** Pulls the next chunk, or rejects as soon as the signal aborts. */
function nextOrAbort(
  it: AsyncIterator<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<IteratorResult<Uint8Array>> {
  const next = it.next();
  if (signal === undefined) return next;
  if (signal.aborted) {
    next.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      // The pending next() may still settle (or fail) later: nobody listens.
      next.catch(() => undefined);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    next.then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (e: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

class FsBlobStore implements BlobStore {
  private readonly tmp: string;
  /** Shard directories made (or being made) durable, so each is made once. */
  private readonly shards = new Map<string, Promise<void>>();
  private readonly writing = new Set<Promise<unknown>>();
  /** readChunks buffers between reads, all of one size (the last size asked for). */
  private spare: Buffer[] = [];
  private closed = false;

  constructor(private readonly dir: string) {
    this.tmp = join(dir, 'tmp');
  }

  private pathOf(id: string): string {
    return join(this.dir, id.slice(0, 2), id.slice(2, 4), id);
  }

  filePath(id: string): string {
    if (this.closed) throw new StoreClosedError('blob store');
    if (!ID.test(id)) throw new BlobNotFoundError(id);
    return this.pathOf(id);
  }

  write(source: AsyncIterable<Uint8Array>, opts: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<BlobWriteResult> {
    if (this.closed) return Promise.reject(new StoreClosedError('blob store'));
    const p = this.doWrite(source, opts);
    this.writing.add(p);
    const forget = (): void => void this.writing.delete(p);
    p.then(forget, forget);
    return p;
  }

  private async doWrite(
    source: AsyncIterable<Uint8Array>,
    { signal, maxBytes }: { signal?: AbortSignal; maxBytes?: number },
  ): Promise<BlobWriteResult> {
    if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 0)) {
      throw new RangeError('maxBytes must be a non-negative integer');
    }
    if (signal?.aborted === true) throw abortReason(signal);
    const id = newId();
    const tmpPath = join(this.tmp, id);
    const final = this.pathOf(id);
    // The temp file is opened only when the bytes call for it (BufferedFileWriter): a body that
    // trickles in (or is cut before it arrived) costs no file, and no shard directory either —
    // that is prepared (mkdir + fsync of its parents) when the file opens, while the bytes arrive.
    let shardReady: Promise<void> | undefined;
    const writer = new BufferedFileWriter(() => {
      shardReady = this.ensureShard(dirname(final));
      shardReady.catch(() => undefined);
      return open(tmpPath, 'wx', 0o600);
    });
    let size = 0;
    let fh: FileHandle;
    try {
      // Iterate by hand: on our own failure (too large, abort) we stop pulling
      // but do not call return(), which would destroy an HTTP request stream
      // and take the socket with it before the handler could answer.
      const it = source[Symbol.asyncIterator]();
      for (;;) {
        const r = await nextOrAbort(it, signal);
        if (r.done === true) break;
        const chunk: unknown = r.value;
        if (!(chunk instanceof Uint8Array)) throw new TypeError('blob source must yield Uint8Array chunks');
        size += chunk.byteLength;
        if (maxBytes !== undefined && size > maxBytes) throw new BlobTooLargeError(maxBytes);
        await writer.push(chunk);
      }
      fh = await writer.finish();
      // Re-read: TS narrowed `aborted` at the top, but it changes while we await.
      if (isAborted(signal)) throw abortReason(signal);
      await fh.datasync();
    } catch (error) {
      const opened = await writer.settle();
      if (opened !== undefined) {
        await opened.close().catch(() => undefined);
        await unlink(tmpPath).catch(() => undefined);
      }
      throw error;
    }
    try {
      await fh.close();
      await (shardReady ?? this.ensureShard(dirname(final)));
      await rename(tmpPath, final);
      await syncDir(dirname(final));
    } catch (error) {
      await unlink(tmpPath).catch(() => undefined);
      throw error;
    }
    return { id, size };
  }

  private ensureShard(shard: string): Promise<void> {
    let ready = this.shards.get(shard);
    if (ready === undefined) {
      ready = mkdirDurable(shard).then(() => undefined);
      this.shards.set(shard, ready);
      // A failure (e.g. ENOSPC) must not stick: the next write retries.
      ready.catch(() => this.shards.delete(shard));
    }
    return ready;
  }

  read(id: string, range?: ByteRange): BlobStream {
    const { start, end } = checkRange(range);
    const valid = ID.test(id);
    const closed = this.closed;
    const path = valid ? this.pathOf(id) : join(this.dir, 'invalid');
    // The stream opens lazily; a custom open maps a missing file to
    // BlobNotFoundError without wrapping the stream (no extra copy or hop).
    const fsImpl = {
      open(p: string, flags: string, mode: number, cb: (err: Error | null, fd?: number) => void): void {
        if (closed || !valid) {
          process.nextTick(cb, closed ? new StoreClosedError('blob store') : new BlobNotFoundError(id));
          return;
        }
        openFd(p, flags, mode, (err, fd) => cb(err?.code === 'ENOENT' ? new BlobNotFoundError(id) : err, fd));
      },
      read: readFd,
      close: closeFd,
    };
    const options: Parameters<typeof createReadStream>[1] = { highWaterMark: READ_HIGH_WATER_MARK, fs: fsImpl };
    if (start !== undefined) options.start = start;
    if (end !== undefined) options.end = end;
    return createReadStream(path, options);
  }

  async *readChunks(id: string, range: ByteRange | undefined, chunkBytes: number, ahead = 1): AsyncGenerator<Uint8Array> {
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) throw new RangeError(`invalid chunk size ${String(chunkBytes)}`);
    const { start, end } = checkRange(range);
    if (this.closed) throw new StoreClosedError('blob store');
    if (!ID.test(id)) throw new BlobNotFoundError(id);
    const depth = Math.max(1, Math.min(MAX_READS_AHEAD, Math.floor(ahead) || 1));
    let fh: FileHandle;
    try {
      fh = await open(this.pathOf(id), 'r');
    } catch (error) {
      throw (error as NodeJS.ErrnoException).code === 'ENOENT' ? new BlobNotFoundError(id) : error;
    }
    /** Reads in flight, in file order; each fills its own buffer. */
    const inFlight: Array<{ buf: Buffer; want: number; done: Promise<number> }> = [];
    /** Buffers of this reader not in flight and not held by the consumer. */
    const free: Buffer[] = [];
    const all: Buffer[] = [];
    try {
      const stop = end !== undefined ? end + 1 : (await fh.stat()).size;
      let next = start ?? 0;
      const len = Math.min(chunkBytes, stop - next);
      if (len <= 0) return;
      /** Fills `buf` with `want` bytes from `at`: it comes back short only where the file ends. */
      const fill = async (buf: Buffer, at: number, want: number): Promise<number> => {
        let n = 0;
        while (n < want) {
          const { bytesRead } = await fh.read(buf, n, want - n, at + n);
          if (bytesRead === 0) break;
          n += bytesRead;
        }
        return n;
      };
      // Up to `depth` chunks are read at once (libuv's pool runs them side by side) while the consumer
      // holds one more: depth + 1 buffers, taken from (and given back to) a few spares, since a new one
      // costs a page fault per 4 KiB on first use.
      const issue = (): void => {
        while (inFlight.length < depth && next < stop) {
          let buf = free.pop();
          if (buf === undefined) {
            buf = this.takeBuffer(len);
            all.push(buf);
          }
          const want = Math.min(len, stop - next);
          const done = fill(buf, next, want);
          // Handled here too: a consumer that stops early leaves it unawaited until finally.
          done.catch(() => undefined);
          inFlight.push({ buf, want, done });
          next += want;
        }
      };
      issue();
      for (let r = inFlight.shift(); r !== undefined; r = inFlight.shift()) {
        const n = await r.done;
        // A short chunk means the file ended: what was asked for past it is not read on, nor given out.
        if (n < r.want) next = stop;
        else issue();
        if (n > 0) yield r.buf.subarray(0, n);
        free.push(r.buf);
        if (n < r.want) break;
      }
    } finally {
      for (const r of inFlight) await r.done.catch(() => undefined);
      // No read is in flight into them now, and the consumer is done with the last chunk.
      for (const b of all) this.giveBuffer(b);
      await fh.close();
    }
  }

  /** A buffer of at least `len` bytes, subarrayed to `len`. */
  private takeBuffer(len: number): Buffer {
    const b = this.spare.pop();
    return b !== undefined && b.length >= len ? b.subarray(0, len) : Buffer.allocUnsafeSlow(len);
  }

  private giveBuffer(b: Buffer): void {
    const size = b.buffer.byteLength;
    if (b.byteOffset !== 0 || size > SPARE_READ_BUFFER_MAX) return;
    if (this.spare.length > 0 && (this.spare[0] as Buffer).length !== size) this.spare = [];
    if (this.spare.length < SPARE_READ_BUFFERS) this.spare.push(b.length === size ? b : Buffer.from(b.buffer, 0, size));
  }

  async size(id: string): Promise<number | undefined> {
    if (!ID.test(id)) return undefined;
    try {
      return (await stat(this.pathOf(id))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    if (!ID.test(id)) return;
    try {
      await unlink(this.pathOf(id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async *list(): AsyncGenerator<BlobInfo> {
    const SHARD = /^[0-9a-f]{2}$/;
    for await (const a of await opendir(this.dir)) {
      if (!a.isDirectory() || !SHARD.test(a.name)) continue;
      for await (const b of await opendir(join(this.dir, a.name))) {
        if (!b.isDirectory() || !SHARD.test(b.name)) continue;
        for await (const f of await opendir(join(this.dir, a.name, b.name))) {
          if (!f.isFile() || !ID.test(f.name)) continue;
          try {
            const st = await stat(join(this.dir, a.name, b.name, f.name));
            // A blob's file is never modified after its rename: mtime is when it was written.
            yield { id: f.name, size: st.size, createdAt: st.mtime };
          } catch (error) {
            // Deleted while we listed: not an error for a sweep.
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          }
        }
      }
    }
  }

  /** Must run before any write starts: it cannot tell a crash leftover from a live write. */
  async cleanup(): Promise<void> {
    for (const name of await readdir(this.tmp)) {
      await rm(join(this.tmp, name), { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.writing]);
  }
}

export async function openFsBlobStore(dir: string): Promise<BlobStore> {
  const root = resolve(dir);
  await mkdirDurable(join(root, 'tmp'));
  return new FsBlobStore(root);
}
