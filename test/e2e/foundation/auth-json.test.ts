// The edge, driven by the real SDK against a service whose operations are not
// built: what answers is the pipeline itself (routing, SigV4, codec, 501).
import { FirehoseClient, ListDeliveryStreamsCommand, PutRecordCommand } from '@aws-sdk/client-firehose';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceDefinition } from '../../../src/aws/service.js';
import { sdkOperations } from '../../../src/services/sdk-operations.js';
import * as firehoseSdk from '@aws-sdk/client-firehose';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';

/** Firehose with nothing built: every call must reach the operation table and get 501. */
const unbuiltFirehose = (): ServiceDefinition => ({
  name: 'firehose',
  signingNames: ['firehose'],
  protocol: 'json-1.1',
  targetPrefix: 'Firehose_20150804',
  knownOperations: sdkOperations(firehoseSdk),
  operations: {},
});


describe('edge: SigV4 and routing through the real SDK (JSON protocol)', () => {
  let server: TestServer;
  before(async () => {
    server = await startHanul({ app: { services: [unbuiltFirehose] } });
  });
  after(() => server.stop());

  const client = (over: Partial<ConstructorParameters<typeof FirehoseClient>[0]> = {}) =>
    new FirehoseClient({ ...server.clientConfig, maxAttempts: 1, ...over });

  it('a correctly signed call passes authentication and gets 501 NotImplemented naming the operation', async () => {
    const e = await failure(client().send(new ListDeliveryStreamsCommand({})));
    assert.equal(e.status, 501);
    assert.equal(e.name, 'NotImplemented');
    assert.match(e.message, /ListDeliveryStreams/);
  });

  it('a wrong secret → InvalidSignatureException', async () => {
    const e = await failure(client({ credentials: { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'wrong' } }).send(new ListDeliveryStreamsCommand({})));
    assert.equal(e.name, 'InvalidSignatureException');
    assert.equal(e.status, 400);
  });

  it('an unknown key → UnrecognizedClientException', async () => {
    const e = await failure(client({ credentials: { accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'x' } }).send(new ListDeliveryStreamsCommand({})));
    assert.equal(e.name, 'UnrecognizedClientException');
    assert.equal(e.status, 400);
  });

  it('a date 20 minutes stale → InvalidSignatureException "Signature expired"', async () => {
    const e = await failure(client({ systemClockOffset: -20 * 60 * 1000 }).send(new ListDeliveryStreamsCommand({})));
    assert.equal(e.name, 'InvalidSignatureException');
    assert.match(e.message, /Signature expired/);
  });

  it('the SDK corrects its clock from our Date header and then succeeds past auth', async () => {
    const e = await failure(new FirehoseClient({ ...server.clientConfig, systemClockOffset: -20 * 60 * 1000, maxAttempts: 3 }).send(new ListDeliveryStreamsCommand({})));
    assert.equal(e.name, 'NotImplemented');
  });

  it('no authentication → MissingAuthenticationTokenException', async () => {
    const r = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Firehose_20150804.ListDeliveryStreams' },
      body: '{}',
    });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { __type?: string };
    assert.match(body.__type ?? '', /MissingAuthenticationToken/);
    assert.ok(r.headers.get('x-amzn-requestid'));
    assert.ok(r.headers.get('date'));
  });

  it('a malformed Authorization header is refused, not crashed on', async () => {
    for (const auth of ['AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA256 Credential=', 'Bearer x', 'AWS4-HMAC-SHA256 Credential=a/b/c/firehose/aws4_request, SignedHeaders=host, Signature=zz']) {
      const r = await fetch(server.endpoint, {
        method: 'POST',
        headers: { authorization: auth, 'x-amz-date': '20260101T000000Z', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Firehose_20150804.ListDeliveryStreams' },
        body: '{}',
      });
      assert.ok(r.status >= 400 && r.status < 500, `${auth} → ${r.status}`);
      assert.ok(((await r.json()) as { __type?: string }).__type);
    }
  });

  it('an unknown operation → UnknownOperationException; a known unbuilt one → 501', async () => {
    const e = await failure(client().send(new PutRecordCommand({ DeliveryStreamName: 'x', Record: { Data: new Uint8Array([1]) } })));
    assert.equal(e.status, 501);
    assert.match(e.message, /PutRecord/);
  });

  it('keeps serving after all of that', async () => {
    const r = await fetch(`${server.endpoint}/_hanul/health`);
    assert.equal(r.status, 200);
  });
});
