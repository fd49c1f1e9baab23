// Debian's AWS CLI v2 (/usr/bin/aws): `aws s3 website`, get/delete-bucket-website, put/get-bucket-cors.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliVersion, runCmd, startRig, type ClientRig } from './helpers.js';

const BIN = '/usr/bin/aws';

describe('S3 website and CORS with AWS CLI v2', { skip: cliVersion(BIN)?.startsWith('aws-cli/2.') ? false : 'CLI v2 not installed' }, () => {
  let rig: ClientRig;
  const aws = (...args: string[]): Promise<string> => runCmd(BIN, ['--endpoint-url', rig.endpoint, ...args], rig.env, 120_000);
  const json = async (...args: string[]): Promise<Record<string, unknown>> => JSON.parse((await aws(...args, '--output', 'json')) || '{}') as Record<string, unknown>;
  before(async () => {
    rig = await startRig({ tls: false });
    await aws('s3', 'mb', 's3://cli-site');
  });
  after(() => rig.stop());

  it('aws s3 website sets index and error documents; s3api reads and deletes them', async () => {
    await aws('s3', 'website', 's3://cli-site', '--index-document', 'index.html', '--error-document', 'error.html');
    const got = await json('s3api', 'get-bucket-website', '--bucket', 'cli-site');
    assert.deepEqual(got['IndexDocument'], { Suffix: 'index.html' });
    assert.deepEqual(got['ErrorDocument'], { Key: 'error.html' });
    await aws('s3api', 'delete-bucket-website', '--bucket', 'cli-site');
    await assert.rejects(aws('s3api', 'get-bucket-website', '--bucket', 'cli-site'), /NoSuchWebsiteConfiguration/);
  });

  it('s3api put-bucket-cors / get-bucket-cors round-trip; a bad method is InvalidRequest', async () => {
    const file = join(rig.dir, 'cors.json');
    const rules = { CORSRules: [{ AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], MaxAgeSeconds: 600 }] };
    await writeFile(file, JSON.stringify(rules));
    await aws('s3api', 'put-bucket-cors', '--bucket', 'cli-site', '--cors-configuration', `file://${file}`);
    assert.deepEqual(await json('s3api', 'get-bucket-cors', '--bucket', 'cli-site'), rules);
    await writeFile(file, JSON.stringify({ CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['TRACE'] }] }));
    await assert.rejects(aws('s3api', 'put-bucket-cors', '--bucket', 'cli-site', '--cors-configuration', `file://${file}`), /InvalidRequest/);
  });
});
