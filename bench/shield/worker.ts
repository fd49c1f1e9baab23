import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { flood, legit, slowloris } from './load.js';

/**
 * Runs a load generator in its own thread, so the clients' event loops do not
 * share the server's (in-process latency would measure the flooder, not hanul).
 */
export function inWorker<T>(kind: 'flood' | 'legit' | 'slowloris', opts: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { kind, opts } });
    w.once('message', (m: T) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

if (!isMainThread && parentPort) {
  const { kind, opts } = workerData as { kind: string; opts: never };
  const run = kind === 'flood' ? flood(opts) : kind === 'legit' ? legit(opts) : slowloris(opts);
  void run.then((r) => parentPort?.postMessage(r));
}
