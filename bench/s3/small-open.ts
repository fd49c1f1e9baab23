// bench/s3/small-open: the step a 4 KiB SSE-S3 GET spends most of its S3 CPU
// on besides SQLite — opening the stored object (inlinePlaintext: frame keys,
// AES-256-GCM) — from two builds, alternating, in one process: µs per call.
// Run: node dist/bench/s3/small-open.js <dist-of-A> <dist-of-B> [rounds] [calls]
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distA = 'dist', distB = 'dist', roundsArg = '7', callsArg = '20000'] = process.argv.slice(2);
type Open = (blobs: unknown[], keys: Buffer[], range: undefined, inline: Map<string, Uint8Array>, cache?: unknown) => Buffer | undefined;
interface Build {
  inlinePlaintext: Open;
  sealingBody: (keys: Buffer[]) => { all(p: Buffer): Buffer; finish(b: unknown, size: number): { enc: string } };
  cache: unknown;
}

async function load(dist: string): Promise<Build> {
  const sse = (await import(pathToFileURL(resolve(dist, 'src/services/s3/sse.js')).href)) as Build;
  const keys = (await import(pathToFileURL(resolve(dist, 'src/services/s3/sse-keys.js')).href)) as { FrameKeyCache?: new () => unknown };
  return { inlinePlaintext: sse.inlinePlaintext, sealingBody: sse.sealingBody, cache: keys.FrameKeyCache ? new keys.FrameKeyCache() : undefined };
}

const builds = { A: await load(distA), B: await load(distB) };
const dataKey = [randomBytes(32)];
const objects = Array.from({ length: 512 }, (_, i) => {
  const seal = builds.B.sealingBody(dataKey);
  const stored = seal.all(Buffer.alloc(4096, i));
  const blob = Object.assign(seal.finish({ id: `b${i}`, size: 4096, inline: true }, 4096), { id: `b${i}`, inline: true });
  return { blobs: [blob], inline: new Map([[`b${i}`, new Uint8Array(stored)]]) };
});
const calls = Number(callsArg);
function measure(b: Build): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const o = objects[i % 512] as (typeof objects)[number];
    const out = b.inlinePlaintext(o.blobs, dataKey, undefined, o.inline, b.cache);
    if (out?.length !== 4096) throw new Error('wrong plaintext');
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / calls;
}
measure(builds.A);
measure(builds.B);
console.log(`load ${loadavg().map((l) => l.toFixed(2)).join(' ')} · ${new Date().toISOString()} · ${calls} calls per measure`);
for (let r = 0; r < Number(roundsArg); r++) {
  const order = r % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const);
  console.log(`round ${r + 1}: ${order.map((n) => `${n} ${measure(builds[n]).toFixed(2)} µs`).join(' | ')}`);
}
