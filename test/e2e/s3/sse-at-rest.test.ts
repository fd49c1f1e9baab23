/**
 * What encryption at rest must guarantee on the real server: no plaintext in
 * the data dir (blobs, inline objects in SQLite, multipart parts), tampered
 * bytes never come back, SSE-KMS goes through hanul's KMS as the caller
 * (permissions, disabled keys, CloudTrail), everything survives a restart,
 * and the server setting that turns the SSE-S3 default off.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { failure, filesUnder, startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { doc, userWith } from '../iam/helpers.js';

/** The marker as it could appear in a file: raw, hex, and base64 at each of the three alignments. */
function forms(marker: string): Buffer[] {
  const out = [Buffer.from(marker), Buffer.from(Buffer.from(marker).toString('hex'))];
  for (const pad of ['', 'a', 'ab']) out.push(Buffer.from(Buffer.from(pad + marker).toString('base64').slice(4, -4)));
  return out;
}

const body = async (p: Promise<{ Body?: { transformToByteArray(): Promise<Uint8Array> } | undefined }>) => Buffer.from(await (await p).Body!.transformToByteArray());

describe('s3 e2e: encryption at rest', () => {
  let server: TestServer;
  let s3: S3Client;
  let kms: KMSClient;
  let keyArn: string;
  const Bucket = 'sse-at-rest';
  const marker = `HANUL-PLAINTEXT-MARKER-${randomBytes(6).toString('hex')}`;
  const filler = (n: number) => Buffer.from(`${marker} `.repeat(Math.ceil(n / (marker.length + 1)))).subarray(0, n);
  const customer = randomBytes(32);
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customer.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customer).digest('base64') };

  before(async () => {
    server = await startHanul();
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    kms = new KMSClient(server.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket }));
    keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  });
  after(async () => {
    s3.destroy();
    kms.destroy();
    await server.stop();
  });

  it('the marker is nowhere in the data dir: inline and blob objects of every kind, multipart parts (also of an open upload)', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'inline-default', Body: filler(1000) }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'inline-kms', Body: filler(60_000), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'inline-ssec', Body: filler(2000), ...ssec }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'blob-default', Body: filler(700_000) }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'blob-dsse', Body: filler(300_000), ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyArn }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'blob-ssec', Body: filler(300_000), ...ssec }));
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'open-upload' }));
    await s3.send(new UploadPartCommand({ Bucket, Key: 'open-upload', UploadId: mpu.UploadId, PartNumber: 1, Body: filler(5 * 1024 * 1024) }));
    // The objects read back (so they really hold the marker).
    assert.ok((await body(s3.send(new GetObjectCommand({ Bucket, Key: 'inline-default' })))).includes(marker));
    assert.ok((await body(s3.send(new GetObjectCommand({ Bucket, Key: 'blob-ssec', ...ssec })))).includes(marker));
    const all = await filesUnder(server.dataDir);
    assert.ok(all.length > 3);
    const needles = forms(marker);
    for (const f of all) {
      const bytes = await readFile(f);
      for (const n of needles) assert.equal(bytes.indexOf(n), -1, `${f} holds the marker (${n.toString().slice(0, 12)}…)`);
    }
  });

  it('a flipped byte in a stored blob makes GET fail, never return other bytes; HEAD still answers', async () => {
    const data = randomBytes(300_001);
    const beforeFiles = new Set(await filesUnder(server.dataDir));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'tamper', Body: data }));
    const stored = 300_001 + Math.ceil(300_001 / 65536) * 16;
    let blob: string | undefined;
    for (const f of await filesUnder(server.dataDir)) if (!beforeFiles.has(f) && (await stat(f)).size === stored) blob = f;
    assert.ok(blob, 'the new blob file');
    const bytes = await readFile(blob);
    bytes[200_000] = (bytes[200_000] as number) ^ 0x01;
    await writeFile(blob, bytes);
    await assert.rejects(body(s3.send(new GetObjectCommand({ Bucket, Key: 'tamper' }))));
    // Frames before the damaged one still authenticate: a range there reads fine; one across it fails.
    assert.ok((await body(s3.send(new GetObjectCommand({ Bucket, Key: 'tamper', Range: 'bytes=0-99' })))).equals(data.subarray(0, 100)));
    await assert.rejects(body(s3.send(new GetObjectCommand({ Bucket, Key: 'tamper', Range: 'bytes=199990-200010' }))));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'tamper' }))).ContentLength, data.length);
  });

  it('SSE-KMS needs kms:GenerateDataKey / kms:Decrypt of the caller; a disabled key fails GET with KMS.DisabledException', async () => {
    const s3Only = await userWith(server, 'sse-s3-only', [doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' })]);
    const withKms = await userWith(server, 'sse-with-kms', [doc({ Effect: 'Allow', Action: ['s3:*', 'kms:GenerateDataKey', 'kms:Decrypt'], Resource: '*' })]);
    const asS3Only = new S3Client({ ...server.clientConfig, credentials: s3Only, forcePathStyle: true });
    const asKms = new S3Client({ ...server.clientConfig, credentials: withKms, forcePathStyle: true });
    try {
      const put = await failure(asS3Only.send(new PutObjectCommand({ Bucket, Key: 'denied', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })));
      assert.deepEqual([put.name, put.status], ['AccessDenied', 403]);
      assert.match(put.message, /kms:GenerateDataKey/);
      await asKms.send(new PutObjectCommand({ Bucket, Key: 'kms-obj', Body: 'secret', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
      const get = await failure(asS3Only.send(new GetObjectCommand({ Bucket, Key: 'kms-obj' })));
      assert.deepEqual([get.name, get.status], ['AccessDenied', 403]);
      assert.match(get.message, /kms:Decrypt/);
      // SSE-S3 objects need no KMS permission.
      await asS3Only.send(new PutObjectCommand({ Bucket, Key: 's3-obj', Body: 'fine' }));
      assert.equal((await body(asS3Only.send(new GetObjectCommand({ Bucket, Key: 's3-obj' })))).toString(), 'fine');
      assert.equal((await body(asKms.send(new GetObjectCommand({ Bucket, Key: 'kms-obj' })))).toString(), 'secret');
    } finally {
      asS3Only.destroy();
      asKms.destroy();
    }
    await kms.send(new DisableKeyCommand({ KeyId: keyArn }));
    try {
      const disabled = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'kms-obj' })));
      assert.deepEqual([disabled.name, disabled.status], ['KMS.DisabledException', 400]);
      const put = await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'kms-obj2', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })));
      assert.deepEqual([put.name, put.status], ['KMS.DisabledException', 400]);
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'kms-obj' }))).ServerSideEncryption, 'aws:kms');
    } finally {
      await kms.send(new EnableKeyCommand({ KeyId: keyArn }));
    }
    assert.equal((await body(s3.send(new GetObjectCommand({ Bucket, Key: 'kms-obj' })))).toString(), 'secret');
  });

  it('each KMS use shows in CloudTrail as the caller, invoked by s3.amazonaws.com, with the object ARN as context; bucket keys cut the calls', async () => {
    const trail = new CloudTrailClient(server.clientConfig);
    try {
      await s3.send(new PutObjectCommand({ Bucket, Key: 'trail', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
      await body(s3.send(new GetObjectCommand({ Bucket, Key: 'trail' })));
      for (const name of ['GenerateDataKey', 'Decrypt']) {
        const ev = await waitFor(async () => {
          const r = await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }], MaxResults: 50 }));
          return (r.Events ?? [])
            .map((e) => JSON.parse(e.CloudTrailEvent ?? '{}') as { userIdentity: { invokedBy?: string; type: string }; requestParameters?: { encryptionContext?: Record<string, string> } })
            .find((e) => e.userIdentity.invokedBy === 's3.amazonaws.com' && e.requestParameters?.encryptionContext?.['aws:s3:arn'] === `arn:aws:s3:::${Bucket}/trail`);
        }, { what: `${name} invoked by S3` });
        assert.equal(ev.userIdentity.type, 'Root');
      }
      // With a bucket key, a burst of PUTs and GETs costs one GenerateDataKey (bucket ARN as context) and no Decrypt.
      const bk = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
      for (let i = 0; i < 5; i++) {
        await s3.send(new PutObjectCommand({ Bucket, Key: `bk-${i}`, Body: `v${i}`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: bk, BucketKeyEnabled: true }));
        assert.equal((await body(s3.send(new GetObjectCommand({ Bucket, Key: `bk-${i}` })))).toString(), `v${i}`);
      }
      const kmsEvents = async (name: string) => {
        const r = await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: bk }], MaxResults: 50 }));
        return (r.Events ?? []).filter((e) => e.EventName === name).map((e) => JSON.parse(e.CloudTrailEvent ?? '{}') as { requestParameters?: { encryptionContext?: Record<string, string> } });
      };
      const generated = await waitFor(async () => {
        const g = await kmsEvents('GenerateDataKey');
        return g.length > 0 ? g : undefined;
      }, { what: 'the bucket key GenerateDataKey' });
      assert.equal(generated.length, 1);
      assert.equal(generated[0]?.requestParameters?.encryptionContext?.['aws:s3:arn'], `arn:aws:s3:::${Bucket}`);
      assert.equal((await kmsEvents('Decrypt')).length, 0);
    } finally {
      trail.destroy();
    }
  });
});

