import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as s3Sdk from '@aws-sdk/client-s3';
import * as kinesisSdk from '@aws-sdk/client-kinesis';
import { sdkOperations } from './sdk-operations.js';

test('sdkOperations lists operation commands only (not smithy\'s re-exported $Command)', () => {
  const s3 = sdkOperations(s3Sdk);
  assert.ok(!s3.includes('$'), 'no "$" entry');
  assert.ok(s3.every((n) => /^[A-Z][A-Za-z0-9]*$/.test(n)));
  assert.ok(s3.includes('GetObject') && s3.includes('PutBucketReplication'));
  // Kinesis's current API: the issue names its 45 operations (SDK versions may add more, never fewer).
  assert.ok(sdkOperations(kinesisSdk).length >= 45);
});
