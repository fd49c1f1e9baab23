import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import type { AwsError } from '../../aws/errors.js';
import type { Principal } from '../../server/context.js';
import { iamKit, policy, type IamKit } from '../iam/test-kit.js';
import { sweepSessions } from './sessions.js';

const code = (c: string, msg?: RegExp) => (e: unknown) => {
  const err = e as AwsError;
  assert.equal(err.code, c, `expected ${c}, got ${err.code}: ${err.message}`);
  if (msg) assert.match(err.message, msg);
  return true;
};
const ROLE = 'arn:aws:iam::000000000000:role/app/deployer';
const trust = (principal: object, condition?: object) => policy({ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole', ...(condition ? { Condition: condition } : {}) });

describe('STS', () => {
  let k: IamKit;
  let bob: Principal;
  let carol: Principal;
  before(async () => {
    k = await iamKit();
    for (const u of ['bob', 'carol']) await k.call('iam', 'CreateUser', { UserName: u });
    bob = await k.as((await k.call('iam', 'CreateAccessKey', { UserName: 'bob' })).AccessKey.AccessKeyId);
    carol = await k.as((await k.call('iam', 'CreateAccessKey', { UserName: 'carol' })).AccessKey.AccessKeyId);
    await k.call('iam', 'CreateRole', { RoleName: 'deployer', Path: '/app/', AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:user/bob' }), Tags: [{ Key: 'team', Value: 'ops' }] });
    await k.call('iam', 'PutRolePolicy', { RoleName: 'deployer', PolicyName: 'p', PolicyDocument: policy({ Effect: 'Allow', Action: ['iam:ListUsers', 'iam:ListRoles'], Resource: '*' }) });
  });
  after(() => k.close());

  it('GetCallerIdentity answers for every kind of caller', async () => {
    assert.deepEqual(await k.call('sts', 'GetCallerIdentity', {}, bob), { UserId: bob.userId, Account: '000000000000', Arn: 'arn:aws:iam::000000000000:user/bob' });
    assert.equal((await k.call('sts', 'GetCallerIdentity', {})).Arn, 'arn:aws:iam::000000000000:root');
  });

  it('CreateRole validates the trust policy and its principals', async () => {
    await assert.rejects(k.call('iam', 'CreateRole', { RoleName: 'x', AssumeRolePolicyDocument: policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*', Principal: { AWS: '000000000000' } }) }), code('MalformedPolicyDocument', /prohibited field Resource/));
    await assert.rejects(k.call('iam', 'CreateRole', { RoleName: 'x', AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:user/ghost' }) }), code('MalformedPolicyDocument', /Invalid principal in policy: "AWS":"arn:aws:iam::000000000000:user\/ghost"/));
    await assert.rejects(k.call('iam', 'CreateRole', { RoleName: 'x', AssumeRolePolicyDocument: trust({ AWS: '000000000000' }), MaxSessionDuration: 60 }), code('ValidationError'));
    const r = await k.call('iam', 'GetRole', { RoleName: 'deployer' });
    assert.match(r.Role.RoleId, /^AROA/);
    assert.equal(r.Role.Arn, ROLE);
    assert.equal(decodeURIComponent(r.Role.AssumeRolePolicyDocument), trust({ AWS: 'arn:aws:iam::000000000000:user/bob' }));
  });

  it('AssumeRole: the trust policy decides; the session acts with the role policies', async () => {
    const r = await k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ci' }, bob);
    assert.match(r.Credentials.AccessKeyId, /^ASIA/);
    assert.ok(r.Credentials.SessionToken.length > 100);
    assert.equal(r.Credentials.Expiration.getTime(), k.clock.nowMs() + 3600_000);
    assert.equal(r.AssumedRoleUser.Arn, 'arn:aws:sts::000000000000:assumed-role/deployer/ci');
    assert.match(r.AssumedRoleUser.AssumedRoleId, /^AROA[A-Z0-9]{17}:ci$/);
    const cred = await k.rt.credential(r.Credentials.AccessKeyId);
    assert.equal(cred?.sessionToken, r.Credentials.SessionToken);
    const session = cred?.principal as Principal;
    assert.equal((await k.call('sts', 'GetCallerIdentity', {}, session)).Arn, 'arn:aws:sts::000000000000:assumed-role/deployer/ci');
    await k.call('iam', 'ListUsers', {}, session);
    await assert.rejects(k.call('iam', 'ListGroups', {}, session), code('AccessDenied', /User: arn:aws:sts::000000000000:assumed-role\/deployer\/ci is not authorized to perform: iam:ListGroups/));
    // carol is not in the trust policy and has no identity permission.
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'xx' }, carol), code('AccessDenied', /not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role\/app\/deployer/));
    // The root user may not assume roles; unknown roles are an AccessDenied too.
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'xx' }), code('AccessDenied', /Roles may not be assumed by root accounts/));
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: 'arn:aws:iam::000000000000:role/none', RoleSessionName: 'xx' }, bob), code('AccessDenied'));
  });

  it('a trust policy naming the account delegates to identity policies', async () => {
    await k.call('iam', 'UpdateAssumeRolePolicy', { RoleName: 'deployer', PolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:root' }) });
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'xx' }, carol), code('AccessDenied', /because no identity-based policy allows the sts:AssumeRole action/));
    await k.call('iam', 'PutUserPolicy', { UserName: 'carol', PolicyName: 'assume', PolicyDocument: policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/app/*' }) });
    await k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'xx' }, carol);
  });

  it('DurationSeconds, session policies and ExternalId', async () => {
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ss', DurationSeconds: 7200 }, carol), code('ValidationError', /exceeds the MaxSessionDuration/));
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ss', DurationSeconds: 60 }, carol), code('ValidationError', /greater than or equal to 900/));
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ss', Policy: '{"Version":"2012-10-17"}' }, carol), code('MalformedPolicyDocument'));
    const limited = await k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ss', DurationSeconds: 900, Policy: policy({ Effect: 'Allow', Action: 'iam:ListRoles', Resource: '*' }) }, carol);
    assert.ok(limited.PackedPolicySize > 0);
    const s = await k.as(limited.Credentials.AccessKeyId);
    await k.call('iam', 'ListRoles', {}, s);
    await assert.rejects(k.call('iam', 'ListUsers', {}, s), code('AccessDenied', /because no session policy allows the iam:ListUsers action/));
    await k.call('iam', 'UpdateAssumeRolePolicy', { RoleName: 'deployer', PolicyDocument: trust({ AWS: '000000000000' }, { StringEquals: { 'sts:ExternalId': 'xyz-123' } }) });
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ss' }, carol), code('AccessDenied', /no resource-based policy allows/));
    await k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ss', ExternalId: 'xyz-123' }, carol);
  });

  it('session credentials expire by the clock; sessions survive a restart; the sweep drops them later', async () => {
    const r = await k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'short', DurationSeconds: 900, ExternalId: 'xyz-123' }, carol);
    k = await k.restart();
    const cred = await k.rt.credential(r.Credentials.AccessKeyId);
    assert.equal(cred?.expiresAt?.getTime(), k.clock.nowMs() + 900_000);
    k.clock.advance(901_000);
    await assert.rejects(k.as(r.Credentials.AccessKeyId), /ExpiredToken/);
    k.clock.advance(25 * 3600_000);
    assert.ok((await sweepSessions(k.rt)) >= 1);
    assert.equal(await k.rt.credential(r.Credentials.AccessKeyId), undefined);
  });

  it('session tags need sts:TagSession in the trust policy; they become principal tags', async () => {
    await k.call('iam', 'CreateRole', { RoleName: 'tagged', AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:user/bob' }) });
    await k.call('iam', 'PutRolePolicy', { RoleName: 'tagged', PolicyName: 'p', PolicyDocument: policy({ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/project': 'blue' } } }) });
    const arn = 'arn:aws:iam::000000000000:role/tagged';
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: arn, RoleSessionName: 'tt', Tags: [{ Key: 'project', Value: 'blue' }] }, bob), code('AccessDenied', /sts:TagSession/));
    await k.call('iam', 'UpdateAssumeRolePolicy', { RoleName: 'tagged', PolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/bob' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }) });
    const blue = await k.as((await k.call('sts', 'AssumeRole', { RoleArn: arn, RoleSessionName: 'tt', Tags: [{ Key: 'project', Value: 'blue' }] }, bob)).Credentials.AccessKeyId);
    await k.call('iam', 'ListUsers', {}, blue);
    const red = await k.as((await k.call('sts', 'AssumeRole', { RoleArn: arn, RoleSessionName: 'tt', Tags: [{ Key: 'project', Value: 'red' }] }, bob)).Credentials.AccessKeyId);
    await assert.rejects(k.call('iam', 'ListUsers', {}, red), code('AccessDenied'));
  });

  it('role chaining caps the session at one hour', async () => {
    const r = await k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'aa', ExternalId: 'xyz-123' }, carol);
    const s = await k.as(r.Credentials.AccessKeyId);
    await k.call('iam', 'UpdateRole', { RoleName: 'deployer', MaxSessionDuration: 7200 });
    await k.call('iam', 'PutRolePolicy', { RoleName: 'deployer', PolicyName: 'chain', PolicyDocument: policy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }) });
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'bb', DurationSeconds: 7200, ExternalId: 'xyz-123' }, s), code('ValidationError', /role chaining/));
    const chained = await k.call('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'bb', ExternalId: 'xyz-123' }, s);
    assert.equal(chained.AssumedRoleUser.Arn, 'arn:aws:sts::000000000000:assumed-role/deployer/bb');
  });

  it('virtual MFA: enable with two consecutive codes; AssumeRole with MFA satisfies aws:MultiFactorAuthPresent', async () => {
    const dev = await k.call('iam', 'CreateVirtualMFADevice', { VirtualMFADeviceName: 'bob-phone' });
    assert.equal(dev.VirtualMFADevice.SerialNumber, 'arn:aws:iam::000000000000:mfa/bob-phone');
    const seed = new TextDecoder().decode(dev.VirtualMFADevice.Base32StringSeed);
    assert.match(seed, /^[A-Z2-7]{64}$/);
    const totp = new TOTP({ secret: Secret.fromBase32(seed), digits: 6, period: 30, algorithm: 'SHA1' });
    const at = (offsetSteps: number) => totp.generate({ timestamp: k.clock.nowMs() + offsetSteps * 30_000 });
    await assert.rejects(k.call('iam', 'EnableMFADevice', { UserName: 'bob', SerialNumber: dev.VirtualMFADevice.SerialNumber, AuthenticationCode1: at(0), AuthenticationCode2: at(0) }), code('InvalidAuthenticationCode'));
    await k.call('iam', 'EnableMFADevice', { UserName: 'bob', SerialNumber: dev.VirtualMFADevice.SerialNumber, AuthenticationCode1: at(-1), AuthenticationCode2: at(0) });
    assert.equal((await k.call('iam', 'ListMFADevices', { UserName: 'bob' })).MFADevices[0].SerialNumber, dev.VirtualMFADevice.SerialNumber);
    await k.call('iam', 'CreateRole', { RoleName: 'mfa-only', AssumeRolePolicyDocument: trust({ AWS: 'arn:aws:iam::000000000000:user/bob' }, { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }) });
    await k.call('iam', 'PutRolePolicy', { RoleName: 'mfa-only', PolicyName: 'p', PolicyDocument: policy({ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }) });
    const roleArn = 'arn:aws:iam::000000000000:role/mfa-only';
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'mm' }, bob), code('AccessDenied'));
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'mm', SerialNumber: dev.VirtualMFADevice.SerialNumber, TokenCode: '000000' }, bob), code('AccessDenied', /MultiFactorAuthentication failed/));
    k.clock.advance(30_000);
    const r = await k.call('sts', 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'mm', SerialNumber: dev.VirtualMFADevice.SerialNumber, TokenCode: at(0) }, bob);
    const s = await k.as(r.Credentials.AccessKeyId);
    assert.equal(s.mfaAuthenticated, true);
    await k.call('iam', 'ListUsers', {}, s);
    // A code is accepted once.
    await assert.rejects(k.call('sts', 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'mm', SerialNumber: dev.VirtualMFADevice.SerialNumber, TokenCode: at(0) }, bob), code('AccessDenied', /MultiFactorAuthentication failed/));
    // GetSessionToken with MFA: IAM calls allowed only with MFA sessions.
    k.clock.advance(30_000);
    const st = await k.call('sts', 'GetSessionToken', { SerialNumber: dev.VirtualMFADevice.SerialNumber, TokenCode: at(0) }, bob);
    assert.equal(st.Credentials.Expiration.getTime(), k.clock.nowMs() + 43200_000);
    const bs = await k.as(st.Credentials.AccessKeyId);
    assert.equal((await k.call('sts', 'GetCallerIdentity', {}, bs)).Arn, 'arn:aws:iam::000000000000:user/bob');
    await assert.rejects(k.call('sts', 'GetSessionToken', {}, bs), code('AccessDenied', /session credentials/));
    const plain = await k.as((await k.call('sts', 'GetSessionToken', {}, bob)).Credentials.AccessKeyId);
    await assert.rejects(k.call('iam', 'GetUser', {}, plain), code('AccessDenied', /without MFA/));
    await assert.rejects(k.call('iam', 'DeleteVirtualMFADevice', { SerialNumber: dev.VirtualMFADevice.SerialNumber }), code('DeleteConflict'));
    await k.call('iam', 'DeactivateMFADevice', { UserName: 'bob', SerialNumber: dev.VirtualMFADevice.SerialNumber });
    await k.call('iam', 'DeleteVirtualMFADevice', { SerialNumber: dev.VirtualMFADevice.SerialNumber });
  });
});
