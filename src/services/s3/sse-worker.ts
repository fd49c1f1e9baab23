/**
 * Opening the frames of a large encrypted read (GET, copy) on a worker
 * thread. On the main thread every 64 KiB frame costs a Decipher (setup, a
 * zero-filled output buffer, a copy to trim it: Node's `update()` allocates
 * twice) plus AES-256-GCM itself, and all of it ran between the blob reads
 * and the socket writes: an encrypted GET cost about twice the CPU of a
 * plain one on the thread that also serves everything else. Here the main
 * thread only reads the stored chunk and hands it over; the worker opens its
 * frames and sends back their plaintext (transferred, not copied) while the
 * main thread reads and writes the neighbouring chunks.
 *
 * Each read is a job on one worker of a small pool, so its chunks are opened
 * and come back in order. Stored chunks go over through slots of memory
 * shared with the worker (no allocation per chunk); at most AHEAD chunks of
 * one read are in flight, so memory stays bounded whatever the object size.
 * Small reads (a few frames) are opened in place: a round trip costs more.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { FRAME_BYTES, FrameError, type FrameKeys, frameStride, lastFrame, openChunk, readChunkBytes } from './sse-frames.js';

/** The largest stored chunk a reader asks for (two layers: DSSE-KMS). */
const SLOT_BYTES = readChunkBytes(2);
const SLOTS = 6;
/** Chunks of one read in flight: the worker opens the next while the main thread sends one. */
const AHEAD = 2;
const POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));
/** Reads spanning fewer frames are opened on the main thread. */
export const OFFLOAD_MIN_FRAMES = 8;

interface WorkerInit {
  sseOpen: SharedArrayBuffer;
}

type ToWorker =
  | { op: 'start'; id: number; keys: Uint8Array[]; salt: Uint8Array; size: number; start: number; end: number }
  | { op: 'open'; id: number; slot: number; len: number; first: number }
  | { op: 'drop'; id: number };
/**
 * One answer per 'open', in order: the slot is free again; the plaintext, or
 * why not (`frames`: they failed authentication or were cut short).
 */
type FromWorker = { id: number; slot: number; plain?: ArrayBuffer[]; failed?: string };

interface Pending {
  resolve: (b: Buffer[]) => void;
  reject: (e: Error) => void;
}

interface Job {
  lane: number;
  pending: Pending[];
}

interface Lane {
  worker: Worker;
  memory: Uint8Array;
  free: number[];
  waiting: Array<() => void>;
  /** Jobs: a lane with jobs keeps the process alive, an idle one does not. */
  busy: number;
}

class Pool {
  private readonly lanes: Array<Lane | undefined> = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;

  private lane(i: number): Lane {
    let lane = this.lanes[i];
    if (lane === undefined) {
      const shared = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
      const worker = new Worker(new URL(import.meta.url), { workerData: { sseOpen: shared } satisfies WorkerInit });
      const l: Lane = { worker, memory: new Uint8Array(shared), free: Array.from({ length: SLOTS }, (_, k) => k), waiting: [], busy: 0 };
      worker.on('message', (m: FromWorker) => this.onMessage(l, m));
      worker.on('error', (e) => this.fail(i, l, e));
      worker.on('exit', () => this.fail(i, l, new Error('sse worker exited')));
      // Idle workers must not keep the process alive (after the listeners, which ref it again).
      worker.unref();
      this.lanes[i] = lane = l;
    }
    return lane;
  }

  /** A dead worker fails its jobs (their reads end in an error); the next job starts a new one. */
  private fail(i: number, lane: Lane, e: Error): void {
    if (this.lanes[i] !== lane) return;
    this.lanes[i] = undefined;
    for (const [id, job] of this.jobs) {
      if (job.lane !== i) continue;
      this.jobs.delete(id);
      for (const p of job.pending.splice(0)) p.reject(e);
    }
    for (const w of lane.waiting.splice(0)) w();
  }

  private onMessage(lane: Lane, m: FromWorker): void {
    lane.free.push(m.slot);
    lane.waiting.shift()?.();
    const p = this.jobs.get(m.id)?.pending.shift();
    if (p === undefined) return;
    if (m.failed === undefined) p.resolve((m.plain ?? []).map((b) => Buffer.from(b)));
    else p.reject(m.failed === 'frames' ? new FrameError() : new Error(`sse worker: ${m.failed}`));
  }

