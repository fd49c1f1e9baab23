import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';

describe('one structured log line per request', () => {
  let server: TestServer;
  let s3: S3Client;
  const lines: Record<string, unknown>[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    server = await startHanul({ app: { log: pino({ level: 'info' }, sink) } });
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'logged' }));
  });
  after(async () => {
    s3.destroy();
    await server.stop();
  });

  const requestLines = (operation: string) => lines.filter((l) => l['msg'] === 'request' && l['operation'] === operation);

  it('carries request id, service, operation, principal, status, bytes and duration; failures their code', async () => {
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'logged' }));
    await s3.send(new PutObjectCommand({ Bucket: 'logged', Key: 'k', Body: 'twelve bytes' }));
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: 'missing' })));
    await waitFor(() => requestLines('HeadBucket').length >= 2 && requestLines('PutObject').length >= 1, { what: 'request log lines' });
    const [ok, missing] = requestLines('HeadBucket');
    assert.equal(ok?.['requestId'], head.$metadata.requestId);
    assert.equal(ok?.['service'], 's3');
    assert.equal(ok?.['status'], 200);
    assert.match(String(ok?.['principal']), /^arn:aws:iam::\d{12}:root$/);
    assert.equal(ok?.['bytesIn'], 0);
    assert.equal(typeof ok?.['ms'], 'number');
    assert.equal(ok?.['error'], undefined);
    assert.equal(missing?.['status'], 404);
    assert.equal(missing?.['error'], 'NoSuchBucket');
    const put = requestLines('PutObject')[0];
    assert.ok(Number(put?.['bytesIn']) >= 12, `bytesIn ${String(put?.['bytesIn'])}`);
    assert.equal(put?.['bytesOut'], 0);
  });
});
