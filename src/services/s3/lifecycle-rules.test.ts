import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLifecycle, ruleOut } from './lifecycle.js';
import { abortDue, currentExpiry, dueAfterDays, dueTransition, expirationOf, matchesFilter, noncurrentExpired, removesExpiredMarker } from './lifecycle-rules.js';
import type { LifecycleConfig } from './model.js';

const cfg = (rules: Parameters<typeof checkLifecycle>[0], min?: string): LifecycleConfig => checkLifecycle(rules, min);

describe('lifecycle: expiry dates', () => {
  it('adds the days and rounds up to the next midnight UTC', () => {
    assert.equal(dueAfterDays(new Date('2014-01-15T10:30:00Z'), 3).toISOString(), '2014-01-19T00:00:00.000Z');
    assert.equal(dueAfterDays(new Date('2014-01-15T23:59:59Z'), 1).toISOString(), '2014-01-17T00:00:00.000Z');
    assert.equal(dueAfterDays(new Date('2014-01-15T00:00:00Z'), 1).toISOString(), '2014-01-17T00:00:00.000Z');
  });

  it('x-amz-expiration names the earliest matching rule, URL-encoded', () => {
    const c = cfg([
      { ID: 'late one', Status: 'Enabled', Filter: { Prefix: 'a/' }, Expiration: { Days: 10 } },
      { ID: 'early', Status: 'Enabled', Filter: { Prefix: 'a/b' }, Expiration: { Days: 2 } },
      { ID: 'off', Status: 'Disabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } },
    ]);
    const rec = { key: 'a/b/c', size: 1, lastModified: new Date('2024-03-01T12:00:00Z') };
    assert.equal(expirationOf(c, rec), 'expiry-date="Mon, 04 Mar 2024 00:00:00 GMT", rule-id="early"');
    assert.equal(expirationOf(c, { ...rec, key: 'a/x' }), 'expiry-date="Tue, 12 Mar 2024 00:00:00 GMT", rule-id="late%20one"');
    assert.equal(expirationOf(c, { ...rec, key: 'z' }), undefined);
    assert.equal(expirationOf(c, { ...rec, deleteMarker: true }), undefined);
    const dated = cfg([{ ID: 'd', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date('2030-01-01T00:00:00Z') } }]);
    assert.equal(currentExpiry(dated, rec)?.at.toISOString(), '2030-01-01T00:00:00.000Z');
  });
});

describe('lifecycle: filters', () => {
  it('matches prefix, every tag of an And, and strict size bounds', () => {
    const f = cfg([{ ID: 'r', Status: 'Enabled', Filter: { And: { Prefix: 'p/', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }], ObjectSizeGreaterThan: 10, ObjectSizeLessThan: 100 } }, Expiration: { Days: 1 } }]).rules[0]?.filter;
    assert.ok(f);
    const tags = [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }, { Key: 'c', Value: '3' }];
    assert.equal(matchesFilter(f, { key: 'p/x', size: 50, tags }), true);
    assert.equal(matchesFilter(f, { key: 'q/x', size: 50, tags }), false);
    assert.equal(matchesFilter(f, { key: 'p/x', size: 10, tags }), false);
    assert.equal(matchesFilter(f, { key: 'p/x', size: 100, tags }), false);
    assert.equal(matchesFilter(f, { key: 'p/x', size: 50, tags: tags.slice(1) }), false);
    assert.equal(matchesFilter(f, { key: 'p/x', size: 50, tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: 'x' }] }), false);
  });

  it('round-trips each filter form in the shape it was written', () => {
    for (const rule of [
      { ID: '1', Status: 'Enabled' as const, Prefix: 'old/', Expiration: { Days: 1 } },
      { ID: '2', Status: 'Enabled' as const, Filter: { Tag: { Key: 'k', Value: 'v' } }, Expiration: { Days: 1 } },
      { ID: '3', Status: 'Enabled' as const, Filter: { ObjectSizeGreaterThan: 5 }, Expiration: { Days: 1 } },
      { ID: '4', Status: 'Enabled' as const, Filter: {}, Expiration: { Days: 1 } },
    ]) {
      assert.deepEqual(ruleOut(cfg([rule]).rules[0] as never), rule);
    }
  });
});

