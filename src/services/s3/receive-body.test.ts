import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { RequestContext } from '../../server/context.js';
import { isAwsError } from '../../aws/errors.js';
import { checksumRequest, INLINE_MAX_BYTES, receiveBody, type ReceiveOptions } from './receive-body.js';
import { digestOf } from './checksums.js';
import type { S3 } from './state.js';

// Small bodies never touch the blob store; a discarded blob would land in the reaper.
const s3 = { reaper: { discard() {} } } as unknown as S3;
const ctx = { signal: new AbortController().signal } as RequestContext;
const opts = (declared: number): ReceiveOptions => ({
  declared,
  inlineMax: INLINE_MAX_BYTES,
  maxBytes: 1024 * 1024,
  checksum: { algorithm: undefined, value: undefined, trailer: undefined },
  extraAlgorithms: ['CRC64NVME'],
  contentMd5Hex: undefined,
});

/** A request body as the pipeline hands it over: paused, with a byte-counting 'data' listener. */
function pausedBody(): { body: PassThrough; counted: () => number } {
  const body = new PassThrough();
  let n = 0;
  body.pause();
  body.on('data', (c: Buffer) => (n += c.length));
  return { body, counted: () => n };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isAwsError(e) ? e.code : (e as { code?: string }).code ?? (e as Error).message;
  }
  return 'resolved';
}

describe('receiveBody: small bodies', () => {
  it('reads a paused body whole (bytes written before and after the read starts), hashes it, and the counter sees every byte', async () => {
    const data = randomBytes(5000);
    const { body, counted } = pausedBody();
    body.write(data.subarray(0, 1000));
    const got = receiveBody(s3, ctx, body, opts(data.length));
    setImmediate(() => {
      body.write(data.subarray(1000, 3000));
      body.end(data.subarray(3000));
    });
    const r = await got;
    assert.ok(r.data?.equals(data));
    assert.equal(r.blob.inline, true);
    assert.equal(r.digests.md5Hex, createHash('md5').update(data).digest('hex'));
    assert.equal(r.digests.size, data.length);
    assert.equal(counted(), data.length);
  });

  it('reads an untouched stream and a non-Readable iterable the same way', async () => {
    const data = randomBytes(100);
    const a = await receiveBody(s3, ctx, Readable.from([data.subarray(0, 50), data.subarray(50)], { objectMode: false }), opts(100));
    const b = await receiveBody(s3, ctx, (async function* () { yield data; })(), opts(100));
    assert.ok(a.data?.equals(data));
    assert.ok(b.data?.equals(data));
  });

  it('more or fewer bytes than declared are IncompleteBody; a failed or cut stream rejects', async () => {
    const long = pausedBody();
    const p1 = receiveBody(s3, ctx, long.body, opts(10));
    long.body.end(Buffer.alloc(11));
    assert.equal(await code(p1), 'IncompleteBody');
    assert.equal(long.body.destroyed, true);

    const short = pausedBody();
    const p2 = receiveBody(s3, ctx, short.body, opts(10));
    short.body.end(Buffer.alloc(9));
    assert.equal(await code(p2), 'IncompleteBody');

    const failed = pausedBody();
    const p3 = receiveBody(s3, ctx, failed.body, opts(10));
    failed.body.write(Buffer.alloc(3));
    failed.body.destroy(Object.assign(new Error('boom'), { code: 'EBOOM' }));
    assert.equal(await code(p3), 'EBOOM');

    const cut = pausedBody();
    const p4 = receiveBody(s3, ctx, cut.body, opts(10));
    cut.body.write(Buffer.alloc(3));
    cut.body.destroy();
    assert.equal(await code(p4), 'ERR_STREAM_PREMATURE_CLOSE');

    const gone = pausedBody();
    gone.body.destroy();
    assert.equal(await code(receiveBody(s3, ctx, gone.body, opts(10))), 'ERR_STREAM_PREMATURE_CLOSE');
  });
});

