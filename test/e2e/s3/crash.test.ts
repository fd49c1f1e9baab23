/**
 * Durability: hanul runs as a child process; PUTs and multipart uploads
 * stream into it concurrently; it is killed with SIGKILL mid-way and started
 * again on the same data dir. Every acknowledged object must read back
 * byte-identical with its ETag and checksum; no listed object may have lost
 * its bytes; no temp file may remain.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { spawnHanul, TEST_KEY, TEST_REGION, waitFor, type SpawnedServer } from '../../support/hanul.js';

const MiB = 1024 * 1024;

/** The bytes of `key` are a pure function of it, so anything listed can be checked. */
function contentOf(key: string, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (let i = 0; off < size; i++) {
    const block = createHash('sha256').update(`${key}#${i}`).digest();
    off += block.copy(out, off, 0, Math.min(32, size - off));
  }
  return out;
}

function sizeOf(key: string): number {
  // 0 B .. ~1.5 MiB, some exactly 0 and some tiny.
  const h = createHash('md5').update(key).digest().readUInt32BE(0);
  return h % 7 === 0 ? 0 : h % (1.5 * MiB);
}

function client(server: SpawnedServer): S3Client {
  return new S3Client({ endpoint: server.endpoint, region: TEST_REGION, credentials: TEST_KEY, forcePathStyle: true, maxAttempts: 1 });
}

interface Acked {
  key: string;
  etag: string;
  crc32: string | undefined;
  sha256: string;
}

describe('s3 e2e: kill -9 mid-write', () => {
  it('keeps every acknowledged object whole and nothing half-written', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hanul-s3-crash-'));
    const Bucket = 'crash';
    let server = await spawnHanul({ dataDir });
    let s3 = client(server);
    const acked: Acked[] = [];
    try {
      await s3.send(new CreateBucketCommand({ Bucket }));
      let stop = false;
      let n = 0;
      const putter = async (w: number) => {
        while (!stop) {
          const key = `put/${w}/${n++}`;
          const body = contentOf(key, sizeOf(key));
          try {
            // A stream of unknown size: aws-chunked with a CRC32 trailer.
            const out = await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: Readable.from([body.subarray(0, body.length >> 1), body.subarray(body.length >> 1)]), ContentLength: body.length }));
            acked.push({ key, etag: out.ETag as string, crc32: out.ChecksumCRC32, sha256: createHash('sha256').update(body).digest('hex') });
          } catch {
            return; // the server went away
          }
        }
      };
      const multipart = async (w: number) => {
        while (!stop) {
          const key = `mpu/${w}/${n++}`;
          const parts = [contentOf(`${key}/1`, 5 * MiB), contentOf(`${key}/2`, 123_456)];
          try {
            const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
            const etags: string[] = [];
            for (const [i, p] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: i + 1, Body: p }))).ETag as string);
            const out = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
            acked.push({ key, etag: out.ETag as string, crc32: undefined, sha256: createHash('sha256').update(Buffer.concat(parts)).digest('hex') });
          } catch {
            return;
          }
        }
      };
      const workers = [...[0, 1, 2, 3, 4, 5].map(putter), ...[0, 1].map(multipart)];
      await waitFor(() => acked.length >= 40 && acked.some((a) => a.key.startsWith('mpu/')), { timeoutMs: 60_000, what: 'acknowledged writes' });
      const before = acked.length;
      await server.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      s3.destroy();
      assert.ok(acked.length >= before);

      server = await spawnHanul({ dataDir });
      s3 = client(server);
      // Every acknowledged object: the same bytes, ETag and checksum.
      for (const a of acked) {
        const got = await s3.send(new GetObjectCommand({ Bucket, Key: a.key, ChecksumMode: 'ENABLED' }));
        const bytes = Buffer.from(await got.Body!.transformToByteArray());
        assert.equal(createHash('sha256').update(bytes).digest('hex'), a.sha256, a.key);
        assert.equal(got.ETag, a.etag, a.key);
        if (a.crc32 !== undefined) assert.equal(got.ChecksumCRC32, a.crc32, a.key);
      }
      // Everything listed (acknowledged or not) is whole.
      let token: string | undefined;
      let listed = 0;
      do {
        const page: ListObjectsV2CommandOutput = await s3.send(new ListObjectsV2Command({ Bucket, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          const key = o.Key as string;
          const expected = key.startsWith('mpu/') ? Buffer.concat([contentOf(`${key}/1`, 5 * MiB), contentOf(`${key}/2`, 123_456)]) : contentOf(key, sizeOf(key));
          const got = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
          const bytes = Buffer.from(await got.Body!.transformToByteArray());
          assert.equal(bytes.length, o.Size, key);
          assert.ok(bytes.equals(expected), key);
          listed++;
        }
        token = page.NextContinuationToken;
      } while (token);
      assert.ok(listed >= acked.length);
      // The restart removed what the crash left half-written.
      assert.deepEqual(await readdir(join(dataDir, 'blobs', 'tmp')), []);
    } finally {
      s3.destroy();
      await server.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
