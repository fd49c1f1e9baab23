import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DescribeStreamSummaryOutput, GetRecordsOutput, ListStreamsOutput, PutRecordOutput } from '@aws-sdk/client-kinesis';
import { chunkOf, type ChunkRow } from './chunks.js';
import type { StreamKms } from './encryption.js';
import { NS_STREAM, recordNs, type StreamMeta } from './model.js';
import { activeStream, kit, rejects, type Kit } from './test-kit.js';

/** A stand-in KMS: wraps data keys with AES-GCM under one master key; key 'bad' does not exist. */
function fakeKms(): StreamKms & { calls: string[] } {
  const master = randomBytes(32);
  const calls: string[] = [];
  return {
    calls,
    async generateDataKey(keyId) {
      calls.push(`gen:${keyId}`);
      if (keyId === 'bad') throw Object.assign(new Error(`Key ${keyId} does not exist`), { code: 'KMSNotFoundException' });
      const plaintext = randomBytes(32);
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', master, iv);
      const body = Buffer.concat([c.update(plaintext), c.final()]);
      return { keyArn: `arn:aws:kms:us-east-1:000000000000:key/${keyId}`, plaintext, ciphertext: Buffer.concat([iv, body, c.getAuthTag()]) };
    },
    async decrypt(blob) {
      calls.push('decrypt');
      const b = Buffer.from(blob);
      const d = createDecipheriv('aes-256-gcm', master, b.subarray(0, 12));
      d.setAuthTag(b.subarray(b.length - 16));
      return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
    },
  };
}

