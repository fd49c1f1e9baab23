/**
 * Metrics, analytics, inventory and Intelligent-Tiering configurations
 * through the real SDK: stored and returned as put, S3's validation and
 * errors, List pagination with a ContinuationToken, a restart, and their
 * removal with the bucket.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketMetricsConfigurationCommand,
  GetBucketAnalyticsConfigurationCommand,
  GetBucketIntelligentTieringConfigurationCommand,
  GetBucketInventoryConfigurationCommand,
  GetBucketMetricsConfigurationCommand,
  ListBucketAnalyticsConfigurationsCommand,
  ListBucketIntelligentTieringConfigurationsCommand,
  ListBucketInventoryConfigurationsCommand,
  ListBucketMetricsConfigurationsCommand,
  PutBucketAnalyticsConfigurationCommand,
  PutBucketIntelligentTieringConfigurationCommand,
  PutBucketInventoryConfigurationCommand,
  PutBucketMetricsConfigurationCommand,
  S3Client,
  type InventoryConfiguration,
} from '@aws-sdk/client-s3';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';

const INVENTORY: InventoryConfiguration = {
  Id: 'daily',
  IsEnabled: true,
  IncludedObjectVersions: 'Current',
  Schedule: { Frequency: 'Daily' },
  Filter: { Prefix: 'data/' },
  OptionalFields: ['Size', 'ETag', 'StorageClass'],
  Destination: { S3BucketDestination: { Bucket: 'arn:aws:s3:::bc-reports', Format: 'CSV', Prefix: 'inv', Encryption: { SSES3: {} } } },
};

describe('s3 metrics / analytics / inventory / intelligent-tiering configurations', () => {
  let server: TestServer;
  let s3: S3Client;
  let dataDir = '';
  const B = 'bc-main';

  before(async () => {
    server = await startHanul();
    dataDir = server.dataDir;
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: B }));
  });
  after(async () => {
    s3.destroy();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('metrics: put, get, list in pages of 100, delete; bad ids and filters refused', async () => {
    assert.equal((await failure(s3.send(new GetBucketMetricsConfigurationCommand({ Bucket: B, Id: 'none' })))).name, 'NoSuchConfiguration');
    const empty = await s3.send(new ListBucketMetricsConfigurationsCommand({ Bucket: B }));
    assert.equal(empty.IsTruncated, false);
    assert.equal(empty.MetricsConfigurationList, undefined);

    await s3.send(new PutBucketMetricsConfigurationCommand({ Bucket: B, Id: 'tagged', MetricsConfiguration: { Id: 'tagged', Filter: { And: { Prefix: 'p/', Tags: [{ Key: 'k', Value: 'v' }] } } } }));
    const got = await s3.send(new GetBucketMetricsConfigurationCommand({ Bucket: B, Id: 'tagged' }));
    assert.deepEqual(got.MetricsConfiguration, { Id: 'tagged', Filter: { And: { Prefix: 'p/', Tags: [{ Key: 'k', Value: 'v' }] } } });

    for (let i = 0; i < 100; i++) {
      const Id = `m-${String(i).padStart(3, '0')}`;
      await s3.send(new PutBucketMetricsConfigurationCommand({ Bucket: B, Id, MetricsConfiguration: { Id } }));
    }
    const p1 = await s3.send(new ListBucketMetricsConfigurationsCommand({ Bucket: B }));
    assert.equal(p1.IsTruncated, true);
    assert.equal(p1.MetricsConfigurationList?.length, 100);
    assert.equal(p1.MetricsConfigurationList?.[0]?.Id, 'm-000');
    assert.ok(p1.NextContinuationToken);
    const p2 = await s3.send(new ListBucketMetricsConfigurationsCommand({ Bucket: B, ContinuationToken: p1.NextContinuationToken }));
    assert.equal(p2.IsTruncated, false);
    assert.equal(p2.ContinuationToken, p1.NextContinuationToken);
    assert.deepEqual(p2.MetricsConfigurationList?.map((c) => c.Id), ['tagged']);
    assert.equal((await failure(s3.send(new ListBucketMetricsConfigurationsCommand({ Bucket: B, ContinuationToken: 'bogus' })))).name, 'InvalidArgument');

    await s3.send(new DeleteBucketMetricsConfigurationCommand({ Bucket: B, Id: 'm-000' }));
    assert.equal((await failure(s3.send(new GetBucketMetricsConfigurationCommand({ Bucket: B, Id: 'm-000' })))).status, 404);
    assert.equal((await failure(s3.send(new DeleteBucketMetricsConfigurationCommand({ Bucket: B, Id: 'm-000' })))).name, 'NoSuchConfiguration');

    const badId = await failure(s3.send(new PutBucketMetricsConfigurationCommand({ Bucket: B, Id: 'bad id!', MetricsConfiguration: { Id: 'bad id!' } })));
    assert.equal(badId.name, 'InvalidArgument');
    const mismatch = await failure(s3.send(new PutBucketMetricsConfigurationCommand({ Bucket: B, Id: 'a', MetricsConfiguration: { Id: 'b' } })));
    assert.equal(mismatch.name, 'InvalidArgument');
    const twoFilters = await failure(s3.send(new PutBucketMetricsConfigurationCommand({ Bucket: B, Id: 'a', MetricsConfiguration: { Id: 'a', Filter: { Prefix: 'x', Tag: { Key: 'k', Value: 'v' } } as never } })));
    assert.equal(twoFilters.name, 'MalformedXML');
    assert.equal((await failure(s3.send(new PutBucketMetricsConfigurationCommand({ Bucket: 'bc-none', Id: 'a', MetricsConfiguration: { Id: 'a' } })))).name, 'NoSuchBucket');
  });

  it('analytics, inventory and intelligent-tiering round-trip; S3 refuses bad enums, ARNs and tier days', async () => {
    const analytics = {
      Id: 'sca',
      Filter: { Prefix: 'logs/' },
      StorageClassAnalysis: { DataExport: { OutputSchemaVersion: 'V_1' as const, Destination: { S3BucketDestination: { Format: 'CSV' as const, Bucket: 'arn:aws:s3:::bc-reports', Prefix: 'sca/' } } } },
    };
    await s3.send(new PutBucketAnalyticsConfigurationCommand({ Bucket: B, Id: 'sca', AnalyticsConfiguration: analytics }));
    assert.deepEqual((await s3.send(new GetBucketAnalyticsConfigurationCommand({ Bucket: B, Id: 'sca' }))).AnalyticsConfiguration, analytics);
    assert.equal((await s3.send(new ListBucketAnalyticsConfigurationsCommand({ Bucket: B }))).AnalyticsConfigurationList?.length, 1);
    const badArn = await failure(
      s3.send(new PutBucketAnalyticsConfigurationCommand({ Bucket: B, Id: 'x', AnalyticsConfiguration: { ...analytics, Id: 'x', StorageClassAnalysis: { DataExport: { OutputSchemaVersion: 'V_1', Destination: { S3BucketDestination: { Format: 'CSV', Bucket: 'bc-reports' } } } } } })),
    );
    assert.equal(badArn.name, 'InvalidArgument');

    await s3.send(new PutBucketInventoryConfigurationCommand({ Bucket: B, Id: 'daily', InventoryConfiguration: INVENTORY }));
    assert.deepEqual((await s3.send(new GetBucketInventoryConfigurationCommand({ Bucket: B, Id: 'daily' }))).InventoryConfiguration, INVENTORY);
    assert.deepEqual((await s3.send(new ListBucketInventoryConfigurationsCommand({ Bucket: B }))).InventoryConfigurationList?.map((c) => c.Id), ['daily']);
    const badField = await failure(s3.send(new PutBucketInventoryConfigurationCommand({ Bucket: B, Id: 'daily', InventoryConfiguration: { ...INVENTORY, OptionalFields: ['Colour' as never] } })));
    assert.equal(badField.name, 'MalformedXML');
    const badFreq = await failure(s3.send(new PutBucketInventoryConfigurationCommand({ Bucket: B, Id: 'daily', InventoryConfiguration: { ...INVENTORY, Schedule: { Frequency: 'Hourly' as never } } })));
    assert.equal(badFreq.name, 'MalformedXML');

    const tiering = { Id: 'archive', Status: 'Enabled' as const, Filter: { Prefix: 'cold/' }, Tierings: [{ AccessTier: 'ARCHIVE_ACCESS' as const, Days: 90 }, { AccessTier: 'DEEP_ARCHIVE_ACCESS' as const, Days: 180 }] };
    await s3.send(new PutBucketIntelligentTieringConfigurationCommand({ Bucket: B, Id: 'archive', IntelligentTieringConfiguration: tiering }));
    assert.deepEqual((await s3.send(new GetBucketIntelligentTieringConfigurationCommand({ Bucket: B, Id: 'archive' }))).IntelligentTieringConfiguration, tiering);
    assert.equal((await s3.send(new ListBucketIntelligentTieringConfigurationsCommand({ Bucket: B }))).IntelligentTieringConfigurationList?.length, 1);
    const tooSoon = await failure(
      s3.send(new PutBucketIntelligentTieringConfigurationCommand({ Bucket: B, Id: 'soon', IntelligentTieringConfiguration: { ...tiering, Id: 'soon', Tierings: [{ AccessTier: 'ARCHIVE_ACCESS', Days: 30 }] } })),
    );
    assert.equal(tooSoon.name, 'InvalidArgument');
    assert.equal(tooSoon.status, 400);
  });

  it('configurations survive a restart and go with their bucket', async () => {
    s3.destroy();
    await server.stop({ keepData: true });
    server = await startHanul({ dataDir });
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    assert.deepEqual((await s3.send(new GetBucketInventoryConfigurationCommand({ Bucket: B, Id: 'daily' }))).InventoryConfiguration, INVENTORY);
    assert.equal((await s3.send(new ListBucketMetricsConfigurationsCommand({ Bucket: B }))).MetricsConfigurationList?.length, 100);

    await s3.send(new DeleteBucketCommand({ Bucket: B }));
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    assert.equal((await s3.send(new ListBucketMetricsConfigurationsCommand({ Bucket: B }))).MetricsConfigurationList, undefined);
    assert.equal((await failure(s3.send(new GetBucketInventoryConfigurationCommand({ Bucket: B, Id: 'daily' })))).name, 'NoSuchConfiguration');
  });
});