describe('receiveBody: where a checksum comes from', () => {
  const data = randomBytes(3000);
  const md5 = createHash('md5').update(data).digest('base64');

  it('reads x-amz-checksum-* for every algorithm, and the JavaScript SDK’s MD5 from Content-MD5 or a content-md5 trailer', () => {
    const x = checksumRequest({ 'x-amz-checksum-xxhash3': 'AAAAAAAAAAA=' }, 'XXHASH3');
    assert.deepEqual(x, { algorithm: 'XXHASH3', value: 'AAAAAAAAAAA=', trailer: undefined });
    assert.deepEqual(checksumRequest({ 'content-md5': md5 }, 'MD5'), { algorithm: 'MD5', value: md5, trailer: undefined });
    assert.deepEqual(checksumRequest({ 'x-amz-trailer': 'content-md5' }, 'MD5'), { algorithm: 'MD5', value: undefined, trailer: 'content-md5' });
    assert.deepEqual(checksumRequest({ 'x-amz-trailer': 'x-amz-checksum-sha512' }, 'SHA512'), { algorithm: 'SHA512', value: undefined, trailer: 'x-amz-checksum-sha512' });
    // Content-MD5 alone is no checksum request; an MD5 algorithm with nothing to carry it is refused.
    assert.deepEqual(checksumRequest({ 'content-md5': md5 }, undefined), { algorithm: undefined, value: undefined, trailer: undefined });
    assert.throws(() => checksumRequest({}, 'MD5'), (e: unknown) => isAwsError(e) && e.code === 'InvalidRequest');
    assert.throws(() => checksumRequest({ 'x-amz-checksum-xxhash64': 'AAAA' }, undefined), (e: unknown) => isAwsError(e) && e.code === 'InvalidRequest');
    assert.throws(() => checksumRequest({ 'x-amz-checksum-xxhash64': 'AAAAAAAAAAA=', 'x-amz-checksum-md5': md5 }, undefined), (e: unknown) => isAwsError(e) && e.code === 'InvalidRequest');
  });

  it('a content-md5 trailer is checked here (BadDigest); an x-amz-checksum-* trailer, verified by the aws-chunked decoder, is taken as sent', async () => {
    const withTrailer = (trailer: string, value: string, algorithm: 'MD5' | 'XXHASH64'): ReceiveOptions => ({
      ...opts(data.length),
      checksum: { algorithm, value: undefined, trailer },
      trailers: () => ({ [trailer]: value }),
    });
    const good = await receiveBody(s3, ctx, Readable.from([data]), withTrailer('content-md5', md5, 'MD5'));
    assert.equal(good.digests.checksums.MD5, md5);
    const wrong = createHash('md5').update('x').digest('base64');
    assert.equal(await code(receiveBody(s3, ctx, Readable.from([data]), withTrailer('content-md5', wrong, 'MD5'))), 'BadDigest');
    const xxh = await digestOf('XXHASH64', data);
    const taken = await receiveBody(s3, ctx, Readable.from([data]), withTrailer('x-amz-checksum-xxhash64', xxh, 'XXHASH64'));
    assert.equal(taken.digests.checksums.XXHASH64, xxh);
    assert.equal(await code(receiveBody(s3, ctx, Readable.from([data]), withTrailer('x-amz-checksum-xxhash64', 'short', 'XXHASH64'))), 'InvalidRequest');
  });

  it('a header value is checked against the body (BadDigest), and MD5 is the ETag’s MD5', async () => {
    const withHeader = (algorithm: 'MD5' | 'XXHASH128', value: string): ReceiveOptions => ({ ...opts(data.length), checksum: { algorithm, value, trailer: undefined } });
    const r = await receiveBody(s3, ctx, Readable.from([data]), withHeader('MD5', md5));
    assert.equal(Buffer.from(r.digests.checksums.MD5 as string, 'base64').toString('hex'), r.digests.md5Hex);
    const x = await digestOf('XXHASH128', data);
    assert.equal((await receiveBody(s3, ctx, Readable.from([data]), withHeader('XXHASH128', x))).digests.checksums.XXHASH128, x);
    assert.equal(await code(receiveBody(s3, ctx, Readable.from([data]), withHeader('XXHASH128', await digestOf('XXHASH128', Buffer.alloc(1))))), 'BadDigest');
  });
});
