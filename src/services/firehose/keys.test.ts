import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { compress } from './compress.js';
import { checkPrefixes, dataPrefix, errorPrefix, formatTime, objectName } from './keys.js';

const AT = Date.UTC(2025, 2, 4, 5, 6, 7, 89);

describe('firehose prefixes and object names', () => {
  it('default and legacy prefixes append the UTC hour folders', () => {
    assert.equal(dataPrefix(undefined, { at: AT }), '2025/03/04/05/');
    assert.equal(dataPrefix('logs/', { at: AT }), 'logs/2025/03/04/05/');
    assert.equal(dataPrefix("y=!{timestamp:yyyy}/m=!{timestamp:MM}/d=!{timestamp:dd'T'HH}/", { at: AT }), 'y=2025/m=03/d=04T05/');
    assert.match(dataPrefix('r/!{firehose:random-string}/', { at: AT }), /^r\/[a-z0-9]{11}\/$/);
    assert.equal(dataPrefix('c=!{partitionKeyFromQuery:customer}/', { at: AT, partitionKeys: { customer: 'acme' } }), 'c=acme/');
  });

  it('error prefixes carry the error output type', () => {
    assert.equal(errorPrefix(undefined, undefined, { at: AT, errorType: 'processing-failed' }), 'processing-failed/2025/03/04/05/');
    assert.equal(errorPrefix('logs/', undefined, { at: AT, errorType: 'processing-failed' }), 'logs/processing-failed/2025/03/04/05/');
    assert.equal(errorPrefix('x/!{timestamp:yyyy}/', 'err/!{firehose:error-output-type}/!{timestamp:yyyy}/', { at: AT, errorType: 'partitioning-failed' }), 'err/partitioning-failed/2025/');
  });

  it('validates prefixes as AWS does', () => {
    const dp = { dynamicPartitioning: false };
    assert.throws(() => checkPrefixes('a/!{timestamp:yyyy}/', undefined, dp), /ErrorOutputPrefix cannot be null or empty/);
    assert.throws(() => checkPrefixes('a/!{firehose:error-output-type}/', 'e/', dp), /not allowed in Prefix/);
    assert.throws(() => checkPrefixes('a/!{partitionKeyFromQuery:k}/', 'e/', dp), /requires dynamic partitioning/);
    assert.throws(() => checkPrefixes('a/!{nope:k}/', 'e/', dp), /not supported/);
    assert.throws(() => checkPrefixes('a/!{timestamp:yyyy-qq}/', 'e/', dp), /DateTimeFormatter/);
    assert.throws(() => checkPrefixes('/a/', undefined, dp), /cannot begin with/);
    assert.throws(() => checkPrefixes('a/', 'e/', { dynamicPartitioning: true }), /at least one partitionKey/);
    checkPrefixes('a/!{partitionKeyFromLambda:k}/', 'e/', { dynamicPartitioning: true });
    checkPrefixes('plain/', undefined, dp);
  });

  it('names objects <stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid><ext>', () => {
    assert.match(objectName('s', 3, AT, '.gz'), /^s-3-2025-03-04-05-06-07-[0-9a-f-]{36}\.gz$/);
    assert.equal(formatTime('yyyy-MM-dd HH:mm:ss.SSS', AT), '2025-03-04 05:06:07.089');
  });
});

describe('firehose encodings', () => {
  const data = Buffer.from('hello firehose '.repeat(10_000));

  it('ZIP holds one deflated entry with the right sizes and CRC', async () => {
    const z = await compress('ZIP', data, 'entry');
    assert.equal(z.readUInt32LE(0), 0x04034b50);
    const nameLen = z.readUInt16LE(26);
    const compressed = z.readUInt32LE(18);
    assert.equal(z.readUInt32LE(22), data.length);
    assert.equal(z.subarray(30, 30 + nameLen).toString(), 'entry');
    assert.deepEqual(inflateRawSync(z.subarray(30 + nameLen, 30 + nameLen + compressed)), data);
    assert.equal(z.readUInt32LE(z.length - 22), 0x06054b50);
  });
});
