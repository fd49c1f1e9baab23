/**
 * An encrypted GET's frames read and opened on a worker thread, so that
 * AES-GCM runs beside the main thread's socket writes instead of in series
 * with them: with a client that leaves a core free, the main thread does
 * little more per byte than for an unencrypted GET.
 *
 * The worker reads the blob's file itself (synchronously, into one buffer of
 * its own: no libuv pool hop per chunk, no ciphertext crossing threads) and
 * opens two stored chunks (32 frames) per step into a slot (see SLOT_BYTES):
 * with the native addon (crypto/aes-gcm.ts) straight into it, else through
 * node:crypto's output buffer per frame and a copy.
 * A GET's response lends the slot to its socket: one write of the whole
 * batch, and the slot goes back to the worker when the socket has taken it
 * (SlotLoans); any other reader (a copy) gets each frame copied out and the
 * slot back at once. It grants credit per batch, so at most AHEAD batches per
 * GET are in flight; a GET that ends or is destroyed closes its job (the
 * worker drops it and its file). A frame that fails authentication fails the
 * job: nothing of it, nor anything after it, is sent. Small reads stay on
 * the main thread (sse.ts): a round trip costs more than opening a few frames.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Lender } from '../../lib/streams.js';
import { startLane } from '../../lib/worker-lane.js';
import { nativeGcm, useNativeGcm } from '../../crypto/aes-gcm.js';
import { cipherRange, FrameError, FrameOpener, type FrameKeys, lastFrame, openChunkInto, readChunkBytes, FRAME_BYTES } from './sse-frames.js';

/**
 * Batches (BATCH_CHUNKS stored chunks, ~2 MiB) a GET lets the worker open
 * ahead of those its stream holds: with one, the socket writes batch k, the
 * stream holds k+1 and the worker opens k+2. Two cost the same CPU within
 * noise (same rounds) and 2 MiB more per GET.
 */
const AHEAD = 1;
const POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));
/**
 * Plaintext comes back in slots of one batch each: ArrayBuffers that go to the
 * main thread and back (transferred both ways, so always the same few). Tried
 * and dropped: transferring Decipher's own output (no copy) made the main
 * thread's V8 run 3-4× as many full collections of its heap, costing more
 * than the copy into a slot; a SharedArrayBuffer's slots are copied with V8's
 * relaxed (word-at-a-time) moves on both sides. In flight per GET: its credit
 * (AHEAD) plus what its response holds (the stream's queue, the socket's
 * write); a worker keeps at most FREE_SLOTS idle ones, the rest are left to
 * the garbage collector.
 */
/**
 * Stored chunks (16 frames each) opened per step into one slot: per batch
 * there are two messages, a socket write and its callback, a stream step and a
 * file read. Measured (64 MiB SSE-S3 GETs, server CPU, same rounds): 2 chunks
 * per batch 10-15% less than 1; 4 no less than 2, at twice the memory.
 */
const BATCH_CHUNKS = 2;
const SLOT_BYTES = BATCH_CHUNKS * 16 * FRAME_BYTES;
const FREE_SLOTS = 8;
/**
 * A worker with no GET for `exitMs` exits (its isolate, heap and idle slots,
 * ~30-45 MB resident, go back); the next GET starts a new one (~30 ms).
 * Tests shorten it.
 */
export const sseWorkerIdle = { exitMs: 5000 };
const MARK = 'hanul-sse-worker';

/**
 * For tests: GETs sent to the worker so far and those open now; slots lent to
 * responses now, given back after a lending so far, and written off so far;
 * workers ended for being idle so far.
 */
export const sseWorkerStats = { started: 0, open: 0, lent: 0, given: 0, writtenOff: 0, retired: 0 };

type ToWorker =
  | { op: 'open'; id: number; path: string; salt: Uint8Array; keys: Uint8Array[]; size: number; start: number; end: number; credit: number; native: boolean }
  | { op: 'credit'; id: number }
  | { op: 'close'; id: number }
  | { op: 'free'; slot: ArrayBuffer };
type FromWorker = { op: 'batch'; id: number; slot: ArrayBuffer; lens: number[] } | { op: 'end'; id: number } | { op: 'fail'; id: number; frame: boolean; message: string };

