import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../config.js';
import { iamKit, policy, type IamKit } from '../services/iam/test-kit.js';
import { actAsRole } from './service-roles.js';

describe('services acting with a customer role', () => {
  let k: IamKit;
  let deps: Parameters<typeof actAsRole>[0];
  before(async () => {
    k = await iamKit();
    deps = { stores: { metadata: k.store, blobs: undefined as never }, clock: k.clock, config: parseConfig({ HANUL_DATA_DIR: k.dir }) };
    await k.call('iam', 'CreateRole', { RoleName: 'delivery', AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Action: 'sts:AssumeRole' }) });
    await k.call('iam', 'PutRolePolicy', { RoleName: 'delivery', PolicyName: 'p', PolicyDocument: policy({ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::dest/*' }) });
  });
  after(() => k.close());

  it('the trust policy must name the service principal', async () => {
    assert.deepEqual(await actAsRole(deps, 'arn:aws:iam::000000000000:role/delivery', 'cloudtrail.amazonaws.com'), { ok: false, reason: 'not-trusted' });
    assert.deepEqual(await actAsRole(deps, 'arn:aws:iam::000000000000:role/none', 'firehose.amazonaws.com'), { ok: false, reason: 'no-such-role' });
  });

  it('actions are evaluated with the role’s policies and the resource’s policy', async () => {
    const r = await actAsRole(deps, 'arn:aws:iam::000000000000:role/delivery', 'firehose.amazonaws.com');
    assert.ok(r.ok);
    assert.equal(r.actor.principal.arn, 'arn:aws:sts::000000000000:assumed-role/delivery/firehose');
    assert.equal((await r.actor.decide({ action: 's3:PutObject', resource: 'arn:aws:s3:::dest/x' })).allowed, true);
    assert.equal((await r.actor.decide({ action: 's3:PutObject', resource: 'arn:aws:s3:::other/x' })).allowed, false);
    const deny = { document: policy({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::dest/*' }) };
    const d = await r.actor.decide({ action: 's3:PutObject', resource: 'arn:aws:s3:::dest/x' }, deny);
    assert.ok(!d.allowed && d.explicit && d.type === 'resource-based');
  });
});
