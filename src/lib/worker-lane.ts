import { Worker } from 'node:worker_threads';

/**
 * Starts one lane of a worker pool: `make` wraps the worker in the pool's own
 * lane record, whose messages go to `message`; an error or exit goes to
 * `dead` (the pool forgets the lane and fails its jobs; its next use starts a
 * new worker). An idle worker does not keep the process alive.
 */
export function startLane<L extends { worker: Worker }>(
  url: URL,
  workerData: unknown,
  make: (worker: Worker) => L,
  on: { message(lane: L, m: unknown): void; dead(lane: L, e: Error): void },
  name: string,
): L {
  const worker = new Worker(url, { workerData });
  const lane = make(worker);
  worker.on('message', (m: unknown) => on.message(lane, m));
  worker.on('error', (e: Error) => on.dead(lane, e));
  worker.on('exit', () => on.dead(lane, new Error(`${name} exited`)));
  // After the listeners, which ref it again.
  worker.unref();
  return lane;
}
