import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateGrantCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, GetKeyPolicyCommand, ListGrantsCommand, ListKeyPoliciesCommand,
  ListRetirableGrantsCommand, PutKeyPolicyCommand, RetireGrantCommand, RevokeGrantCommand,
} from '@aws-sdk/client-kms';
import type { Principal } from '../../../src/server/context.js';
import { awsError, startKms, type KmsFixture } from './helpers.js';

const bob: Principal = { type: 'user', arn: 'arn:aws:iam::000000000000:user/bob', accountId: '000000000000', userId: 'AIDABOB', name: 'bob', accessKeyId: 'AKIABOB' };
const carol: Principal = { type: 'user', arn: 'arn:aws:iam::000000000000:user/carol', accountId: '000000000000', userId: 'AIDACAROL', name: 'carol', accessKeyId: 'AKIACAROL' };
const te = new TextEncoder();

describe('KMS key policies and grants', () => {
  let f: KmsFixture;
  before(async () => {
    f = await startKms();
  });
  after(async () => {
    await f.stop();
  });

  it('gives new keys the default policy; a user without a grant or policy is denied', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const p = await f.kms.send(new GetKeyPolicyCommand({ KeyId: k?.KeyId, PolicyName: 'default' }));
    const doc = JSON.parse(p.Policy as string) as { Statement: { Principal: { AWS: string }; Action: string }[] };
    assert.equal(doc.Statement[0]?.Principal.AWS, 'arn:aws:iam::000000000000:root');
    assert.equal(doc.Statement[0]?.Action, 'kms:*');
    assert.deepEqual((await f.kms.send(new ListKeyPoliciesCommand({ KeyId: k?.KeyId }))).PolicyNames, ['default']);
    const denied = await awsError(f.kmsAs(bob).send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x') })));
    assert.equal(denied.name, 'AccessDeniedException');
    assert.match(denied.message, /^User: arn:aws:iam::000000000000:user\/bob is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:/);
  });

  it('lets a key policy allow a user, with encryption-context conditions, and deny explicitly', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'root', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' },
        { Sid: 'bob', Effect: 'Allow', Principal: { AWS: bob.arn }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*', Condition: { StringEquals: { 'kms:EncryptionContext:team': 'blue' } } },
        { Sid: 'no-carol', Effect: 'Deny', Principal: { AWS: carol.arn }, Action: 'kms:*', Resource: '*' },
      ],
    };
    await f.kms.send(new PutKeyPolicyCommand({ KeyId: k?.KeyId, PolicyName: 'default', Policy: JSON.stringify(policy) }));
    const enc = await f.kmsAs(bob).send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x'), EncryptionContext: { team: 'blue' } }));
    await f.kmsAs(bob).send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { team: 'blue' } }));
    assert.equal((await awsError(f.kmsAs(bob).send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x'), EncryptionContext: { team: 'red' } })))).name, 'AccessDeniedException');
    assert.equal((await awsError(f.kmsAs(bob).send(new DescribeKeyCommand({ KeyId: k?.KeyId })))).name, 'AccessDeniedException');
    const c = await awsError(f.kmsAs(carol).send(new DescribeKeyCommand({ KeyId: k?.KeyId })));
    assert.match(c.message, /explicit deny/);
    // Lockout safety check: a policy that would shut the caller out is refused unless bypassed.
    const lockout = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: bob.arn }, Action: 'kms:Encrypt', Resource: '*' }] });
    const refused = await awsError(f.kms.send(new PutKeyPolicyCommand({ KeyId: k?.KeyId, Policy: lockout })));
    assert.equal(refused.name, 'MalformedPolicyDocumentException');
    assert.equal((await awsError(f.kms.send(new PutKeyPolicyCommand({ KeyId: k?.KeyId, Policy: '{not json' })))).name, 'MalformedPolicyDocumentException');
  });

  it('grants operations with constraints; tokens work at once; list, retire and revoke', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const g = await f.kms.send(new CreateGrantCommand({
      KeyId: k?.KeyId, GranteePrincipal: bob.arn, RetiringPrincipal: carol.arn, Operations: ['Encrypt', 'Decrypt', 'GenerateDataKey'], Name: 'bob-grant',
      Constraints: { EncryptionContextSubset: { app: 'pay' } },
    }));
    assert.equal(g.GrantId?.length, 64);
    const again = await f.kms.send(new CreateGrantCommand({
      KeyId: k?.KeyId, GranteePrincipal: bob.arn, RetiringPrincipal: carol.arn, Operations: ['GenerateDataKey', 'Decrypt', 'Encrypt'], Name: 'bob-grant',
      Constraints: { EncryptionContextSubset: { app: 'pay' } },
    }));
    assert.equal(again.GrantId, g.GrantId, 'same Name and parameters: the same grant');
    const asBob = f.kmsAs(bob);
    const enc = await asBob.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x'), EncryptionContext: { app: 'pay', extra: '1' }, GrantTokens: [g.GrantToken as string] }));
    await asBob.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { app: 'pay', extra: '1' } }));
    await asBob.send(new GenerateDataKeyCommand({ KeyId: k?.KeyId, NumberOfBytes: 16, EncryptionContext: { app: 'pay' } }));
    assert.equal((await awsError(asBob.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x'), EncryptionContext: { app: 'other' } })))).name, 'AccessDeniedException');
    assert.equal((await awsError(asBob.send(new DescribeKeyCommand({ KeyId: k?.KeyId })))).name, 'AccessDeniedException');
    assert.equal((await awsError(asBob.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x'), GrantTokens: ['not-a-token'] })))).name, 'InvalidGrantTokenException');

    const list = await f.kms.send(new ListGrantsCommand({ KeyId: k?.Arn }));
    assert.equal(list.Grants?.length, 1);
    assert.equal(list.Grants?.[0]?.GranteePrincipal, bob.arn);
    assert.deepEqual(list.Grants?.[0]?.Constraints, { EncryptionContextSubset: { app: 'pay' } });
    const retirable = await f.kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: carol.arn }));
    assert.ok(retirable.Grants?.some((x) => x.GrantId === g.GrantId));
    assert.equal((await awsError(f.kmsAs(bob).send(new RetireGrantCommand({ GrantToken: g.GrantToken })))).name, 'AccessDeniedException');
    await f.kmsAs(carol).send(new RetireGrantCommand({ GrantToken: g.GrantToken }));
    assert.equal((await f.kms.send(new ListGrantsCommand({ KeyId: k?.KeyId }))).Grants?.length, 0);
    assert.equal((await awsError(asBob.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x'), EncryptionContext: { app: 'pay' } })))).name, 'AccessDeniedException');

    const g2 = await f.kms.send(new CreateGrantCommand({ KeyId: k?.KeyId, GranteePrincipal: bob.arn, Operations: ['DescribeKey'], Constraints: { EncryptionContextEquals: { a: 'b' } } }));
    await f.kms.send(new RevokeGrantCommand({ KeyId: k?.KeyId, GrantId: g2.GrantId }));
    assert.equal((await awsError(f.kms.send(new RevokeGrantCommand({ KeyId: k?.KeyId, GrantId: g2.GrantId })))).name, 'NotFoundException');
    assert.equal((await awsError(f.kms.send(new CreateGrantCommand({ KeyId: k?.KeyId, GranteePrincipal: bob.arn, Operations: ['Explode' as never] })))).name, 'ValidationException');
    const dry = await awsError(f.kms.send(new CreateGrantCommand({ KeyId: k?.KeyId, GranteePrincipal: bob.arn, Operations: ['Encrypt'], DryRun: true })));
    assert.equal(dry.name, 'DryRunOperationException');
    assert.equal((await f.kms.send(new ListGrantsCommand({ KeyId: k?.KeyId }))).Grants?.length, 0);
  });
});
