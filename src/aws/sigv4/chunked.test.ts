/**
 * aws-chunked bodies built independently (seed signature from smithy, chunk
 * chain and trailers per the AWS documentation, see harness.ts), fed through
 * verifiedBody split at random boundaries.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { AwsCrc32 } from '@aws-crypto/crc32';
import { AwsCrc32c } from '@aws-crypto/crc32c';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import { Xxh3_128, Xxh3_64, Xxh64 } from '@aws-sdk/checksums/xxh';
import { authenticate, type SigV4Options } from './verify.js';
import { verifiedBody } from './payload.js';
import { crc32c } from '../../lib/crc.js';
import { drain, encodeChunked, lookupOf, principal, signingKey, smithySign, smithySigner, verifyAll } from './harness.js';

const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const T0 = new Date('2024-05-01T12:00:00Z');
const opts: SigV4Options = { lookup: lookupOf({ [AKID]: { secretAccessKey: SECRET, principal } }), now: T0, normalizePath: false };
const s3 = smithySigner({ service: 's3', s3: true });
const KEY = signingKey(SECRET, '20240501', 'us-east-1', 's3');
const SCOPE = '20240501/us-east-1/s3/aws4_request';

type Mode = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

async function signedView(mode: Mode, decodedLength: number | undefined, trailer?: string) {
  const headers: Record<string, string> = { 'x-amz-content-sha256': mode, 'content-encoding': 'aws-chunked' };
  if (decodedLength !== undefined) headers['x-amz-decoded-content-length'] = String(decodedLength);
  if (trailer) headers['x-amz-trailer'] = trailer;
  const view = await smithySign(s3, { method: 'PUT', path: '/bucket/key', headers }, T0);
  const seed = /Signature=([0-9a-f]{64})/.exec(view.headers.authorization as string)?.[1] as string;
  return { view, signing: { key: KEY, amzDate: view.headers['x-amz-date'] as string, scope: SCOPE, seed } };
}

async function checksumOf(algorithm: string, data: Buffer): Promise<string> {
  switch (algorithm) {
    case 'crc32': { const c = new AwsCrc32(); c.update(data); return Buffer.from(await c.digest()).toString('base64'); }
    case 'crc32c': { const c = new AwsCrc32c(); c.update(data); return Buffer.from(await c.digest()).toString('base64'); }
    case 'crc64nvme': { const c = new Crc64Nvme(); c.update(data); return Buffer.from(await c.digest()).toString('base64'); }
    case 'xxhash64': { const c = new Xxh64(); c.update(data); return Buffer.from(await c.digest()).toString('base64'); }
    case 'xxhash3': { const c = new Xxh3_64(); c.update(data); return Buffer.from(await c.digest()).toString('base64'); }
    case 'xxhash128': { const c = new Xxh3_128(); c.update(data); return Buffer.from(await c.digest()).toString('base64'); }
    default: return createHash(algorithm).update(data).digest('base64');
  }
}

const ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'md5', 'sha1', 'sha256', 'sha512', 'xxhash64', 'xxhash3', 'xxhash128'];
const data = randomBytes(5000);
const SEEDS = [0, 1, 2, 3];

describe('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', () => {
  it('decodes at any split (1-byte pieces, odd sizes) and checks every chunk', async () => {
    const { view, signing } = await signedView('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', data.length);
    const body = encodeChunked(data, 1024, { signing });
    const auth = await authenticate(view, opts);
    assert.equal(auth?.payload.mode, 'streaming-signed');
    for (const [seed, max] of [[0, 0], [1, 1], [2, 7], [3, 97], [4, 4096]] as const) {
      const res = await verifyAll(view, body.wire, opts, seed === 0 ? 0 : seed);
      if (max === 1) {
        const out = await drain(verifiedBody(Readable.from([...body.wire].map((b) => Buffer.from([b]))), auth, view.headers).body);
        assert.equal(out.failure, undefined);
        assert.deepEqual(out.data, data);
      }
      assert.equal(res.outcome, 'ok', `seed ${seed}`);
      assert.deepEqual(res.data, data);
    }
  });

  it('works for a 0-byte body', async () => {
    const { view, signing } = await signedView('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 0);
    const body = encodeChunked(Buffer.alloc(0), 1024, { signing });
    const res = await verifyAll(view, body.wire, opts, 1);
    assert.equal(res.outcome, 'ok');
    assert.equal(res.data?.length, 0);
  });

  it('fails a tampered data byte, chunk signature, framing, or length', async () => {
    const { view, signing } = await signedView('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', data.length);
    const body = encodeChunked(data, 1024, { signing });
    const tamper = (at: number, edit: (b: number) => number): Buffer => {
      const w = Buffer.from(body.wire);
      w[at] = edit(w[at] as number);
      return w;
    };
    const cases: Array<[string, Buffer, string]> = [
      ['data byte in chunk 2', tamper((body.dataAt[1] as number) + 17, (b) => b ^ 0x40), 'chunk-signature'],
      ['last data byte', tamper((body.dataAt[4] as number) + 903, (b) => b ^ 1), 'chunk-signature'],
      ['first chunk signature', tamper(body.signatureAt[0] as number, (b) => (b === 0x30 ? 0x31 : 0x30)), 'chunk-signature'],
      ['final chunk signature', tamper(body.signatureAt[5] as number, (b) => (b === 0x30 ? 0x31 : 0x30)), 'chunk-signature'],
      ['CR after data', tamper((body.dataAt[0] as number) + 1024, () => 0x78), 'chunk-invalid'],
      ['LF after data', tamper((body.dataAt[0] as number) + 1025, () => 0x78), 'chunk-invalid'],
      ['non-hex size', tamper(0, () => 0x7a), 'chunk-invalid'],
      ['truncated mid-data', body.wire.subarray(0, (body.dataAt[2] as number) + 100), 'body-truncated'],
      ['truncated before the final chunk', body.wire.subarray(0, body.signatureAt[5]), 'body-truncated'],
      ['truncated mid-size-line', body.wire.subarray(0, (body.signatureAt[3] as number) - 5), 'body-truncated'],
      ['data after the end', Buffer.concat([body.wire, Buffer.from('0\r\n')]), 'chunk-invalid'],
      ['endless size line', Buffer.concat([Buffer.from('4'.repeat(200)), body.wire]), 'chunk-invalid'],
    ];
    for (const [what, wire, expected] of cases) {
      for (const seed of SEEDS) assert.equal((await verifyAll(view, wire, opts, seed)).outcome, expected, `${what} (seed ${seed})`);
    }
    // A different chunking of the same data carries other signatures: still valid.
    assert.equal((await verifyAll(view, encodeChunked(data, 333, { signing }).wire, opts, 1)).outcome, 'ok');
    // The seed is the request signature: chunks signed from another seed fail.
    const other = encodeChunked(data, 1024, { signing: { ...signing, seed: '0'.repeat(64) } });
    assert.equal((await verifyAll(view, other.wire, opts, 1)).outcome, 'chunk-signature');
  });

  it('enforces x-amz-decoded-content-length both ways', async () => {
    for (const declared of [data.length - 1, data.length + 1, 0]) {
      const { view, signing } = await signedView('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', declared);
      const body = encodeChunked(data, 1024, { signing });
      assert.equal((await verifyAll(view, body.wire, opts, 2)).outcome, 'decoded-length-mismatch', String(declared));
    }
  });

  it('errors without hanging when the raw stream breaks', async () => {
    const { view, signing } = await signedView('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', data.length);
    const body = encodeChunked(data, 1024, { signing });
    const auth = await authenticate(view, opts);
    const raw = new Readable({ read() {} });
    raw.push(body.wire.subarray(0, 3000));
    setImmediate(() => raw.destroy(new Error('socket reset')));
    const out = await drain(verifiedBody(raw, auth, view.headers).body);
    assert.equal(out.failure?.kind, 'body-truncated');
  });
});

describe('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', () => {
  for (const algorithm of ALGORITHMS) {
    it(`verifies the trailer signature and the ${algorithm} trailer`, async () => {
      const name = `x-amz-checksum-${algorithm}`;
      const { view, signing } = await signedView('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', data.length, name);
      const good = await checksumOf(algorithm, data);
      const body = encodeChunked(data, 1500, { signing, trailers: { [name]: good } });
      for (const seed of SEEDS) {
        const res = await verifyAll(view, body.wire, opts, seed);
        assert.equal(res.outcome, 'ok');
        assert.deepEqual(res.data, data);
        assert.deepEqual(res.trailers, { [name]: good });
      }
      const wrong = await checksumOf(algorithm, Buffer.concat([data, Buffer.from('!')]));
      const bad = encodeChunked(data, 1500, { signing, trailers: { [name]: wrong } });
      assert.equal((await verifyAll(view, bad.wire, opts, 1)).outcome, 'checksum-mismatch');
    });
  }

  it('fails a tampered or missing trailer signature and trailers that were not announced', async () => {
    const name = 'x-amz-checksum-crc32';
    const { view, signing } = await signedView('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', data.length, name);
    const trailers = { [name]: await checksumOf('crc32', data) };
    const body = encodeChunked(data, 2048, { signing, trailers });
    const w = Buffer.from(body.wire);
    const at = body.signatureAt[body.signatureAt.length - 1] as number;
    w[at] = w[at] === 0x30 ? 0x31 : 0x30;
    assert.equal((await verifyAll(view, w, opts, 1)).outcome, 'chunk-signature');
    const unsignedTrailers = Buffer.from(body.wire.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
    assert.equal((await verifyAll(view, unsignedTrailers, opts, 1)).outcome, 'chunk-signature');
    const extra = encodeChunked(data, 2048, { signing, trailers: { ...trailers, 'x-amz-checksum-sha1': await checksumOf('sha1', data) } });
    assert.equal((await verifyAll(view, extra.wire, opts, 1)).outcome, 'trailer-invalid');
    const missing = encodeChunked(data, 2048, { signing, trailers: {} });
    assert.equal((await verifyAll(view, missing.wire, opts, 1)).outcome, 'trailer-invalid');
    assert.equal((await verifyAll(view, body.wire.subarray(0, body.wire.length - 60), opts, 1)).outcome, 'body-truncated');
  });
});

describe('STREAMING-UNSIGNED-PAYLOAD-TRAILER', () => {
  for (const algorithm of ALGORITHMS) {
    it(`checks the ${algorithm} trailer`, async () => {
      const name = `x-amz-checksum-${algorithm}`;
      const { view } = await signedView('STREAMING-UNSIGNED-PAYLOAD-TRAILER', data.length, name);
      const body = encodeChunked(data, 777, { trailers: { [name]: await checksumOf(algorithm, data) } });
      for (const seed of SEEDS) {
        const res = await verifyAll(view, body.wire, opts, seed);
        assert.equal(res.outcome, 'ok');
        assert.deepEqual(res.data, data);
      }
      const flipped = Buffer.from(body.wire);
      flipped[10] = (flipped[10] as number) ^ 1;
      assert.equal((await verifyAll(view, flipped, opts, 2)).outcome, 'checksum-mismatch');
      const wrong = encodeChunked(data, 777, { trailers: { [name]: await checksumOf(algorithm, Buffer.alloc(1)) } });
      assert.equal((await verifyAll(view, wrong.wire, opts, 2)).outcome, 'checksum-mismatch');
    });
  }

  it('accepts the SDK ending (0\\r\\n and no trailers), rejects unsupported or missing trailers', async () => {
    const { view } = await signedView('STREAMING-UNSIGNED-PAYLOAD-TRAILER', 3);
    assert.equal((await verifyAll(view, Buffer.from('3\r\nabc\r\n0\r\n'), opts, 1)).outcome, 'ok');
    assert.equal((await verifyAll(view, Buffer.from('3\r\nabc\r\n0\r\n\r\n'), opts, 1)).outcome, 'ok');
    assert.equal((await verifyAll(view, Buffer.from('3\r\nabc\r\n'), opts, 1)).outcome, 'body-truncated');
    assert.equal((await verifyAll(view, Buffer.from('3;chunk-signature=00\r\nabc\r\n0\r\n'), opts, 1)).outcome, 'chunk-invalid');
    const unknown = await signedView('STREAMING-UNSIGNED-PAYLOAD-TRAILER', 3, 'x-amz-checksum-blake3');
    assert.equal((await verifyAll(unknown.view, Buffer.from('3\r\nabc\r\n0\r\n'), opts, 1)).outcome, 'trailer-invalid');
    const announced = await signedView('STREAMING-UNSIGNED-PAYLOAD-TRAILER', 3, 'x-amz-checksum-crc32');
    assert.equal((await verifyAll(announced.view, Buffer.from('3\r\nabc\r\n0\r\n'), opts, 1)).outcome, 'trailer-invalid');
    assert.equal((await verifyAll(announced.view, Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32\r\n\r\n'), opts, 1)).outcome, 'trailer-invalid');
  });

  it('decodes anonymous uploads (no Authorization) too', async () => {
    const headers = { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-trailer': 'x-amz-checksum-crc32c' };
    const body = encodeChunked(data, 4096, { trailers: { 'x-amz-checksum-crc32c': await checksumOf('crc32c', data) } });
    const view = { method: 'PUT', rawPath: '/b/k', rawQuery: '', headers };
    const res = await verifyAll(view, body.wire, opts, 3);
    assert.equal(res.outcome, 'anonymous');
    assert.deepEqual(res.data, data);
    const signedWithoutAuth = { ...view, headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' } };
    assert.equal((await verifyAll(signedWithoutAuth, body.wire, opts)).outcome, 'missing-auth');
  });
});

describe('checksums and throughput', () => {
  it('computes CRC-32C like @aws-crypto/crc32c across any split', async () => {
    for (const n of [0, 1, 7, 8, 9, 63, 1000, 65537]) {
      const buf = randomBytes(n);
      let crc = 0;
      for (let i = 0; i < n; i += 13) crc = crc32c(buf.subarray(i, i + 13), crc);
      const ref = new AwsCrc32c();
      ref.update(buf);
      assert.equal(crc, Buffer.from(await ref.digest()).readUInt32BE(0), String(n));
    }
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });

  it('decodes a signed 64 MiB upload in 64 KiB chunks at a usable rate', async (t) => {
    const big = randomBytes(64 << 20);
    const { view, signing } = await signedView('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', big.length);
    const wire = encodeChunked(big, 64 << 10, { signing }).wire;
    const auth = await authenticate(view, opts);
    const pieces: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 65536) pieces.push(wire.subarray(i, i + 65536));
    // CPU time, not wall time: on a loaded machine the wall clock measures the scheduler.
    const started = process.cpuUsage();
    let n = 0;
    for await (const c of verifiedBody(Readable.from(pieces), auth, view.headers).body) n += (c as Buffer).length;
    const used = process.cpuUsage(started);
    const seconds = (used.user + used.system) / 1e6;
    assert.equal(n, big.length);
    const mbps = big.length / 1e6 / seconds;
    t.diagnostic(`signed aws-chunked decode: ${mbps.toFixed(0)} MB per CPU second`);
    // A floor that only catches a pathological slowdown; the real figure is measured in bench, not asserted on a shared machine.
    assert.ok(mbps > 20, `${mbps.toFixed(0)} MB/s`);
  });
});
