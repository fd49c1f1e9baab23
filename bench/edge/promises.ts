// Promises created and promise jobs (microtask turns) run per request, counted with async_hooks
// in-process: a signed HeadBucket (the bench/edge request) and a signed 4 KiB GetObject. The
// client side uses callback-only node:http, so every promise counted is the server's.
// Run: npm run build && node dist/bench/edge/promises.js [requests=2000]
// A/B: copy dist/bench/edge/promises.js into another build's dist/bench/edge/ and run it there.
import { createHook } from 'node:async_hooks';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startHanul } from '../../test/support/hanul.js';
import { signedHeaders } from '../lib/sign.js';

const total = Number(process.argv[2] ?? 2000);
const server = await startHanul();
const s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
await s3.send(new CreateBucketCommand({ Bucket: 'promises' }));
await s3.send(new PutObjectCommand({ Bucket: 'promises', Key: 'k', Body: randomBytes(4096) }));
s3.destroy();

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const sign = (method: string, path: string) => signedHeaders({ url: `${server.endpoint}${path}`, method, service: 's3', region: 'us-east-1', credentials: server.credentials });

let promises = 0;
let jobs = 0;
const live = new Set<number>();
const hook = createHook({
  init(id, type) {
    if (type !== 'PROMISE') return;
    promises++;
    live.add(id);
  },
  before(id) {
    if (live.has(id)) jobs++;
  },
  promiseResolve() {},
});

/** `n` requests one after another, callbacks only; `done` once the last response has ended. */
function sequence(method: string, path: string, headers: Record<string, string>, n: number, done: (statuses: Map<number, number>) => void): void {
  const statuses = new Map<number, number>();
  let left = n;
  const next = (): void => {
    if (left-- === 0) return done(statuses);
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent }, (res) => {
      statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
      res.on('end', next);
      res.resume();
    });
    req.end();
  };
  next();
}

async function measure(name: string, method: string, path: string): Promise<void> {
  const headers = await sign(method, path);
  delete headers['host'];
  // Warm-up: caches filled (bucket, identity), JIT settled.
  await new Promise<unknown>((resolve) => sequence(method, path, headers, 500, resolve));
  const statuses = await new Promise<Map<number, number>>((resolve) => {
    promises = 0;
    jobs = 0;
    live.clear();
    hook.enable();
    sequence(method, path, headers, total, (s) => {
      hook.disable();
      resolve(s);
    });
  });
  console.log(`${name}: ${(promises / total).toFixed(2)} promises/req, ${(jobs / total).toFixed(2)} promise jobs (microtask turns)/req, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
}

await measure('HeadBucket', 'HEAD', '/promises');
await measure('GetObject 4 KiB', 'GET', '/promises/k');
agent.destroy();
await server.stop();
