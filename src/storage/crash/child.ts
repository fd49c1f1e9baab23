/**
 * Runs in a child process that the crash test SIGKILLs at a random point.
 * It prints a line for every write only after that write was acknowledged,
 * so every printed line is a promise the store must keep after the kill.
 *   m <n>               metadata tx n committed (it wrote pair/a/<n> and pair/b/<n>)
 *   b <id> <seed> <size> blob written
 *   l <n>               stream log entry n and its pointer row committed
 */
import { setImmediate as tick } from 'node:timers/promises';
import { openEmbeddedStores } from '../embedded.js';
import { BLOB_CHUNK, patternBytes } from './pattern.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: child.js <dataDir>');
const { metadata, blobs, streamLog } = await openEmbeddedStores(dataDir);
if (!streamLog) throw new Error('embedded stores come with a stream log');
const log = streamLog;

async function metadataWriter(): Promise<never> {
  for (;;) {
    const n = await metadata.write(async (tx) => {
      const next = (await tx.get<number>('counter', 'n')) ?? 0;
      // Two keys and a counter in one tx: after a crash all three agree or none changed.
      await tx.put('pair-a', String(next).padStart(8, '0'), next);
      await tx.put('pair-b', String(next).padStart(8, '0'), next);
      await tx.put('counter', 'n', next + 1);
      return next;
    });
    process.stdout.write(`m ${n}\n`);
  }
}

/** Like a Kinesis put: bytes appended to the log inside the transaction that commits their pointer. */
async function logWriter(worker: number): Promise<never> {
  for (let i = 0; ; i++) {
    const seed = 2_000_000 + worker * 1_000_000 + i;
    const size = 1 + ((seed * 7919) % (96 * 1024));
    await metadata.write(async (tx) => {
      await tx.put('log', String(seed), { p: log.append(`w${worker}`, patternBytes(seed, 0, size)), size });
    });
    process.stdout.write(`l ${seed}\n`);
  }
}

async function blobWriter(worker: number): Promise<never> {
  for (let i = 0; ; i++) {
    const seed = worker * 1_000_000 + i;
    const size = 64 * 1024 + ((seed * 7919) % (192 * 1024));
    const { id } = await blobs.write(
      (async function* () {
        for (let o = 0; o < size; o += BLOB_CHUNK) {
          yield patternBytes(seed, o, Math.min(BLOB_CHUNK, size - o));
          // Spread each write over several turns, so the kill lands mid-blob.
          await tick();
        }
      })(),
    );
    process.stdout.write(`b ${id} ${seed} ${size}\n`);
  }
}

await Promise.all([...Array.from({ length: 8 }, metadataWriter), ...Array.from({ length: 4 }, (_, w) => blobWriter(w)), ...Array.from({ length: 4 }, (_, w) => logWriter(w))]);
