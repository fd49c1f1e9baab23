import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { awsError, startKms, type KmsFixture } from './helpers.js';

describe('CloudTrail records every KMS call', () => {
  let f: KmsFixture;
  before(async () => {
    f = await startKms();
  });
  after(async () => {
    await f.stop();
  });

  it('records successes and failures, without plaintext or ciphertext, and LookupEvents finds them', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({ Description: 'audited' }))).KeyMetadata;
    const secret = 'TOP-SECRET-PLAINTEXT';
    const enc = await f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new TextEncoder().encode(secret), EncryptionContext: { dept: 'x' } }));
    await awsError(f.kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { dept: 'y' } })));
    await awsError(f.kms.send(new DescribeKeyCommand({ KeyId: 'alias/missing' })));

    const byName = await f.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'Encrypt' }] }));
    assert.equal(byName.Events?.length, 1);
    const ev = byName.Events?.[0];
    assert.equal(ev?.EventSource, 'kms.amazonaws.com');
    assert.equal(ev?.Username, 'root');
    assert.deepEqual(ev?.Resources, [{ ResourceType: 'AWS::KMS::Key', ResourceName: k?.Arn }]);
    const rec = JSON.parse(ev?.CloudTrailEvent ?? '{}') as Record<string, any>;
    assert.equal(rec.eventVersion, '1.11');
    assert.equal(rec.eventName, 'Encrypt');
    assert.equal(rec.userIdentity.type, 'Root');
    assert.deepEqual(rec.requestParameters.encryptionContext, { dept: 'x' });
    assert.equal(rec.responseElements, null);
    assert.equal(rec.readOnly, true, 'KMS cryptographic operations are read-only events');
    assert.equal(ev?.ReadOnly, 'true');
    assert.deepEqual(rec.resources, [{ accountId: '000000000000', type: 'AWS::KMS::Key', ARN: k?.Arn }]);
    assert.ok(!ev?.CloudTrailEvent?.includes(secret));
    assert.ok(!ev?.CloudTrailEvent?.includes(Buffer.from(secret).toString('base64')));

    const failed = await f.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'Decrypt' }] }));
    const frec = JSON.parse(failed.Events?.[0]?.CloudTrailEvent ?? '{}') as Record<string, any>;
    assert.equal(frec.errorCode, 'InvalidCiphertextException');
    const nf = await f.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'DescribeKey' }] }));
    const nrec = JSON.parse(nf.Events?.[0]?.CloudTrailEvent ?? '{}') as Record<string, any>;
    assert.equal(nrec.errorCode, 'NotFoundException');
    assert.match(nrec.errorMessage, /alias\/missing is not found/);

    const byKey = await f.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: k?.Arn }] }));
    assert.deepEqual(byKey.Events?.map((e) => e.EventName), ['Decrypt', 'Encrypt', 'CreateKey']);
  });

  it('pages newest first with MaxResults and NextToken, filters by time, and rejects bad input', async () => {
    for (let i = 0; i < 5; i++) await f.kms.send(new CreateKeyCommand({ Description: `page-${i}` }));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const r = await f.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'kms.amazonaws.com' }], MaxResults: 2, NextToken: token }));
      assert.ok((r.Events?.length ?? 0) <= 2);
      for (const e of r.Events ?? []) seen.push(e.EventId as string);
      token = r.NextToken;
    } while (token);
    assert.equal(new Set(seen).size, seen.length);
    const all = await f.cloudtrail.send(new LookupEventsCommand({ MaxResults: 50 }));
    assert.equal(seen.length, all.Events?.length);
    const times = (all.Events ?? []).map((e) => e.EventTime?.getTime() ?? 0);
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    const future = await f.cloudtrail.send(new LookupEventsCommand({ StartTime: new Date(Date.now() + 3_600_000), EndTime: new Date(Date.now() + 7_200_000) }));
    assert.equal(future.Events?.length, 0);
    assert.equal((await awsError(f.cloudtrail.send(new LookupEventsCommand({ MaxResults: 51 })))).name, 'InvalidMaxResultsException');
    assert.equal((await awsError(f.cloudtrail.send(new LookupEventsCommand({ StartTime: new Date(2000), EndTime: new Date(1000) })))).name, 'InvalidTimeRangeException');
    assert.equal((await awsError(f.cloudtrail.send(new LookupEventsCommand({ NextToken: 'bogus' })))).name, 'InvalidNextTokenException');
    const two = await awsError(f.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'a' }, { AttributeKey: 'EventName', AttributeValue: 'b' }] })));
    assert.equal(two.name, 'InvalidLookupAttributesException');
  });

  it('pages across many segments and finds an event by id', async () => {
    const marker = `seg-${Date.now()}`;
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const k = (await f.kms.send(new CreateKeyCommand({ Description: `${marker}-${i}` }))).KeyMetadata;
      made.push(k?.Arn as string);
      if (i % 2 === 0) await f.trail.flush();
    }
    const names: string[] = [];
    let token: string | undefined;
    do {
      const r = await f.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateKey' }], MaxResults: 3, NextToken: token }));
      for (const e of r.Events ?? []) names.push(e.Resources?.[0]?.ResourceName as string);
      token = r.NextToken;
    } while (token);
    const mine = names.filter((n) => made.includes(n));
    assert.deepEqual(mine, [...made].reverse(), 'every event once, newest first, across segments');
    const one = await f.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: made[3] }] }));
    const id = one.Events?.[0]?.EventId as string;
    const byId = await f.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: id }] }));
    assert.deepEqual(byId.Events?.map((e) => e.EventId), [id]);
    const none = await f.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'nobody-at-all' }] }));
    assert.equal(none.Events?.length, 0);
  });

  it('keeps 90 days of history', async () => {
    await f.kms.send(new CreateKeyCommand({ Description: 'old' }));
    const before = (await f.cloudtrail.send(new LookupEventsCommand({ MaxResults: 50 }))).Events?.length ?? 0;
    assert.ok(before > 0);
    f.clock.advance(91 * 86_400_000);
    assert.equal((await f.cloudtrail.send(new LookupEventsCommand({}))).Events?.length, 0, 'outside the default window');
    assert.ok((await f.trail.prune(f.clock.now())) >= before);
    const all = await f.cloudtrail.send(new LookupEventsCommand({ StartTime: new Date(0), LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateKey' }] }));
    assert.equal(all.Events?.length, 0, 'pruned events are gone from the index too');
  });
});
