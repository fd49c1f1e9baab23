import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsEncode, canonicalHeaderValue, canonicalPath, canonicalQuery, decodeComponent, parseAmzDate, parseQuery } from './canonical.js';

describe('canonical forms', () => {
  it('encodes like AWS: unreserved kept, escapes normalised, %2F never confused with /', () => {
    assert.equal(awsEncode('AZaz09-._~', false, true), 'AZaz09-._~');
    assert.equal(awsEncode('a b+c*', false, true), 'a%20b%2Bc%2A');
    assert.equal(awsEncode('%7e%7E%2f%2F', false, true), '~~%2F%2F');
    assert.equal(awsEncode('/a%2Fb/c', true, true), '/a%2Fb/c');
    assert.equal(awsEncode('100%', false, true), '100%25');
    assert.equal(awsEncode('%zz', false, true), '%25zz');
    assert.equal(awsEncode('%20', true, false), '%2520');
    // latin1 byte strings (as Node delivers) and real text agree on UTF-8 bytes.
    assert.equal(awsEncode('\u00e1\u0088\u00b4', false, true), '%E1%88%B4');
    assert.equal(awsEncode('\u1234', false, true), '%E1%88%B4');
    assert.equal(awsEncode('\u{1F600}', false, true), '%F0%9F%98%80');
  });

  it('decodes query components to text, refusing broken UTF-8', () => {
    assert.equal(decodeComponent('AKID%2F20150830%2Fus-east-1'), 'AKID/20150830/us-east-1');
    assert.equal(decodeComponent('%E1%88%B4'), '\u1234');
    assert.equal(decodeComponent('%E1%88'), undefined);
  });

  it('sorts the query by key then value and keeps "=" for empty values', () => {
    const q = parseQuery('b=2&a=&c&a=z&a=%41&%61=1&&');
    assert.equal(canonicalQuery(q), 'a=&a=1&a=A&a=z&b=2&c=');
    // By key, not by "k=v" string: 'k' sorts before 'k-' although 'k-=' < 'k='.
    assert.equal(canonicalQuery(parseQuery('k-=1&k=2')), 'k=2&k-=1');
    assert.equal(canonicalQuery(parseQuery('X-Amz-Signature=abc&z=1'), new Set(['X-Amz-Signature'])), 'z=1');
  });

  it('normalizes paths for non-S3 services only', () => {
    assert.equal(canonicalPath('/a/./b/../c//d/', true), '/a/c/d/');
    assert.equal(canonicalPath('/..', true), '/');
    assert.equal(canonicalPath('//', true), '/');
    assert.equal(canonicalPath('', true), '/');
    assert.equal(canonicalPath('/a%20b', true), '/a%2520b');
    assert.equal(canonicalPath('/a/./b/../c//d/', false), '/a/./b/../c//d/');
    assert.equal(canonicalPath('/a%20b c', false), '/a%20b%20c');
  });

  it('trims and folds header values, joining repeats with ","', () => {
    assert.equal(canonicalHeaderValue('  a   b\t c  '), 'a b c');
    assert.equal(canonicalHeaderValue('value1\n  value2\r\n\tvalue3'), 'value1 value2 value3');
    assert.equal(canonicalHeaderValue([' x ', 'y  z']), 'x,y z');
    assert.equal(canonicalHeaderValue('\u00fc'), '\u00fc');
    assert.equal(canonicalHeaderValue('\u20ac'), '\u00e2\u0082\u00ac');
    assert.equal(canonicalHeaderValue(undefined), undefined);
  });

  it('parses only real x-amz-date instants', () => {
    assert.equal(parseAmzDate('20150830T123600Z')?.toISOString(), '2015-08-30T12:36:00.000Z');
    assert.equal(parseAmzDate('20150230T123600Z'), undefined);
    assert.equal(parseAmzDate('20150830T246000Z'), undefined);
    assert.equal(parseAmzDate('2015-08-30T12:36:00Z'), undefined);
  });
});
