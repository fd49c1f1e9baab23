import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BufferedFileWriter } from './buffered-writer.js';

describe('BufferedFileWriter', () => {
  it('writes every byte in order, whatever the chunking', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-bw-'));
    try {
      for (const sizes of [[], [1], [4096], [65536, 1], [1 << 20, 1 << 20, 3], [700_000, 900_000, 1_500_000, 10], Array(300).fill(33_333)]) {
        const data = randomBytes(sizes.reduce((a, b) => a + b, 0));
        const fh = await open(join(dir, 'f'), 'w');
        const w = new BufferedFileWriter(() => Promise.resolve(fh));
        let o = 0;
        for (const n of sizes) {
          // Hand over a reused buffer: the writer must have copied what it keeps.
          const chunk = Buffer.from(data.subarray(o, o + n));
          await w.push(chunk);
          chunk.fill(0);
          o += n;
        }
        assert.equal(await w.finish(), fh);
        await fh.close();
        assert.deepEqual(await readFile(join(dir, 'f')), data, JSON.stringify(sizes.slice(0, 4)));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens the file only once the bytes call for it (64 KiB, or at finish), and not at all when given up before', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-bw-'));
    try {
      let opens = 0;
      const opener = (name: string) => () => {
        opens++;
        return open(join(dir, name), 'wx');
      };
      // A trickle that is given up: no file was ever made.
      opens = 0;
      let w = new BufferedFileWriter(opener('trickle'));
      for (let i = 0; i < 100; i++) await w.push(Buffer.from('x'));
      assert.equal(opens, 0);
      assert.equal(await w.settle(), undefined);
      assert.deepEqual(await readdir(dir), []);
      // A small blob: opened at finish, every byte there.
      w = new BufferedFileWriter(opener('small'));
      await w.push(Buffer.from('hello'));
      assert.equal(opens, 0);
      const fh = await w.finish();
      assert.equal(opens, 1);
      await fh.close();
      assert.equal(await readFile(join(dir, 'small'), 'utf8'), 'hello');
      // Past 64 KiB: opened while the bytes still come, once.
      opens = 0;
      w = new BufferedFileWriter(opener('big'));
      for (let i = 0; i < 17; i++) await w.push(Buffer.alloc(4096, i));
      assert.equal(opens, 1);
      const opened = await w.settle();
      assert.ok(opened);
      await opened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a failed open from the write that needed it', async () => {
    const w = new BufferedFileWriter(() => Promise.reject(Object.assign(new Error('no'), { code: 'EACCES' })));
    await w.push(Buffer.from('abc'));
    await assert.rejects(w.finish(), { code: 'EACCES' });
    assert.equal(await w.settle(), undefined);
  });

  it('reports a failed write, including the last one (ENOSPC)', { skip: !existsSync('/dev/full') }, async () => {
    for (const size of [10, 3 * 1024 * 1024]) {
      const fh = await open('/dev/full', 'w');
      try {
        const w = new BufferedFileWriter(() => Promise.resolve(fh));
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