describe('s3 e2e: encrypted objects survive a restart; the SSE-S3 default can be turned off', () => {
  // Across a restart that switches AES-GCM between the native addon and node:crypto: each reads what the other wrote.
  for (const [wrote, reads] of [
    ['on', 'off'],
    ['off', 'on'],
  ] as const) {
  it(`SSE-S3, SSE-KMS (bucket key), DSSE and SSE-C objects read back after a restart (HANUL_NATIVE_GCM ${wrote} → ${reads})`, async () => {
    const customer = randomBytes(32);
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customer.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(customer).digest('base64') };
    const first = await startHanul({ env: { HANUL_NATIVE_GCM: wrote } });
    const dataDir = first.dataDir;
    const data = randomBytes(150_000);
    let c = new S3Client({ ...first.clientConfig, forcePathStyle: true });
    const k = new KMSClient(first.clientConfig);
    const keyArn = (await k.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    k.destroy();
    await c.send(new CreateBucketCommand({ Bucket: 'sse-restart' }));
    await c.send(new PutObjectCommand({ Bucket: 'sse-restart', Key: 's3', Body: data }));
    await c.send(new PutObjectCommand({ Bucket: 'sse-restart', Key: 'small', Body: 'tiny' }));
    // Long enough for the SSE worker (sse-worker.ts), which follows the switch too.
    const big = randomBytes(2 * 1024 * 1024 + 5);
    await c.send(new PutObjectCommand({ Bucket: 'sse-restart', Key: 'big', Body: big }));
    await c.send(new PutObjectCommand({ Bucket: 'sse-restart', Key: 'big-dsse', Body: big, ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyArn }));
    await c.send(new PutObjectCommand({ Bucket: 'sse-restart', Key: 'kms', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn, BucketKeyEnabled: true }));
    await c.send(new PutObjectCommand({ Bucket: 'sse-restart', Key: 'dsse', Body: data, ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyArn }));
    await c.send(new PutObjectCommand({ Bucket: 'sse-restart', Key: 'ssec', Body: data, ...ssec }));
    c.destroy();
    await first.stop({ keepData: true });
    const second = await startHanul({ dataDir, env: { HANUL_NATIVE_GCM: reads } });
    c = new S3Client({ ...second.clientConfig, forcePathStyle: true });
    try {
      for (const [Key, extra] of [['s3', {}], ['kms', {}], ['dsse', {}], ['ssec', ssec]] as const) {
        assert.ok((await body(c.send(new GetObjectCommand({ Bucket: 'sse-restart', Key, ...extra })))).equals(data), Key);
      }
      assert.equal((await body(c.send(new GetObjectCommand({ Bucket: 'sse-restart', Key: 'small' })))).toString(), 'tiny');
      for (const Key of ['big', 'big-dsse']) {
        assert.ok((await body(c.send(new GetObjectCommand({ Bucket: 'sse-restart', Key })))).equals(big), Key);
        assert.ok((await body(c.send(new GetObjectCommand({ Bucket: 'sse-restart', Key, Range: 'bytes=100000-1500000' })))).equals(big.subarray(100000, 1500001)), `${Key} range`);
      }
    } finally {
      c.destroy();
      await second.stop();
      const { rm } = await import('node:fs/promises');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
  }

  it('HANUL_S3_DEFAULT_ENCRYPTION=off: no default (GetBucketEncryption 404), explicit SSE still applies', async () => {
    const server = await startHanul({ env: { HANUL_S3_DEFAULT_ENCRYPTION: 'off' } });
    const c = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    try {
      await c.send(new CreateBucketCommand({ Bucket: 'sse-off' }));
      const put = await c.send(new PutObjectCommand({ Bucket: 'sse-off', Key: 'plain', Body: 'plain' }));
      assert.equal(put.ServerSideEncryption, undefined);
      const enc = await failure(c.send(new GetBucketEncryptionCommand({ Bucket: 'sse-off' })));
      assert.deepEqual([enc.name, enc.status], ['ServerSideEncryptionConfigurationNotFoundError', 404]);
      const explicit = await c.send(new PutObjectCommand({ Bucket: 'sse-off', Key: 'enc', Body: 'secret', ServerSideEncryption: 'AES256' }));
      assert.equal(explicit.ServerSideEncryption, 'AES256');
      assert.equal((await body(c.send(new GetObjectCommand({ Bucket: 'sse-off', Key: 'enc' })))).toString(), 'secret');
      assert.equal((await body(c.send(new GetObjectCommand({ Bucket: 'sse-off', Key: 'plain' })))).toString(), 'plain');
    } finally {
      c.destroy();
      await server.stop();
    }
  });
});
