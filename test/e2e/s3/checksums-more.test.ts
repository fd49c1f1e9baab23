/**
 * S3's newer checksum algorithms (MD5, SHA512, XXHASH64, XXHASH3, XXHASH128) through the
 * real server and the real @aws-sdk/client-s3. The client computes MD5 itself; for the
 * others it needs the implementations handed to its constructor (`checksumAlgorithms`),
 * here the SDK's own classes — what a user of these algorithms has to do.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Sha512 } from '@aws-sdk/checksums/sha';
import { Xxh3_128, Xxh3_64, Xxh64 } from '@aws-sdk/checksums/xxh';
import { failure, signS3, startHanul, type TestServer } from '../../support/hanul.js';
import { hasBoto3, runCmd, startRig, type ClientRig } from '../s3-clients/helpers.js';

const IMPLS = { SHA512: Sha512, XXHASH64: Xxh64, XXHASH3: Xxh3_64, XXHASH128: Xxh3_128 };
const NEW = ['MD5', 'SHA512', 'XXHASH64', 'XXHASH3', 'XXHASH128'] as const;
type NewAlgorithm = (typeof NEW)[number];

async function digest(alg: NewAlgorithm, data: Uint8Array): Promise<string> {
  if (alg === 'MD5') return createHash('md5').update(data).digest('base64');
  const c = new IMPLS[alg]();
  c.update(data);
  return Buffer.from(await c.digest()).toString('base64');
}

const member = (alg: NewAlgorithm) => `Checksum${alg}` as const;
const valueOf = (o: object, alg: NewAlgorithm): unknown => (o as Record<string, unknown>)[member(alg)];

describe('s3 e2e: MD5, SHA512 and the xxHash checksums through the real SDK', () => {
  let server: TestServer;
  let s3: S3Client;
  let dataDir = '';
  const Bucket = 'e2e-checksums-more';
  const client = () => new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1, checksumAlgorithms: { ...IMPLS } });
  const small = randomBytes(200_000);
  /** Two parts: 5 MiB + a tail. */
  const part1 = randomBytes(5 * 1024 * 1024);
  const part2 = randomBytes(300_000);

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hanul-checksums-'));
    server = await startHanul({ dataDir });
    s3 = client();
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => {
    s3.destroy();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('PutObject: the SDK computes each algorithm (header for a buffer, aws-chunked trailer for a stream); GET/HEAD return it with ChecksumMode ENABLED', async () => {
    for (const alg of NEW) {
      const want = await digest(alg, small);
      const put = await s3.send(new PutObjectCommand({ Bucket, Key: `put-${alg}`, Body: small, ChecksumAlgorithm: alg }));
      assert.equal(valueOf(put, alg), want, alg);
      assert.equal(put.ChecksumType, 'FULL_OBJECT');

      // A stream of known length goes aws-chunked with the checksum in a trailer.
      const streamed = await s3.send(
        new PutObjectCommand({ Bucket, Key: `streamed-${alg}`, Body: Readable.from([small.subarray(0, 70_000), small.subarray(70_000)]), ContentLength: small.length, ChecksumAlgorithm: alg }),
      );
      assert.equal(valueOf(streamed, alg), want, `${alg} from a trailer`);

      for (const Key of [`put-${alg}`, `streamed-${alg}`]) {
        // The SDK validates the body against the returned checksum.
        const got = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(small));
        assert.equal(valueOf(got, alg), want);
        assert.equal(got.ChecksumType, 'FULL_OBJECT');
        const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
        assert.equal(valueOf(head, alg), want);
        const plain = await s3.send(new HeadObjectCommand({ Bucket, Key }));
        assert.equal(valueOf(plain, alg), undefined);
      }
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'put-XXHASH128' }));
    assert.deepEqual(listed.Contents?.[0]?.ChecksumAlgorithm, ['XXHASH128']);
  });

  it('a precomputed value is checked: wrong → BadDigest 400, malformed → InvalidRequest 400, nothing stored', async () => {
    for (const alg of NEW) {
      const wrong = await digest(alg, Buffer.from('something else'));
      const bad = await failure(s3.send(new PutObjectCommand({ Bucket, Key: `tampered-${alg}`, Body: small, [member(alg)]: wrong })));
      assert.deepEqual(bad, { name: 'BadDigest', message: `The ${alg} you specified did not match the calculated checksum.`, status: 400 });
      const short = Buffer.from(wrong, 'base64').subarray(1).toString('base64');
      const malformed = await failure(s3.send(new PutObjectCommand({ Bucket, Key: `tampered-${alg}`, Body: small, [member(alg)]: short })));
      assert.deepEqual(malformed, { name: 'InvalidRequest', message: `Value for x-amz-checksum-${alg.toLowerCase()} header is invalid.`, status: 400 });
      assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: `tampered-${alg}` })))).status, 404);
      // The right precomputed value is accepted as sent.
      const ok = await s3.send(new PutObjectCommand({ Bucket, Key: `precomputed-${alg}`, Body: small, [member(alg)]: await digest(alg, small) }));
      assert.equal(valueOf(ok, alg), await digest(alg, small));
    }
  });

  it('an aws-chunked trailer that does not match the body is BadDigest 400 (x-amz-checksum-* and the SDK’s content-md5)', async () => {
    const put = async (Key: string, trailer: string, value: string) => {
      const body = Buffer.concat([Buffer.from(`${small.length.toString(16)}\r\n`), small, Buffer.from(`\r\n0\r\n${trailer}:${value}\r\n\r\n`)]);
      const headers = {
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': String(small.length),
        'x-amz-trailer': trailer,
        ...(trailer === 'content-md5' ? { 'x-amz-sdk-checksum-algorithm': 'MD5' } : {}),
      };
      return rawPut(server, `/${Bucket}/${Key}`, { ...headers, 'content-length': String(body.length) }, body);
    };
    for (const alg of NEW) {
      const name = alg === 'MD5' ? 'content-md5' : `x-amz-checksum-${alg.toLowerCase()}`;
      const bad = await put(`trailer-${alg}`, name, await digest(alg, small.subarray(1)));
      assert.equal(bad.status, 400, alg);
      assert.match(bad.body, new RegExp(`<Code>BadDigest</Code><Message>The ${alg} you specified did not match the calculated checksum.</Message>`));
      assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: `trailer-${alg}` })))).status, 404);
      const good = await put(`trailer-${alg}`, name, await digest(alg, small));
      assert.equal(good.status, 200, `${alg}: ${good.body}`);
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: `trailer-${alg}`, ChecksumMode: 'ENABLED' }));
      assert.equal(valueOf(head, alg), await digest(alg, small));
    }
  });

  it('an XML request body (tagging, DeleteObjects) is checked against any of the algorithms', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'doomed', Body: 'x' }));
    for (const alg of NEW) {
      await s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'doomed', Tagging: { TagSet: [{ Key: 'alg', Value: alg }] }, ChecksumAlgorithm: alg }));
    }
    const deleted = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'doomed' }] }, ChecksumAlgorithm: 'XXHASH128' }));
    assert.deepEqual(deleted.Deleted?.map((d) => d.Key), ['doomed']);
    const xml = '<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>';
    for (const alg of ['SHA512', 'XXHASH3'] as const) {
      const path = `/${Bucket}/put-${alg}?tagging`;
      const wrong = await rawPut(server, path, { [`x-amz-checksum-${alg.toLowerCase()}`]: await digest(alg, Buffer.from(xml + ' ')) }, Buffer.from(xml));
      assert.equal(wrong.status, 400);
      assert.match(wrong.body, /<Code>BadDigest<\/Code>/);
      const right = await rawPut(server, path, { [`x-amz-checksum-${alg.toLowerCase()}`]: await digest(alg, Buffer.from(xml)) }, Buffer.from(xml));
      assert.equal(right.status, 200, right.body);
    }
  });

  it('multipart: per-part checksums, ListParts, a COMPOSITE object checksum; FULL_OBJECT refused', async () => {
    for (const alg of NEW) {
      const Key = `mpu-${alg}`;
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: alg }));
      assert.equal(created.ChecksumAlgorithm, alg);
      assert.equal(created.ChecksumType, 'COMPOSITE');
      const UploadId = created.UploadId!;
      const parts = [];
      for (const [i, Body] of [part1, part2].entries()) {
        const up = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: alg }));
        assert.equal(valueOf(up, alg), await digest(alg, Body), `${alg} part ${i + 1}`);
        parts.push({ PartNumber: i + 1, ETag: up.ETag!, [member(alg)]: valueOf(up, alg) as string });
      }
      const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
      assert.equal(listed.ChecksumAlgorithm, alg);
      assert.deepEqual(listed.Parts?.map((p) => valueOf(p, alg)), [await digest(alg, part1), await digest(alg, part2)]);

      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
      const joined = Buffer.concat(await Promise.all([part1, part2].map(async (p) => Buffer.from(await digest(alg, p), 'base64'))));
      const composite = `${await digest(alg, joined)}-2`;
      assert.equal(valueOf(done, alg), composite);
      assert.equal(done.ChecksumType, 'COMPOSITE');

      const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      assert.equal(valueOf(head, alg), composite);
      assert.equal(head.ChecksumType, 'COMPOSITE');
      const got = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED', PartNumber: 2 }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(part2));
      const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket, Key, ObjectAttributes: ['Checksum', 'ObjectParts'] }));
      assert.equal(valueOf(attrs.Checksum!, alg), composite);
      assert.equal(attrs.Checksum?.ChecksumType, 'COMPOSITE');
      assert.deepEqual(attrs.ObjectParts?.Parts?.map((p) => valueOf(p, alg)), [await digest(alg, part1), await digest(alg, part2)]);

      const refused = await failure(s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: alg, ChecksumType: 'FULL_OBJECT' })));
      assert.deepEqual(refused, { name: 'InvalidRequest', message: `The FULL_OBJECT checksum type cannot be used with the ${alg.toLowerCase()} checksum algorithm.`, status: 400 });
    }
  });

  it('multipart: a part whose checksum does not match is BadDigest; a part of another algorithm InvalidRequest', async () => {
    const Key = 'mpu-bad';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: 'XXHASH64' }));
    const bad = await failure(s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: part2, ChecksumXXHASH64: await digest('XXHASH64', part1) })));
    assert.deepEqual(bad, { name: 'BadDigest', message: 'The XXHASH64 you specified did not match the calculated checksum.', status: 400 });
    const other = await failure(s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: part2, ChecksumAlgorithm: 'XXHASH3' })));
    assert.equal(other.name, 'InvalidRequest');
    assert.equal(other.status, 400);
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.equal(listed.Parts, undefined);
  });

  it('CopyObject keeps the source algorithm, or computes the one x-amz-checksum-algorithm asks for; UploadPartCopy too', async () => {
    const kept = await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-kept', CopySource: `${Bucket}/put-XXHASH3` }));
    assert.equal(kept.CopyObjectResult?.ChecksumXXHASH3, await digest('XXHASH3', small));
    for (const [from, to] of [['put-XXHASH64', 'SHA512'], ['put-SHA512', 'XXHASH128'], ['put-XXHASH128', 'MD5'], ['put-MD5', 'XXHASH64']] as const) {
      const Key = `copy-${from}-to-${to}`;
      const copied = await s3.send(new CopyObjectCommand({ Bucket, Key, CopySource: `${Bucket}/${from}`, ChecksumAlgorithm: to }));
      assert.equal(valueOf(copied.CopyObjectResult!, to), await digest(to, small), `${from} → ${to}`);
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      assert.equal(valueOf(head, to), await digest(to, small));
      for (const other of NEW) if (other !== to) assert.equal(valueOf(head, other), undefined);
    }
    // Back to a classic algorithm.
    const crc = await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-to-crc32', CopySource: `${Bucket}/put-XXHASH64`, ChecksumAlgorithm: 'CRC32' }));
    assert.ok(crc.CopyObjectResult?.ChecksumCRC32);

    const Key = 'mpu-copy';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: 'XXHASH128' }));
    const part = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 1, CopySource: `${Bucket}/put-MD5` }));
    assert.equal(part.CopyPartResult?.ChecksumXXHASH128, await digest('XXHASH128', small));
  });

  it('every value survives a restart', async () => {
    const before: Array<[string, NewAlgorithm, unknown]> = [];
    for (const alg of NEW) {
      for (const Key of [`put-${alg}`, `mpu-${alg}`]) {
        before.push([Key, alg, valueOf(await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' })), alg)]);
      }
    }
    s3.destroy();
    await server.stop({ keepData: true });
    server = await startHanul({ dataDir });
    s3 = client();
    for (const [Key, alg, value] of before) {
      assert.ok(typeof value === 'string');
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      assert.equal(valueOf(head, alg), value, Key);
      const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket, Key, ObjectAttributes: ['Checksum'] }));
      assert.equal(valueOf(attrs.Checksum!, alg), value, Key);
    }
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'put-XXHASH64', ChecksumMode: 'ENABLED' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(small));
  });

  it('a client without the implementations refuses to ask for them, and (validating responses by default) to read such an object', async () => {
    const bare = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    const lax = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1, responseChecksumValidation: 'WHEN_REQUIRED' });
    try {
      const e = await failure(bare.send(new PutObjectCommand({ Bucket, Key: 'bare', Body: small, ChecksumAlgorithm: 'XXHASH64' })));
      assert.match(e.message, /XXHASH64.*not supported by the client/);
      assert.equal(e.status, undefined);
      // The SDK asks for x-amz-checksum-mode: ENABLED on every GET, then cannot check what comes back.
      assert.match((await failure(bare.send(new GetObjectCommand({ Bucket, Key: 'put-XXHASH64' })))).message, /XXHASH64.*not supported by the client/);
      const got = await lax.send(new GetObjectCommand({ Bucket, Key: 'put-XXHASH64' }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(small));
      // MD5 is validated by neither (the SDK looks for it in Content-MD5).
      const md5 = await bare.send(new GetObjectCommand({ Bucket, Key: 'put-MD5', ChecksumMode: 'ENABLED' }));
      assert.equal(md5.ChecksumMD5, await digest('MD5', small));
      assert.ok(Buffer.from(await md5.Body!.transformToByteArray()).equals(small));
    } finally {
      bare.destroy();
      lax.destroy();
    }
  });
});

