import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy } from '../../iam/policy/document.js';
import { decide } from '../../iam/policy/evaluate.js';
import type { PrincipalFacts } from '../../iam/policy/document.js';
import { ALL_USERS, AUTHENTICATED_USERS, aclStatements, cannedGrants, grantsFromBody, parseGrantHeader } from './acl-model.js';
import { canonicalUserId } from './model.js';

const ACCOUNT = '000000000000';
const OWNER = canonicalUserId(ACCOUNT);
const anonymous: PrincipalFacts = { anonymous: true, root: false, accountId: '', arns: [] };
const user: PrincipalFacts = { anonymous: false, root: false, accountId: ACCOUNT, arns: [[`arn:aws:iam::${ACCOUNT}:user/u`, 'direct']] };
const keysOf = (p: PrincipalFacts) => ({ get: (k: string) => (k === 'aws:principaltype' ? [p.anonymous ? 'Anonymous' : 'User'] : undefined) });

/** What the ACL alone (as the engine's resource policy) says about one request. */
function allowed(target: 'bucket' | 'object', grants: ReturnType<typeof cannedGrants>, action: string, resource: string, p: PrincipalFacts, ignorePublic = false): boolean {
  const statements = aclStatements(target, 'b', grants, ACCOUNT, ignorePublic);
  if (statements.length === 0) return false;
  const policy = compilePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'resource');
  return decide({ action, resource, principal: p, keys: keysOf(p) }, { resource: policy, identity: [] }).allowed;
}

describe('S3 ACLs as policy statements', () => {
  it('canned ACLs', () => {
    assert.deepEqual(cannedGrants('private', 'object', OWNER, OWNER), []);
    assert.deepEqual(cannedGrants('public-read', 'object', OWNER, OWNER), [{ uri: ALL_USERS, permission: 'READ' }]);
    assert.equal(cannedGrants('public-read-write', 'bucket', OWNER, OWNER).length, 2);
    assert.deepEqual(cannedGrants('authenticated-read', 'object', OWNER, OWNER), [{ uri: AUTHENTICATED_USERS, permission: 'READ' }]);
    // bucket-owner-* name the bucket owner only when someone else owns the object.
    assert.deepEqual(cannedGrants('bucket-owner-full-control', 'object', OWNER, OWNER), []);
    const other = canonicalUserId('111122223333');
    assert.deepEqual(cannedGrants('bucket-owner-read', 'object', other, OWNER), [{ id: OWNER, permission: 'READ' }]);
    assert.throws(() => cannedGrants('everyone', 'object', OWNER, OWNER), /InvalidArgument|x-amz-acl/);
  });

  it('object READ lets anyone GET the object, not list the bucket or write', () => {
    const g = cannedGrants('public-read', 'object', OWNER, OWNER);
    assert.equal(allowed('object', g, 's3:GetObject', 'arn:aws:s3:::b/k', anonymous), true);
    assert.equal(allowed('object', g, 's3:GetObjectVersion', 'arn:aws:s3:::b/k', anonymous), true);
    assert.equal(allowed('object', g, 's3:PutObject', 'arn:aws:s3:::b/k', anonymous), false);
    assert.equal(allowed('object', g, 's3:GetObjectAcl', 'arn:aws:s3:::b/k', anonymous), false);
    assert.equal(allowed('object', g, 's3:GetObject', 'arn:aws:s3:::b/k', anonymous, true), false, 'IgnorePublicAcls');
  });

  it('bucket READ lists, WRITE writes objects, FULL_CONTROL includes the ACP permissions', () => {
    const read = cannedGrants('public-read', 'bucket', OWNER, OWNER);
    assert.equal(allowed('bucket', read, 's3:ListBucket', 'arn:aws:s3:::b', anonymous), true);
    assert.equal(allowed('bucket', read, 's3:GetObject', 'arn:aws:s3:::b/k', anonymous), false);
    const rw = cannedGrants('public-read-write', 'bucket', OWNER, OWNER);
    assert.equal(allowed('bucket', rw, 's3:PutObject', 'arn:aws:s3:::b/k', anonymous), true);
    assert.equal(allowed('bucket', rw, 's3:DeleteObject', 'arn:aws:s3:::b/k', anonymous), true);
    assert.equal(allowed('bucket', rw, 's3:PutBucketAcl', 'arn:aws:s3:::b', anonymous), false);
    const full = parseGrantHeader(`uri="${ALL_USERS}"`, 'FULL_CONTROL', 'x-amz-grant-full-control');
    assert.equal(allowed('bucket', full, 's3:PutBucketAcl', 'arn:aws:s3:::b', anonymous), true);
    assert.equal(allowed('bucket', full, 's3:GetBucketAcl', 'arn:aws:s3:::b', anonymous), true);
    assert.equal(allowed('bucket', full, 's3:DeleteBucket', 'arn:aws:s3:::b', anonymous), false);
  });

  it('AuthenticatedUsers means any signed caller, never the anonymous one', () => {
    const g = cannedGrants('authenticated-read', 'object', OWNER, OWNER);
    assert.equal(allowed('object', g, 's3:GetObject', 'arn:aws:s3:::b/k', user), true);
    assert.equal(allowed('object', g, 's3:GetObject', 'arn:aws:s3:::b/k', anonymous), false);
  });

  it('grant headers and bodies', () => {
    assert.deepEqual(parseGrantHeader(`id="${OWNER}", uri="${ALL_USERS}"`, 'READ', 'x-amz-grant-read'), [
      { id: OWNER, permission: 'READ' },
      { uri: ALL_USERS, permission: 'READ' },
    ]);
    assert.throws(() => parseGrantHeader('uri="http://example.com/x"', 'READ', 'x-amz-grant-read'), /Invalid group uri/);
    assert.throws(() => parseGrantHeader('emailAddress="a@b.c"', 'READ', 'x-amz-grant-read'), /e-mail address/);
    assert.throws(() => parseGrantHeader('nonsense', 'READ', 'x-amz-grant-read'), /Invalid argument/);
    // The owner's own FULL_CONTROL is implicit.
    assert.deepEqual(
      grantsFromBody([{ Grantee: { Type: 'CanonicalUser', ID: OWNER }, Permission: 'FULL_CONTROL' }, { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }], OWNER),
      [{ uri: ALL_USERS, permission: 'READ' }],
    );
    assert.throws(() => grantsFromBody([{ Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'EVERYTHING' as 'READ' }], OWNER), /MalformedACL|well-formed/);
  });
});
