/**
 * Compression formats decoded by implementations other than the encoder:
 * hyparquet's pure-JS Snappy block decoder, CRC-32C from @aws-crypto, (ZIP: keys.test.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32c } from '@aws-crypto/crc32c';
import { snappyUncompress } from 'hyparquet';
import { compress, HADOOP_BLOCK } from './compress.js';

function sample(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) lines.push(JSON.stringify({ n: i, level: i % 3 ? 'info' : 'warn', msg: `request ${i} done` }));
  // Incompressible bytes too, so both literal and copy elements occur.
  return Buffer.concat([Buffer.from(lines.join('\n')), randomBytes(70_000)]);
}

function rawSnappy(block: Uint8Array): Buffer {
  let len = 0;
  let shift = 0;
  let i = 0;
  for (;;) {
    const b = block[i++] as number;
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  const out = new Uint8Array(len);
  snappyUncompress(block, out);
  return Buffer.from(out);
}

const unmask = (m: number): number => {
  const r = (m - 0xa282ead8) >>> 0;
  return ((r >>> 17) | (r << 15)) >>> 0;
};

describe('firehose compression formats', () => {
  const data = sample();

  it('Snappy is the framing format with checked CRC-32C chunks, and compresses', async () => {
    const out = await compress('Snappy', data, 'x');
    assert.ok(out.length < data.length * 0.8, `framed snappy ${out.length} of ${data.length}`);
    assert.deepEqual(out.subarray(0, 10), Buffer.from([0xff, 6, 0, 0, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]));
    const parts: Buffer[] = [];
    for (let off = 10; off < out.length; ) {
      const type = out[off] as number;
      const len = out.readUIntLE(off + 1, 3);
      const body = out.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      if (type !== 0 && type !== 1) continue;
      const chunk = type === 0 ? rawSnappy(body.subarray(4)) : Buffer.from(body.subarray(4));
      assert.ok(chunk.length <= 65536);
      assert.equal(unmask(body.readUInt32LE(0)), crc32c(chunk) >>> 0);
      parts.push(chunk);
    }
    assert.ok(Buffer.concat(parts).equals(data));
  });

  it('HADOOP_SNAPPY is Hadoop block format: <raw length><compressed length><raw snappy> per 256 KiB', async () => {
    const out = await compress('HADOOP_SNAPPY', data, 'x');
    assert.ok(out.length < data.length);
    const parts: Buffer[] = [];
    for (let off = 0; off < out.length; ) {
      const rawLen = out.readUInt32BE(off);
      const clen = out.readUInt32BE(off + 4);
      assert.ok(rawLen <= HADOOP_BLOCK);
      const chunk = rawSnappy(out.subarray(off + 8, off + 8 + clen));
      assert.equal(chunk.length, rawLen);
      parts.push(chunk);
      off += 8 + clen;
    }
    assert.ok(parts.length > 1, 'more than one block');
    assert.ok(Buffer.concat(parts).equals(data));
  });
});
