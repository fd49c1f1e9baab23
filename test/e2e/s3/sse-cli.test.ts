/** AWS CLI: `aws s3api put-bucket-encryption` / `get-bucket-encryption`, and `aws s3 cp --sse aws:kms` reading back. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliVersion, runCmd, startRig, type ClientRig } from '../s3-clients/helpers.js';

const bin = cliVersion('/usr/bin/aws') ? '/usr/bin/aws' : undefined;

describe('s3 e2e: encryption through the AWS CLI', { skip: bin ? false : 'no /usr/bin/aws' }, () => {
  let rig: ClientRig;
  const aws = (...args: string[]) => runCmd(bin as string, ['--endpoint-url', rig.endpoint, ...args], rig.env, 120_000);
  before(async () => {
    rig = await startRig({ tls: false });
  });
  after(async () => {
    await rig.stop();
  });

  it('put-bucket-encryption (aws:kms, bucket key) then get-bucket-encryption; new objects use it; bad config fails', async () => {
    await aws('s3api', 'create-bucket', '--bucket', 'cli-sse');
    const key = JSON.parse(await aws('kms', 'create-key')) as { KeyMetadata: { Arn: string } };
    const conf = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.KeyMetadata.Arn }, BucketKeyEnabled: true }] };
    await aws('s3api', 'put-bucket-encryption', '--bucket', 'cli-sse', '--server-side-encryption-configuration', JSON.stringify(conf));
    const got = JSON.parse(await aws('s3api', 'get-bucket-encryption', '--bucket', 'cli-sse')) as { ServerSideEncryptionConfiguration: unknown };
    assert.deepEqual(got.ServerSideEncryptionConfiguration, conf);
    const file = join(rig.dir, 'in.txt');
    await writeFile(file, 'hello from the cli');
    const put = JSON.parse(await aws('s3api', 'put-object', '--bucket', 'cli-sse', '--key', 'a.txt', '--body', file)) as { ServerSideEncryption: string; SSEKMSKeyId: string; BucketKeyEnabled: boolean };
    assert.deepEqual([put.ServerSideEncryption, put.SSEKMSKeyId, put.BucketKeyEnabled], ['aws:kms', key.KeyMetadata.Arn, true]);
    const out = join(rig.dir, 'out.txt');
    await aws('s3', 'cp', 's3://cli-sse/a.txt', out);
    assert.equal(await readFile(out, 'utf8'), 'hello from the cli');
    await assert.rejects(
      aws('s3api', 'put-bucket-encryption', '--bucket', 'cli-sse', '--server-side-encryption-configuration', JSON.stringify({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256', KMSMasterKeyID: key.KeyMetadata.Arn } }] })),
      /InvalidArgument/,
    );
    await aws('s3api', 'delete-bucket-encryption', '--bucket', 'cli-sse');
    const back = JSON.parse(await aws('s3api', 'get-bucket-encryption', '--bucket', 'cli-sse')) as { ServerSideEncryptionConfiguration: { Rules: Array<{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: string } }> } };
    assert.equal(back.ServerSideEncryptionConfiguration.Rules[0]?.ApplyServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
  });
});