/** botocore computes SHA512 itself (the xxHash family only with the CRT); a precomputed XXHASH64 it sends as given. */
const BOTO3 = String.raw`
import base64, hashlib, json, sys, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint, xxh = sys.argv[1:3]
s3 = boto3.client('s3', endpoint_url=endpoint, config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
s3.create_bucket(Bucket='b3-sums')
data = bytes(range(256)) * 4000
out = {'want': base64.b64encode(hashlib.sha512(data).digest()).decode()}
out['put'] = s3.put_object(Bucket='b3-sums', Key='k', Body=data, ChecksumAlgorithm='SHA512').get('ChecksumSHA512')
g = s3.get_object(Bucket='b3-sums', Key='k', ChecksumMode='ENABLED')
out['get'] = g.get('ChecksumSHA512'); out['same'] = g['Body'].read() == data
u = s3.create_multipart_upload(Bucket='b3-sums', Key='m', ChecksumAlgorithm='SHA512')
p = s3.upload_part(Bucket='b3-sums', Key='m', UploadId=u['UploadId'], PartNumber=1, Body=data, ChecksumAlgorithm='SHA512')
out['part'] = p.get('ChecksumSHA512')
c = s3.complete_multipart_upload(Bucket='b3-sums', Key='m', UploadId=u['UploadId'], MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': p['ETag'], 'ChecksumSHA512': p['ChecksumSHA512']}]})
out['complete'] = [c.get('ChecksumSHA512'), c.get('ChecksumType')]
out['composite'] = base64.b64encode(hashlib.sha512(base64.b64decode(p['ChecksumSHA512'])).digest()).decode() + '-1'
out['xxh'] = s3.put_object(Bucket='b3-sums', Key='x', Body=data, ChecksumXXHASH64=xxh).get('ChecksumXXHASH64')
try:
    s3.put_object(Bucket='b3-sums', Key='bad', Body=data + b'!', ChecksumXXHASH64=xxh)
except ClientError as e:
    out['bad'] = [e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error']['Code']]
print(json.dumps(out))
`;