  /**
   * Opens a stream of stored chunks cut on frame boundaries (readChunks with
   * readChunkBytes), the first chunk starting at the frame holding `start`;
   * plaintext [start, end] of the blob out, in order. Fails like
   * decryptFrames: on a frame that does not authenticate, or stored bytes
   * that end early.
   */
  async *open(src: AsyncIterable<Uint8Array>, k: FrameKeys, size: number, start: number, end: number): AsyncGenerator<Buffer> {
    const id = this.nextId++;
    const job: Job = { lane: id % POOL_SIZE, pending: [] };
    const lane = this.lane(job.lane);
    this.jobs.set(id, job);
    if (lane.busy++ === 0) lane.worker.ref();
    const post = (m: ToWorker): void => lane.worker.postMessage(m);
    post({ op: 'start', id, keys: k.keys, salt: k.salt, size, start, end });
    const gone = (): Error => new Error('sse worker failed');
    const stride = frameStride(k.keys.length);
    const last = lastFrame(size, start, end);
    let next = Math.floor(start / FRAME_BYTES);
    const inflight: Array<Promise<Buffer[]>> = [];
    try {
      for await (const raw of src) {
        if (raw.byteLength > SLOT_BYTES) throw new FrameError();
        while (lane.free.length === 0) {
          await new Promise<void>((resolve) => lane.waiting.push(resolve));
          if (!this.jobs.has(id)) throw gone();
        }
        if (!this.jobs.has(id)) throw gone();
        const slot = lane.free.pop() as number;
        // `raw` may be a buffer the store reuses: it is copied before the next one is asked for.
        lane.memory.set(raw, slot * SLOT_BYTES);
        const result = new Promise<Buffer[]>((resolve, reject) => job.pending.push({ resolve, reject }));
        // Awaited in turn below; a failure meanwhile must not count as unhandled.
        result.catch(() => undefined);
        inflight.push(result);
        post({ op: 'open', id, slot, len: raw.byteLength, first: next });
        next += Math.ceil(raw.byteLength / stride);
        if (inflight.length >= AHEAD) yield* nonEmpty(await (inflight.shift() as Promise<Buffer[]>));
      }
      while (inflight.length > 0) yield* nonEmpty(await (inflight.shift() as Promise<Buffer[]>));
      if (next !== last + 1) throw new FrameError();
    } finally {
      if (this.jobs.delete(id)) {
        post({ op: 'drop', id });
        if (--lane.busy === 0) lane.worker.unref();
      }
    }
  }
}

function* nonEmpty(parts: Buffer[]): Generator<Buffer> {
  for (const p of parts) if (p.length > 0) yield p;
}

let pool: Pool | undefined;

/** Pool.open on the shared pool (started on first use). */
export function openOffloaded(src: AsyncIterable<Uint8Array>, k: FrameKeys, size: number, start: number, end: number): AsyncGenerator<Buffer> {
  return (pool ??= new Pool()).open(src, k, size, start, end);
}

/** `p`'s bytes as an ArrayBuffer of their own, to transfer: its own when it is all of it, else a copy (never the shared Buffer pool). */
function ownArrayBuffer(p: Buffer): ArrayBuffer {
  if (p.byteOffset === 0 && p.length === p.buffer.byteLength && p.buffer instanceof ArrayBuffer) return p.buffer;
  const c = Buffer.allocUnsafeSlow(p.length);
  p.copy(c);
  return c.buffer;
}

// The worker's side: opens each chunk from its slot, answers in message order.
const init = workerData as Partial<WorkerInit> | null;
if (!isMainThread && parentPort !== null && init?.sseOpen instanceof SharedArrayBuffer) {
  const port = parentPort;
  const memory = Buffer.from(init.sseOpen);
  const jobs = new Map<number, { k: FrameKeys; size: number; start: number; end: number }>();
  port.on('message', (m: ToWorker) => {
    if (m.op === 'start') {
      // The frame keys themselves (already derived), not data keys.
      jobs.set(m.id, { k: { salt: Buffer.from(m.salt), keys: m.keys.map((x) => Buffer.from(x)) }, size: m.size, start: m.start, end: m.end });
    } else if (m.op === 'drop') {
      jobs.delete(m.id);
    } else {
      const job = jobs.get(m.id);
      let answer: FromWorker;
      if (job === undefined) {
        answer = { id: m.id, slot: m.slot, failed: 'unknown job' };
      } else {
        try {
          const chunk = memory.subarray(m.slot * SLOT_BYTES, m.slot * SLOT_BYTES + m.len);
          // Each frame's plaintext is transferred as it is (Decipher gives each its own
          // ArrayBuffer): no copy here, and no garbage left for this thread's GC, which runs
          // far less often than the main thread's and would let freed memory pile up.
          const plain = openChunk(job.k, job.size, m.first, chunk, job.start, job.end).map(ownArrayBuffer);
          answer = { id: m.id, slot: m.slot, plain };
        } catch (e) {
          answer = { id: m.id, slot: m.slot, failed: e instanceof FrameError ? 'frames' : String(e) };
        }
      }
      port.postMessage(answer, answer.plain ?? []);
    }
  });
}
