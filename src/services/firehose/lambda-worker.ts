/**
 * Runs a user's Lambda handler module in a worker thread, as the Node.js
 * Lambda runtime does: `export const handler = async (event, context) => …`
 * (or the callback form). The module is imported once and stays warm for
 * later invocations, like a Lambda execution environment.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

interface Invoke {
  id: number;
  event: unknown;
  context: { functionName: string; invokedFunctionArn: string; awsRequestId: string; deadline: number; memoryLimitInMB: string };
}

type Handler = (event: unknown, context: unknown, callback?: (err: unknown, res?: unknown) => void) => unknown;

const file = (workerData as { file: string }).file;
let handler: Promise<Handler>;

async function load(): Promise<Handler> {
  const mod = (await import(pathToFileURL(file).href)) as { handler?: Handler; default?: { handler?: Handler } };
  const h = mod.handler ?? mod.default?.handler;
  if (typeof h !== 'function') throw Object.assign(new Error(`${file} does not export a function named handler`), { name: 'Runtime.HandlerNotFound' });
  return h;
}

function errorOf(e: unknown): { errorType: string; errorMessage: string } {
  if (e instanceof Error) return { errorType: e.name || 'Error', errorMessage: e.message };
  return { errorType: 'Error', errorMessage: String(e) };
}

parentPort?.on('message', (msg: Invoke) => {
  handler ??= load();
  const { id, event, context: c } = msg;
  const context = {
    ...c,
    functionVersion: '$LATEST',
    logGroupName: `/aws/lambda/${c.functionName}`,
    logStreamName: 'hanul',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, c.deadline - Date.now()),
  };
  void (async () => {
    try {
      const h = await handler;
      const result = await new Promise((resolve, reject) => {
        const r = h(event, context, (err, res) => (err ? reject(err instanceof Error ? err : new Error(typeof err === 'string' ? err : JSON.stringify(err))) : resolve(res)));
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(resolve, reject);
        else if (h.length < 3) resolve(r);
      });
      parentPort?.postMessage({ id, ok: true, result: JSON.stringify(result ?? null) });
    } catch (e) {
      parentPort?.postMessage({ id, ok: false, error: errorOf(e) });
    }
  })();
});