describe('s3 e2e: the newer checksums through boto3', { skip: hasBoto3() ? false : 'boto3 not installed' }, () => {
  let rig: ClientRig;
  before(async () => {
    rig = await startRig({ tls: false });
  });
  after(() => rig.stop());

  it('SHA512 computed by botocore (PUT, GET validated, multipart COMPOSITE); a precomputed XXHASH64 checked', async () => {
    const script = join(rig.dir, 'sums.py');
    await writeFile(script, BOTO3);
    const data = Buffer.concat(Array.from({ length: 4000 }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i))));
    const xxh = await digest('XXHASH64', data);
    const out = JSON.parse(await runCmd('python3', [script, rig.endpoint, xxh], rig.env, 60_000)) as Record<string, unknown>;
    assert.equal(out['put'], out['want']);
    assert.equal(out['get'], out['want']);
    assert.equal(out['same'], true);
    assert.equal(out['part'], out['want']);
    assert.deepEqual(out['complete'], [out['composite'], 'COMPOSITE']);
    assert.equal(out['xxh'], xxh);
    assert.deepEqual(out['bad'], [400, 'BadDigest']);
  });
});

async function rawPut(server: TestServer, path: string, extra: Record<string, string>, body: Buffer): Promise<{ status: number; body: string }> {
  const url = new URL(server.endpoint);
  const [pathname, query] = path.split('?') as [string, string | undefined];
  const headers = await signS3(server, { method: 'PUT', path: pathname, headers: extra, ...(query !== undefined ? { query: Object.fromEntries(new URLSearchParams(query)) } : {}) });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: 'PUT', path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
