import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileArnPattern } from './arn.js';
import { compilePolicy, PolicyError, type PrincipalFacts } from './document.js';
import { decide, deniedMessage, type Decision, type PolicySet } from './evaluate.js';
import { canonicalUserId } from '../ids.js';
import { ACCOUNT, anonymous, doc, keys, root, session, user } from './test-helpers.js';

const BUCKET = 'arn:aws:s3:::amzn-s3-demo-bucket';
const idp = (...s: Record<string, unknown>[]) => compilePolicy(doc(...s), 'identity');
const rp = (...s: Record<string, unknown>[]) => compilePolicy(doc(...s), 'resource');
const bp = (...s: Record<string, unknown>[]) => compilePolicy(doc(...s), 'boundary');
const sp = (...s: Record<string, unknown>[]) => compilePolicy(doc(...s), 'session');

function ask(principal: PrincipalFacts, action: string, resource: string, set: PolicySet, ctx: Record<string, string | string[]> = {}): Decision {
  return decide({ principal, action, resource, keys: keys(ctx) }, set);
}
const allowed = (d: Decision) => d.allowed;
const reason = (d: Decision) => (d.allowed ? 'allowed' : `${d.explicit ? 'explicit' : 'implicit'} ${d.type}`);

describe('resource matching', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'arn:aws:s3:::b/k', true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/a/b/c', true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b', false],
    ['arn:aws:s3:::b*', 'arn:aws:s3:::bucket', true],
    ['arn:aws:s3:::b/k?', 'arn:aws:s3:::b/k1', true],
    ['arn:aws:s3:::b/key:with:colons', 'arn:aws:s3:::b/key:with:colons', true],
    ['arn:aws:kms:*', 'arn:aws:kms:us-east-1:111122223333:key/1234', true],
    ['arn:aws:kms:*:*:key/*', 'arn:aws:kms:us-east-1:111122223333:key/1234', true],
    ['arn:aws:kms:*:*:key/*', 'arn:aws:kms:us-east-1:111122223333:alias/x', false],
    ['arn:aws:kinesis:us-east-1:111122223333:stream/*', 'arn:aws:kinesis:us-east-1:111122223333:stream/s1', true],
    ['arn:aws:kinesis:*:111122223333:stream/*', 'arn:aws:kinesis:eu-west-1:999999999999:stream/s1', false],
    ['arn:aws:iam::*:user/*', 'arn:aws:iam::111122223333:user/division/bob', true],
    ['arn:aws:s3:::B/*', 'arn:aws:s3:::b/x', false],
    ['arn:aws:s3:::b/*', '*', false],
  ];
  for (const [pattern, arn, expected] of cases) it(`${pattern} vs ${arn}`, () => assert.equal(compileArnPattern(pattern)(arn), expected));
});

