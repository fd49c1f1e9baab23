/**
 * Bucket policies with the AWS CLI (/usr/bin/aws): put-bucket-policy from a
 * file, get-bucket-policy and get-bucket-policy-status read it back, a
 * malformed policy fails with MalformedPolicy, and the policy opens the
 * bucket to an anonymous fetch.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliVersion, runCmd, startRig, type ClientRig } from '../s3-clients/helpers.js';

const AWS = '/usr/bin/aws';

describe('s3 access control with the AWS CLI', { skip: cliVersion(AWS) === undefined ? 'no AWS CLI at /usr/bin/aws' : false }, () => {
  let rig: ClientRig;
  const aws = (...args: string[]) => runCmd(AWS, ['--endpoint-url', rig.endpoint, '--output', 'json', ...args], rig.env, 120_000);
  before(async () => {
    rig = await startRig({ tls: false });
  });
  after(() => rig.stop());

  it('put-bucket-policy / get-bucket-policy / get-bucket-policy-status', async () => {
    await aws('s3api', 'create-bucket', '--bucket', 'cli-policy');
    await aws('s3api', 'delete-public-access-block', '--bucket', 'cli-policy');
    await aws('s3api', 'put-object', '--bucket', 'cli-policy', '--key', 'index.html', '--body', join(rig.dir, 'config'));
    const policy = { Version: '2012-10-17', Statement: [{ Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::cli-policy/*' }] };
    const file = join(rig.dir, 'policy.json');
    await writeFile(file, JSON.stringify(policy));
    await aws('s3api', 'put-bucket-policy', '--bucket', 'cli-policy', '--policy', `file://${file}`);
    const got = JSON.parse(await aws('s3api', 'get-bucket-policy', '--bucket', 'cli-policy')) as { Policy: string };
    assert.deepEqual(JSON.parse(got.Policy), policy);
    const status = JSON.parse(await aws('s3api', 'get-bucket-policy-status', '--bucket', 'cli-policy')) as { PolicyStatus: { IsPublic: boolean } };
    assert.equal(status.PolicyStatus.IsPublic, true);
    assert.equal((await fetch(`${rig.endpoint}/cli-policy/index.html`)).status, 200);

    await writeFile(file, JSON.stringify({ ...policy, Statement: [{ ...policy.Statement[0], Resource: 'arn:aws:s3:::elsewhere/*' }] }));
    await assert.rejects(aws('s3api', 'put-bucket-policy', '--bucket', 'cli-policy', '--policy', `file://${file}`), /MalformedPolicy.*Policy has invalid resource/s);
    await aws('s3api', 'delete-bucket-policy', '--bucket', 'cli-policy');
    await assert.rejects(aws('s3api', 'get-bucket-policy', '--bucket', 'cli-policy'), /NoSuchBucketPolicy/);
    assert.equal((await fetch(`${rig.endpoint}/cli-policy/index.html`)).status, 403);
  });
});
