/**
 * Replication after a kill -9: whatever the worker had done when the process
 * died, after a restart every queued version ends COMPLETED with exactly one
 * intact replica (the replica, the source's status and the task commit
 * together; a task left queued is redone at start).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutBucketReplicationCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { spawnHanul, TEST_KEY, TEST_REGION, waitFor, type SpawnedServer } from '../../support/hanul.js';

describe('s3 replication survives a kill -9', () => {
  let dir = '';
  let server: SpawnedServer | undefined;
  after(async () => {
    await server?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const config = (endpoint: string) => ({ endpoint, region: TEST_REGION, credentials: TEST_KEY, maxAttempts: 1 });

  it('versions queued when the process died are replicated after the restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hanul-repl-'));
    server = await spawnHanul({ dataDir: dir });
    let s3 = new S3Client({ ...config(server.endpoint), forcePathStyle: true });
    const iam = new IAMClient(config(server.endpoint));
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    await iam.send(new CreateRoleCommand({ RoleName: 'repl', AssumeRolePolicyDocument: JSON.stringify(trust) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'repl', PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) }));
    iam.destroy();
    for (const Bucket of ['crash-src', 'crash-dst']) {
      await s3.send(new CreateBucketCommand({ Bucket }));
      await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    const rule = { ID: 'all', Priority: 1, Status: 'Enabled' as const, Filter: {}, DeleteMarkerReplication: { Status: 'Disabled' as const }, Destination: { Bucket: 'arn:aws:s3:::crash-dst' } };
    await s3.send(new PutBucketReplicationCommand({ Bucket: 'crash-src', ReplicationConfiguration: { Role: 'arn:aws:iam::000000000000:role/repl', Rules: [rule] } }));
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    const puts = await Promise.all(Array.from({ length: 6 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: 'crash-src', Key: `k${i}`, Body: body }))));
    // A multipart object: its replica is one blob made of both parts.
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'crash-src', Key: 'multi' }));
    const part1 = Buffer.alloc(5 * 1024 * 1024, 1);
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'crash-src', Key: 'multi', UploadId: mpu.UploadId, PartNumber: 1, Body: part1 }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'crash-src', Key: 'multi', UploadId: mpu.UploadId, PartNumber: 2, Body: 'tail' }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'crash-src', Key: 'multi', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
    s3.destroy();
    await server.kill('SIGKILL');

    server = await spawnHanul({ dataDir: dir });
    s3 = new S3Client({ ...config(server.endpoint), forcePathStyle: true });
    for (let i = 0; i < 6; i++) {
      const status = await waitFor(async () => {
        const h = await s3.send(new HeadObjectCommand({ Bucket: 'crash-src', Key: `k${i}` }));
        return h.ReplicationStatus === 'PENDING' ? undefined : h.ReplicationStatus;
      }, { what: `k${i} replicated`, timeoutMs: 20_000 });
      assert.equal(status, 'COMPLETED');
      const replica = await s3.send(new GetObjectCommand({ Bucket: 'crash-dst', Key: `k${i}` }));
      assert.equal(replica.VersionId, puts[i]?.VersionId);
      assert.equal(Buffer.from(await replica.Body!.transformToByteArray()).equals(body), true);
    }
    const multi = await waitFor(async () => {
      const h = await s3.send(new HeadObjectCommand({ Bucket: 'crash-dst', Key: 'multi' }));
      return h.ReplicationStatus === 'REPLICA' ? h : undefined;
    }, { what: 'the multipart replica', timeoutMs: 20_000 });
    assert.equal(multi.ETag, done.ETag);
    assert.equal(multi.ContentLength, part1.length + 4);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'crash-src', Key: 'multi' }))).ReplicationStatus, 'COMPLETED');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'crash-dst' }));
    assert.equal(versions.Versions?.length, 7);
    s3.destroy();
  });
});