interface Job {
  lane: Lane;
  loans: SlotLoans;
  queue: Buffer[][];
  /** The worker is done with it (all sent, or failed). */
  over: boolean;
  error?: Error;
  wake?: (() => void) | undefined;
}

interface Lane {
  worker: Worker;
  jobs: number;
  /** Ends an idle worker (sseWorkerIdle); set while it has no GET. */
  idle?: NodeJS.Timeout | undefined;
}

class Pool {
  private readonly lanes: Array<Lane | undefined> = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;

  private lane(i: number): Lane {
    let lane = this.lanes[i];
    if (lane === undefined) {
      const on = { message: (l: Lane, m: unknown) => this.onMessage(l, m as FromWorker), dead: (l: Lane, e: Error) => this.fail(i, l, e) };
      this.lanes[i] = lane = startLane(new URL(import.meta.url), MARK, (worker) => ({ worker, jobs: 0 }), on, 's3: SSE worker');
    }
    return lane;
  }

  /** A dead worker fails its GETs (their streams are cut); the next GET starts a new one. */
  private fail(i: number, lane: Lane, e: Error): void {
    if (this.lanes[i] !== lane) return;
    this.lanes[i] = undefined;
    for (const job of this.jobs.values()) {
      if (job.lane !== lane || job.over) continue;
      job.over = true;
      job.error = e;
      job.wake?.();
    }
  }

  private onMessage(lane: Lane, m: FromWorker): void {
    const job = this.jobs.get(m.id);
    if (m.op === 'batch') {
      // A job closed by its GET (the worker may still have sent what it had made), or whose response
      // is over (cut: its stream is being destroyed and waits for this wake to end the job).
      if (job === undefined || job.loans.over) {
        this.giveBack(lane, m.slot);
        job?.wake?.();
        return;
      }
      if (job.loans.lending) {
        let n = 0;
        for (const x of m.lens) n += x;
        job.queue.push([job.loans.lend(lane, m.slot, n)]);
      } else {
        // Copied out and the slot given back at once: this reader may hold a buffer for as long as it likes.
        const slot = Buffer.from(m.slot);
        let at = 0;
        job.queue.push(
          m.lens.map((n) => {
            const b = Buffer.allocUnsafe(n);
            slot.copy(b, 0, at, (at += n));
            return b;
          }),
        );
        this.giveBack(lane, m.slot);
      }
    } else if (job === undefined) {
      return;
    } else {
      job.over = true;
      if (m.op === 'fail') job.error = m.frame ? new FrameError() : new Error(m.message);
    }
    job.wake?.();
  }

  /** A slot back to its worker, unless the worker has died since (then it is garbage). */
  giveBack(lane: Lane, slot: ArrayBuffer): void {
    if (this.lanes.includes(lane)) lane.worker.postMessage({ op: 'free', slot } satisfies ToWorker, [slot]);
  }

  open(path: string, k: FrameKeys, size: number, start: number, end: number, loans: SlotLoans): { id: number; job: Job } {
    const id = this.nextId++;
    const lane = this.lane(id % POOL_SIZE);
    const job: Job = { lane, loans, queue: [], over: false };
    this.jobs.set(id, job);
    sseWorkerStats.started++;
    sseWorkerStats.open++;
    if (lane.jobs++ === 0) {
      clearTimeout(lane.idle);
      lane.worker.ref();
    }
    // Copies of exactly their bytes: a view is cloned with its whole ArrayBuffer, and a small Buffer's
    // is Node's shared pool (other requests' bytes).
    const salt = new Uint8Array(k.salt);
    const keys = k.keys.map((x) => new Uint8Array(x));
    // The addon switch (crypto/aes-gcm.ts) is per thread: the worker follows this thread's.
    const native = nativeGcm() !== undefined;
    lane.worker.postMessage({ op: 'open', id, path, salt, keys, size, start, end, credit: AHEAD, native } satisfies ToWorker, [salt.buffer, ...keys.map((x) => x.buffer)]);
    return { id, job };
  }

  credit(id: number, job: Job): void {
    if (!job.over) job.lane.worker.postMessage({ op: 'credit', id } satisfies ToWorker);
  }