describe('kinesis control plane', () => {
  let k: Kit;
  const kms = fakeKms();
  before(async () => {
    k = await kit({}, kms);
  });
  after(async () => {
    await k.close();
  });

  it('stream lifecycle: CREATING → ACTIVE → DELETING → gone; ListStreams pages', async () => {
    const slow = await kit({ stateDelayMs: 50 });
    try {
      await slow.call('CreateStream', { StreamName: 'life', ShardCount: 2, Tags: { team: 'data' } });
      const s0 = await slow.call<DescribeStreamSummaryOutput>('DescribeStreamSummary', { StreamName: 'life' });
      assert.equal(s0.StreamDescriptionSummary?.StreamStatus, 'CREATING');
      await rejects(slow.call('PutRecord', { StreamName: 'life', PartitionKey: 'a', Data: new Uint8Array(1) }), 'ResourceNotFoundException');
      await slow.lifecycle.idle();
      const s1 = await slow.call<DescribeStreamSummaryOutput>('DescribeStreamSummary', { StreamName: 'life' });
      assert.equal(s1.StreamDescriptionSummary?.StreamStatus, 'ACTIVE');
      assert.equal(s1.StreamDescriptionSummary?.OpenShardCount, 2);
      assert.equal(s1.StreamDescriptionSummary?.StreamARN, 'arn:aws:kinesis:us-east-1:000000000000:stream/life');
      for (const n of ['b', 'c', 'd']) await slow.call('CreateStream', { StreamName: n, StreamModeDetails: { StreamMode: 'ON_DEMAND' } });
      const p1 = await slow.call<ListStreamsOutput>('ListStreams', { Limit: 2 });
      assert.deepEqual(p1.StreamNames, ['b', 'c']);
      assert.equal(p1.HasMoreStreams, true);
      assert.equal(p1.StreamSummaries?.[0]?.StreamModeDetails?.StreamMode, 'ON_DEMAND');
      const p2 = await slow.call<ListStreamsOutput>('ListStreams', { NextToken: p1.NextToken });
      assert.deepEqual(p2.StreamNames, ['d', 'life']);
      await slow.call('DeleteStream', { StreamName: 'life' });
      const s2 = await slow.call<DescribeStreamSummaryOutput>('DescribeStreamSummary', { StreamName: 'life' });
      assert.equal(s2.StreamDescriptionSummary?.StreamStatus, 'DELETING');
      await slow.lifecycle.idle();
      await rejects(slow.call('DescribeStreamSummary', { StreamName: 'life' }), 'ResourceNotFoundException', /^Stream life under account 000000000000 not found\.$/);
    } finally {
      await slow.close();
    }
  });

  it('consumers: register, describe, list, deregister; DeleteStream needs EnforceConsumerDeletion', async () => {
    await activeStream(k, 'fan', 1);
    const arn = 'arn:aws:kinesis:us-east-1:000000000000:stream/fan';
    const r = await k.call<{ Consumer: { ConsumerARN: string; ConsumerStatus: string } }>('RegisterStreamConsumer', { StreamARN: arn, ConsumerName: 'c1' });
    assert.match(r.Consumer.ConsumerARN, /^arn:aws:kinesis:us-east-1:000000000000:stream\/fan\/consumer\/c1:\d+$/);
    assert.equal(r.Consumer.ConsumerStatus, 'CREATING');
    await rejects(k.call('RegisterStreamConsumer', { StreamARN: arn, ConsumerName: 'c1' }), 'ResourceInUseException');
    await k.lifecycle.idle();
    const d = await k.call<{ ConsumerDescription: { ConsumerStatus: string; StreamARN: string } }>('DescribeStreamConsumer', { ConsumerARN: r.Consumer.ConsumerARN });
    assert.equal(d.ConsumerDescription.ConsumerStatus, 'ACTIVE');
    assert.equal(d.ConsumerDescription.StreamARN, arn);
    const byName = await k.call<{ ConsumerDescription: { ConsumerARN: string } }>('DescribeStreamConsumer', { StreamARN: arn, ConsumerName: 'c1' });
    assert.equal(byName.ConsumerDescription.ConsumerARN, r.Consumer.ConsumerARN);
    const list = await k.call<{ Consumers: { ConsumerName: string }[] }>('ListStreamConsumers', { StreamARN: arn });
    assert.deepEqual(list.Consumers.map((c) => c.ConsumerName), ['c1']);
    await rejects(k.call('DeleteStream', { StreamName: 'fan' }), 'ResourceInUseException', /consumer/);
    await k.call('TagResource', { ResourceARN: r.Consumer.ConsumerARN, Tags: { owner: 'me' } });
    const tags = await k.call<{ Tags: unknown[] }>('ListTagsForResource', { ResourceARN: r.Consumer.ConsumerARN });
    assert.deepEqual(tags.Tags, [{ Key: 'owner', Value: 'me' }]);
    await k.call('DeregisterStreamConsumer', { ConsumerARN: r.Consumer.ConsumerARN });
    await k.lifecycle.idle();
    await rejects(k.call('DescribeStreamConsumer', { ConsumerARN: r.Consumer.ConsumerARN }), 'ResourceNotFoundException');
    await k.call('RegisterStreamConsumer', { StreamARN: arn, ConsumerName: 'c2' });
    await k.call('DeleteStream', { StreamName: 'fan', EnforceConsumerDeletion: true });
    await k.lifecycle.idle();
  });

  it('tags (old and new operations), resource policies, monitoring, limits', async () => {
    await activeStream(k, 'tg', 1);
    const arn = 'arn:aws:kinesis:us-east-1:000000000000:stream/tg';
    await k.call('AddTagsToStream', { StreamName: 'tg', Tags: { b: '2', a: '1' } });
    await k.call('TagResource', { ResourceARN: arn, Tags: { c: '3' } });
    const t = await k.call<{ Tags: { Key: string }[]; HasMoreTags: boolean }>('ListTagsForStream', { StreamName: 'tg', Limit: 2 });
    assert.deepEqual(t.Tags.map((x) => x.Key), ['a', 'b']);
    assert.equal(t.HasMoreTags, true);
    await k.call('RemoveTagsFromStream', { StreamName: 'tg', TagKeys: ['a'] });
    await k.call('UntagResource', { ResourceARN: arn, TagKeys: ['b'] });
    assert.deepEqual((await k.call<{ Tags: unknown[] }>('ListTagsForResource', { ResourceARN: arn })).Tags, [{ Key: 'c', Value: '3' }]);
    await rejects(k.call('AddTagsToStream', { StreamName: 'tg', Tags: { 'bad<': 'x' } }), 'InvalidArgumentException', /illegal characters/);

    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '111111111111' }, Action: 'kinesis:GetRecords', Resource: arn }] });
    await k.call('PutResourcePolicy', { ResourceARN: arn, Policy: policy });
    assert.equal((await k.call<{ Policy: string }>('GetResourcePolicy', { ResourceARN: arn })).Policy, policy);
    await k.call('DeleteResourcePolicy', { ResourceARN: arn });
    await rejects(k.call('PutResourcePolicy', { ResourceARN: arn, Policy: 'not json' }), 'InvalidArgumentException');

    const m = await k.call<{ CurrentShardLevelMetrics: string[]; DesiredShardLevelMetrics: string[] }>('EnableEnhancedMonitoring', { StreamName: 'tg', ShardLevelMetrics: ['IncomingBytes'] });
    assert.deepEqual(m.DesiredShardLevelMetrics, ['IncomingBytes']);
    const all = await k.call<{ DesiredShardLevelMetrics: string[] }>('EnableEnhancedMonitoring', { StreamName: 'tg', ShardLevelMetrics: ['ALL'] });
    assert.equal(all.DesiredShardLevelMetrics.length, 7);
    await rejects(k.call('EnableEnhancedMonitoring', { StreamName: 'tg', ShardLevelMetrics: ['Nope'] }), 'ValidationException');

    const lim = await k.call<{ ShardLimit: number; OpenShardCount: number }>('DescribeLimits', {});
    assert.equal(lim.ShardLimit, 500);
    assert.ok(lim.OpenShardCount >= 1);
    const acct = await k.call<{ MinimumThroughputBillingCommitment: { Status: string } }>('UpdateAccountSettings', { MinimumThroughputBillingCommitment: { Status: 'ENABLED' } });
    assert.equal(acct.MinimumThroughputBillingCommitment.Status, 'ENABLED');
    assert.equal((await k.call<{ MinimumThroughputBillingCommitment: { Status: string } }>('DescribeAccountSettings', {})).MinimumThroughputBillingCommitment.Status, 'ENABLED');
    assert.deepEqual(await k.call('ListChannels', {}), { ChannelSummaries: [] });
    await rejects(k.call('CreateChannel', { ChannelName: 'ch', ServiceExecutionRoleARN: 'arn:aws:iam::000000000000:role/x', StreamConfigurationList: [] }), 'NotImplemented', /not supported by hanul/);
  });

  it('server-side encryption: records sealed at rest with a KMS data key, readable after restart', async () => {
    await activeStream(k, 'enc', 1);
    await rejects(k.call('StartStreamEncryption', { StreamName: 'enc', EncryptionType: 'KMS', KeyId: 'bad' }), 'KMSNotFoundException');
    await k.call('PutRecord', { StreamName: 'enc', PartitionKey: 'a', Data: new Uint8Array(Buffer.from('plain-before')) });
    await k.call('StartStreamEncryption', { StreamName: 'enc', EncryptionType: 'KMS', KeyId: 'alias/streams' });
    await k.lifecycle.idle();
    const p = await k.call<PutRecordOutput>('PutRecord', { StreamName: 'enc', PartitionKey: 'a', Data: new Uint8Array(Buffer.from('secret-payload')) });
    assert.equal(p.EncryptionType, 'KMS');
    const stored = await k.store.read(async (tx) => {
      const s = (await tx.get<StreamMeta>(NS_STREAM, 'enc')) as StreamMeta;
      return (await tx.scan<ChunkRow>(recordNs(s.id, 0))).map((r) => Buffer.from(chunkOf(r.value, k.streamLog, s.id)));
    });
    assert.equal(stored.length, 2);
    assert.ok(!(stored[1] as Buffer).includes('secret-payload'), 'ciphertext at rest');
    assert.ok((stored[0] as Buffer).includes('plain-before'), 'the record put before encryption started stays as it was');
    for (const seg of k.streamLog?.list() ?? []) {
      assert.ok(!readFileSync(join(k.dir, 'streams', seg.lane, `${String(seg.segment).padStart(12, '0')}.log`)).includes('secret-payload'), 'no plaintext in the log');
    }
    k = await k.restart();
    const before = kms.calls.filter((c) => c === 'decrypt').length;
    const it = await k.call<{ ShardIterator: string }>('GetShardIterator', { StreamName: 'enc', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' });
    const r = await k.call<GetRecordsOutput>('GetRecords', { ShardIterator: it.ShardIterator });
    assert.deepEqual(r.Records?.map((x) => Buffer.from(x.Data as Uint8Array).toString()), ['plain-before', 'secret-payload']);
    assert.equal(r.Records?.[1]?.EncryptionType, 'KMS');
    assert.equal(kms.calls.filter((c) => c === 'decrypt').length, before + 1, 'one KMS Decrypt for the data key');
    const sum = await k.call<DescribeStreamSummaryOutput>('DescribeStreamSummary', { StreamName: 'enc' });
    assert.equal(sum.StreamDescriptionSummary?.EncryptionType, 'KMS');
    assert.equal(sum.StreamDescriptionSummary?.KeyId, 'alias/streams');
    await k.call('StopStreamEncryption', { StreamName: 'enc', EncryptionType: 'KMS', KeyId: 'alias/streams' });
    await k.lifecycle.idle();
    const p2 = await k.call<PutRecordOutput>('PutRecord', { StreamName: 'enc', PartitionKey: 'a', Data: new Uint8Array(Buffer.from('after')) });
    assert.equal(p2.EncryptionType, 'NONE');
  });
});
