import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPublicPolicy } from './public-policy.js';

const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const st = (extra: object) => ({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', ...extra });

describe('public bucket policies (S3\'s definition)', () => {
  it('a wildcard principal without a pinning condition is public', () => {
    assert.equal(isPublicPolicy(doc(st({ Principal: '*' }))), true);
    assert.equal(isPublicPolicy(doc(st({ Principal: { AWS: '*' } }))), true);
    assert.equal(isPublicPolicy(doc(st({ Principal: { AWS: ['arn:aws:iam::111122223333:root', '*'] } }))), true);
    assert.equal(isPublicPolicy(doc(st({ Principal: { AWS: 'arn:aws:iam::111122223333:user/*' } }))), true);
    assert.equal(isPublicPolicy(doc(st({ NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' } }))), true);
  });

  it('fixed principals, Deny statements and pinning conditions are not', () => {
    assert.equal(isPublicPolicy(doc(st({ Principal: { AWS: 'arn:aws:iam::111122223333:root' } }))), false);
    assert.equal(isPublicPolicy(doc(st({ Principal: { Service: 'cloudtrail.amazonaws.com' } }))), false);
    assert.equal(isPublicPolicy(doc({ ...st({ Principal: '*' }), Effect: 'Deny' })), false);
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } } }))), false);
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } } }))), false);
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.1.1/32'] } } }))), false);
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } } }))), false);
  });

  it('conditions that do not pin the caller leave it public', () => {
    // Too wide a range.
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } }))), true);
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/7' } } }))), true);
    // A wildcard value, a negated operator, IfExists, or a key that says nothing about the caller.
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { StringLike: { 'aws:SourceAccount': '1111*' } } }))), true);
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { StringNotEquals: { 'aws:SourceAccount': '111122223333' } } }))), true);
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { StringEqualsIfExists: { 'aws:SourceAccount': '111122223333' } } }))), true);
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }))), true);
    assert.equal(isPublicPolicy(doc(st({ Principal: '*', Condition: { StringEquals: { 'aws:SourceAccount': '${aws:username}' } } }))), true);
  });

  it('one public statement makes the policy public', () => {
    assert.equal(isPublicPolicy(doc(st({ Principal: { AWS: '111122223333' } }), st({ Principal: '*' }))), true);
    assert.equal(isPublicPolicy(JSON.stringify({ Statement: st({ Principal: '*' }) })), true);
  });
});
