import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import * as sh from '@aws-sdk/client-shield';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';
import { endpointArn } from '../../../src/services/shield/resources.js';


describe('shield API: subscription, protections, groups, DRT, contacts, tags', () => {
  let h: TestServer;
  let c: sh.ShieldClient;
  let alb: string;
  before(async () => {
    h = await startHanul({ env: { HANUL_TIME_TRAVEL: '1' } });
    c = new sh.ShieldClient({ ...h.clientConfig, maxAttempts: 1 });
    alb = endpointArn(h.region, '000000000000');
  });
  after(async () => {
    c.destroy();
    await h.stop();
  });

  it('without a subscription: ResourceNotFoundException "The subscription does not exist."', async () => {
    assert.equal((await c.send(new sh.GetSubscriptionStateCommand({}))).SubscriptionState, 'INACTIVE');
    const f = await failure(c.send(new sh.DescribeSubscriptionCommand({})));
    assert.deepEqual(f, { name: 'ResourceNotFoundException', message: 'The subscription does not exist.', status: 400 });
    assert.equal((await failure(c.send(new sh.CreateProtectionCommand({ Name: 'x', ResourceArn: alb })))).name, 'ResourceNotFoundException');
  });

  it('subscription: create, describe, AutoRenew locked outside the last 30 days, delete rules', async () => {
    await c.send(new sh.CreateSubscriptionCommand({}));
    assert.equal((await failure(c.send(new sh.CreateSubscriptionCommand({})))).name, 'ResourceAlreadyExistsException');
    const s = (await c.send(new sh.DescribeSubscriptionCommand({}))).Subscription;
    assert.equal(s?.AutoRenew, 'ENABLED');
    assert.equal(s?.TimeCommitmentInSeconds, 31536000);
    assert.match(s?.SubscriptionArn ?? '', /^arn:aws:shield::000000000000:subscription\//);
    assert.ok(s?.SubscriptionLimits?.ProtectionGroupLimits?.MaxProtectionGroups);
    assert.equal((await c.send(new sh.GetSubscriptionStateCommand({}))).SubscriptionState, 'ACTIVE');
    assert.equal((await failure(c.send(new sh.UpdateSubscriptionCommand({ AutoRenew: 'DISABLED' })))).name, 'LockedSubscriptionException');
    assert.equal((await failure(c.send(new sh.DeleteSubscriptionCommand({})))).name, 'LockedSubscriptionException');
    await c.send(new sh.UpdateSubscriptionCommand({ AutoRenew: 'ENABLED' })); // no change: fine
  });

  it('protections on the endpoint and a bucket; errors for unknown resources; filters; health checks', async () => {
    await new S3Client({ ...h.clientConfig, forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: 'site' }));
    const { ProtectionId } = await c.send(new sh.CreateProtectionCommand({ Name: 'api', ResourceArn: alb, Tags: [{ Key: 'team', Value: 'edge' }] }));
    const b = await c.send(new sh.CreateProtectionCommand({ Name: 'site', ResourceArn: 'arn:aws:s3:::site' }));
    assert.equal((await failure(c.send(new sh.CreateProtectionCommand({ Name: 'again', ResourceArn: alb })))).name, 'ResourceAlreadyExistsException');
    assert.equal((await failure(c.send(new sh.CreateProtectionCommand({ Name: 'nb', ResourceArn: 'arn:aws:s3:::no-such-bucket' })))).name, 'ResourceNotFoundException');
    assert.equal((await failure(c.send(new sh.CreateProtectionCommand({ Name: 'x', ResourceArn: 'arn:aws:ec2:us-east-1:000000000000:instance/i-1' })))).name, 'InvalidResourceException');
    assert.equal((await failure(c.send(new sh.CreateProtectionCommand({ Name: 'bad/name', ResourceArn: alb })))).name, 'InvalidParameterException');
    const byArn = (await c.send(new sh.DescribeProtectionCommand({ ResourceArn: alb }))).Protection;
    assert.equal(byArn?.Id, ProtectionId);
    assert.equal((await c.send(new sh.DescribeProtectionCommand({ ProtectionId: b.ProtectionId }))).Protection?.ResourceArn, 'arn:aws:s3:::site');
    assert.equal((await failure(c.send(new sh.DescribeProtectionCommand({ ProtectionId: 'nope' })))).name, 'ResourceNotFoundException');
    assert.equal((await failure(c.send(new sh.DescribeProtectionCommand({})))).name, 'InvalidParameterException');
    assert.equal((await c.send(new sh.ListProtectionsCommand({}))).Protections?.length, 2);
    const f = await c.send(new sh.ListProtectionsCommand({ InclusionFilters: { ResourceTypes: ['APPLICATION_LOAD_BALANCER'] } }));
    assert.deepEqual(f.Protections?.map((p) => p.Name), ['api']);
    const p1 = await c.send(new sh.ListProtectionsCommand({ MaxResults: 1 }));
    assert.equal(p1.Protections?.length, 1);
    const p2 = await c.send(new sh.ListProtectionsCommand({ MaxResults: 1, NextToken: p1.NextToken }));
    assert.equal(p2.Protections?.length, 1);
    assert.equal(p2.NextToken, undefined);
    assert.equal((await failure(c.send(new sh.ListProtectionsCommand({ NextToken: 'garbage' })))).name, 'InvalidPaginationTokenException');
    await c.send(new sh.AssociateHealthCheckCommand({ ProtectionId, HealthCheckArn: 'arn:aws:route53:::healthcheck/hc-1' }));
    assert.deepEqual((await c.send(new sh.DescribeProtectionCommand({ ProtectionId }))).Protection?.HealthCheckIds, ['hc-1']);
    await c.send(new sh.DisassociateHealthCheckCommand({ ProtectionId, HealthCheckArn: 'arn:aws:route53:::healthcheck/hc-1' }));
    const tags = await c.send(new sh.ListTagsForResourceCommand({ ResourceARN: byArn?.ProtectionArn }));
    assert.deepEqual(tags.Tags, [{ Key: 'team', Value: 'edge' }]);
    await c.send(new sh.TagResourceCommand({ ResourceARN: byArn?.ProtectionArn, Tags: [{ Key: 'env', Value: 'dev' }] }));
    await c.send(new sh.UntagResourceCommand({ ResourceARN: byArn?.ProtectionArn, TagKeys: ['team'] }));
    assert.deepEqual((await c.send(new sh.ListTagsForResourceCommand({ ResourceARN: byArn?.ProtectionArn }))).Tags, [{ Key: 'env', Value: 'dev' }]);
    await c.send(new sh.DeleteProtectionCommand({ ProtectionId: b.ProtectionId }));
    assert.equal((await c.send(new sh.ListProtectionsCommand({}))).Protections?.length, 1);
  });

  it('automatic response: enable (Block), update (Count), disable; errors in the wrong state', async () => {
    assert.equal((await failure(c.send(new sh.UpdateApplicationLayerAutomaticResponseCommand({ ResourceArn: alb, Action: { Count: {} } })))).name, 'InvalidOperationException');
    await c.send(new sh.EnableApplicationLayerAutomaticResponseCommand({ ResourceArn: alb, Action: { Block: {} } }));
    assert.equal((await failure(c.send(new sh.EnableApplicationLayerAutomaticResponseCommand({ ResourceArn: alb, Action: { Block: {} } })))).name, 'InvalidOperationException');
    await c.send(new sh.UpdateApplicationLayerAutomaticResponseCommand({ ResourceArn: alb, Action: { Count: {} } }));
    const cfg = (await c.send(new sh.DescribeProtectionCommand({ ResourceArn: alb }))).Protection?.ApplicationLayerAutomaticResponseConfiguration;
    assert.equal(cfg?.Status, 'ENABLED');
    assert.ok(cfg?.Action?.Count);
    await c.send(new sh.DisableApplicationLayerAutomaticResponseCommand({ ResourceArn: alb }));
    assert.equal((await c.send(new sh.DescribeProtectionCommand({ ResourceArn: alb }))).Protection?.ApplicationLayerAutomaticResponseConfiguration?.Status, 'DISABLED');
  });

  it('protection groups: patterns, validation, members', async () => {
    await c.send(new sh.CreateProtectionGroupCommand({ ProtectionGroupId: 'all', Aggregation: 'SUM', Pattern: 'ALL' }));
    await c.send(new sh.CreateProtectionGroupCommand({ ProtectionGroupId: 'albs', Aggregation: 'MAX', Pattern: 'BY_RESOURCE_TYPE', ResourceType: 'APPLICATION_LOAD_BALANCER' }));
    await c.send(new sh.CreateProtectionGroupCommand({ ProtectionGroupId: 'pick', Aggregation: 'MEAN', Pattern: 'ARBITRARY', Members: [alb] }));
    assert.equal((await failure(c.send(new sh.CreateProtectionGroupCommand({ ProtectionGroupId: 'all', Aggregation: 'SUM', Pattern: 'ALL' })))).name, 'ResourceAlreadyExistsException');
    assert.equal((await failure(c.send(new sh.CreateProtectionGroupCommand({ ProtectionGroupId: 'x', Aggregation: 'SUM', Pattern: 'ARBITRARY' })))).name, 'InvalidParameterException');
    assert.equal((await failure(c.send(new sh.CreateProtectionGroupCommand({ ProtectionGroupId: 'x', Aggregation: 'SUM', Pattern: 'ALL', ResourceType: 'GLOBAL_ACCELERATOR' })))).name, 'InvalidParameterException');
    assert.deepEqual((await c.send(new sh.ListResourcesInProtectionGroupCommand({ ProtectionGroupId: 'all' }))).ResourceArns, [alb]);
    assert.deepEqual((await c.send(new sh.ListResourcesInProtectionGroupCommand({ ProtectionGroupId: 'albs' }))).ResourceArns, [alb]);
    await c.send(new sh.UpdateProtectionGroupCommand({ ProtectionGroupId: 'pick', Aggregation: 'SUM', Pattern: 'ARBITRARY', Members: [] }));
    assert.deepEqual((await c.send(new sh.ListResourcesInProtectionGroupCommand({ ProtectionGroupId: 'pick' }))).ResourceArns, []);
    const g = (await c.send(new sh.DescribeProtectionGroupCommand({ ProtectionGroupId: 'albs' }))).ProtectionGroup;
    assert.equal(g?.ProtectionGroupArn, 'arn:aws:shield::000000000000:protection-group/albs');
    const list = await c.send(new sh.ListProtectionGroupsCommand({ InclusionFilters: { Patterns: ['ALL', 'ARBITRARY'] } }));
    assert.deepEqual(list.ProtectionGroups?.map((x) => x.ProtectionGroupId).sort(), ['all', 'pick']);
    await c.send(new sh.DeleteProtectionGroupCommand({ ProtectionGroupId: 'pick' }));
    assert.equal((await failure(c.send(new sh.DescribeProtectionGroupCommand({ ProtectionGroupId: 'pick' })))).name, 'ResourceNotFoundException');
  });

  it('DRT access, emergency contacts, proactive engagement', async () => {
    assert.equal((await failure(c.send(new sh.AssociateDRTLogBucketCommand({ LogBucket: 'logs-bucket' })))).name, 'NoAssociatedRoleException');
    await c.send(new sh.AssociateDRTRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/drt' }));
    await c.send(new sh.AssociateDRTLogBucketCommand({ LogBucket: 'logs-bucket' }));
    assert.deepEqual(await c.send(new sh.DescribeDRTAccessCommand({})).then((r) => [r.RoleArn, r.LogBucketList]), ['arn:aws:iam::000000000000:role/drt', ['logs-bucket']]);
    assert.equal((await failure(c.send(new sh.EnableProactiveEngagementCommand({})))).name, 'InvalidOperationException');
    assert.equal((await failure(c.send(new sh.AssociateProactiveEngagementDetailsCommand({ EmergencyContactList: [{ EmailAddress: 'not-an-email' }] })))).name, 'InvalidParameterException');
    await c.send(new sh.AssociateProactiveEngagementDetailsCommand({ EmergencyContactList: [{ EmailAddress: 'ops@example.com', PhoneNumber: '+15555550100' }] }));
    await c.send(new sh.EnableProactiveEngagementCommand({}));
    assert.equal((await c.send(new sh.DescribeSubscriptionCommand({}))).Subscription?.ProactiveEngagementStatus, 'ENABLED');
    assert.equal((await c.send(new sh.DescribeEmergencyContactSettingsCommand({}))).EmergencyContactList?.[0]?.PhoneNumber, '+15555550100');
  });

  it('state survives a restart; attacks list is empty without traffic', async () => {
    const dataDir = h.dataDir;
    await h.stop({ keepData: true });
    h = await startHanul({ dataDir, env: { HANUL_TIME_TRAVEL: '1' } });
    c.destroy();
    c = new sh.ShieldClient({ ...h.clientConfig, maxAttempts: 1 });
    assert.equal((await c.send(new sh.ListProtectionsCommand({}))).Protections?.[0]?.ResourceArn, alb);
    assert.equal((await c.send(new sh.DescribeDRTAccessCommand({}))).RoleArn, 'arn:aws:iam::000000000000:role/drt');
    assert.deepEqual((await c.send(new sh.ListAttacksCommand({}))).AttackSummaries, []);
    assert.equal((await c.send(new sh.DescribeAttackStatisticsCommand({}))).DataItems?.[0]?.AttackCount, 0);
    assert.equal((await failure(c.send(new sh.DescribeAttackCommand({ AttackId: 'nope' })))).name, 'AccessDeniedException');
  });

  it('after a year with AutoRenew disabled in the last 30 days, the subscription ends', async () => {
    const at = () => new sh.ShieldClient({ ...h.clientConfig, maxAttempts: 1, systemClockOffset: h.clock.offsetMs() });
    h.clock.advance(340 * 86400_000);
    await at().send(new sh.UpdateSubscriptionCommand({ AutoRenew: 'DISABLED' }));
    h.clock.advance(30 * 86400_000);
    assert.equal((await at().send(new sh.GetSubscriptionStateCommand({}))).SubscriptionState, 'INACTIVE');
    assert.equal((await failure(at().send(new sh.DescribeSubscriptionCommand({})))).message, 'The subscription does not exist.');
    await at().send(new sh.CreateSubscriptionCommand({}));
    assert.equal((await at().send(new sh.GetSubscriptionStateCommand({}))).SubscriptionState, 'ACTIVE');
  });
});
