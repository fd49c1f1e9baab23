import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCidr } from './cidr.js';
import { compileCondition } from './conditions.js';
import { keys } from './test-helpers.js';

type Case = [name: string, condition: Record<string, unknown>, ctx: Record<string, string | string[]>, expected: boolean];

const cases: Case[] = [
  // String operators
  ['StringEquals exact', { StringEquals: { 'aws:username': 'bob' } }, { 'aws:username': 'bob' }, true],
  ['StringEquals is case-sensitive', { StringEquals: { 'aws:username': 'bob' } }, { 'aws:username': 'Bob' }, false],
  ['condition key names are case-insensitive', { StringEquals: { 'AWS:UserName': 'bob' } }, { 'aws:username': 'bob' }, true],
  ['values of one key OR', { StringEquals: { 'aws:username': ['alice', 'bob'] } }, { 'aws:username': 'bob' }, true],
  ['keys of one operator AND', { StringEquals: { 'aws:username': 'bob', 'aws:RequestedRegion': 'eu-west-1' } }, { 'aws:username': 'bob', 'aws:RequestedRegion': 'us-east-1' }, false],
  ['operators AND', { StringEquals: { 'aws:username': 'bob' }, Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:username': 'bob', 'aws:SecureTransport': 'false' }, false],
  ['missing key: positive operator false', { StringEquals: { 'aws:PrincipalTag/team': 'x' } }, {}, false],
  ['missing key: negated operator true', { StringNotEquals: { 'aws:PrincipalTag/team': 'x' } }, {}, true],
  ['StringNotEquals values NOR', { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } }, { 'aws:RequestedRegion': 'eu-west-1' }, false],
  ['StringNotEquals other value', { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } }, { 'aws:RequestedRegion': 'ap-south-1' }, true],
  ['StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'DEV' } }, { 'aws:PrincipalTag/team': 'dev' }, true],
  ['StringNotEqualsIgnoreCase', { StringNotEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'DEV' } }, { 'aws:PrincipalTag/team': 'dev' }, false],
  ['StringLike *', { StringLike: { 's3:prefix': ['home/*'] } }, { 's3:prefix': 'home/bob/x' }, true],
  ['StringLike ?', { StringLike: { 's3:prefix': 'a?c' } }, { 's3:prefix': 'abc' }, true],
  ['StringLike ? is one char', { StringLike: { 's3:prefix': 'a?c' } }, { 's3:prefix': 'abbc' }, false],
  ['StringLike empty string only matches empty', { StringLike: { 's3:prefix': ['', 'home/'] } }, { 's3:prefix': '' }, true],
  ['StringNotLike', { StringNotLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'etc/x' }, true],
  ['StringEquals with policy variable', { StringEquals: { 's3:prefix': 'home/${aws:username}' } }, { 's3:prefix': 'home/bob', 'aws:username': 'bob' }, true],
  ['StringLike with policy variable', { StringLike: { 's3:prefix': 'home/${aws:username}/*' } }, { 's3:prefix': 'home/bob/a', 'aws:username': 'bob' }, true],
  ['variable with no value and no default never matches', { StringLike: { 's3:prefix': 'home/${aws:username}/*' } }, { 's3:prefix': 'home//a' }, false],
  ['variable default', { StringEquals: { 's3:prefix': "home/${aws:username, 'guest'}" } }, { 's3:prefix': 'home/guest' }, true],
  ['${*} is a literal asterisk', { StringEquals: { 's3:prefix': 'a${*}' } }, { 's3:prefix': 'a*' }, true],
  ['${*} does not act as a wildcard', { StringLike: { 's3:prefix': 'a${*}' } }, { 's3:prefix': 'abc' }, false],
  ['PrincipalTag variable', { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } }, { 'aws:ResourceTag/team': 'red', 'aws:PrincipalTag/team': 'red' }, true],
  // Numeric
  ['NumericLessThanEquals', { NumericLessThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, true],
  ['NumericLessThan', { NumericLessThan: { 's3:max-keys': 10 } }, { 's3:max-keys': '10' }, false],
  ['NumericGreaterThan', { NumericGreaterThan: { 'aws:MultiFactorAuthAge': '3600' } }, { 'aws:MultiFactorAuthAge': '3601' }, true],
  ['NumericGreaterThanEquals', { NumericGreaterThanEquals: { 'aws:MultiFactorAuthAge': '3600' } }, { 'aws:MultiFactorAuthAge': '3599' }, false],
  ['NumericEquals', { NumericEquals: { 's3:max-keys': '5' } }, { 's3:max-keys': '5.0' }, true],
  ['NumericNotEquals', { NumericNotEquals: { 's3:max-keys': '5' } }, { 's3:max-keys': '6' }, true],
  ['Numeric not a number', { NumericEquals: { 's3:max-keys': '5' } }, { 's3:max-keys': 'five' }, false],
  // Date
  ['DateGreaterThan ISO', { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' } }, { 'aws:CurrentTime': '2024-01-01T00:00:00Z' }, true],
  ['DateLessThan ISO', { DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } }, { 'aws:CurrentTime': '2024-01-01T00:00:00Z' }, false],
  ['DateLessThanEquals epoch policy value', { DateLessThanEquals: { 'aws:EpochTime': '1700000000' } }, { 'aws:EpochTime': '1700000000' }, true],
  ['DateEquals mixed forms', { DateEquals: { 'aws:CurrentTime': '1970-01-01T00:00:10Z' } }, { 'aws:CurrentTime': '10' }, true],
  ['DateNotEquals', { DateNotEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2020-01-01T00:00:01Z' }, true],
  ['DateGreaterThanEquals TokenIssueTime', { DateGreaterThanEquals: { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' } }, { 'aws:TokenIssueTime': '2019-12-31T23:59:59Z' }, false],
  // Bool
  ['Bool true', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'true' }, true],
  ['Bool JSON boolean', { Bool: { 'aws:MultiFactorAuthPresent': true } }, { 'aws:MultiFactorAuthPresent': 'true' }, true],
  ['Bool false vs missing', { Bool: { 'aws:MultiFactorAuthPresent': 'false' } }, {}, false],
  ['BoolIfExists false vs missing (the MFA deny idiom)', { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } }, {}, true],
  ['BoolIfExists false vs true', { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } }, { 'aws:MultiFactorAuthPresent': 'true' }, false],
  // Binary
  ['BinaryEquals', { BinaryEquals: { 'key': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } }, { key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' }, true],
  ['BinaryEquals differs', { BinaryEquals: { 'key': 'QQ==' } }, { key: 'Qg==' }, false],
  // IP
  ['IpAddress CIDR', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.7' }, true],
  ['IpAddress outside', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.114.7' }, false],
  ['IpAddress single address', { IpAddress: { 'aws:SourceIp': '127.0.0.1' } }, { 'aws:SourceIp': '127.0.0.1' }, true],
  ['IpAddress IPv4-mapped IPv6 source', { IpAddress: { 'aws:SourceIp': '127.0.0.1/32' } }, { 'aws:SourceIp': '::ffff:127.0.0.1' }, true],
  ['IpAddress IPv6', { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } }, { 'aws:SourceIp': '2001:db8:1234:5678::1' }, true],
  ['IpAddress family mismatch', { IpAddress: { 'aws:SourceIp': '2001:DB8::/32' } }, { 'aws:SourceIp': '10.0.0.1' }, false],
  ['NotIpAddress', { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } }, { 'aws:SourceIp': '198.51.100.1' }, true],
  ['NotIpAddress inside', { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } }, { 'aws:SourceIp': '192.0.2.9' }, false],
  // ARN
  ['ArnEquals', { ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:123456789012:topic' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:123456789012:topic' }, true],
  ['ArnLike wildcard per segment', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/Admin*' } }, { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:role/AdminX' }, true],
  ['ArnLike * does not cross a colon', { ArnLike: { 'aws:SourceArn': 'arn:aws:s*:us-east-1:123456789012:x' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:123456789012:x' }, true],
  ['ArnLike region segment', { ArnLike: { 'aws:SourceArn': 'arn:aws:sns:us-*:123456789012:x' } }, { 'aws:SourceArn': 'arn:aws:sns:eu-west-1:123456789012:x' }, false],
  ['ArnNotLike', { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/Admin*' } }, { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:user/bob' }, true],
  ['ArnNotEquals missing key', { ArnNotEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:x' } }, {}, true],
  // Null
  ['Null true: key absent', { Null: { 'aws:TokenIssueTime': 'true' } }, {}, true],
  ['Null true: key present', { Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, false],
  ['Null false: key present', { Null: { 'aws:TokenIssueTime': 'false' } }, { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, true],
  ['Null false: key absent', { Null: { 'aws:TokenIssueTime': false } }, {}, false],
  // IfExists
  ['StringEqualsIfExists absent', { StringEqualsIfExists: { 'ec2:InstanceType': 't2.micro' } }, {}, true],
  ['StringEqualsIfExists present, other', { StringEqualsIfExists: { 'ec2:InstanceType': 't2.micro' } }, { 'ec2:InstanceType': 'm5.large' }, false],
  ['NumericLessThanIfExists', { NumericLessThanIfExists: { 's3:max-keys': '100' } }, { 's3:max-keys': '50' }, true],
  // Set operators
  ['ForAllValues all in set', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } }, { 'aws:TagKeys': ['environment'] }, true],
  ['ForAllValues one outside', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } }, { 'aws:TagKeys': ['environment', 'owner'] }, false],
  ['ForAllValues missing key is true', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment'] } }, {}, true],
  ['ForAllValues empty set is true', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment'] } }, { 'aws:TagKeys': [] }, true],
  ['ForAnyValue one matches', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } }, { 'aws:TagKeys': ['owner', 'cost-center'] }, true],
  ['ForAnyValue none match', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment'] } }, { 'aws:TagKeys': ['owner'] }, false],
  ['ForAnyValue missing key is false', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment'] } }, {}, false],
  ['ForAnyValue:StringLike', { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['env*'] } }, { 'aws:TagKeys': ['owner', 'environment'] }, true],
  ['ForAllValues:StringNotEquals every value outside', { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['secret'] } }, { 'aws:TagKeys': ['a', 'b'] }, true],
  ['ForAllValues:StringNotEquals one inside', { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['secret'] } }, { 'aws:TagKeys': ['a', 'secret'] }, false],
  ['ForAnyValue:StringNotEquals one outside', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['secret'] } }, { 'aws:TagKeys': ['secret', 'a'] }, true],
  ['multivalued key without qualifier: any value', { StringEquals: { 'aws:TagKeys': 'a' } }, { 'aws:TagKeys': ['b', 'a'] }, true],
  ['ForAnyValue:StringEqualsIfExists absent', { 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': 'a' } }, {}, true],
];

describe('condition operators', () => {
  for (const [name, condition, ctx, expected] of cases) {
    it(name, () => {
      const test = compileCondition(condition, true);
      assert.ok(test);
      assert.equal(test(keys(ctx)), expected);
    });
  }

  it('rejects unknown operators', () => {
    assert.throws(() => compileCondition({ StringEqualz: { a: 'b' } }, true), /Invalid Condition type : StringEqualz/);
    assert.throws(() => compileCondition({ 'ForSomeValues:StringEquals': { a: 'b' } }, true), /Invalid Condition type/);
    assert.throws(() => compileCondition({ 'ForAnyValue:Null': { a: 'true' } }, true), /Invalid Condition type/);
  });

  it('keeps variables literal in version 2008-10-17 policies', () => {
    const test = compileCondition({ StringEquals: { 's3:prefix': 'home/${aws:username}' } }, false);
    assert.ok(test);
    assert.equal(test(keys({ 's3:prefix': 'home/${aws:username}', 'aws:username': 'bob' })), true);
  });
});

describe('CIDR matching', () => {
  const cases: [string, string, boolean][] = [
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['192.168.1.128/25', '192.168.1.200', true],
    ['192.168.1.128/25', '192.168.1.100', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['127.0.0.1/32', '::ffff:127.0.0.1', true],
    ['2001:db8::/32', '2001:0db8:ffff::1', true],
    ['2001:db8::/33', '2001:db8:8000::1', false],
    ['::1/128', '::1', true],
    ['::ffff:0:0/96', '::ffff:1.2.3.4', false],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
    ['10.0.0.0/33', '10.0.0.1', false],
    ['not-an-ip', '10.0.0.1', false],
    ['10.0.0.0/8', 'garbage', false],
    ['10.0.0.0/8', '10.0.0.256', false],
  ];
  for (const [spec, addr, expected] of cases) it(`${spec} ∋ ${addr}: ${expected}`, () => assert.equal(compileCidr(spec)(addr), expected));
});