describe('policy validation (MalformedPolicyDocument)', () => {
  const bad: [string, string, RegExp, ('identity' | 'resource' | 'trust')?][] = [
    ['not JSON', '{', /Syntax errors in policy/],
    ['bad version', JSON.stringify({ Version: '2020-01-01', Statement: [] }), /valid version string/],
    ['no statement', JSON.stringify({ Version: '2012-10-17' }), /Missing required field Statement/],
    ['no effect', doc({ Action: 's3:*', Resource: '*' }), /Missing required field Effect/],
    ['bad effect', doc({ Effect: 'Maybe', Action: 's3:*', Resource: '*' }), /Invalid effect: Maybe/],
    ['no action', doc({ Effect: 'Allow', Resource: '*' }), /must contain actions/],
    ['action and NotAction', doc({ Effect: 'Allow', Action: 's3:*', NotAction: 'kms:*', Resource: '*' }), /must contain actions/],
    ['action without vendor', doc({ Effect: 'Allow', Action: 'GetObject', Resource: '*' }), /prefaced by a vendor/],
    ['no resource', doc({ Effect: 'Allow', Action: 's3:*' }), /must contain resources/],
    ['resource not an ARN', doc({ Effect: 'Allow', Action: 's3:*', Resource: 'bucket' }), /must be in ARN format or "\*"/],
    ['principal in identity policy', doc({ Effect: 'Allow', Action: 's3:*', Resource: '*', Principal: '*' }), /should not specify a principal/],
    ['duplicate sid', doc({ Sid: 'A', Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Sid: 'A', Effect: 'Deny', Action: 's3:*', Resource: '*' }), /SID/],
    ['non-alphanumeric sid in an IAM policy', doc({ Sid: 'read me', Effect: 'Allow', Action: 's3:*', Resource: '*' }), /must be alpha-numeric/],
    ['unknown field', doc({ Effect: 'Allow', Action: 's3:*', Resource: '*', Foo: 1 }), /Syntax errors/],
    ['unknown condition operator', doc({ Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { Foo: { a: 'b' } } }), /Invalid Condition type : Foo/],
    ['resource policy without principal', doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }), /Missing required field Principal/, 'resource'],
    ['trust policy with resource', doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: ACCOUNT }, Resource: '*' }), /prohibited field Resource/, 'trust'],
    ['bad principal', doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: 'bob' } }), /Invalid principal in policy: "AWS":"bob"/, 'trust'],
  ];
  for (const [name, text, re, kind] of bad) {
    it(name, () => assert.throws(() => compilePolicy(text, kind ?? 'identity'), (e: unknown) => e instanceof PolicyError && re.test(e.message)));
  }
  it('accepts a single statement object and counts size without white space', () => {
    const p = compilePolicy('{ "Version": "2012-10-17", "Statement": { "Effect": "Allow", "Action": "s3:*", "Resource": "*" } }', 'identity');
    assert.equal(p.statements.length, 1);
    assert.equal(p.size, '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}'.length);
  });
});

