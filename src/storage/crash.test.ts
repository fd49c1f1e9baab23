/**
 * SIGKILL a process that is busy writing, then check that every write it had
 * acknowledged is there and nothing is half-applied. A kill tests ordering and
 * atomicity (acknowledge only after commit, rename only after the bytes);
 * the page cache survives it, so it cannot show a missing fsync.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BLOB_CHUNK, patternBytes } from './crash/pattern.js';
import { openEmbeddedStores } from './embedded.js';
import type { LogPointer } from './ports.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'crash', 'child.js');

interface Acks {
  tx: number[];
  log: number[];
  blobs: Array<{ id: string; seed: number; size: number }>;
}

/** Runs the child until it acknowledged enough (or a deadline), then SIGKILLs it. */
async function runAndKill(dataDir: string, want: { tx: number; blobs: number; log: number }, deadlineMs: number): Promise<Acks> {
  const child = spawn(process.execPath, [CHILD, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acks: Acks = { tx: [], log: [], blobs: [] };
  let partial = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    // A line cut by the kill was never a complete acknowledgement.
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [kind, a, b, c] = line.split(' ');
      if (kind === 'm') acks.tx.push(Number(a));
      else if (kind === 'l') acks.log.push(Number(a));
      else if (kind === 'b') acks.blobs.push({ id: a as string, seed: Number(b), size: Number(c) });
    }
    if (acks.tx.length >= want.tx && acks.blobs.length >= want.blobs && acks.log.length >= want.log) child.kill('SIGKILL');
  });
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, null, 'the child must die by the signal, not exit on its own');
  return acks;
}

it('keeps every acknowledged write, whole, across SIGKILL', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hanul-crash-'));
  try {
    const acks = await runAndKill(dataDir, { tx: 400, blobs: 30, log: 200 }, 8000);
    assert.ok(acks.tx.length > 0 && acks.blobs.length > 0 && acks.log.length > 0, 'the child acknowledged nothing before the deadline');
    const leftovers = (await readdir(join(dataDir, 'blobs', 'tmp'))).length;

    const { metadata, blobs, streamLog } = await openEmbeddedStores(dataDir);
    try {
      assert.deepEqual(await readdir(join(dataDir, 'blobs', 'tmp')), [], 'cleanup() removes temp leftovers');
      const { n, a, b } = await metadata.read(async (tx) => ({
        n: (await tx.get<number>('counter', 'n')) ?? 0,
        a: await tx.scan<number>('pair-a'),
        b: await tx.scan<number>('pair-b'),
      }));
      // Atomic: the counter and both halves of every pair agree.
      assert.deepEqual(a.map((e) => e.value), Array.from({ length: n }, (_, i) => i));
      assert.deepEqual(b.map((e) => e.value), Array.from({ length: n }, (_, i) => i));
      // Durable: every acknowledged transaction is among them.
      assert.ok(Math.max(...acks.tx) < n, `acknowledged up to ${Math.max(...acks.tx)}, found ${n}`);

      for (const { id, seed, size } of acks.blobs) {
        assert.equal(await blobs.size(id), size, `blob ${id}`);
        const want = createHash('sha256');
        for (let o = 0; o < size; o += BLOB_CHUNK) want.update(patternBytes(seed, o, Math.min(BLOB_CHUNK, size - o)));
        const got = createHash('sha256');
        for await (const chunk of blobs.read(id)) got.update(chunk);
        assert.equal(got.digest('hex'), want.digest('hex'), `blob ${id} bytes`);
      }
      // Every committed pointer (acknowledged or not) names whole bytes; every acknowledged entry is there.
      const rows = await metadata.read((tx) => tx.scan<{ p: LogPointer; size: number }>('log'));
      const committed = new Set(rows.map((r) => Number(r.key)));
      for (const seed of acks.log) assert.ok(committed.has(seed), `log entry ${seed} acknowledged but not committed`);
      for (const { key, value } of rows) {
        const worker = Math.floor((Number(key) - 2_000_000) / 1_000_000);
        assert.ok(Buffer.from(streamLog?.read(`w${worker}`, value.p) ?? []).equals(patternBytes(Number(key), 0, value.size)), `log entry ${key} bytes`);
      }
      t.diagnostic(`killed after ${acks.tx.length} acknowledged tx (${n} committed), ${acks.blobs.length} blobs, ${acks.log.length} log entries (${rows.length} committed); ${leftovers} temp files left by the kill`);
    } finally {
      await metadata.close();
      await streamLog?.close();
      await blobs.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
