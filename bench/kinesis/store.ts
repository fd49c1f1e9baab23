/**
 * The SQLite metadata store alone, under the commits a Kinesis write makes:
 * a PutRecords of 500 × 1 KiB records over 4 shards is one transaction of 4
 * record chunks (~128 KiB each) and 4 shard counters. For contrast, a
 * one-row commit (~300 B, an S3-metadata-sized value). 8 writers in flight,
 * as the Kinesis bench. Prints this process's CPU (user + system, µs) per
 * commit for each page size, the sizes interleaved round by round so they
 * share the machine's load.
 *
 * Usage: node dist/bench/kinesis/store.js [rounds=3] [pageBytes[/walCheckpointBytes],…=4096,16384]
 * (e.g. 16384/16384000: 16 KiB pages, checkpoint at 1,000 pages).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteMetadataStore } from '../../src/storage/sqlite/metadata-store.js';
import type { MetadataStore } from '../../src/storage/ports.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const SIZES = (process.argv[3] ?? '4096,16384').split(',');
const IN_FLIGHT = 8;
const SHAPES = {
  kinesis: { commits: 400, chunk: randomBytes(128 * 1024) },
  small: { commits: 5000, value: { size: 300, etag: 'e'.repeat(32), body: randomBytes(300) } },
};

async function commit(store: MetadataStore, shape: keyof typeof SHAPES, i: number): Promise<void> {
  if (shape === 'kinesis') {
    await store.write(async (tx) => {
      for (let s = 0; s < 4; s++) {
        await tx.put(`kinesis:r/stream/${s}`, (i * 500).toString(16).padStart(14, '0'), SHAPES.kinesis.chunk);
        await tx.put('kinesis:seq', `stream/${s}`, { next: (i + 1) * 500, lastMs: Date.now() });
      }
    });
  } else {
    await store.write((tx) => tx.put('s3:object', `bucket/key-${(i * 7919) % 100_000}`, SHAPES.small.value));
  }
}

async function measure(shape: keyof typeof SHAPES, size: string): Promise<{ user: number; sys: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'hanul-bench-store-'));
  const [pages, ckpt] = size.split('/');
  const pageBytes = Number(pages);
  const store = await openSqliteMetadataStore(join(dir, 'metadata.sqlite'), ckpt === undefined ? { pageBytes } : { pageBytes, walCheckpointBytes: Number(ckpt) });
  try {
    for (let i = 0; i < 20; i++) await commit(store, shape, 1_000_000 + i); // warm-up
    const n = SHAPES[shape].commits;
    let next = 0;
    const c0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < n) await commit(store, shape, next++);
      }),
    );
    const c = process.cpuUsage(c0);
    return { user: c.user / n, sys: c.system / n };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (let r = 1; r <= ROUNDS; r++) {
    for (const shape of ['kinesis', 'small'] as const) {
      for (const size of SIZES) {
        const m = await measure(shape, size);
        console.log(`round ${r} ${shape.padEnd(7)} page ${size.padStart(5)}: ${(m.user + m.sys).toFixed(1)} µs CPU per commit (user ${m.user.toFixed(1)}, system ${m.sys.toFixed(1)})`);
      }
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
