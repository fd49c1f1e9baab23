import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AwsError } from '../../aws/errors.js';
import type { Principal } from '../../server/context.js';
import { iamKit, policy, type IamKit } from './test-kit.js';

const code = (c: string, msg?: RegExp) => (e: unknown) => {
  const err = e as AwsError;
  assert.equal(err.code, c, `expected ${c}, got ${err.code}: ${err.message}`);
  if (msg) assert.match(err.message, msg);
  return true;
};
const ARN = (name: string) => `arn:aws:iam::000000000000:policy/${name}`;

describe('managed and inline policies, boundaries, simulator', () => {
  let k: IamKit;
  let bob: Principal;
  before(async () => {
    k = await iamKit();
    await k.call('iam', 'CreateUser', { UserName: 'bob' });
    bob = await k.as((await k.call('iam', 'CreateAccessKey', { UserName: 'bob' })).AccessKey.AccessKeyId);
  });
  after(() => k.close());

  it('rejects malformed documents with AWS messages and the size quota', async () => {
    await assert.rejects(k.call('iam', 'CreatePolicy', { PolicyName: 'bad', PolicyDocument: '{"Version":"2012-10-17"}' }), code('MalformedPolicyDocument', /Missing required field Statement/));
    await assert.rejects(k.call('iam', 'CreatePolicy', { PolicyName: 'bad', PolicyDocument: 'not json' }), code('MalformedPolicyDocument', /Syntax errors/));
    const big = policy(...Array.from({ length: 80 }, (_, i) => ({ Sid: `S${i}`, Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::bucket-number-${i}/*` })));
    await assert.rejects(k.call('iam', 'CreatePolicy', { PolicyName: 'big', PolicyDocument: big }), code('LimitExceeded', /PolicySize: 6144/));
  });

  it('versions: default version, five at most, delete rules; documents come back URL-encoded', async () => {
    const v1 = policy({ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' });
    const c = await k.call('iam', 'CreatePolicy', { PolicyName: 'list', PolicyDocument: v1, Description: 'd' });
    assert.match(c.Policy.PolicyId, /^ANPA/);
    assert.equal(c.Policy.Arn, ARN('list'));
    assert.equal(c.Policy.DefaultVersionId, 'v1');
    await assert.rejects(k.call('iam', 'CreatePolicy', { PolicyName: 'LIST', PolicyDocument: v1 }), code('EntityAlreadyExists'));
    const gv = await k.call('iam', 'GetPolicyVersion', { PolicyArn: ARN('list'), VersionId: 'v1' });
    assert.equal(gv.PolicyVersion.Document, encodeURIComponent(v1));
    assert.equal(decodeURIComponent(gv.PolicyVersion.Document), v1);
    const v2 = policy({ Effect: 'Allow', Action: 'iam:List*', Resource: '*' });
    const cv = await k.call('iam', 'CreatePolicyVersion', { PolicyArn: ARN('list'), PolicyDocument: v2, SetAsDefault: true });
    assert.deepEqual([cv.PolicyVersion.VersionId, cv.PolicyVersion.IsDefaultVersion], ['v2', true]);
    for (let i = 0; i < 3; i++) await k.call('iam', 'CreatePolicyVersion', { PolicyArn: ARN('list'), PolicyDocument: v1 });
    await assert.rejects(k.call('iam', 'CreatePolicyVersion', { PolicyArn: ARN('list'), PolicyDocument: v1 }), code('LimitExceeded', /up to 5 versions/));
    await assert.rejects(k.call('iam', 'DeletePolicyVersion', { PolicyArn: ARN('list'), VersionId: 'v2' }), code('DeleteConflict', /default version/));
    const lv = await k.call('iam', 'ListPolicyVersions', { PolicyArn: ARN('list') });
    assert.deepEqual(lv.Versions.map((v: { VersionId: string }) => v.VersionId), ['v5', 'v4', 'v3', 'v2', 'v1']);
    await k.call('iam', 'SetDefaultPolicyVersion', { PolicyArn: ARN('list'), VersionId: 'v1' });
    assert.equal((await k.call('iam', 'GetPolicy', { PolicyArn: ARN('list') })).Policy.DefaultVersionId, 'v1');
  });

  it('attach and detach: the default version takes effect at once; delete conflicts', async () => {
    await k.call('iam', 'CreatePolicy', { PolicyName: 'getuser', PolicyDocument: policy({ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }) });
    await assert.rejects(k.call('iam', 'GetUser', { UserName: 'bob' }, bob), code('AccessDenied', /because no identity-based policy allows the iam:GetUser action/));
    await k.call('iam', 'AttachUserPolicy', { UserName: 'bob', PolicyArn: ARN('getuser') });
    await k.call('iam', 'GetUser', { UserName: 'bob' }, bob);
    assert.equal((await k.call('iam', 'GetPolicy', { PolicyArn: ARN('getuser') })).Policy.AttachmentCount, 1);
    const la = await k.call('iam', 'ListAttachedUserPolicies', { UserName: 'bob' });
    assert.deepEqual(la.AttachedPolicies, [{ PolicyName: 'getuser', PolicyArn: ARN('getuser') }]);
    // A new default version applies to the next request.
    await k.call('iam', 'CreatePolicyVersion', { PolicyArn: ARN('getuser'), PolicyDocument: policy({ Effect: 'Deny', Action: 'iam:GetUser', Resource: '*' }), SetAsDefault: true });
    await assert.rejects(k.call('iam', 'GetUser', { UserName: 'bob' }, bob), code('AccessDenied', /with an explicit deny in an identity-based policy/));
    await assert.rejects(k.call('iam', 'DeletePolicy', { PolicyArn: ARN('getuser') }), code('DeleteConflict', /attached to entities/));
    await k.call('iam', 'DetachUserPolicy', { UserName: 'bob', PolicyArn: ARN('getuser') });
    await assert.rejects(k.call('iam', 'DetachUserPolicy', { UserName: 'bob', PolicyArn: ARN('getuser') }), code('NoSuchEntity'));
    await assert.rejects(k.call('iam', 'DeletePolicy', { PolicyArn: ARN('getuser') }), code('DeleteConflict', /more than one version/));
    await k.call('iam', 'DeletePolicyVersion', { PolicyArn: ARN('getuser'), VersionId: 'v1' });
    await k.call('iam', 'DeletePolicy', { PolicyArn: ARN('getuser') });
    await assert.rejects(k.call('iam', 'AttachUserPolicy', { UserName: 'bob', PolicyArn: ARN('getuser') }), code('NoSuchEntity', /does not exist or is not attachable/));
  });

  it('AWS managed policies attach by ARN and cannot be deleted', async () => {
    const arn = 'arn:aws:iam::aws:policy/IAMReadOnlyAccess';
    await k.call('iam', 'AttachUserPolicy', { UserName: 'bob', PolicyArn: arn });
    await k.call('iam', 'ListRoles', {}, bob);
    await assert.rejects(k.call('iam', 'CreateRole', { RoleName: 'r', AssumeRolePolicyDocument: '{}' }, bob), code('AccessDenied'));
    assert.equal((await k.call('iam', 'GetPolicy', { PolicyArn: arn })).Policy.AttachmentCount, 1);
    await assert.rejects(k.call('iam', 'DeletePolicy', { PolicyArn: arn }), code('UnmodifiableEntity'));
    const listed = await k.call('iam', 'ListPolicies', { Scope: 'AWS', OnlyAttached: true });
    assert.deepEqual(listed.Policies.map((p: { Arn: string }) => p.Arn), [arn]);
    await k.call('iam', 'DetachUserPolicy', { UserName: 'bob', PolicyArn: arn });
  });

  it('inline policies: put, get (URL-encoded), list, delete, aggregate quota', async () => {
    const doc = policy({ Effect: 'Allow', Action: 'iam:ListGroups', Resource: '*' });
    await k.call('iam', 'PutUserPolicy', { UserName: 'bob', PolicyName: 'groups', PolicyDocument: doc });
    const got = await k.call('iam', 'GetUserPolicy', { UserName: 'bob', PolicyName: 'groups' });
    assert.deepEqual([got.UserName, got.PolicyName, got.PolicyDocument], ['bob', 'groups', encodeURIComponent(doc)]);
    assert.deepEqual((await k.call('iam', 'ListUserPolicies', { UserName: 'bob' })).PolicyNames, ['groups']);
    await k.call('iam', 'ListGroups', {}, bob);
    const big = policy(...Array.from({ length: 30 }, (_, i) => ({ Sid: `S${i}`, Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::b${i}/*` })));
    await assert.rejects(k.call('iam', 'PutUserPolicy', { UserName: 'bob', PolicyName: 'big', PolicyDocument: big }), code('LimitExceeded', /Maximum policy size of 2048 bytes exceeded for user bob/));
    await k.call('iam', 'DeleteUserPolicy', { UserName: 'bob', PolicyName: 'groups' });
    await assert.rejects(k.call('iam', 'GetUserPolicy', { UserName: 'bob', PolicyName: 'groups' }), code('NoSuchEntity', /The user policy with name groups cannot be found/));
    await assert.rejects(k.call('iam', 'ListGroups', {}, bob), code('AccessDenied'));
  });

  it('a permissions boundary caps what identity policies grant', async () => {
    await k.call('iam', 'CreatePolicy', { PolicyName: 'only-list', PolicyDocument: policy({ Effect: 'Allow', Action: 'iam:List*', Resource: '*' }) });
    await k.call('iam', 'PutUserPolicy', { UserName: 'bob', PolicyName: 'admin', PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }) });
    await k.call('iam', 'GetUser', { UserName: 'bob' }, bob);
    await k.call('iam', 'PutUserPermissionsBoundary', { UserName: 'bob', PermissionsBoundary: ARN('only-list') });
    assert.equal((await k.call('iam', 'GetUser', { UserName: 'bob' })).User.PermissionsBoundary.PermissionsBoundaryArn, ARN('only-list'));
    await k.call('iam', 'ListUsers', {}, bob);
    await assert.rejects(k.call('iam', 'GetUser', { UserName: 'bob' }, bob), code('AccessDenied', /because no permissions boundary allows the iam:GetUser action/));
    await assert.rejects(k.call('iam', 'DeletePolicy', { PolicyArn: ARN('only-list') }), code('DeleteConflict'));
    await k.call('iam', 'DeleteUserPermissionsBoundary', { UserName: 'bob' });
    await k.call('iam', 'GetUser', { UserName: 'bob' }, bob);
    await k.call('iam', 'DeleteUserPolicy', { UserName: 'bob', PolicyName: 'admin' });
  });

  it('aws:ResourceTag of users and roles (ABAC on IAM itself)', async () => {
    await k.call('iam', 'CreateUser', { UserName: 'red-1', Tags: [{ Key: 'team', Value: 'red' }] });
    await k.call('iam', 'CreateUser', { UserName: 'blue-1', Tags: [{ Key: 'team', Value: 'blue' }] });
    await k.call('iam', 'CreateUser', { UserName: 'red-admin', Tags: [{ Key: 'team', Value: 'red' }] });
    await k.call('iam', 'PutUserPolicy', { UserName: 'red-admin', PolicyName: 'abac', PolicyDocument: policy({ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } }) });
    const admin = await k.as((await k.call('iam', 'CreateAccessKey', { UserName: 'red-admin' })).AccessKey.AccessKeyId);
    await k.call('iam', 'GetUser', { UserName: 'red-1' }, admin);
    await assert.rejects(k.call('iam', 'GetUser', { UserName: 'blue-1' }, admin), code('AccessDenied'));
  });

  it('SimulatePrincipalPolicy and SimulateCustomPolicy', async () => {
    await k.call('iam', 'PutUserPolicy', { UserName: 'bob', PolicyName: 'sim', PolicyDocument: policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }, { Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/secret/*' }) });
    const r = await k.call('iam', 'SimulatePrincipalPolicy', {
      PolicySourceArn: 'arn:aws:iam::000000000000:user/bob',
      ActionNames: ['s3:GetObject', 's3:PutObject'],
      ResourceArns: ['arn:aws:s3:::b/x', 'arn:aws:s3:::b/secret/y'],
    });
    const decisions = r.EvaluationResults.map((e: { EvalActionName: string; EvalResourceName: string; EvalDecision: string }) => `${e.EvalActionName} ${e.EvalResourceName} ${e.EvalDecision}`);
    assert.deepEqual(decisions, [
      's3:GetObject arn:aws:s3:::b/x allowed',
      's3:GetObject arn:aws:s3:::b/secret/y explicitDeny',
      's3:PutObject arn:aws:s3:::b/x implicitDeny',
      's3:PutObject arn:aws:s3:::b/secret/y implicitDeny',
    ]);
    assert.deepEqual(r.EvaluationResults[0].MatchedStatements, [{ SourcePolicyId: 'sim', SourcePolicyType: 'user' }]);
    const c = await k.call('iam', 'SimulateCustomPolicy', {
      PolicyInputList: [policy({ Effect: 'Allow', Action: 'kinesis:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })],
      ActionNames: ['kinesis:PutRecord'],
      ContextEntries: [{ ContextKeyName: 'aws:SourceIp', ContextKeyValues: ['10.1.2.3'], ContextKeyType: 'ip' }],
    });
    assert.equal(c.EvaluationResults[0].EvalDecision, 'allowed');
    const m = await k.call('iam', 'SimulateCustomPolicy', {
      PolicyInputList: [policy({ Effect: 'Allow', Action: 'kinesis:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' }, Bool: { 'aws:SecureTransport': 'true' } } })],
      ActionNames: ['kinesis:PutRecord'],
      ContextEntries: [{ ContextKeyName: 'aws:SourceIp', ContextKeyValues: ['10.1.2.3'], ContextKeyType: 'ip' }],
    });
    assert.deepEqual([m.EvaluationResults[0].EvalDecision, m.EvaluationResults[0].MissingContextValues], ['implicitDeny', ['aws:SecureTransport']]);
    await assert.rejects(k.call('iam', 'SimulateCustomPolicy', { PolicyInputList: ['{'], ActionNames: ['s3:GetObject'] }), code('MalformedPolicyDocument'));
  });
});