  close(id: number, job: Job): void {
    if (this.jobs.get(id) !== job) return;
    this.jobs.delete(id);
    sseWorkerStats.open--;
    if (!job.over && this.lanes.includes(job.lane)) job.lane.worker.postMessage({ op: 'close', id } satisfies ToWorker);
    if (--job.lane.jobs === 0) this.idle(job.lane);
  }

  /** Unrefs a lane that has no GET left, and ends its worker if it stays so for sseWorkerIdle.exitMs. */
  private idle(lane: Lane): void {
    lane.worker.unref();
    lane.idle = setTimeout(() => {
      const i = this.lanes.indexOf(lane);
      if (i < 0 || lane.jobs !== 0) return;
      this.lanes[i] = undefined;
      sseWorkerStats.retired++;
      void lane.worker.terminate();
    }, sseWorkerIdle.exitMs).unref();
  }
}

let pool: Pool | undefined;

interface Loan {
  lane: Lane;
  slot: ArrayBuffer;
  view: Buffer;
}

/**
 * The slots one GET's response holds (lib/streams.ts's Lender): once the
 * response's writer has claimed the stream, each batch is one view of its
 * slot, written to the socket as it is (no copy on this thread), and the slot
 * goes back to its worker from the write's callback. When the response is
 * over, what was not given back (the client went away with writes pending, a
 * response cut) is written off: never transferred, so never refilled while a
 * socket might still read it; the garbage collector frees it.
 */
export class SlotLoans implements Lender {
  /** The response's writer took the stream: batches are lent, not copied. */
  lending = false;
  /** The response is over: batches that still come are given back at once. */
  over = false;
  private readonly out: Loan[] = [];

  take(): void {
    if (!this.over) this.lending = true;
  }

  lend(lane: Lane, slot: ArrayBuffer, n: number): Buffer {
    const view = Buffer.from(slot, 0, n);
    this.out.push({ lane, slot, view });
    sseWorkerStats.lent++;
    return view;
  }

  sent(chunk: Buffer): void {
    // Few out at a time (a GET's credit plus its response's queue).
    const i = this.out.findIndex((l) => l.view === chunk);
    if (i < 0) return;
    const l = this.out[i] as Loan;
    this.out.splice(i, 1);
    sseWorkerStats.lent--;
    sseWorkerStats.given++;
    pool?.giveBack(l.lane, l.slot);
  }

  ended(): void {
    this.over = true;
    sseWorkerStats.lent -= this.out.length;
    sseWorkerStats.writtenOff += this.out.length;
    this.out.length = 0;
  }
}

/**
 * decryptFrameBatches for a blob stored in a local file, opened on a worker:
 * plaintext [start, end] of the blob, one batch per stored chunk (lent per
 * `loans`). Ending or abandoning the iteration closes the job.
 */
export async function* workerFrameBatches(path: string, k: FrameKeys, size: number, start: number, end: number, loans: SlotLoans): AsyncGenerator<Buffer[]> {
  const p = (pool ??= new Pool());
  const { id, job } = p.open(path, k, size, start, end, loans);
  try {
    for (;;) {
      const batch = job.queue.shift();
      if (batch !== undefined) {
        // Taken off the queue: the worker may open one more while this one is sent.
        p.credit(id, job);
        yield batch;
        continue;
      }
      if (job.error !== undefined) throw job.error;
      if (job.over || loans.over) return;
      await new Promise<void>((resolve) => (job.wake = resolve));
      job.wake = undefined;
    }
  } finally {
    p.close(id, job);
    // Batches never yielded were never written anywhere: their slots go back now.
    for (const batch of job.queue) for (const b of batch) loans.sent(b);
    job.queue.length = 0;
  }
}

/** Frames a read must span before it goes to the worker (fewer are opened in place). */
export const WORKER_MIN_FRAMES = 8;

/** Whether plaintext [start, end] of a blob of `size` spans enough frames to be worth the worker's round trips. */
export function worthWorker(size: number, start: number, end: number): boolean {
  return lastFrame(size, start, end) - Math.floor(start / FRAME_BYTES) + 1 >= WORKER_MIN_FRAMES;
}

