/**
 * MD5 and the checksums of a large body, computed on a worker thread so that
 * hashing (MD5 alone is ~1.8 ms of CPU per MB) overlaps with receiving the
 * next bytes and writing the previous ones on the main thread. Small bodies
 * are hashed in place (receive-body.ts): a message round trip costs more
 * than their hash.
 *
 * Each upload is a job on one worker of a small pool; its chunks go over in
 * order, through slots of memory shared with the worker.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startLane } from '../../lib/worker-lane.js';
import { localHasher, type Digests, type Hasher } from './checksums.js';
import type { ChecksumAlgorithm } from './model.js';

/**
 * Chunks go over through one shared memory area per worker, in slots: no
 * allocation per chunk (transferred buffers would be freed only by the
 * worker's GC, which runs rarely), and at most SLOTS × SLOT_BYTES per worker
 * in flight however many uploads share it.
 */
const SLOT_BYTES = 256 * 1024;
const SLOTS = 16;
const POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));

type ToWorker =
  | { op: 'start'; id: number; algorithms: readonly ChecksumAlgorithm[] }
  | { op: 'update'; id: number; slot: number; len: number }
  | { op: 'end' | 'drop'; id: number };
type FromWorker = { op: 'ack'; slot: number } | ({ op: 'result'; id: number } & Digests);

interface Job {
  worker: number;
  done?: { resolve: (r: Digests) => void; reject: (e: Error) => void };
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
      const make = (worker: Worker): Lane => ({ worker, memory: new Uint8Array(shared), free: Array.from({ length: SLOTS }, (_, k) => k), waiting: [], busy: 0 });
      const on = { message: (l: Lane, m: unknown) => this.onMessage(l, m as FromWorker), dead: (l: Lane, e: Error) => this.fail(i, l, e) };
      this.lanes[i] = lane = startLane(new URL(import.meta.url), shared, make, on, 'hash worker');
    }
    return lane;
  }

  /** A dead worker fails its jobs (their uploads answer 500); the next job starts a new one. */
  private fail(i: number, lane: Lane, e: Error): void {
    if (this.lanes[i] !== lane) return;
    this.lanes[i] = undefined;
    for (const [id, job] of this.jobs) {
      if (job.worker !== i) continue;
      this.jobs.delete(id);
      job.done?.reject(e);
    }
    for (const w of lane.waiting.splice(0)) w();
  }

  private forget(id: number): Job | undefined {
    const job = this.jobs.get(id);
    if (job === undefined) return undefined;
    this.jobs.delete(id);
    const lane = this.lanes[job.worker];
    if (lane !== undefined && --lane.busy === 0) lane.worker.unref();
    return job;
  }

  private onMessage(lane: Lane, m: FromWorker): void {
    if (m.op === 'ack') {
      lane.free.push(m.slot);
      lane.waiting.shift()?.();
      return;
    }
    this.forget(m.id)?.done?.resolve({ md5Hex: m.md5Hex, checksums: m.checksums });
  }

  start(algorithms: readonly ChecksumAlgorithm[]): Hasher {
    const id = this.nextId++;
    const job: Job = { worker: id % POOL_SIZE };
    const lane = this.lane(job.worker);
    this.jobs.set(id, job);
    if (lane.busy++ === 0) lane.worker.ref();
    const post = (m: ToWorker): void => lane.worker.postMessage(m);
    post({ op: 'start', id, algorithms });
    const gone = (): Error => new Error('hash worker failed');
    /** Copies what fits into free slots; the offset reached. */
    const send = (chunk: Uint8Array, from: number): number => {
      let off = from;
      while (off < chunk.byteLength && lane.free.length > 0) {
        const slot = lane.free.pop() as number;
        const len = Math.min(SLOT_BYTES, chunk.byteLength - off);
        lane.memory.set(chunk.subarray(off, off + len), slot * SLOT_BYTES);
        post({ op: 'update', id, slot, len });
        off += len;
      }
      return off;
    };
    return {
      update: (chunk) => {
        if (!this.jobs.has(id)) return Promise.reject(gone());
        const off = send(chunk, 0);
        if (off === chunk.byteLength) return undefined;
        // The worker is behind: wait for slots, in turn with the other jobs on this lane.
        return (async () => {
          for (let at = off; at < chunk.byteLength; ) {
            await new Promise<void>((resolve) => lane.waiting.push(resolve));
            if (!this.jobs.has(id)) throw gone();
            at = send(chunk, at);
          }
        })();
      },
      result: () =>
        new Promise<Digests>((resolve, reject) => {
          if (!this.jobs.has(id)) return reject(gone());
          job.done = { resolve, reject };
          post({ op: 'end', id });
        }),
      drop: () => {
        if (this.forget(id) !== undefined) post({ op: 'drop', id });
      },
    };
  }
}

let pool: Pool | undefined;

export function offloadedHasher(algorithms: readonly ChecksumAlgorithm[]): Hasher {
  return (pool ??= new Pool()).start(algorithms);
}

// The worker's side: one local hasher per job, fed in message order from the shared slots.
if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const memory = new Uint8Array(workerData as SharedArrayBuffer);
  const jobs = new Map<number, Hasher>();
  port.on('message', (m: ToWorker) => {
    if (m.op === 'start') {
      jobs.set(m.id, localHasher(m.algorithms));
    } else if (m.op === 'update') {
      const start = m.slot * SLOT_BYTES;
      void jobs.get(m.id)?.update(memory.subarray(start, start + m.len));
      port.postMessage({ op: 'ack', slot: m.slot } satisfies FromWorker);
    } else if (m.op === 'drop') {
      jobs.delete(m.id);
    } else {
      const h = jobs.get(m.id);
      jobs.delete(m.id);
      void h?.result().then((r) => port.postMessage({ op: 'result', id: m.id, ...r } satisfies FromWorker));
    }
  });
}
