import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BufferedFileWriter } from './buffered-writer.js';

describe('BufferedFileWriter', () => {
  it('writes every byte in order, whatever the chunking', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-bw-'));
    try {
      for (const sizes of [[1], [4096], [65536, 1], [1 << 20, 1 << 20, 3], [700_000, 900_000, 1_500_000, 10], Array(300).fill(33_333)]) {
        const data = randomBytes(sizes.reduce((a, b) => a + b, 0));
        const fh = await open(join(dir, 'f'), 'w');
        const w = new BufferedFileWriter(fh);
        let o = 0;
        for (const n of sizes) {
          // Hand over a reused buffer: the writer must have copied what it keeps.
          const chunk = Buffer.from(data.subarray(o, o + n));
          await w.push(chunk);
          chunk.fill(0);
          o += n;
        }
        await w.finish();
        await fh.close();
        assert.deepEqual(await readFile(join(dir, 'f')), data, JSON.stringify(sizes.slice(0, 4)));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a failed write, including the last one (ENOSPC)', { skip: !existsSync('/dev/full') }, async () => {
    for (const size of [10, 3 * 1024 * 1024]) {
      const fh = await open('/dev/full', 'w');
      try {
        const w = new BufferedFileWriter(fh);
        await assert.rejects(
          (async () => {
            await w.push(Buffer.alloc(size));
            await w.finish();
          })(),
          { code: 'ENOSPC' },
        );
        await w.settle();
      } finally {
        await fh.close();
      }
    }
  });
});