// The worker's side: jobs with credit get one batch (BATCH_CHUNKS stored chunks) opened per turn, in turn.
if (!isMainThread && parentPort !== null && workerData === MARK) {
  const port = parentPort;
  /** Idle slots here (up to FREE_SLOTS); new ones are made when none is idle. */
  const free: ArrayBuffer[] = [];
  interface WorkerJob {
    fd: number;
    opener: FrameOpener;
    size: number;
    layers: number;
    start: number;
    end: number;
    /** Next frame to open, the last one, next stored byte to read, one past the last. */
    frame: number;
    last: number;
    pos: number;
    stop: number;
    credit: number;
  }
  const jobs = new Map<number, WorkerJob>();
  let buf = Buffer.alloc(0);
  let scheduled = false;

  const drop = (id: number): void => {
    const j = jobs.get(id);
    if (j === undefined) return;
    jobs.delete(id);
    try {
      closeSync(j.fd);
    } catch {
      // Closing a read-only descriptor cannot lose data.
    }
  };

  const step = (id: number, j: WorkerJob): void => {
    const want = Math.min(BATCH_CHUNKS * readChunkBytes(j.layers), j.stop - j.pos);
    if (buf.length < want) buf = Buffer.allocUnsafeSlow(want);
    let n = 0;
    while (n < want) {
      const r = readSync(j.fd, buf, n, want - n, j.pos + n);
      if (r === 0) break;
      n += r;
    }
    // A file that ends early is a truncated blob: openChunkInto fails on the partial frame (or none).
    if (n === 0) throw new FrameError();
    // Opened straight into the slot (with the addon: no buffer per frame, no copy).
    const slot = free.pop() ?? new ArrayBuffer(SLOT_BYTES);
    const lens: number[] = [];
    try {
      j.frame = openChunkInto(j.opener, j.size, j.layers, j.frame, j.last, buf.subarray(0, n), j.start, j.end, Buffer.from(slot), lens);
    } catch (e) {
      // Never sent: what it holds is overwritten before a slot goes out again.
      free.push(slot);
      throw e;
    }
    j.pos += n;
    port.postMessage({ op: 'batch', id, slot, lens } satisfies FromWorker, [slot]);
    j.credit--;
    if (j.frame > j.last) {
      drop(id);
      port.postMessage({ op: 'end', id } satisfies FromWorker);
    } else if (n < want) {
      throw new FrameError();
    }
  };

  const run = (): void => {
    scheduled = false;
    for (const [id, j] of jobs) {
      if (j.credit <= 0) continue;
      try {
        step(id, j);
      } catch (e) {
        drop(id);
        port.postMessage({ op: 'fail', id, frame: e instanceof FrameError, message: (e as Error).message } satisfies FromWorker);
      }
    }
    schedule();
  };

  const schedule = (): void => {
    if (scheduled) return;
    for (const j of jobs.values()) {
      if (j.credit > 0) {
        scheduled = true;
        // One chunk per job per turn; messages (credit, close) are taken between turns.
        setImmediate(run);
        return;
      }
    }
  };

  port.on('message', (m: ToWorker) => {
    if (m.op === 'open') {
      let fd: number;
      try {
        fd = openSync(m.path, 'r');
      } catch (e) {
        port.postMessage({ op: 'fail', id: m.id, frame: false, message: (e as Error).message } satisfies FromWorker);
        return;
      }
      useNativeGcm(m.native);
      const keys = m.keys.map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength));
      const layers = keys.length;
      const r = cipherRange(m.size, layers, m.start, m.end);
      const opener = new FrameOpener({ salt: Buffer.from(m.salt.buffer, m.salt.byteOffset, m.salt.byteLength), keys });
      jobs.set(m.id, { fd, opener, size: m.size, layers, start: m.start, end: m.end, frame: r.first, last: lastFrame(m.size, m.start, m.end), pos: r.start, stop: r.end + 1, credit: m.credit });
    } else if (m.op === 'free') {
      if (free.length < FREE_SLOTS) free.push(m.slot);
    } else if (m.op === 'credit') {
      const j = jobs.get(m.id);
      if (j !== undefined) j.credit++;
    } else {
      drop(m.id);
    }
    schedule();
  });
}
