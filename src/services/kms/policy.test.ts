import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../../server/context.js';
import { evaluatePolicy, parsePolicy } from './policy.js';
import { Checks } from './validate.js';

const root: Principal = { type: 'root', arn: 'arn:aws:iam::111122223333:root', accountId: '111122223333', userId: '111122223333' };
const alice: Principal = { type: 'user', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', userId: 'AIDA', name: 'alice' };
const role: Principal = { type: 'assumed-role', arn: 'arn:aws:sts::111122223333:assumed-role/App/s1', accountId: '111122223333', userId: 'AROA:s1' };
const req = (principal: Principal, action: string, conditions: Record<string, string | string[]> = {}) => ({ action, resource: 'arn:aws:kms:us-east-1:111122223333:key/k', principal, conditions });

describe('key policy evaluation', () => {
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:role/App' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*', Condition: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] } } },
      { Effect: 'Deny', Principal: '*', Action: 'kms:ScheduleKeyDeletion', Resource: '*', Condition: { StringNotEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:root' } } },
    ],
  });
  it('allows the account root; delegates the account to IAM for others', () => {
    assert.equal(evaluatePolicy(policy, req(root, 'kms:Encrypt')), 'allow');
    assert.equal(evaluatePolicy(policy, req(alice, 'kms:Encrypt')), 'delegate');
  });
  it('matches assumed roles by their role ARN, with wildcards and conditions', () => {
    assert.equal(evaluatePolicy(policy, req(role, 'kms:GenerateDataKeyWithoutPlaintext', { 'kms:encryptioncontextkeys': ['tenant', 'x'] })), 'allow');
    assert.equal(evaluatePolicy(policy, req(role, 'kms:Decrypt', { 'kms:encryptioncontextkeys': ['other'] })), 'delegate');
  });
  it('explicit deny wins', () => {
    assert.equal(evaluatePolicy(policy, req(alice, 'kms:ScheduleKeyDeletion', { 'aws:principalarn': alice.arn })), 'deny');
    assert.equal(evaluatePolicy(policy, req(root, 'kms:ScheduleKeyDeletion', { 'aws:principalarn': root.arn })), 'allow');
  });
  it('rejects malformed documents', () => {
    assert.throws(() => parsePolicy('nope'), { name: 'MalformedPolicyDocumentException' });
    assert.throws(() => parsePolicy('{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"kms:*"}]}'), { name: 'MalformedPolicyDocumentException' });
    assert.throws(() => parsePolicy('{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}'), { name: 'MalformedPolicyDocumentException' });
  });
});

describe('validation messages', () => {
  it("collects every failure in AWS's words", () => {
    const c = new Checks().required(undefined, 'keyId').length(new Uint8Array(0), 'plaintext', 1, 4096).range(2000, 'numberOfBytes', 1, 1024).oneOf('X', 'keySpec', ['A', 'B']);
    assert.throws(() => c.done(), {
      name: 'ValidationException',
      message: "4 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '2000' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024; Value 'X' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [A, B]",
    });
    assert.doesNotThrow(() => new Checks().length('abc', 'x', 1, 3).done());
  });
});
