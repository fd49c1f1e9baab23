import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestContext } from '../../server/context.js';
import { directoryAccess, directoryGate, directoryZone, isDirectoryName, regionCode } from './directory.js';

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('directory bucket names', () => {
  it('take <base>--<zone-id>--x-s3 and give the zone id', () => {
    assert.equal(directoryZone('photos--use1-az4--x-s3'), 'use1-az4');
    assert.equal(directoryZone('a1-b2--usw2-az1--x-s3'), 'usw2-az1');
    assert.equal(directoryZone('logs--usw2-lax1-az1--x-s3'), 'usw2-lax1-az1');
    assert.equal(directoryZone('x--apne1-az4--x-s3'), 'apne1-az4');
  });

  it('refuse what AWS refuses, as InvalidBucketName', () => {
    for (const bad of [
      'Photos--use1-az4--x-s3', // upper case
      '-photos--use1-az4--x-s3', // must begin with a letter or digit
      'photos---use1-az4--x-s3', // base ends with a hyphen
      'photos--use1--x-s3', // no zone id
      'photos--use1-az--x-s3',
      'photos_x--use1-az4--x-s3',
      '--use1-az4--x-s3',
      'xn--abc--use1-az4--x-s3',
      'sthree-abc--use1-az4--x-s3',
      `${'a'.repeat(48)}--use1-az4--x-s3`, // 64 characters
    ]) {
      assert.equal(code(() => directoryZone(bad)), 'InvalidBucketName', bad);
    }
    assert.equal(code(() => directoryZone(`${'a'.repeat(47)}--use1-az4--x-s3`)), undefined);
  });

  it('are told from general purpose names by their suffix alone', () => {
    assert.equal(isDirectoryName('a--use1-az4--x-s3'), true);
    assert.equal(isDirectoryName('general-bucket'), false);
    assert.equal(isDirectoryName(undefined), false);
  });

  it('zone ids start with the region short code', () => {
    assert.equal(regionCode('us-east-1'), 'use1');
    assert.equal(regionCode('us-west-2'), 'usw2');
    assert.equal(regionCode('ap-northeast-1'), 'apne1');
    assert.equal(regionCode('eu-central-1'), 'euc1');
    assert.equal(regionCode('ap-southeast-2'), 'apse2');
  });
});

describe('directory bucket requests', () => {
  const B = 'd--use1-az4--x-s3';
  const ctx = (s3Session?: { bucket: string; mode: 'ReadWrite' | 'ReadOnly' }) =>
    ({ region: 'us-east-1', accountId: '111122223333', principal: { type: 'user', arn: 'arn:aws:iam::111122223333:user/u', accountId: '111122223333', userId: 'AIDA', ...(s3Session ? { s3Session } : {}) } }) as unknown as RequestContext;

  it('authorize object calls as s3express:CreateSession with the session mode, and bucket calls as their own action', () => {
    const arn = `arn:aws:s3express:us-east-1:111122223333:bucket/${B}`;
    assert.deepEqual(directoryAccess('PutObject', { Bucket: B }, ctx({ bucket: B, mode: 'ReadWrite' })), { action: 's3express:CreateSession', resource: arn, conditions: { 's3express:SessionMode': 'ReadWrite' } });
    assert.deepEqual(directoryAccess('CreateSession', { Bucket: B, SessionMode: 'ReadOnly' } as never, ctx()), { action: 's3express:CreateSession', resource: arn, conditions: { 's3express:SessionMode': 'ReadOnly' } });
    assert.deepEqual(directoryAccess('DeleteBucket', { Bucket: B }, ctx()), { action: 's3express:DeleteBucket', resource: arn });
    assert.equal(directoryAccess('PutObject', { Bucket: 'general' }, ctx()), undefined);
  });

  it('hold a session to its bucket and a ReadOnly session to reads', () => {
    assert.equal(code(() => directoryAccess('PutObject', { Bucket: B }, ctx({ bucket: B, mode: 'ReadOnly' }))), 'AccessDenied');
    assert.equal(code(() => directoryAccess('GetObject', { Bucket: B }, ctx({ bucket: B, mode: 'ReadOnly' }))), undefined);
    assert.equal(code(() => directoryAccess('GetObject', { Bucket: B }, ctx({ bucket: 'e--use1-az4--x-s3', mode: 'ReadWrite' }))), 'AccessDenied');
    assert.equal(code(() => directoryAccess('GetObject', { Bucket: 'general' }, ctx({ bucket: B, mode: 'ReadWrite' }))), 'AccessDenied');
  });

  it('refuse features directory buckets lack and give objects EXPRESS_ONEZONE', () => {
    assert.equal(code(() => directoryGate('PutObjectTagging', {})), 'NotImplemented');
    assert.equal(code(() => directoryGate('ListObjects', {})), 'NotImplemented');
    assert.equal(code(() => directoryGate('PutObject', { Tagging: 'a=b' })), 'NotImplemented');
    assert.equal(code(() => directoryGate('PutObject', { StorageClass: 'STANDARD' })), 'InvalidStorageClass');
    assert.equal(code(() => directoryGate('ListObjectsV2', { Delimiter: '#' })), 'InvalidArgument');
    assert.equal(code(() => directoryGate('ListObjectsV2', { Prefix: 'a' })), 'InvalidArgument');
    assert.equal(code(() => directoryGate('CompleteMultipartUpload', { MultipartUpload: { Parts: [{ PartNumber: 2 }] } })), 'InvalidPart');
    const input: Record<string, unknown> = {};
    directoryGate('PutObject', input);
    assert.equal(input['StorageClass'], 'EXPRESS_ONEZONE');
  });
});
