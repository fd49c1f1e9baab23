import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from './config.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = parseConfig({});
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 4566);
    assert.equal(c.dataDir, './data');
    assert.equal(c.region, 'us-east-1');
    assert.equal(c.accountId, '000000000000');
    assert.equal(c.rootAccessKeyId, undefined);
    assert.equal(c.timeTravel, false);
    assert.ok(Object.isFrozen(c));
  });

  it('reads env, and flags win over env', () => {
    const c = parseConfig({ HANUL_PORT: '5000', HANUL_REGION: 'eu-west-1', HANUL_TIME_TRAVEL: '1' }, ['--port', '6000', '--data-dir=/tmp/x']);
    assert.equal(c.port, 6000);
    assert.equal(c.region, 'eu-west-1');
    assert.equal(c.dataDir, '/tmp/x');
    assert.equal(c.timeTravel, true);
  });

  it('takes a boolean flag without a value', () => {
    assert.equal(parseConfig({}, ['--time-travel']).timeTravel, true);
    assert.equal(parseConfig({}, ['--time-travel', '--port', '1']).port, 1);
    assert.equal(parseConfig({}, ['--kinesis-limits', 'off']).kinesisLimits, false);
  });

  it('refuses bad values with a clear message', () => {
    assert.throws(() => parseConfig({ HANUL_PORT: '70000' }), (e: unknown) => e instanceof ConfigError && /HANUL_PORT/.test(e.message));
    assert.throws(() => parseConfig({ HANUL_ACCOUNT_ID: '123' }), ConfigError);
    assert.throws(() => parseConfig({ HANUL_REGION: 'moon' }), ConfigError);
    assert.throws(() => parseConfig({ HANUL_TIME_TRAVEL: 'maybe' }), ConfigError);
    assert.throws(() => parseConfig({}, ['--nope']), /unknown option/);
    assert.throws(() => parseConfig({}, ['--port']), /needs a value/);
  });

  it('needs both halves of the root key and of TLS', () => {
    assert.throws(() => parseConfig({ HANUL_ACCESS_KEY_ID: 'AKIA' }), /both/);
    assert.throws(() => parseConfig({ HANUL_TLS_CERT: 'c.pem' }), /both/);
    const c = parseConfig({ HANUL_ACCESS_KEY_ID: 'AKIA1', HANUL_SECRET_ACCESS_KEY: 's' });
    assert.equal(c.rootAccessKeyId, 'AKIA1');
  });
});
