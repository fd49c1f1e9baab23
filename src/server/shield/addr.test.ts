import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientKey, effectiveAddress, parseCidrs } from './addr.js';
import { throttlingError } from './protection.js';
import type { ServiceDefinition } from '../../aws/service.js';

describe('shield addresses', () => {
  it('keys IPv4 by address (v4-mapped too) and IPv6 by /64', () => {
    assert.equal(clientKey('127.0.0.3'), '127.0.0.3');
    assert.equal(clientKey('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
  });

  it('CIDR lists match v4, v6 and v4-mapped; bad entries are refused', () => {
    const l = parseCidrs('10.0.0.0/8, 192.168.1.7, 2001:db8::/32');
    assert.ok(l.contains('10.9.9.9'));
    assert.ok(l.contains('::ffff:10.9.9.9'));
    assert.ok(l.contains('192.168.1.7'));
    assert.ok(!l.contains('192.168.1.8'));
    assert.ok(l.contains('2001:db8:ffff::1'));
    assert.ok(!l.contains('2001:db9::1'));
    assert.throws(() => parseCidrs('10.0.0.0/33'));
    assert.throws(() => parseCidrs('example.com'));
    assert.equal(parseCidrs('').size, 0);
  });

  it('X-Forwarded-For counts only from trusted proxies, right-most untrusted hop', () => {
    const proxies = parseCidrs('127.0.0.1/32,10.0.0.0/8');
    assert.equal(effectiveAddress('127.0.0.1', '1.2.3.4, 10.0.0.5', proxies), '1.2.3.4');
    assert.equal(effectiveAddress('127.0.0.9', '1.2.3.4', proxies), '127.0.0.9');
    assert.equal(effectiveAddress('127.0.0.1', 'not-an-ip', proxies), '127.0.0.1');
    assert.equal(effectiveAddress('127.0.0.1', '5.6.7.8', parseCidrs('')), '127.0.0.1');
  });

  it('throttling errors per service family', () => {
    const svc = (name: string, protocol: ServiceDefinition['protocol']) => ({ name, protocol }) as ServiceDefinition;
    assert.deepEqual([throttlingError(svc('s3', 'rest-xml')).code, throttlingError(svc('s3', 'rest-xml')).status], ['SlowDown', 503]);
    assert.equal(throttlingError(svc('kinesis', 'json-1.1')).code, 'ProvisionedThroughputExceededException');
    assert.equal(throttlingError(svc('kms', 'json-1.1')).code, 'ThrottlingException');
    assert.equal(throttlingError(svc('iam', 'query')).code, 'Throttling');
    assert.equal(throttlingError(undefined).code, 'SlowDown');
  });
});
