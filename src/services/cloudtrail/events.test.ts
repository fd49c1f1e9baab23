import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditRecord, Principal, RequestContext } from '../../server/context.js';
import { toEvent } from './events.js';

const root: Principal = { type: 'root', arn: 'arn:aws:iam::000000000000:root', accountId: '000000000000', userId: '000000000000', accessKeyId: 'AKIAROOT' };
const user: Principal = { type: 'user', arn: 'arn:aws:iam::000000000000:user/a"b', accountId: '000000000000', userId: 'AIDAX', name: 'a"b', accessKeyId: 'AKIAUSER' };
const at = new Date(Date.UTC(2026, 10, 28, 23, 59, 58, 765));

function ctxOf(principal: Principal, extra: Partial<RequestContext> = {}): RequestContext {
  return {
    clock: { now: () => at }, requestId: 'REQ1', principal, region: 'us-east-1', accountId: '000000000000', sourceIp: '10.0.0.1', secure: false,
    userAgent: 'ua\u2028"x"', service: 's3', operation: 'HeadBucket', ...extra,
  } as unknown as RequestContext;
}

/** The record as it was built before the member-by-member writer: an object in key order, then JSON.stringify. */
function reference(rec: AuditRecord, json: string): string {
  const parsed = JSON.parse(json) as Record<string, unknown>;
  const { ctx } = rec;
  const r: Record<string, unknown> = {
    eventVersion: '1.11',
    userIdentity: parsed['userIdentity'],
    eventTime: `${at.toISOString().slice(0, 19)}Z`,
    eventSource: rec.eventSource ?? `${ctx.service}.amazonaws.com`,
    eventName: ctx.operation,
    awsRegion: ctx.region,
    sourceIPAddress: rec.invokedBy ?? ctx.sourceIp,
    userAgent: rec.invokedBy ?? ctx.userAgent,
  };
  if (rec.error) {
    r['errorCode'] = rec.error.code;
    if (rec.error.message) r['errorMessage'] = rec.error.message;
  }
  r['requestParameters'] = rec.audit?.request && rec.input !== undefined ? rec.audit.request(rec.input) ?? null : null;
  r['responseElements'] = rec.audit?.response && !rec.error && rec.output !== undefined ? rec.audit.response(rec.output) ?? null : null;
  r['requestID'] = ctx.requestId;
  r['eventID'] = parsed['eventID'];
  r['readOnly'] = parsed['readOnly'];
  if (parsed['resources'] !== undefined) r['resources'] = parsed['resources'];
  r['eventType'] = 'AwsApiCall';
  r['managementEvent'] = true;
  r['recipientAccountId'] = ctx.accountId;
  r['eventCategory'] = 'Management';
  if (ctx.secure && !rec.invokedBy) r['tlsDetails'] = { clientProvidedHostHeader: 'localhost' };
  return JSON.stringify(r, (_k, v: unknown) => (v instanceof Uint8Array ? undefined : v));
}

test('the record JSON is what JSON.stringify of the record in CloudTrail key order gives', () => {
  const recs: AuditRecord[] = [
    { ctx: ctxOf(root), input: { Bucket: 'b' }, output: {}, status: 200, eventSource: 's3.amazonaws.com' },
    { ctx: ctxOf(user, { secure: true, operation: 'GetKeyPolicy', service: 'kms' }), input: { KeyId: 'k' }, status: 400, error: { code: 'NotFoundException', message: 'no "k"' } },
    { ctx: ctxOf(user, { operation: 'Encrypt', service: 'kms' }), input: { KeyId: 'k', Plaintext: new Uint8Array([1]) }, output: { CiphertextBlob: new Uint8Array([2]), KeyId: 'arn' }, status: 200,
      audit: { request: (i) => i, response: (o) => o, resources: () => [{ type: 'AWS::KMS::Key', ARN: 'arn:aws:kms:us-east-1:000000000000:key/k' }] } },
    { ctx: ctxOf(root, { secure: true, operation: 'GenerateDataKey', service: 'kms' }), input: { KeyId: 'k' }, output: {}, status: 200, invokedBy: 'kinesis.amazonaws.com', audit: { readOnly: true } },
    { ctx: ctxOf(root, { region: undefined as unknown as string }), input: undefined, status: 500, error: { code: 'InternalFailure', message: '' } },
  ];
  for (const rec of recs) {
    const e = toEvent(rec);
    assert.equal(e.json, reference(rec, e.json));
    const identity = (JSON.parse(e.json) as { userIdentity: Record<string, unknown> }).userIdentity;
    assert.equal(identity['invokedBy'], rec.invokedBy);
    assert.equal(identity['arn'], rec.ctx.principal.arn);
  }
});
