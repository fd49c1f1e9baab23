import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutBucketMetricsConfigurationCommand, PutBucketIntelligentTieringConfigurationCommand } from '@aws-sdk/client-s3';
import { nsBucketConfigs } from './bucket-configs.js';
import { SEP } from './model.js';
import { s3Failure, startS3Harness, type S3Harness } from './test-harness.js';

describe('bucket configurations: limits and tier rules', () => {
  let h: S3Harness;
  before(async () => {
    h = await startS3Harness();
    await h.client.send(new CreateBucketCommand({ Bucket: 'cfg-limit' }));
  });
  after(async () => {
    await h.close();
  });

  it('1,000 of a kind per bucket: the 1,001st is TooManyConfigurations, replacing one still works, other kinds are separate', async () => {
    await h.stores.metadata.write(async (tx) => {
      for (let i = 0; i < 1000; i++) await tx.put(nsBucketConfigs('cfg-limit'), `metrics${SEP}m${i}`, { Id: `m${i}` });
    });
    const f = await s3Failure(h.client.send(new PutBucketMetricsConfigurationCommand({ Bucket: 'cfg-limit', Id: 'one-more', MetricsConfiguration: { Id: 'one-more' } })));
    assert.equal(f.name, 'TooManyConfigurations');
    assert.equal(f.status, 400);
    await h.client.send(new PutBucketMetricsConfigurationCommand({ Bucket: 'cfg-limit', Id: 'm5', MetricsConfiguration: { Id: 'm5', Filter: { Prefix: 'x' } } }));
    await h.client.send(new PutBucketIntelligentTieringConfigurationCommand({ Bucket: 'cfg-limit', Id: 't', IntelligentTieringConfiguration: { Id: 't', Status: 'Enabled', Tierings: [{ AccessTier: 'DEEP_ARCHIVE_ACCESS', Days: 180 }] } }));
  });

  it('tier days: ranges, no repeated tier, deep archive after archive', async () => {
    const put = (Tierings: Array<{ AccessTier: 'ARCHIVE_ACCESS' | 'DEEP_ARCHIVE_ACCESS'; Days: number }>) =>
      s3Failure(h.client.send(new PutBucketIntelligentTieringConfigurationCommand({ Bucket: 'cfg-limit', Id: 'x', IntelligentTieringConfiguration: { Id: 'x', Status: 'Enabled', Tierings } })));
    assert.equal((await put([{ AccessTier: 'DEEP_ARCHIVE_ACCESS', Days: 179 }])).name, 'InvalidArgument');
    assert.equal((await put([{ AccessTier: 'ARCHIVE_ACCESS', Days: 731 }])).name, 'InvalidArgument');
    assert.equal((await put([{ AccessTier: 'ARCHIVE_ACCESS', Days: 100 }, { AccessTier: 'ARCHIVE_ACCESS', Days: 120 }])).name, 'InvalidArgument');
    assert.equal((await put([{ AccessTier: 'ARCHIVE_ACCESS', Days: 200 }, { AccessTier: 'DEEP_ARCHIVE_ACCESS', Days: 190 }])).name, 'InvalidArgument');
    assert.equal((await put([])).name, 'MalformedXML');
  });
});
