// IAM and STS over the wire: @aws-sdk/client-iam and client-sts against the server.
import {
  AddUserToGroupCommand, CreateAccessKeyCommand, CreateGroupCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, CreateVirtualMFADeviceCommand, DeleteUserCommand,
  EnableMFADeviceCommand, GetPolicyVersionCommand, GetRoleCommand, GetUserCommand, IAMClient, ListAttachedRolePoliciesCommand, ListGroupsForUserCommand, ListUsersCommand,
  AttachRolePolicyCommand, GetAccountSummaryCommand, GetLoginProfileCommand, ListEntitiesForPolicyCommand, ListInstanceProfilesForRoleCommand, ListPolicyTagsCommand, TagPolicyCommand, PutRolePolicyCommand, SimulatePrincipalPolicyCommand, UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { startHanul, type TestServer } from '../../support/hanul.js';
import { doc, failure, userWith } from './helpers.js';

describe('IAM and STS through the real SDKs', () => {
  let server: TestServer;
  let dataDir: string;
  let iam: IAMClient;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hanul-iam-e2e-'));
    server = await startHanul({ dataDir });
    iam = new IAMClient({ ...server.clientConfig, maxAttempts: 1 });
  });
  after(async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('users and groups; AWS error codes and statuses', async () => {
    const u = await iam.send(new CreateUserCommand({ UserName: 'ana', Path: '/staff/', Tags: [{ Key: 'dept', Value: 'eng' }] }));
    assert.equal(u.User?.Arn, 'arn:aws:iam::000000000000:user/staff/ana');
    assert.ok(u.User?.CreateDate instanceof Date);
    const dup = await failure(iam.send(new CreateUserCommand({ UserName: 'ANA' })));
    assert.deepEqual([dup.name, dup.status], ['EntityAlreadyExists', 409]);
    const missing = await failure(iam.send(new GetUserCommand({ UserName: 'nobody' })));
    assert.deepEqual([missing.name, missing.status, missing.message], ['NoSuchEntity', 404, 'The user with name nobody cannot be found.']);
    await iam.send(new CreateGroupCommand({ GroupName: 'eng' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'eng', UserName: 'ana' }));
    assert.deepEqual((await iam.send(new ListGroupsForUserCommand({ UserName: 'ana' }))).Groups?.map((g) => g.GroupName), ['eng']);
    const conflict = await failure(iam.send(new DeleteUserCommand({ UserName: 'ana' })));
    assert.deepEqual([conflict.name, conflict.status], ['DeleteConflict', 409]);
    const list = await iam.send(new ListUsersCommand({ PathPrefix: '/staff/' }));
    assert.deepEqual(list.Users?.map((x) => x.UserName), ['ana']);
    const bad = await failure(iam.send(new CreatePolicyCommand({ PolicyName: 'bad', PolicyDocument: doc({ Effect: 'Allow', Action: 's3:*' }) })));
    assert.deepEqual([bad.name, bad.status, bad.message], ['MalformedPolicyDocument', 400, 'Policy statement must contain resources.']);
  });

  it('a user’s key authenticates; its policies are enforced on IAM itself (AccessDenied, 403)', async () => {
    const key = await userWith(server, 'lister', [doc({ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' })]);
    const asUser = new IAMClient({ ...server.clientConfig, credentials: key, maxAttempts: 1 });
    await asUser.send(new ListUsersCommand({}));
    const e = await failure(asUser.send(new CreateUserCommand({ UserName: 'mallory' })));
    assert.equal(e.name, 'AccessDenied');
    assert.equal(e.status, 403);
    assert.equal(e.message, 'User: arn:aws:iam::000000000000:user/lister is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::000000000000:user/mallory because no identity-based policy allows the iam:CreateUser action');
    const who = await new STSClient({ ...server.clientConfig, credentials: key }).send(new GetCallerIdentityCommand({}));
    assert.deepEqual([who.Arn, who.Account], ['arn:aws:iam::000000000000:user/lister', '000000000000']);
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'lister', AccessKeyId: key.accessKeyId, Status: 'Inactive' }));
    const refused = await failure(new STSClient({ ...server.clientConfig, credentials: key, maxAttempts: 1 }).send(new GetCallerIdentityCommand({})));
    assert.deepEqual([refused.name, refused.status], ['InvalidClientTokenId', 403]);
  });

  it('roles: trust policy, managed policy, AssumeRole, documents URL-encoded', async () => {
    const trust = doc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' });
    const role = await iam.send(new CreateRoleCommand({ RoleName: 'ops', AssumeRolePolicyDocument: trust, MaxSessionDuration: 7200 }));
    assert.match(role.Role?.RoleId ?? '', /^AROA/);
    assert.equal(decodeURIComponent((await iam.send(new GetRoleCommand({ RoleName: 'ops' }))).Role?.AssumeRolePolicyDocument ?? ''), trust);
    const pdoc = doc({ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' });
    const p = await iam.send(new CreatePolicyCommand({ PolicyName: 'ops-read', PolicyDocument: pdoc }));
    assert.equal(decodeURIComponent((await iam.send(new GetPolicyVersionCommand({ PolicyArn: p.Policy?.Arn, VersionId: 'v1' }))).PolicyVersion?.Document ?? ''), pdoc);
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'ops', PolicyArn: p.Policy?.Arn }));
    assert.equal((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'ops' }))).AttachedPolicies?.[0]?.PolicyName, 'ops-read');
    const caller = await userWith(server, 'oncall', [doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::000000000000:role/ops' })]);
    const r = await new STSClient({ ...server.clientConfig, credentials: caller }).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/ops', RoleSessionName: 'pager', DurationSeconds: 7200 }));
    assert.equal(r.AssumedRoleUser?.Arn, 'arn:aws:sts::000000000000:assumed-role/ops/pager');
    const c = r.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('no credentials');
    const asRole = new IAMClient({ ...server.clientConfig, credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken }, maxAttempts: 1 });
    await asRole.send(new ListUsersCommand({}));
    assert.equal((await failure(asRole.send(new GetRoleCommand({ RoleName: 'ops' })))).name, 'AccessDenied');
    const sim = await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: 'arn:aws:iam::000000000000:role/ops', ActionNames: ['iam:ListUsers', 'iam:DeleteUser'] }));
    assert.deepEqual(sim.EvaluationResults?.map((x) => x.EvalDecision), ['allowed', 'implicitDeny']);
  });

  it('account summary, entities of a policy, policy tags, empty listings of kinds hanul lacks', async () => {
    const summary = (await iam.send(new GetAccountSummaryCommand({}))).SummaryMap ?? {};
    assert.equal(summary.AccessKeysPerUserQuota, 2);
    assert.ok((summary.Users ?? 0) >= 2);
    const arn = 'arn:aws:iam::000000000000:policy/ops-read';
    const ents = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn }));
    assert.deepEqual(ents.PolicyRoles?.map((r) => r.RoleName), ['ops']);
    await iam.send(new TagPolicyCommand({ PolicyArn: arn, Tags: [{ Key: 'owner', Value: 'ops' }] }));
    assert.deepEqual((await iam.send(new ListPolicyTagsCommand({ PolicyArn: arn }))).Tags, [{ Key: 'owner', Value: 'ops' }]);
    assert.deepEqual((await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'ops' }))).InstanceProfiles, []);
    assert.equal((await failure(iam.send(new GetLoginProfileCommand({ UserName: 'ana' })))).name, 'NoSuchEntity');
  });

  it('MFA: a virtual device enabled with TOTP codes; GetSessionToken with MFA', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'mfa-user' }));
    const dev = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'mfa-user' }));
    const serial = dev.VirtualMFADevice?.SerialNumber ?? '';
    const seed = new TextDecoder().decode(dev.VirtualMFADevice?.Base32StringSeed);
    const totp = new TOTP({ secret: Secret.fromBase32(seed), digits: 6, period: 30, algorithm: 'SHA1' });
    const now = server.clock.nowMs();
    await iam.send(new EnableMFADeviceCommand({ UserName: 'mfa-user', SerialNumber: serial, AuthenticationCode1: totp.generate({ timestamp: now - 30_000 }), AuthenticationCode2: totp.generate({ timestamp: now }) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'mfa-user' }))).AccessKey;
    const creds = { accessKeyId: k?.AccessKeyId ?? '', secretAccessKey: k?.SecretAccessKey ?? '' };
    const sts = new STSClient({ ...server.clientConfig, credentials: creds, maxAttempts: 1 });
    const wrong = await failure(sts.send(new GetSessionTokenCommand({ SerialNumber: serial, TokenCode: '123456' === totp.generate({ timestamp: now }) ? '654321' : '123456' })));
    assert.deepEqual([wrong.name, wrong.status], ['AccessDenied', 403]);
    server.clock.advance(30_000);
    const st = await sts.send(new GetSessionTokenCommand({ SerialNumber: serial, TokenCode: totp.generate({ timestamp: server.clock.nowMs() }) }));
    assert.match(st.Credentials?.AccessKeyId ?? '', /^ASIA/);
    // A role whose trust and permissions require MFA.
    const mfa = { Bool: { 'aws:MultiFactorAuthPresent': 'true' } };
    await iam.send(new CreateRoleCommand({ RoleName: 'break-glass', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/mfa-user' }, Action: 'sts:AssumeRole', Condition: mfa }] }) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'break-glass', PolicyName: 'p', PolicyDocument: doc({ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*', Condition: mfa }) }));
    const roleArn = 'arn:aws:iam::000000000000:role/break-glass';
    const noMfa = await failure(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'nomfa' })));
    assert.deepEqual([noMfa.name, noMfa.status], ['AccessDenied', 403]);
    server.clock.advance(30_000);
    const r = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'mfa', SerialNumber: serial, TokenCode: totp.generate({ timestamp: server.clock.nowMs() }) }));
    const c = r.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('no credentials');
    const asRole = new IAMClient({ ...server.clientConfig, credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken }, maxAttempts: 1, systemClockOffset: server.clock.offsetMs() });
    await asRole.send(new ListUsersCommand({}));
  });

  it('state survives a restart', async () => {
    await server.stop({ keepData: true });
    server = await startHanul({ dataDir });
    iam = new IAMClient({ ...server.clientConfig, maxAttempts: 1 });
    assert.equal((await iam.send(new GetUserCommand({ UserName: 'ana' }))).User?.Arn, 'arn:aws:iam::000000000000:user/staff/ana');
    assert.equal((await iam.send(new GetRoleCommand({ RoleName: 'ops' }))).Role?.MaxSessionDuration, 7200);
  });
});
