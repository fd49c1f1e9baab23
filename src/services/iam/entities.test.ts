import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AwsError } from '../../aws/errors.js';
import { iamKit, policy, type IamKit } from './test-kit.js';

const code = (c: string, msg?: RegExp) => (e: unknown) => {
  const err = e as AwsError;
  assert.equal(err.code, c, `expected ${c}, got ${err.code}: ${err.message}`);
  if (msg) assert.match(err.message, msg);
  return true;
};

describe('IAM users, groups, access keys', () => {
  let k: IamKit;
  before(async () => (k = await iamKit()));
  after(() => k.close());

  it('creates a user with AWS-shaped ids and ARN, refuses a duplicate (case-insensitively)', async () => {
    const r = await k.call('iam', 'CreateUser', { UserName: 'Alice', Path: '/eng/', Tags: [{ Key: 'team', Value: 'red' }] });
    assert.match(r.User.UserId, /^AIDA[A-Z0-9]{17}$/);
    assert.equal(r.User.Arn, 'arn:aws:iam::000000000000:user/eng/Alice');
    assert.deepEqual(r.User.Tags, [{ Key: 'team', Value: 'red' }]);
    await assert.rejects(k.call('iam', 'CreateUser', { UserName: 'alice' }), code('EntityAlreadyExists', /User with name alice already exists/));
    const g = await k.call('iam', 'GetUser', { UserName: 'ALICE' });
    assert.equal(g.User.UserName, 'Alice');
  });

  it('validates names and paths', async () => {
    await assert.rejects(k.call('iam', 'CreateUser', { UserName: 'bad name' }), code('ValidationError', /regular expression/));
    await assert.rejects(k.call('iam', 'CreateUser', { UserName: 'x'.repeat(65) }), code('ValidationError', /less than or equal to 64/));
    await assert.rejects(k.call('iam', 'CreateUser', {}), code('ValidationError', /Value null at 'userName'/));
    await assert.rejects(k.call('iam', 'CreateUser', { UserName: 'p', Path: 'nope' }), code('ValidationError', /path/));
    await assert.rejects(k.call('iam', 'GetUser', { UserName: 'nobody' }), code('NoSuchEntity', /The user with name nobody cannot be found/));
  });

  it('lists users by path prefix with paging', async () => {
    for (const n of ['u1', 'u2', 'u3']) await k.call('iam', 'CreateUser', { UserName: n, Path: '/list/' });
    const p1 = await k.call('iam', 'ListUsers', { PathPrefix: '/list/', MaxItems: 2 });
    assert.deepEqual(p1.Users.map((u: { UserName: string }) => u.UserName), ['u1', 'u2']);
    assert.equal(p1.IsTruncated, true);
    const p2 = await k.call('iam', 'ListUsers', { PathPrefix: '/list/', MaxItems: 2, Marker: p1.Marker });
    assert.deepEqual(p2.Users.map((u: { UserName: string }) => u.UserName), ['u3']);
    assert.equal(p2.IsTruncated, false);
  });

  it('access keys: at most 2, Active/Inactive, secret encrypted at rest, last used', async () => {
    await k.call('iam', 'CreateUser', { UserName: 'keys' });
    const a = await k.call('iam', 'CreateAccessKey', { UserName: 'keys' });
    assert.match(a.AccessKey.AccessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(a.AccessKey.SecretAccessKey.length, 40);
    await k.call('iam', 'CreateAccessKey', { UserName: 'keys' });
    await assert.rejects(k.call('iam', 'CreateAccessKey', { UserName: 'keys' }), code('LimitExceeded', /AccessKeysPerUser: 2/));
    // Nothing in the store holds the secret in plain text.
    const raw = await k.store.read((tx) => tx.get<{ secret: Uint8Array }>('iam:access-key', a.AccessKey.AccessKeyId));
    assert.ok(raw && !Buffer.from(raw.secret).toString('latin1').includes(a.AccessKey.SecretAccessKey));
    const cred = await k.rt.credential(a.AccessKey.AccessKeyId);
    assert.equal(cred?.secretAccessKey, a.AccessKey.SecretAccessKey);
    assert.equal(cred?.principal.arn, 'arn:aws:iam::000000000000:user/keys');
    await k.call('iam', 'UpdateAccessKey', { UserName: 'keys', AccessKeyId: a.AccessKey.AccessKeyId, Status: 'Inactive' });
    assert.equal(await k.rt.credential(a.AccessKey.AccessKeyId), undefined);
    await assert.rejects(k.call('iam', 'UpdateAccessKey', { UserName: 'keys', AccessKeyId: a.AccessKey.AccessKeyId, Status: 'Paused' }), code('ValidationError', /Active, Inactive/));
    const list = await k.call('iam', 'ListAccessKeys', { UserName: 'keys' });
    assert.equal(list.AccessKeyMetadata.length, 2);
    const lu = await k.call('iam', 'GetAccessKeyLastUsed', { AccessKeyId: a.AccessKey.AccessKeyId });
    assert.deepEqual(lu.AccessKeyLastUsed, { ServiceName: 'N/A', Region: 'N/A' });
    await assert.rejects(k.call('iam', 'DeleteUser', { UserName: 'keys' }), code('DeleteConflict', /access keys/));
    for (const m of list.AccessKeyMetadata) await k.call('iam', 'DeleteAccessKey', { UserName: 'keys', AccessKeyId: m.AccessKeyId });
    await assert.rejects(k.call('iam', 'DeleteAccessKey', { UserName: 'keys', AccessKeyId: a.AccessKey.AccessKeyId }), code('NoSuchEntity', /Access Key with id/));
    await k.call('iam', 'DeleteUser', { UserName: 'keys' });
  });

  it('a user calling about itself needs no UserName', async () => {
    await k.call('iam', 'CreateUser', { UserName: 'self' });
    await k.call('iam', 'PutUserPolicy', { UserName: 'self', PolicyName: 'own', PolicyDocument: policy({ Effect: 'Allow', Action: 'iam:*AccessKey*', Resource: 'arn:aws:iam::*:user/${aws:username}' }) });
    const a = await k.call('iam', 'CreateAccessKey', { UserName: 'self' });
    const me = await k.as(a.AccessKey.AccessKeyId);
    const list = await k.call('iam', 'ListAccessKeys', {}, me);
    assert.equal(list.AccessKeyMetadata[0].UserName, 'self');
    // The policy variable confines it to its own keys.
    await assert.rejects(k.call('iam', 'ListAccessKeys', { UserName: 'Alice' }, me), code('AccessDenied', /is not authorized to perform: iam:ListAccessKeys on resource: arn:aws:iam::000000000000:user\/eng\/Alice because no identity-based policy allows/));
    await assert.rejects(k.call('iam', 'ListAccessKeys', {}, k.root), code('ValidationError', /Must specify userName/));
  });

  it('groups: membership, quotas, policies through groups, delete conflicts', async () => {
    await k.call('iam', 'CreateGroup', { GroupName: 'devs', Path: '/teams/' });
    await k.call('iam', 'CreateUser', { UserName: 'gina' });
    await k.call('iam', 'AddUserToGroup', { GroupName: 'devs', UserName: 'gina' });
    const g = await k.call('iam', 'GetGroup', { GroupName: 'devs' });
    assert.equal(g.Group.Arn, 'arn:aws:iam::000000000000:group/teams/devs');
    assert.deepEqual(g.Users.map((u: { UserName: string }) => u.UserName), ['gina']);
    const lg = await k.call('iam', 'ListGroupsForUser', { UserName: 'gina' });
    assert.deepEqual(lg.Groups.map((x: { GroupName: string }) => x.GroupName), ['devs']);
    await k.call('iam', 'PutGroupPolicy', { GroupName: 'devs', PolicyName: 'read', PolicyDocument: policy({ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }) });
    const key = await k.call('iam', 'CreateAccessKey', { UserName: 'gina' });
    const gina = await k.as(key.AccessKey.AccessKeyId);
    await k.call('iam', 'ListUsers', {}, gina);
    await assert.rejects(k.call('iam', 'DeleteGroup', { GroupName: 'devs' }), code('DeleteConflict', /remove users from group/));
    await k.call('iam', 'RemoveUserFromGroup', { GroupName: 'devs', UserName: 'gina' });
    await assert.rejects(k.call('iam', 'ListUsers', {}, gina), code('AccessDenied'));
    await assert.rejects(k.call('iam', 'DeleteGroup', { GroupName: 'devs' }), code('DeleteConflict', /delete policies first/));
    await k.call('iam', 'DeleteGroupPolicy', { GroupName: 'devs', PolicyName: 'read' });
    await k.call('iam', 'DeleteGroup', { GroupName: 'devs' });
    for (let i = 0; i < 10; i++) {
      await k.call('iam', 'CreateGroup', { GroupName: `g${i}` });
      await k.call('iam', 'AddUserToGroup', { GroupName: `g${i}`, UserName: 'gina' });
    }
    await k.call('iam', 'CreateGroup', { GroupName: 'g10' });
    await assert.rejects(k.call('iam', 'AddUserToGroup', { GroupName: 'g10', UserName: 'gina' }), code('LimitExceeded', /GroupsPerUser: 10/));
  });

  it('account quota: 300 groups', async () => {
    const have = (await k.call('iam', 'ListGroups', { MaxItems: 1000 })).Groups.length as number;
    await Promise.all(Array.from({ length: 300 - have }, (_, i) => k.call('iam', 'CreateGroup', { GroupName: `quota-${i}` })));
    await assert.rejects(k.call('iam', 'CreateGroup', { GroupName: 'one-too-many' }), code('LimitExceeded', /GroupsPerAccount: 300/));
    await k.call('iam', 'DeleteGroup', { GroupName: 'quota-0' });
    await k.call('iam', 'CreateGroup', { GroupName: 'one-too-many' });
    await Promise.all(Array.from({ length: 20 }, (_, i) => k.call('iam', 'DeleteGroup', { GroupName: `quota-${i + 1}` })));
  });

  it('renames a user and keeps its keys and groups', async () => {
    await k.call('iam', 'CreateUser', { UserName: 'old' });
    await k.call('iam', 'CreateGroup', { GroupName: 'rn' });
    await k.call('iam', 'AddUserToGroup', { GroupName: 'rn', UserName: 'old' });
    const key = await k.call('iam', 'CreateAccessKey', { UserName: 'old' });
    await k.call('iam', 'UpdateUser', { UserName: 'old', NewUserName: 'new', NewPath: '/moved/' });
    await assert.rejects(k.call('iam', 'GetUser', { UserName: 'old' }), code('NoSuchEntity'));
    assert.equal((await k.call('iam', 'GetUser', { UserName: 'new' })).User.Arn, 'arn:aws:iam::000000000000:user/moved/new');
    assert.equal((await k.call('iam', 'ListAccessKeys', { UserName: 'new' })).AccessKeyMetadata[0].AccessKeyId, key.AccessKey.AccessKeyId);
    assert.equal((await k.call('iam', 'GetGroup', { GroupName: 'rn' })).Users[0].UserName, 'new');
    assert.equal((await k.as(key.AccessKey.AccessKeyId)).arn, 'arn:aws:iam::000000000000:user/moved/new');
  });

  it('tags users', async () => {
    await k.call('iam', 'CreateUser', { UserName: 'tagged' });
    await k.call('iam', 'TagUser', { UserName: 'tagged', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] });
    await k.call('iam', 'UntagUser', { UserName: 'tagged', TagKeys: ['A'] });
    assert.deepEqual((await k.call('iam', 'ListUserTags', { UserName: 'tagged' })).Tags, [{ Key: 'b', Value: '2' }]);
    await assert.rejects(k.call('iam', 'TagUser', { UserName: 'tagged', Tags: [{ Key: 'aws:x', Value: '1' }] }), code('InvalidInput'));
  });

  it('state survives a restart (keys still authenticate)', async () => {
    await k.call('iam', 'CreateUser', { UserName: 'durable' });
    const key = await k.call('iam', 'CreateAccessKey', { UserName: 'durable' });
    const k2 = await k.restart();
    k = k2;
    assert.equal((await k.call('iam', 'GetUser', { UserName: 'durable' })).User.UserName, 'durable');
    assert.equal((await k.rt.credential(key.AccessKey.AccessKeyId))?.secretAccessKey, key.AccessKey.SecretAccessKey);
  });
});
