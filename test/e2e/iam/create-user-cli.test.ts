// `hanul create-user` run as its own process beside a running server on the
// same data dir: the printed key works against that server at once.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { spawnHanul, type SpawnedServer } from '../../support/hanul.js';
import { doc } from './helpers.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));

describe('hanul create-user beside a running server', () => {
  let dataDir: string;
  let server: SpawnedServer;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hanul-create-user-'));
    server = await spawnHanul({ dataDir });
  });
  after(async () => {
    await server.kill('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints a key that authenticates, with the given policy enforced', async () => {
    const policy = doc({ Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' });
    const { stdout } = await run(process.execPath, [CLI, 'create-user', 'bootstrap', '--policy', policy, '--data-dir', dataDir], { env: { PATH: process.env.PATH ?? '' } });
    const out = JSON.parse(stdout.slice(0, stdout.indexOf('\nexport'))) as { AccessKeyId: string; SecretAccessKey: string; Arn: string };
    assert.equal(out.Arn, 'arn:aws:iam::000000000000:user/bootstrap');
    const credentials = { accessKeyId: out.AccessKeyId, secretAccessKey: out.SecretAccessKey };
    const who = await new STSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials }).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, out.Arn);
    const denied = await new S3Client({ endpoint: server.endpoint, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 })
      .send(new GetObjectCommand({ Bucket: 'nope-bucket', Key: 'k' }))
      .then(() => 'allowed', (e: { name: string }) => e.name);
    assert.equal(denied, 'AccessDenied');
  });

  it('refuses a duplicate user with IAM’s error and a non-zero exit', async () => {
    const r = await run(process.execPath, [CLI, 'create-user', 'bootstrap', '--data-dir', dataDir]).then(
      () => ({ code: 0, out: '' }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    assert.equal(r.code, 1);
    assert.match(r.out, /EntityAlreadyExists: User with name bootstrap already exists/);
  });
});
