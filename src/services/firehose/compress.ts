/**
 * Object encodings by CompressionFormat. GZIP and ZIP use node:zlib (ZIP is
 * written here: one deflated entry, as Firehose's objects hold one file).
 * Snappy (framing format) and HADOOP_SNAPPY (block format) are written with
 * literal-only Snappy blocks: valid streams any Snappy reader decodes, though
 * not smaller (a real encoder would be npm `snappy` / `snappyjs`).
 */
import { promisify } from 'node:util';
import { deflateRaw, gzip } from 'node:zlib';
import { crc32 } from '@aws-crypto/crc32';
import { crc32c } from '@aws-crypto/crc32c';

const gzipAsync = promisify(gzip);
const deflateRawAsync = promisify(deflateRaw);

export async function compress(format: string | undefined, data: Buffer, entryName: string): Promise<Buffer> {
  switch (format ?? 'UNCOMPRESSED') {
    case 'GZIP':
      return gzipAsync(data);
    case 'ZIP':
      return zip(entryName, data);
    case 'Snappy':
      return snappyFramed(data);
    case 'HADOOP_SNAPPY':
      return hadoopSnappy(data);
    default:
      return data;
  }
}

async function zip(name: string, data: Buffer): Promise<Buffer> {
  const body = await deflateRawAsync(data);
  const fname = Buffer.from(name);
  const crc = crc32(data) >>> 0;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(0x0800, 6); // UTF-8 names
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fname.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0x0800, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fname.length, 28);
  const cdOffset = local.length + fname.length + body.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fname.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, fname, body, central, fname, end]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** A raw Snappy block made only of literals (≤ 64 KiB each element). */
export function snappyBlock(data: Buffer): Buffer {
  const parts: Buffer[] = [varint(data.length)];
  for (let off = 0; off < data.length; off += 65536) {
    const chunk = data.subarray(off, off + 65536);
    const n = chunk.length - 1;
    if (n < 60) parts.push(Buffer.from([n << 2]));
    else if (n < 256) parts.push(Buffer.from([60 << 2, n]));
    else parts.push(Buffer.from([61 << 2, n & 0xff, n >> 8]));
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

const mask = (c: number): number => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;

function snappyFramed(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 6, 0, 0, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59])];
  for (let off = 0; off < data.length; off += 65536) {
    const chunk = data.subarray(off, off + 65536);
    const block = snappyBlock(chunk);
    const head = Buffer.alloc(8);
    const len = block.length + 4;
    head.writeUInt8(0x00, 0);
    head.writeUIntLE(len, 1, 3);
    head.writeUInt32LE(mask(crc32c(chunk) >>> 0), 4);
    parts.push(head, block);
  }
  return Buffer.concat(parts);
}

function hadoopSnappy(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += 256 * 1024) {
    const chunk = data.subarray(off, off + 256 * 1024);
    const block = snappyBlock(chunk);
    const head = Buffer.alloc(8);
    head.writeUInt32BE(chunk.length, 0);
    head.writeUInt32BE(block.length, 4);
    parts.push(head, block);
  }
  return Buffer.concat(parts);
}
