import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordCommand, StartStreamEncryptionCommand, waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';

interface TrailEvent {
  userIdentity: { type: string; arn: string; invokedBy?: string };
  eventSource: string;
  eventName: string;
  sourceIPAddress: string;
  userAgent: string;
  requestID: string;
  errorCode?: string;
  requestParameters: { keyId?: string; encryptionContext?: Record<string, string> } | null;
  resources?: { type: string; ARN: string }[];
}

describe('CloudTrail records the KMS calls other services make for the caller', () => {
  let server: TestServer;
  let kms: KMSClient;
  let kinesis: KinesisClient;
  let trail: CloudTrailClient;
  before(async () => {
    server = await startHanul();
    kms = new KMSClient(server.clientConfig);
    kinesis = new KinesisClient(server.clientConfig);
    trail = new CloudTrailClient(server.clientConfig);
  });
  after(async () => {
    kms.destroy();
    kinesis.destroy();
    trail.destroy();
    await server.stop();
  });

  /** The KMS events of `name` made by Kinesis (records are written in batches: poll with a deadline). */
  const kinesisCalls = (name: string, want: (e: TrailEvent) => boolean) =>
    waitFor(async () => {
      const r = await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }], MaxResults: 50 }));
      const events = (r.Events ?? []).map((e) => JSON.parse(e.CloudTrailEvent ?? '{}') as TrailEvent);
      const found = events.filter((e) => e.userIdentity.invokedBy === 'kinesis.amazonaws.com' && want(e));
      return found.length ? found : undefined;
    }, { what: `a ${name} event invoked by Kinesis` });

  it('Kinesis stream encryption: GenerateDataKey as the caller, invokedBy/sourceIPAddress kinesis.amazonaws.com, failures too', async () => {
    const key = (await kms.send(new CreateKeyCommand({ Description: 'stream key' }))).KeyMetadata;
    await kinesis.send(new CreateStreamCommand({ StreamName: 'audited', ShardCount: 1 }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: 'audited' });
    await kinesis.send(new StartStreamEncryptionCommand({ StreamName: 'audited', EncryptionType: 'KMS', KeyId: key?.KeyId }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: 'audited' });
    const put = await kinesis.send(new PutRecordCommand({ StreamName: 'audited', PartitionKey: 'p', Data: new TextEncoder().encode('sealed') }));
    const it = await kinesis.send(new GetShardIteratorCommand({ StreamName: 'audited', ShardId: put.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    assert.equal(new TextDecoder().decode((await kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))).Records?.[0]?.Data), 'sealed');

    const [gdk] = await kinesisCalls('GenerateDataKey', (e) => !e.errorCode);
    assert.ok(gdk);
    assert.equal(gdk.eventSource, 'kms.amazonaws.com');
    assert.equal(gdk.sourceIPAddress, 'kinesis.amazonaws.com');
    assert.equal(gdk.userAgent, 'kinesis.amazonaws.com');
    // The caller's identity (here the account root whose key signed the Kinesis request).
    assert.equal(gdk.userIdentity.type, 'Root');
    assert.match(gdk.userIdentity.arn, /^arn:aws:iam::\d{12}:root$/);
    assert.match(gdk.requestParameters?.encryptionContext?.['aws:kinesis:arn'] ?? '', /:stream\/audited$/);
    assert.deepEqual(gdk.resources?.map((r) => r.ARN), [key?.Arn]);
    assert.match(gdk.requestID, /^[0-9a-f-]{36}$/);

    // A failed call on the caller's behalf is recorded with its error, like any other.
    await assert.rejects(kinesis.send(new StartStreamEncryptionCommand({ StreamName: 'audited', EncryptionType: 'KMS', KeyId: 'alias/not-there' })), { name: 'KMSNotFoundException' });
    const [failed] = await kinesisCalls('GenerateDataKey', (e) => e.errorCode === 'NotFoundException');
    assert.equal(failed?.requestParameters?.keyId, 'alias/not-there');

    // The Kinesis calls themselves are not KMS events; a direct KMS call carries no invokedBy.
    const direct = await trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateKey' }] }));
    const created = (direct.Events ?? []).map((e) => JSON.parse(e.CloudTrailEvent ?? '{}') as TrailEvent);
    assert.ok(created.length >= 1);
    for (const e of created) {
      assert.equal(e.userIdentity.invokedBy, undefined);
      assert.notEqual(e.sourceIPAddress, 'kinesis.amazonaws.com');
    }
  });
});