describe('lifecycle: transitions and noncurrent versions', () => {
  const modified = new Date('2024-01-01T08:00:00Z');
  const at = (days: number) => new Date(modified.getTime() + days * 86_400_000);
  const c = cfg([{ ID: 't', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }, { Days: 60, StorageClass: 'GLACIER' }] }]);

  it('moves down the waterfall, never up, and leaves small objects unless allowed', () => {
    const big = { key: 'k', size: 200_000, lastModified: modified, storageClass: 'STANDARD' };
    assert.equal(dueTransition(c, big, at(29)), undefined);
    assert.equal(dueTransition(c, big, at(31)), 'STANDARD_IA');
    assert.equal(dueTransition(c, big, at(61)), 'GLACIER');
    assert.equal(dueTransition(c, { ...big, storageClass: 'DEEP_ARCHIVE' }, at(61)), undefined);
    assert.equal(dueTransition(c, { ...big, size: 1000 }, at(61)), undefined);
    const varies = cfg([{ ID: 't', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }, { Days: 60, StorageClass: 'GLACIER' }] }], 'varies_by_storage_class');
    assert.equal(dueTransition(varies, { ...big, size: 1000 }, at(31)), undefined);
    assert.equal(dueTransition(varies, { ...big, size: 1000 }, at(61)), 'GLACIER');
  });

  it('noncurrent expiry counts from when the version became noncurrent and keeps NewerNoncurrentVersions', () => {
    const n = cfg([{ ID: 'n', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 5, NewerNoncurrentVersions: 2 } }]);
    const v = { key: 'k', size: 1, since: modified, storageClass: 'STANDARD' };
    assert.equal(noncurrentExpired(n, { ...v, newer: 2 }, at(5)), undefined);
    assert.equal(noncurrentExpired(n, { ...v, newer: 1 }, at(7))?.id, undefined);
    assert.equal(noncurrentExpired(n, { ...v, newer: 2 }, at(7))?.id, 'n');
  });

  it('a lone delete marker goes under ExpiredObjectDeleteMarker or a current-version expiration, not under tag filters', () => {
    assert.equal(removesExpiredMarker(cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } }]), 'k'), true);
    assert.equal(removesExpiredMarker(cfg([{ ID: 'a', Status: 'Enabled', Filter: { Prefix: 'k' }, Expiration: { Days: 3 } }]), 'k'), true);
    assert.equal(removesExpiredMarker(cfg([{ ID: 'a', Status: 'Enabled', Filter: { Tag: { Key: 't', Value: 'v' } }, Expiration: { Days: 3 } }]), 'k'), false);
    assert.equal(removesExpiredMarker(cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 3 } }]), 'k'), false);
    assert.equal(removesExpiredMarker(cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: false } }]), 'k'), false);
  });

  it('aborts uploads by prefix after DaysAfterInitiation', () => {
    const a = cfg([{ ID: 'a', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }]);
    assert.equal(abortDue(a, 'tmp/x', modified, at(2)), undefined);
    assert.equal(abortDue(a, 'tmp/x', modified, at(3))?.id, 'a');
    assert.equal(abortDue(a, 'keep/x', modified, at(30)), undefined);
  });
});

describe('lifecycle: validation', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as { code: string }).code;
    }
    return 'ok';
  };
  it('answers S3 error codes', () => {
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: { Prefix: 'x' }, Prefix: 'y', Expiration: { Days: 1 } }])), 'MalformedXML');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Expiration: { Days: 1 } }])), 'MalformedXML');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: { Prefix: 'x', Tag: { Key: 'a', Value: 'b' } }, Expiration: { Days: 1 } }])), 'MalformedXML');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 1, ExpiredObjectDeleteMarker: true } }])), 'MalformedXML');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: { Tag: { Key: 'a', Value: 'b' } }, Expiration: { ExpiredObjectDeleteMarker: true } }])), 'InvalidRequest');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }, { Days: 60, StorageClass: 'GLACIER' }] }])), 'InvalidArgument');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }, { Days: 60, StorageClass: 'GLACIER' }] }])), 'ok');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, Transitions: [{ Date: new Date('2030-01-01T00:00:00Z'), StorageClass: 'GLACIER' }], Expiration: { Days: 5 } }])), 'InvalidRequest');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 1, StorageClass: 'STANDARD' as 'GLACIER' }] }])), 'MalformedXML');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, NoncurrentVersionTransitions: [{ NoncurrentDays: 10, StorageClass: 'ONEZONE_IA' }] }])), 'InvalidArgument');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, NoncurrentVersionTransitions: [{ NoncurrentDays: 40, StorageClass: 'GLACIER' }], NoncurrentVersionExpiration: { NoncurrentDays: 30 } }])), 'InvalidArgument');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: { ObjectSizeGreaterThan: 100, ObjectSizeLessThan: 50 }, Expiration: { Days: 1 } }])), 'MalformedXML');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: { And: { ObjectSizeGreaterThan: 100, ObjectSizeLessThan: 50 } }, Expiration: { Days: 1 } }])), 'InvalidArgument');
    assert.equal(code(() => cfg([{ ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }], 'bogus')), 'InvalidArgument');
    assert.equal(cfg([{ Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]).rules[0]?.id.length, 48);
  });
});
