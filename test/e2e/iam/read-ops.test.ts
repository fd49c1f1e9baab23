// Every IAM read operation answers through the real SDK (codec round trip of
// every output shape hanul produces), for a populated account.
import * as iamSdk from '@aws-sdk/client-iam';
import { IAMClient } from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHanul, type TestServer } from '../../support/hanul.js';
import { doc } from './helpers.js';

type Ctor = new (input: object) => iamSdk.IAMClient extends { send(c: infer C): unknown } ? C : never;
const command = (name: string): Ctor => (iamSdk as unknown as Record<string, Ctor>)[`${name}Command`] as Ctor;

describe('IAM read operations round-trip through the SDK', () => {
  let server: TestServer;
  let iam: IAMClient;
  const policyArn = 'arn:aws:iam::000000000000:policy/team/read';
  before(async () => {
    server = await startHanul();
    iam = new IAMClient({ ...server.clientConfig, maxAttempts: 1 });
    const setup: [string, object][] = [
      ['CreateUser', { UserName: 'u1', Path: '/team/', Tags: [{ Key: 'k', Value: 'v' }] }],
      ['CreateGroup', { GroupName: 'g1' }],
      ['AddUserToGroup', { GroupName: 'g1', UserName: 'u1' }],
      ['CreatePolicy', { PolicyName: 'read', Path: '/team/', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }), Tags: [{ Key: 'o', Value: 'p' }] }],
      ['CreatePolicyVersion', { PolicyArn: policyArn, PolicyDocument: doc({ Effect: 'Allow', Action: 's3:List*', Resource: '*' }) }],
      ['AttachUserPolicy', { UserName: 'u1', PolicyArn: policyArn }],
      ['AttachGroupPolicy', { GroupName: 'g1', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      ['PutUserPolicy', { UserName: 'u1', PolicyName: 'inline', PolicyDocument: doc({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }) }],
      ['PutGroupPolicy', { GroupName: 'g1', PolicyName: 'gi', PolicyDocument: doc({ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }) }],
      ['CreateRole', { RoleName: 'r1', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Action: 'sts:AssumeRole' }), PermissionsBoundary: policyArn, Tags: [{ Key: 't', Value: '1' }] }],
      ['PutRolePolicy', { RoleName: 'r1', PolicyName: 'ri', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }) }],
      ['AttachRolePolicy', { RoleName: 'r1', PolicyArn: policyArn }],
      ['CreateAccessKey', { UserName: 'u1' }],
      ['CreateVirtualMFADevice', { VirtualMFADeviceName: 'd1' }],
    ];
    for (const [op, input] of setup) await iam.send(new (command(op))(input));
  });
  after(() => server.stop());

  const reads: [string, object, (out: Record<string, any>) => void][] = [
    ['GetUser', { UserName: 'u1' }, (o) => assert.deepEqual(o.User.Tags, [{ Key: 'k', Value: 'v' }])],
    ['ListUsers', {}, (o) => assert.equal(o.Users.length, 1)],
    ['ListUserTags', { UserName: 'u1' }, (o) => assert.equal(o.Tags.length, 1)],
    ['GetGroup', { GroupName: 'g1' }, (o) => assert.equal(o.Users[0].UserName, 'u1')],
    ['ListGroups', {}, (o) => assert.equal(o.Groups[0].GroupName, 'g1')],
    ['ListGroupsForUser', { UserName: 'u1' }, (o) => assert.equal(o.Groups.length, 1)],
    ['GetPolicy', { PolicyArn: policyArn }, (o) => assert.deepEqual([o.Policy.AttachmentCount, o.Policy.PermissionsBoundaryUsageCount], [2, 1])],
    ['GetPolicy', { PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }, (o) => assert.equal(o.Policy.AttachmentCount, 1)],
    ['ListPolicies', { Scope: 'Local' }, (o) => assert.equal(o.Policies[0].Arn, policyArn)],
    ['ListPolicyVersions', { PolicyArn: policyArn }, (o) => assert.deepEqual(o.Versions.map((v: { VersionId: string }) => v.VersionId), ['v2', 'v1'])],
    ['GetPolicyVersion', { PolicyArn: policyArn, VersionId: 'v2' }, (o) => assert.equal(o.PolicyVersion.IsDefaultVersion, false)],
    ['ListPolicyTags', { PolicyArn: policyArn }, (o) => assert.equal(o.Tags[0].Key, 'o')],
    ['ListEntitiesForPolicy', { PolicyArn: policyArn }, (o) => assert.deepEqual([o.PolicyUsers.length, o.PolicyRoles.length], [1, 1])],
    ['ListAttachedUserPolicies', { UserName: 'u1' }, (o) => assert.equal(o.AttachedPolicies[0].PolicyArn, policyArn)],
    ['ListAttachedGroupPolicies', { GroupName: 'g1' }, (o) => assert.equal(o.AttachedPolicies[0].PolicyName, 'ReadOnlyAccess')],
    ['ListAttachedRolePolicies', { RoleName: 'r1' }, (o) => assert.equal(o.AttachedPolicies.length, 1)],
    ['ListUserPolicies', { UserName: 'u1' }, (o) => assert.deepEqual(o.PolicyNames, ['inline'])],
    ['GetUserPolicy', { UserName: 'u1', PolicyName: 'inline' }, (o) => assert.match(decodeURIComponent(o.PolicyDocument), /kms:Decrypt/)],
    ['ListGroupPolicies', { GroupName: 'g1' }, (o) => assert.deepEqual(o.PolicyNames, ['gi'])],
    ['GetGroupPolicy', { GroupName: 'g1', PolicyName: 'gi' }, (o) => assert.equal(o.GroupName, 'g1')],
    ['ListRolePolicies', { RoleName: 'r1' }, (o) => assert.deepEqual(o.PolicyNames, ['ri'])],
    ['GetRolePolicy', { RoleName: 'r1', PolicyName: 'ri' }, (o) => assert.equal(o.RoleName, 'r1')],
    ['GetRole', { RoleName: 'r1' }, (o) => assert.equal(o.Role.PermissionsBoundary.PermissionsBoundaryArn, policyArn)],
    ['ListRoles', {}, (o) => assert.equal(o.Roles[0].RoleName, 'r1')],
    ['ListRoleTags', { RoleName: 'r1' }, (o) => assert.equal(o.Tags[0].Key, 't')],
    ['ListAccessKeys', { UserName: 'u1' }, (o) => assert.equal(o.AccessKeyMetadata[0].Status, 'Active')],
    ['ListMFADevices', { UserName: 'u1' }, (o) => assert.deepEqual(o.MFADevices, [])],
    ['ListVirtualMFADevices', {}, (o) => assert.equal(o.VirtualMFADevices[0].SerialNumber, 'arn:aws:iam::000000000000:mfa/d1')],
    ['GetAccountSummary', {}, (o) => assert.equal(o.SummaryMap.Users, 1)],
    ['SimulatePrincipalPolicy', { PolicySourceArn: 'arn:aws:iam::000000000000:user/team/u1', ActionNames: ['kms:Decrypt', 'kms:Encrypt', 'iam:CreateUser'] }, (o) =>
      assert.deepEqual(o.EvaluationResults.map((r: { EvalDecision: string }) => r.EvalDecision), ['allowed', 'allowed', 'implicitDeny'])],
    ['ListInstanceProfilesForRole', { RoleName: 'r1' }, (o) => assert.deepEqual(o.InstanceProfiles, [])],
    ['ListAccountAliases', {}, (o) => assert.deepEqual(o.AccountAliases, [])],
    ['GetAccountAuthorizationDetails', {}, (o) => {
      assert.deepEqual(o.UserDetailList[0].GroupList, ['g1']);
      assert.equal(o.RoleDetailList[0].RolePolicyList[0].PolicyName, 'ri');
      assert.deepEqual(o.Policies.map((p: { PolicyName: string }) => p.PolicyName).sort(), ['ReadOnlyAccess', 'read']);
      assert.equal(o.Policies.find((p: { PolicyName: string }) => p.PolicyName === 'read').PolicyVersionList.length, 2);
    }],
    ['GetAccountAuthorizationDetails', { Filter: ['Role'] }, (o) => assert.deepEqual([o.RoleDetailList.length, o.UserDetailList ?? []], [1, []])],
  ];
  for (const [op, input, check] of reads) {
    it(`${op} ${JSON.stringify(input).slice(0, 60)}`, async () => {
      const out = (await iam.send(new (command(op))(input))) as Record<string, any>;
      check(out);
    });
  }
});
