import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHanul, type TestServer } from '../../support/hanul.js';

async function signedPost(server: TestServer, path: string, body: string, credentials = server.credentials): Promise<Response> {
  const u = new URL(path, server.endpoint);
  const signer = new SignatureV4({ service: 'hanul', region: server.region, credentials, sha256: Sha256 });
  const req = await signer.sign({ method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: u.pathname, headers: { host: u.host, 'content-type': 'application/json' }, body });
  return fetch(u, { method: 'POST', headers: req.headers, body });
}

describe("hanul's own endpoints", () => {
  let server: TestServer;
  let frozen: TestServer;
  before(async () => {
    server = await startHanul({ env: { HANUL_TIME_TRAVEL: '1' } });
    frozen = await startHanul();
  });
  after(async () => {
    await server.stop();
    await frozen.stop();
  });

  it('GET /_hanul/health lists version, uptime and every service', async () => {
    const r = await fetch(`${server.endpoint}/_hanul/health`);
    assert.equal(r.status, 200);
    const h = (await r.json()) as { status: string; version: string; uptimeSeconds: number; services: Record<string, { state: string; operations: number; apiOperations?: number }> };
    assert.equal(h.status, 'ok');
    assert.match(h.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof h.uptimeSeconds, 'number');
    for (const s of ['s3', 'kms', 'kinesis', 'firehose', 'shield', 'iam', 'sts', 'cloudtrail']) assert.ok(h.services[s], `health lists ${s}`);
    // Implemented operations are counted out of the API's own list: never more than it has.
    for (const [name, s] of Object.entries(h.services)) if (s.apiOperations !== undefined) assert.ok(s.operations <= s.apiOperations, `${name}: ${s.operations} of ${s.apiOperations}`);
    assert.equal(h.services['kms']?.operations, h.services['kms']?.apiOperations);
  });

  it('/metrics is Prometheus text with request counters', async () => {
    await fetch(`${server.endpoint}/_hanul/health`);
    const r = await fetch(`${server.endpoint}/metrics`);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.match(text, /hanul_requests_total\{service="hanul",operation="Admin",status="200"\} \d+/);
    assert.match(text, /hanul_request_duration_seconds_bucket/);
  });

  it('the clock moves forward only when time travel is on and the request is signed by root', async () => {
    const before = (await (await fetch(`${server.endpoint}/_hanul/clock`)).json()) as { offsetSeconds: number };
    assert.equal(before.offsetSeconds, 0);
    const unsigned = await fetch(`${server.endpoint}/_hanul/clock`, { method: 'POST', body: '{"advanceSeconds": 60}' });
    assert.equal(unsigned.status, 403);
    const wrongKey = await signedPost(server, '/_hanul/clock', '{"advanceSeconds": 60}', { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'nope' });
    assert.equal(wrongKey.status, 400);
    const bad = await signedPost(server, '/_hanul/clock', '{"advanceSeconds": -5}');
    assert.equal(bad.status, 400);
    const notJson = await signedPost(server, '/_hanul/clock', 'advance please');
    assert.equal(notJson.status, 400);
    const ok = await signedPost(server, '/_hanul/clock', '{"advanceSeconds": 2592000}');
    assert.equal(ok.status, 200);
    const after = (await ok.json()) as { offsetSeconds: number; now: string };
    assert.equal(after.offsetSeconds, 2592000);
    assert.ok(Math.abs(Date.parse(after.now) - (Date.now() + 2592000_000)) < 60_000);
    assert.ok(server.clock.nowMs() - Date.now() >= 2592000_000 - 1000);
  });

  it('refuses to move the clock when time travel is off', async () => {
    const r = await signedPost(frozen, '/_hanul/clock', '{"advanceSeconds": 60}');
    assert.equal(r.status, 403);
    assert.equal(frozen.clock.offsetMs(), 0);
  });
});
