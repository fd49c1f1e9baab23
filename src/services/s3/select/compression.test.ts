import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { isAwsError } from '../../../aws/errors.js';
import { bunzip2, inflate, type Compression } from './compression.js';

/** The machine's bzip2, as users compress their objects. */
const bzip2 = (data: string | Buffer, level = 9): Buffer => execFileSync('/usr/bin/bzip2', [`-${level}`, '-c'], { input: data });

async function* pieces(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** Inflates `buf` fed in `size`-byte chunks: the plaintext that came out and the error code, if any. */
async function run(buf: Buffer, format: Compression = 'BZIP2', size = 7): Promise<{ text: string; code?: string }> {
  const out: Buffer[] = [];
  try {
    for await (const chunk of inflate(pieces(buf, size), format)) out.push(chunk);
  } catch (e) {
    if (!isAwsError(e)) throw e;
    return { text: Buffer.concat(out).toString(), code: e.code };
  }
  return { text: Buffer.concat(out).toString() };
}

describe('S3 Select BZIP2 input', () => {
  it('inflates a bzip2 file in any chunking, multi-block and concatenated (bzip2 / pbzip2) files included', async () => {
    const text = 'id,name\n1,Ada\n2,Linus\n';
    for (const size of [1, 5, 4096]) assert.deepEqual(await run(bzip2(text), 'BZIP2', size), { text });
    // -1: 100 kB blocks, so ~1.1 MB is a dozen blocks in one stream.
    const big = Array.from({ length: 40000 }, (_, i) => `${i},row ${i * 7919}\n`).join('').repeat(2);
    assert.ok(big.length > 1_000_000);
    const many = await run(bzip2(big, 1), 'BZIP2', 65536);
    assert.equal(many.code, undefined);
    assert.equal(many.text, big);
    const joined = Buffer.concat([bzip2('a,1\n'), bzip2('b,2\n'), bzip2(''), bzip2('c,3\n')]);
    assert.deepEqual(await run(joined, 'BZIP2', 3), { text: 'a,1\nb,2\nc,3\n' });
  });

  it('a bzip2 file of nothing reads as no data; an empty object is no bzip2 file (as for GZIP and `bzip2 -d`)', async () => {
    assert.deepEqual(await run(bzip2('')), { text: '' });
    assert.deepEqual(await run(Buffer.alloc(0)), { text: '', code: 'TruncatedInput' });
    assert.deepEqual(await run(Buffer.alloc(0), 'GZIP'), { text: '', code: 'TruncatedInput' });
    assert.deepEqual(await run(gzipSync('')), { text: '', code: 'TruncatedInput' });
    assert.deepEqual(await run(gzipSync(''), 'GZIP'), { text: '' });
  });

  it('a body that is not bzip2, truncated or damaged is TruncatedInput (after the blocks decoded before it), never a crash or a hang', async () => {
    assert.deepEqual(await run(Buffer.from('id,name\n1,Ada\n')), { text: '', code: 'TruncatedInput' });
    assert.deepEqual(await run(gzipSync('x\n')), { text: '', code: 'TruncatedInput' });
    assert.deepEqual(await run(Buffer.from('BZh9')), { text: '', code: 'TruncatedInput' });
    const one = bzip2('hello\n');
    // The end-of-stream CRC cut off: the block was whole and CRC-checked, so it came out.
    assert.deepEqual(await run(one.subarray(0, one.length - 3)), { text: 'hello\n', code: 'TruncatedInput' });
    assert.equal((await run(one.subarray(0, 20))).code, 'TruncatedInput');
    // Trailing garbage after the last stream.
    assert.deepEqual(await run(Buffer.concat([one, Buffer.from('junk')])), { text: 'hello\n', code: 'TruncatedInput' });
    // A damaged second stream: the first one's text, then the error.
    const second = bzip2('world\n');
    second[second.length - 12] = (second[second.length - 12] as number) ^ 0x10;
    assert.deepEqual(await run(Buffer.concat([one, second])), { text: 'hello\n', code: 'TruncatedInput' });
    // The same content as GZIP: the same code.
    assert.equal((await run(Buffer.from('not gzip'), 'GZIP')).code, 'TruncatedInput');
  });

  it('only CRC-checked blocks come out: a damaged later block leaves a clean prefix', async () => {
    const text = Array.from({ length: 30000 }, (_, i) => `${i},v${(i * 7919) % 100003}\n`).join('');
    const bz = bzip2(text, 1);
    for (const at of [bz.length - 2000, bz.length - 30000]) {
      const bad = Buffer.from(bz);
      bad[at] = (bad[at] as number) ^ 0x04;
      const r = await run(bad, 'BZIP2', 8192);
      assert.equal(r.code, 'TruncatedInput');
      assert.ok(r.text.length > 0 && r.text.length < text.length && text.startsWith(r.text), `${r.text.length} bytes out`);
    }
  });

  it('a block that expands ~1000× (a tiny crafted object) comes out in 64 KiB pieces, not as one', async () => {
    const zeros = bzip2(Buffer.alloc(10_000_000));
    assert.ok(zeros.length < 100);
    let total = 0;
    let max = 0;
    for await (const c of bunzip2(pieces(zeros, 16))) {
      total += c.length;
      max = Math.max(max, c.length);
      assert.ok(c.every((b) => b === 0));
    }
    assert.equal(total, 10_000_000);
    assert.ok(max <= 64 * 1024, `${max}`);
  });

  it('a file of many such blocks holds one block\'s output at a time, and a consumer that stops stops the decoding', async () => {
    // 40 streams of 45 MB of zeros each: 2 kB that would inflate to 1.8 GB, all of it in one final step.
    const one = bzip2(Buffer.alloc(45_000_000));
    const bomb = Buffer.concat(Array.from({ length: 40 }, () => one));
    assert.ok(bomb.length < 4000);
    const rss0 = process.memoryUsage().rss;
    let total = 0;
    let peak = 0;
    for await (const c of bunzip2(pieces(bomb, bomb.length))) {
      total += c.length;
      peak = Math.max(peak, process.memoryUsage().rss - rss0);
      if (total >= 100_000_000) break;
    }
    assert.ok(total >= 100_000_000);
    assert.ok(peak < 400_000_000, `RSS grew ${peak} bytes`);
  });

  it('random bit flips: every run ends, with the exact text or TruncatedInput; nothing escapes', async () => {
    const seen = new Set<string>();
    const onUncaught = (e: Error) => seen.add(`uncaught ${e.message}`);
    process.on('uncaughtException', onUncaught);
    try {
      const good = Buffer.concat([bzip2('a,b,c\n1,2,3\n'), bzip2('4,5,6\n')]);
      let seed = 42;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      for (let i = 0; i < 250; i++) {
        const bad = Buffer.from(good);
        const at = 4 + rand(bad.length - 4);
        bad[at] = (bad[at] as number) ^ (1 << rand(8));
        const r = await run(bad, 'BZIP2', 1 + rand(16));
        if (r.code === undefined) assert.equal(r.text, 'a,b,c\n1,2,3\n4,5,6\n');
        else assert.equal(r.code, 'TruncatedInput');
      }
      await tick();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    assert.deepEqual([...seen], []);
  });

  it('stops reading the body when the consumer stops', async () => {
    let read = 0;
    const big = bzip2(Array.from({ length: 200000 }, (_, i) => `${i},${(i * 7919) % 10007}\n`).join(''), 1);
    async function* body() {
      for (let i = 0; i < big.length; i += 1024) {
        read += 1024;
        yield big.subarray(i, i + 1024);
      }
    }
    for await (const chunk of bunzip2(body())) {
      assert.ok(chunk.length > 0);
      break;
    }
    assert.ok(read < big.length, `${read} of ${big.length}`);
  });
});
