/**
 * ABAC with the AWS CLI v1 (botocore): s3api put/get-bucket-abac and s3control
 * tag-resource / list-tags-for-resource / untag-resource. botocore sends S3
 * Control calls to `<account>.<endpoint host>`, a name this machine does not
 * resolve, so the CLI goes through a plain forwarding HTTP proxy (HTTP_PROXY)
 * that hands every request to hanul with its Host header unchanged, as
 * `<account>.localhost` resolving to 127.0.0.1 would.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { findCliV1, runCmd, startRig, type ClientRig } from '../s3-clients/helpers.js';

const CLI = findCliV1();

describe('s3 ABAC with the AWS CLI v1', { skip: CLI === undefined ? 'no aws-cli 1.x on PATH' : false }, () => {
  let rig: ClientRig;
  let proxy: http.Server;
  let env: NodeJS.ProcessEnv;
  const endpoint = () => `http://localhost:${rig.server.port}`;
  const aws = async (...args: string[]) => runCmd(CLI ?? 'aws', ['--endpoint-url', endpoint(), '--output', 'json', ...args], env, 120_000);

  before(async () => {
    rig = await startRig({ tls: false });
    proxy = http.createServer((req, res) => {
      const target = new URL(req.url ?? '/');
      const up = http.request({ host: '127.0.0.1', port: rig.server.port, method: req.method, path: target.pathname + target.search, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    env = { ...rig.env, HTTP_PROXY: proxyUrl, http_proxy: proxyUrl, NO_PROXY: '', no_proxy: '' };
  });
  after(async () => {
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    await rig.stop();
  });

  it('put-bucket-abac, s3control tag-resource / list-tags-for-resource / untag-resource, put-bucket-tagging refused', async () => {
    await aws('s3api', 'create-bucket', '--bucket', 'cli-abac');
    await aws('s3api', 'put-bucket-abac', '--bucket', 'cli-abac', '--abac-status', 'Status=Enabled');
    assert.deepEqual(JSON.parse(await aws('s3api', 'get-bucket-abac', '--bucket', 'cli-abac')), { AbacStatus: { Status: 'Enabled' } });
    const account = ['--account-id', '000000000000', '--resource-arn', 'arn:aws:s3:::cli-abac'];
    await aws('s3control', 'tag-resource', ...account, '--tags', 'Key=team,Value=blue', 'Key=cost,Value=a b');
    await aws('s3control', 'untag-resource', ...account, '--tag-keys', 'cost');
    assert.deepEqual(JSON.parse(await aws('s3control', 'list-tags-for-resource', ...account)), { Tags: [{ Key: 'team', Value: 'blue' }] });
    await assert.rejects(aws('s3api', 'put-bucket-tagging', '--bucket', 'cli-abac', '--tagging', 'TagSet=[{Key=team,Value=red}]'), /InvalidRequest/);
    await assert.rejects(aws('s3control', 'list-tags-for-resource', '--account-id', '000000000000', '--resource-arn', 'arn:aws:s3:::cli-abac/key'), /InvalidRequest/);
  });
});