describe('identity-based evaluation', () => {
  const readOnly = idp({ Effect: 'Allow', Action: ['s3:GetObject', 's3:List*'], Resource: [BUCKET, `${BUCKET}/*`] });
  it('implicit deny by default', () => assert.equal(reason(ask(user('bob'), 's3:GetObject', `${BUCKET}/k`, { identity: [] })), 'implicit identity-based'));
  it('allow by action and resource', () => assert.ok(allowed(ask(user('bob'), 's3:GetObject', `${BUCKET}/k`, { identity: [readOnly] }))));
  it('actions compare case-insensitively', () => assert.ok(allowed(ask(user('bob'), 'S3:getobject', `${BUCKET}/k`, { identity: [readOnly] }))));
  it('wildcard action', () => assert.ok(allowed(ask(user('bob'), 's3:ListBucket', BUCKET, { identity: [readOnly] }))));
  it('other action denied', () => assert.ok(!allowed(ask(user('bob'), 's3:PutObject', `${BUCKET}/k`, { identity: [readOnly] }))));
  it('other resource denied', () => assert.ok(!allowed(ask(user('bob'), 's3:GetObject', 'arn:aws:s3:::other/k', { identity: [readOnly] }))));
  it('explicit deny wins over allow', () => {
    const deny = idp({ Effect: 'Deny', Action: 's3:*', Resource: `${BUCKET}/secret/*` });
    const d = ask(user('bob'), 's3:GetObject', `${BUCKET}/secret/x`, { identity: [readOnly, deny] });
    assert.equal(reason(d), 'explicit identity-based');
  });
  it('NotAction allows everything but the listed actions', () => {
    const p = idp({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
    assert.ok(allowed(ask(user('bob'), 'kms:Encrypt', '*', { identity: [p] })));
    assert.ok(!allowed(ask(user('bob'), 'iam:CreateUser', '*', { identity: [p] })));
  });
  it('NotResource', () => {
    const p = idp({ Effect: 'Deny', Action: 's3:*', NotResource: [BUCKET, `${BUCKET}/*`] }, { Effect: 'Allow', Action: 's3:*', Resource: '*' });
    assert.ok(allowed(ask(user('bob'), 's3:GetObject', `${BUCKET}/x`, { identity: [p] })));
    assert.equal(reason(ask(user('bob'), 's3:GetObject', 'arn:aws:s3:::other/x', { identity: [p] })), 'explicit identity-based');
  });
  it('${aws:username} in a resource (home folder example)', () => {
    const p = idp({ Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/home/\${aws:username}/*` });
    assert.ok(allowed(ask(user('bob'), 's3:PutObject', `${BUCKET}/home/bob/f`, { identity: [p] }, { 'aws:username': 'bob' })));
    assert.ok(!allowed(ask(user('bob'), 's3:PutObject', `${BUCKET}/home/alice/f`, { identity: [p] }, { 'aws:username': 'bob' })));
    // A role session has no aws:username: the variable has no value, the resource matches nothing.
    assert.ok(!allowed(ask(session('r', 's'), 's3:PutObject', `${BUCKET}/home//f`, { identity: [p] })));
  });
  it('MFA deny idiom: BoolIfExists false denies long-term keys', () => {
    const p = idp(
      { Effect: 'Allow', Action: 'kms:*', Resource: '*' },
      { Effect: 'Deny', Action: 'kms:ScheduleKeyDeletion', Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } },
    );
    assert.equal(reason(ask(user('bob'), 'kms:ScheduleKeyDeletion', '*', { identity: [p] })), 'explicit identity-based');
    assert.ok(allowed(ask(user('bob'), 'kms:ScheduleKeyDeletion', '*', { identity: [p] }, { 'aws:MultiFactorAuthPresent': 'true' })));
  });
  it('aws:SourceIp allow-list', () => {
    const p = idp({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.1/32' } } });
    assert.ok(allowed(ask(user('bob'), 'kinesis:PutRecord', '*', { identity: [p] }, { 'aws:SourceIp': '127.0.0.1' })));
    assert.ok(!allowed(ask(user('bob'), 'kinesis:PutRecord', '*', { identity: [p] }, { 'aws:SourceIp': '10.1.2.3' })));
  });
});

describe('permissions boundaries and session policies', () => {
  const admin = idp({ Effect: 'Allow', Action: '*', Resource: '*' });
  const s3only = bp({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
  it('boundary caps identity permissions', () => {
    assert.ok(allowed(ask(user('bob'), 's3:GetObject', `${BUCKET}/k`, { identity: [admin], boundary: s3only })));
    assert.equal(reason(ask(user('bob'), 'iam:CreateUser', '*', { identity: [admin], boundary: s3only })), 'implicit permissions boundary');
  });
  it('boundary alone grants nothing', () => {
    assert.equal(reason(ask(user('bob'), 's3:GetObject', `${BUCKET}/k`, { identity: [], boundary: s3only })), 'implicit identity-based');
  });
  it('explicit deny in boundary', () => {
    const b = bp({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' });
    assert.equal(reason(ask(user('bob'), 's3:DeleteObject', `${BUCKET}/k`, { identity: [admin], boundary: b })), 'explicit permissions boundary');
  });
  it('session policy intersects with the role policy', () => {
    const sess = [sp({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })];
    assert.ok(allowed(ask(session('r', 's'), 's3:GetObject', `${BUCKET}/k`, { identity: [admin], session: sess })));
    assert.equal(reason(ask(session('r', 's'), 's3:PutObject', `${BUCKET}/k`, { identity: [admin], session: sess })), 'implicit session');
  });
  it('resource policy naming the user ARN is not limited by the boundary', () => {
    const bucketPolicy = rp({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }, Action: 's3:GetObject', Resource: `${BUCKET}/*` });
    assert.ok(allowed(ask(user('bob'), 's3:GetObject', `${BUCKET}/k`, { identity: [], boundary: bp({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }), resource: bucketPolicy })));
  });
  it('resource policy naming the session ARN is not limited by the session policy', () => {
    const bucketPolicy = rp({ Effect: 'Allow', Principal: { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/r/s` }, Action: 's3:GetObject', Resource: `${BUCKET}/*` });
    const sess = [sp({ Effect: 'Allow', Action: 'kms:*', Resource: '*' })];
    assert.ok(allowed(ask(session('r', 's'), 's3:GetObject', `${BUCKET}/k`, { identity: [], session: sess, resource: bucketPolicy })));
  });
  it('resource policy naming the role ARN is limited by the session policy', () => {
    const bucketPolicy = rp({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/r` }, Action: 's3:GetObject', Resource: `${BUCKET}/*` });
    assert.ok(allowed(ask(session('r', 's'), 's3:GetObject', `${BUCKET}/k`, { identity: [], resource: bucketPolicy })));
    const sess = [sp({ Effect: 'Allow', Action: 'kms:*', Resource: '*' })];
    assert.equal(reason(ask(session('r', 's'), 's3:GetObject', `${BUCKET}/k`, { identity: [], session: sess, resource: bucketPolicy })), 'implicit identity-based');
  });
});

describe('resource-based policies', () => {
  const publicRead = rp({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${BUCKET}/*` });
  it('a bucket policy grants on its own', () => {
    const p = rp({ Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/bob`] }, Action: 's3:PutObject', Resource: `${BUCKET}/*` });
    assert.ok(allowed(ask(user('bob'), 's3:PutObject', `${BUCKET}/k`, { identity: [], resource: p })));
    assert.ok(!allowed(ask(user('alice'), 's3:PutObject', `${BUCKET}/k`, { identity: [], resource: p })));
  });
  it('anonymous callers are allowed only by a resource policy', () => {
    assert.ok(allowed(ask(anonymous, 's3:GetObject', `${BUCKET}/k`, { resource: publicRead })));
    assert.equal(reason(ask(anonymous, 's3:PutObject', `${BUCKET}/k`, { resource: publicRead })), 'implicit resource-based');
    assert.ok(!allowed(ask(anonymous, 's3:GetObject', `${BUCKET}/k`, {})));
  });
  it('an account principal delegates to identity policies (does not grant on its own)', () => {
    const p = rp({ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 's3:*', Resource: `${BUCKET}/*` });
    assert.ok(!allowed(ask(user('bob'), 's3:GetObject', `${BUCKET}/k`, { identity: [], resource: p })));
  });
  it('a CanonicalUser principal names the account (as S3 shows it in Owner.ID)', () => {
    const p = rp({ Effect: 'Deny', Principal: { CanonicalUser: canonicalUserId(ACCOUNT) }, Action: 's3:DeleteObject', Resource: `${BUCKET}/*` });
    const admin = idp({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
    assert.equal(reason(ask(user('bob'), 's3:DeleteObject', `${BUCKET}/k`, { identity: [admin], resource: p })), 'explicit resource-based');
    assert.equal(reason(ask(root(), 's3:DeleteObject', `${BUCKET}/k`, { resource: p })), 'explicit resource-based');
    assert.ok(allowed(ask(user('bob', '999999999999'), 's3:DeleteObject', `${BUCKET}/k`, { identity: [admin], resource: p })), 'another account is not named');
    const grant = rp({ Effect: 'Allow', Principal: { CanonicalUser: canonicalUserId(ACCOUNT) }, Action: 's3:GetObject', Resource: `${BUCKET}/*` });
    assert.ok(!allowed(ask(user('bob'), 's3:GetObject', `${BUCKET}/k`, { identity: [], resource: grant })), 'an account principal delegates to identity policies');
    assert.throws(() => rp({ Effect: 'Allow', Principal: { CanonicalUser: 'not-a-canonical-id' }, Action: 's3:GetObject', Resource: `${BUCKET}/*` }), /Invalid principal in policy: "CanonicalUser"/);
  });
  it('explicit deny in a bucket policy beats an identity allow', () => {
    const p = rp({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${BUCKET}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const d = ask(user('bob'), 's3:GetObject', `${BUCKET}/k`, { identity: [idp({ Effect: 'Allow', Action: 's3:*', Resource: '*' })], resource: p }, { 'aws:SecureTransport': 'false' });
    assert.equal(reason(d), 'explicit resource-based');
  });
  it('the root user bypasses identity policies but not a resource policy Deny', () => {
    assert.ok(allowed(ask(root(), 's3:PutObject', `${BUCKET}/k`, {})));
    const deny = rp({ Effect: 'Deny', Principal: { AWS: ACCOUNT }, Action: 's3:DeleteBucket', Resource: BUCKET });
    assert.equal(reason(ask(root(), 's3:DeleteBucket', BUCKET, { resource: deny })), 'explicit resource-based');
  });
  it('NotPrincipal with Deny denies everyone but the listed principals', () => {
    const p = rp({ Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/bob`] }, Action: 's3:*', Resource: `${BUCKET}/*` });
    const admin = [idp({ Effect: 'Allow', Action: '*', Resource: '*' })];
    assert.ok(allowed(ask(user('bob'), 's3:GetObject', `${BUCKET}/k`, { identity: admin, resource: p })));
    assert.equal(reason(ask(user('alice'), 's3:GetObject', `${BUCKET}/k`, { identity: admin, resource: p })), 'explicit resource-based');
  });
});

describe('key policies and trust policies (resource policy required)', () => {
  const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const iamAllows = [idp({ Effect: 'Allow', Action: 'kms:*', Resource: '*' })];
  const delegating = rp({ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' });
  const bobOnly = rp({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }, Action: 'kms:Decrypt', Resource: '*' });
  it('IAM policies count only when the key policy allows the account', () => {
    assert.ok(allowed(ask(user('alice'), 'kms:Decrypt', KEY, { identity: iamAllows, resource: delegating, resourceRequired: true })));
    assert.equal(reason(ask(user('alice'), 'kms:Decrypt', KEY, { identity: iamAllows, resource: bobOnly, resourceRequired: true })), 'implicit resource-based');
  });
  it('delegation without an IAM allow is an implicit identity deny', () => {
    assert.equal(reason(ask(user('alice'), 'kms:Decrypt', KEY, { identity: [], resource: delegating, resourceRequired: true })), 'implicit identity-based');
  });
  it('a key policy naming the user grants without IAM policies', () => {
    assert.ok(allowed(ask(user('bob'), 'kms:Decrypt', KEY, { identity: [], resource: bobOnly, resourceRequired: true })));
  });
  it('the root user needs the key policy too', () => {
    assert.ok(allowed(ask(root(), 'kms:Decrypt', KEY, { resource: delegating, resourceRequired: true })));
    assert.ok(!allowed(ask(root(), 'kms:Decrypt', KEY, { resource: bobOnly, resourceRequired: true })));
  });
  it('a trust policy naming the account needs sts:AssumeRole in IAM', () => {
    const trust = compilePolicy(doc({ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }), 'trust');
    const ROLE = `arn:aws:iam::${ACCOUNT}:role/r`;
    assert.ok(!allowed(ask(user('bob'), 'sts:AssumeRole', ROLE, { identity: [], resource: trust, resourceRequired: true })));
    const canAssume = [idp({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: ROLE })];
    assert.ok(allowed(ask(user('bob'), 'sts:AssumeRole', ROLE, { identity: canAssume, resource: trust, resourceRequired: true })));
    const other = compilePolicy(doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/carol` }, Action: 'sts:AssumeRole' }), 'trust');
    assert.ok(!allowed(ask(user('bob'), 'sts:AssumeRole', ROLE, { identity: canAssume, resource: other, resourceRequired: true })));
  });
});

describe('access denied messages', () => {
  it('implicit identity deny', () => {
    const d = ask(user('bob'), 's3:PutObject', `${BUCKET}/k`, { identity: [] });
    assert.ok(!d.allowed);
    assert.equal(
      deniedMessage(`arn:aws:iam::${ACCOUNT}:user/bob`, 's3:PutObject', `${BUCKET}/k`, d, true),
      `User: arn:aws:iam::${ACCOUNT}:user/bob is not authorized to perform: s3:PutObject on resource: "${BUCKET}/k" because no identity-based policy allows the s3:PutObject action`,
    );
  });
  it('explicit deny in each policy type', () => {
    const msg = (type: 'identity-based' | 'resource-based' | 'permissions boundary' | 'session') => deniedMessage('A', 'kms:Decrypt', 'R', { allowed: false, explicit: true, type });
    assert.equal(msg('identity-based'), 'User: A is not authorized to perform: kms:Decrypt on resource: R with an explicit deny in an identity-based policy');
    assert.equal(msg('resource-based'), 'User: A is not authorized to perform: kms:Decrypt on resource: R with an explicit deny in a resource-based policy');
    assert.equal(msg('permissions boundary'), 'User: A is not authorized to perform: kms:Decrypt on resource: R with an explicit deny in a permissions boundary');
    assert.equal(msg('session'), 'User: A is not authorized to perform: kms:Decrypt on resource: R with an explicit deny in a session policy');
  });
});
