import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CORSRule } from '@aws-sdk/client-s3';
import { isAwsError } from '../../aws/errors.js';
import { checkCorsRules, matchCorsRule } from './cors.js';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isAwsError(e) ? e.code : String(e);
  }
  return 'ok';
};

describe('CORS rules', () => {
  const rules = checkCorsRules([
    { AllowedOrigins: ['https://*.example.com'], AllowedMethods: ['PUT'], AllowedHeaders: ['Content-Type', 'x-amz-*'] },
    { AllowedOrigins: ['https://a.example.com'], AllowedMethods: ['PUT', 'GET'], ExposeHeaders: ['ETag'] },
    { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
  ]);

  it('takes the first rule matching origin, method and every requested header', () => {
    assert.deepEqual(matchCorsRule(rules, 'https://a.example.com', 'PUT', ['content-type', 'x-amz-meta-a']), { rule: rules[0], anyOrigin: false });
    // A requested header the first rule lacks: the second rule (no AllowedHeaders) allows none, the third not PUT.
    assert.equal(matchCorsRule(rules, 'https://a.example.com', 'PUT', ['authorization']), undefined);
    assert.equal(matchCorsRule(rules, 'https://a.example.com', 'GET', [])?.rule, rules[1]);
    assert.deepEqual(matchCorsRule(rules, 'http://other.test', 'GET', undefined), { rule: rules[2], anyOrigin: true });
    assert.equal(matchCorsRule(rules, 'https://example.com', 'PUT', undefined), undefined, 'the wildcard needs its dot');
    assert.equal(matchCorsRule(rules, 'http://other.test', 'DELETE', undefined), undefined);
  });

  it('validates as S3: methods, wildcards, counts, empty rules', () => {
    const one = (r: Partial<CORSRule>) => code(() => checkCorsRules([{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ...r }]));
    assert.equal(one({}), 'ok');
    assert.equal(one({ AllowedMethods: ['get'] }), 'InvalidRequest');
    assert.equal(one({ AllowedOrigins: ['*.*'] }), 'InvalidRequest');
    assert.equal(one({ AllowedHeaders: ['*'] }), 'ok');
    assert.equal(one({ ExposeHeaders: ['x-*'] }), 'InvalidRequest');
    assert.equal(one({ AllowedOrigins: [] }), 'MalformedXML');
    assert.equal(code(() => checkCorsRules([])), 'MalformedXML');
    const many = Array.from({ length: 100 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }));
    assert.equal(code(() => checkCorsRules(many)), 'ok');
    assert.equal(code(() => checkCorsRules([...many, many[0] as CORSRule])), 'InvalidRequest');
  });
});
