// Kinesis resource policies, evaluated by the IAM engine: a stream policy can
// grant on its own, and its explicit Deny binds every caller, root included.
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, PutRecordCommand, PutResourcePolicyCommand, DeleteResourcePolicyCommand } from '@aws-sdk/client-kinesis';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { failure, userWith, type Creds } from './helpers.js';

describe('Kinesis resource policies through the IAM engine', () => {
  let server: TestServer;
  let streamArn: string;
  const kinesis = (credentials?: Creds) => new KinesisClient({ ...server.clientConfig, ...(credentials ? { credentials } : {}), maxAttempts: 1 });
  before(async () => {
    server = await startHanul({ env: { HANUL_KINESIS_STATE_DELAY_MS: '0' } });
    const root = kinesis();
    await root.send(new CreateStreamCommand({ StreamName: 'policed', ShardCount: 1 }));
    streamArn = await waitFor(async () => {
      const s = await root.send(new DescribeStreamSummaryCommand({ StreamName: 'policed' }));
      return s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE' ? s.StreamDescriptionSummary.StreamARN : undefined;
    });
  });
  after(() => server.stop());

  const put = (c: KinesisClient) => c.send(new PutRecordCommand({ StreamARN: streamArn, PartitionKey: 'k', Data: new TextEncoder().encode('x') }));

  it('a user with no identity policy is denied, then allowed by the stream policy alone', async () => {
    const producer = await userWith(server, 'producer');
    const c = kinesis(producer);
    const denied = await failure(put(c));
    assert.equal(denied.name, 'AccessDeniedException');
    assert.match(denied.message, /user\/producer is not authorized to perform: kinesis:PutRecord/);
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/producer' }, Action: 'kinesis:PutRecord', Resource: streamArn }] };
    await kinesis().send(new PutResourcePolicyCommand({ ResourceARN: streamArn, Policy: JSON.stringify(policy) }));
    const ok = await put(c);
    assert.match(ok.SequenceNumber ?? '', /^\d+$/);
    await kinesis().send(new DeleteResourcePolicyCommand({ ResourceARN: streamArn }));
    assert.equal((await failure(put(c))).name, 'AccessDeniedException');
  });

  it("an explicit Deny in the stream policy binds the root user too", async () => {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 'kinesis:PutRecord', Resource: streamArn }] };
    const root = kinesis();
    await root.send(new PutResourcePolicyCommand({ ResourceARN: streamArn, Policy: JSON.stringify(policy) }));
    const e = await failure(put(root));
    assert.equal(e.name, 'AccessDeniedException');
    assert.match(e.message, /explicit deny in a resource-based policy/);
    await root.send(new DeleteResourcePolicyCommand({ ResourceARN: streamArn }));
    assert.match((await put(root)).SequenceNumber ?? '', /^\d+$/);
  });
});
