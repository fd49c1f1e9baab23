import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CancelKeyDeletionCommand, CreateAliasCommand, CreateKeyCommand, DecryptCommand, DeleteAliasCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, EncryptCommand,
  GenerateDataKeyCommand, GenerateDataKeyWithoutPlaintextCommand, GenerateRandomCommand, GetKeyLastUsageCommand, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand, ReEncryptCommand,
  ScheduleKeyDeletionCommand, TagResourceCommand, UntagResourceCommand, UpdateAliasCommand, UpdateKeyDescriptionCommand,
} from '@aws-sdk/client-kms';
import { awsError, startKms, type KmsFixture } from './helpers.js';

const te = new TextEncoder();

describe('KMS keys, aliases and symmetric cryptography', () => {
  let f: KmsFixture;
  before(async () => {
    f = await startKms();
  });
  after(async () => {
    await f.stop();
  });

  it('creates a symmetric key and describes it by id, ARN, alias and alias ARN', async () => {
    const { KeyMetadata: m } = await f.kms.send(new CreateKeyCommand({ Description: 'first' }));
    assert.ok(m?.KeyId && m.Arn);
    assert.equal(m.Arn, `arn:aws:kms:us-east-1:000000000000:key/${m.KeyId}`);
    assert.equal(m.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(m.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(m.KeyState, 'Enabled');
    assert.equal(m.Enabled, true);
    assert.equal(m.Origin, 'AWS_KMS');
    assert.deepEqual(m.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
    assert.ok(m.CreationDate instanceof Date);
    await f.kms.send(new CreateAliasCommand({ AliasName: 'alias/first', TargetKeyId: m.KeyId }));
    for (const id of [m.KeyId, m.Arn, 'alias/first', 'arn:aws:kms:us-east-1:000000000000:alias/first']) {
      const d = await f.kms.send(new DescribeKeyCommand({ KeyId: id }));
      assert.equal(d.KeyMetadata?.Arn, m.Arn, id);
    }
    const list = await f.kms.send(new ListKeysCommand({}));
    assert.ok(list.Keys?.some((k) => k.KeyArn === m.Arn));
    const aliases = await f.kms.send(new ListAliasesCommand({ KeyId: m.KeyId }));
    assert.deepEqual(aliases.Aliases?.map((a) => a.AliasName), ['alias/first']);
    assert.equal(aliases.Aliases?.[0]?.AliasArn, 'arn:aws:kms:us-east-1:000000000000:alias/first');
  });

  it('encrypts and decrypts with the context bound; a wrong context or a flipped bit fails', async () => {
    const { KeyMetadata: m } = await f.kms.send(new CreateKeyCommand({}));
    const ctx = { tenant: 't-1', purpose: 'test' };
    const enc = await f.kms.send(new EncryptCommand({ KeyId: m?.KeyId, Plaintext: te.encode('secret'), EncryptionContext: ctx }));
    assert.equal(enc.KeyId, m?.Arn);
    assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    const blob = enc.CiphertextBlob as Uint8Array;
    const dec = await f.kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx }));
    assert.equal(new TextDecoder().decode(dec.Plaintext), 'secret');
    assert.equal(dec.KeyId, m?.Arn);
    const wrongCtx = await awsError(f.kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { tenant: 't-2', purpose: 'test' } })));
    assert.equal(wrongCtx.name, 'InvalidCiphertextException');
    assert.equal(wrongCtx.status, 400);
    const noCtx = await awsError(f.kms.send(new DecryptCommand({ CiphertextBlob: blob })));
    assert.equal(noCtx.name, 'InvalidCiphertextException');
    // A context that concatenates to the same string must not collide.
    const shifted = await awsError(f.kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { tenant: 't-1p', urpose: 'test' } })));
    assert.equal(shifted.name, 'InvalidCiphertextException');
    const tampered = Uint8Array.from(blob);
    tampered[tampered.length - 20] = (tampered[tampered.length - 20] as number) ^ 1;
    assert.equal((await awsError(f.kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: ctx })))).name, 'InvalidCiphertextException');
    assert.equal((await awsError(f.kms.send(new DecryptCommand({ CiphertextBlob: te.encode('garbage-not-a-blob') })))).name, 'InvalidCiphertextException');
  });

  it('rejects a KeyId that does not match the ciphertext with IncorrectKeyException', async () => {
    const a = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId;
    const b = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId;
    const enc = await f.kms.send(new EncryptCommand({ KeyId: a, Plaintext: te.encode('x') }));
    const e = await awsError(f.kms.send(new DecryptCommand({ KeyId: b, CiphertextBlob: enc.CiphertextBlob })));
    assert.equal(e.name, 'IncorrectKeyException');
    assert.equal(e.message, 'The key ID in the request does not identify a CMK that can perform this operation.');
  });

  it('creates AWS managed keys (alias/aws/<service>) on first use; they cannot be disabled or deleted', async () => {
    const d = (await f.kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/kinesis' }))).KeyMetadata;
    assert.equal(d?.KeyManager, 'AWS');
    assert.equal(d?.KeyState, 'Enabled');
    assert.equal((await f.kms.send(new DescribeKeyCommand({ KeyId: 'arn:aws:kms:us-east-1:000000000000:alias/aws/kinesis' }))).KeyMetadata?.KeyId, d?.KeyId, 'the same key after');
    const enc = await f.kms.send(new EncryptCommand({ KeyId: 'alias/aws/s3', Plaintext: te.encode('managed') }));
    assert.equal(new TextDecoder().decode((await f.kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext), 'managed');
    assert.ok((await f.kms.send(new ListAliasesCommand({}))).Aliases?.some((a) => a.AliasName === 'alias/aws/s3'));
    assert.equal((await awsError(f.kms.send(new DisableKeyCommand({ KeyId: d?.KeyId })))).name, 'AccessDeniedException');
    assert.equal((await awsError(f.kms.send(new ScheduleKeyDeletionCommand({ KeyId: d?.KeyId, PendingWindowInDays: 7 })))).name, 'AccessDeniedException');
    assert.equal((await awsError(f.kms.send(new DeleteAliasCommand({ AliasName: 'alias/aws/s3' })))).name, 'AccessDeniedException');
  });

  it('tracks the last successful cryptographic use of a key', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const before = await f.kms.send(new GetKeyLastUsageCommand({ KeyId: k?.KeyId }));
    assert.equal(before.KeyLastUsage, undefined);
    assert.equal(before.KeyCreationDate?.getTime(), k?.CreationDate?.getTime());
    await f.kms.send(new GenerateDataKeyCommand({ KeyId: k?.KeyId, NumberOfBytes: 8 }));
    const after1 = await f.kms.send(new GetKeyLastUsageCommand({ KeyId: k?.Arn }));
    assert.equal(after1.KeyLastUsage?.Operation, 'GenerateDataKey');
    assert.ok(after1.KeyLastUsage?.KmsRequestId);
    await awsError(f.kms.send(new DecryptCommand({ KeyId: k?.KeyId, CiphertextBlob: te.encode('nope') })));
    assert.equal((await f.kms.send(new GetKeyLastUsageCommand({ KeyId: k?.KeyId }))).KeyLastUsage?.Operation, 'GenerateDataKey', 'failures do not count');
  });

  it('re-encrypts under another key and context', async () => {
    const a = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const b = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const enc = await f.kms.send(new EncryptCommand({ KeyId: a?.KeyId, Plaintext: te.encode('move me'), EncryptionContext: { a: '1' } }));
    const re = await f.kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { a: '1' }, DestinationKeyId: b?.KeyId, DestinationEncryptionContext: { b: '2' } }));
    assert.equal(re.SourceKeyId, a?.Arn);
    assert.equal(re.KeyId, b?.Arn);
    const dec = await f.kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { b: '2' } }));
    assert.equal(new TextDecoder().decode(dec.Plaintext), 'move me');
    assert.equal(dec.KeyId, b?.Arn);
  });

  it('generates data keys that decrypt to the same plaintext', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const dk = await f.kms.send(new GenerateDataKeyCommand({ KeyId: k?.Arn, KeySpec: 'AES_256', EncryptionContext: { f: 'x' } }));
    assert.equal(dk.Plaintext?.length, 32);
    const back = await f.kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { f: 'x' } }));
    assert.deepEqual(Buffer.from(back.Plaintext as Uint8Array), Buffer.from(dk.Plaintext));
    const n = await f.kms.send(new GenerateDataKeyCommand({ KeyId: k?.KeyId, NumberOfBytes: 7 }));
    assert.equal(n.Plaintext?.length, 7);
    const wp = await f.kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: k?.KeyId, KeySpec: 'AES_128' }));
    assert.equal((wp as { Plaintext?: unknown }).Plaintext, undefined);
    assert.equal((await f.kms.send(new DecryptCommand({ CiphertextBlob: wp.CiphertextBlob }))).Plaintext?.length, 16);
    const neither = await awsError(f.kms.send(new GenerateDataKeyCommand({ KeyId: k?.KeyId })));
    assert.equal(neither.name, 'ValidationException');
    const r = await f.kms.send(new GenerateRandomCommand({ NumberOfBytes: 1024 }));
    assert.equal(r.Plaintext?.length, 1024);
    const big = await awsError(f.kms.send(new GenerateRandomCommand({ NumberOfBytes: 1025 })));
    assert.equal(big.message, "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024");
  });

  it('answers AWS errors for missing keys, disabled keys and bad input', async () => {
    const missing = await awsError(f.kms.send(new DescribeKeyCommand({ KeyId: '11111111-2222-3333-4444-555555555555' })));
    assert.equal(missing.name, 'NotFoundException');
    assert.equal(missing.status, 400);
    assert.equal(missing.message, "Key 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555' does not exist");
    assert.equal((await awsError(f.kms.send(new DescribeKeyCommand({ KeyId: 'not-a-key' })))).message, "Invalid keyId 'not-a-key'");
    const noAlias = await awsError(f.kms.send(new EncryptCommand({ KeyId: 'alias/nope', Plaintext: te.encode('x') })));
    assert.equal(noAlias.message, 'Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found.');
    const k = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const tooBig = await awsError(f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new Uint8Array(4097) })));
    assert.equal(tooBig.message, "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096");
    await f.kms.send(new DisableKeyCommand({ KeyId: k?.KeyId }));
    const disabled = await awsError(f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x') })));
    assert.equal(disabled.name, 'DisabledException');
    assert.equal(disabled.message, `${k?.Arn} is disabled.`);
    await f.kms.send(new EnableKeyCommand({ KeyId: k?.Arn }));
    await f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x') }));
    const tokens = await awsError(f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x'), GrantTokens: Array.from({ length: 11 }, () => 'x') })));
    assert.match(tokens.message, /^1 validation error detected: Value at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10/);
  });

  it('updates descriptions, tags and aliases', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({ Tags: [{ TagKey: 'a', TagValue: '1' }] }))).KeyMetadata;
    await f.kms.send(new UpdateKeyDescriptionCommand({ KeyId: k?.KeyId, Description: 'new words' }));
    assert.equal((await f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata?.Description, 'new words');
    await f.kms.send(new TagResourceCommand({ KeyId: k?.KeyId, Tags: [{ TagKey: 'b', TagValue: '2' }, { TagKey: 'a', TagValue: '3' }] }));
    await f.kms.send(new UntagResourceCommand({ KeyId: k?.KeyId, TagKeys: ['b'] }));
    assert.deepEqual((await f.kms.send(new ListResourceTagsCommand({ KeyId: k?.KeyId }))).Tags, [{ TagKey: 'a', TagValue: '3' }]);
    assert.equal((await awsError(f.kms.send(new TagResourceCommand({ KeyId: k?.KeyId, Tags: [{ TagKey: 'aws:x', TagValue: '1' }] })))).name, 'TagException');
    const k2 = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    await f.kms.send(new CreateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: k?.KeyId }));
    assert.equal((await awsError(f.kms.send(new CreateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: k?.KeyId })))).name, 'AlreadyExistsException');
    assert.equal((await awsError(f.kms.send(new CreateAliasCommand({ AliasName: 'nope', TargetKeyId: k?.KeyId })))).name, 'ValidationException');
    assert.equal((await awsError(f.kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/mine', TargetKeyId: k?.KeyId })))).name, 'InvalidAliasNameException');
    await f.kms.send(new UpdateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: k2?.KeyId }));
    assert.equal((await f.kms.send(new DescribeKeyCommand({ KeyId: 'alias/moving' }))).KeyMetadata?.KeyId, k2?.KeyId);
    await f.kms.send(new DeleteAliasCommand({ AliasName: 'alias/moving' }));
    assert.equal((await awsError(f.kms.send(new DescribeKeyCommand({ KeyId: 'alias/moving' })))).name, 'NotFoundException');
  });

  it('schedules deletion (7–30 days), cancels it, and deletes when the clock says so', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const bad = await awsError(f.kms.send(new ScheduleKeyDeletionCommand({ KeyId: k?.KeyId, PendingWindowInDays: 6 })));
    assert.equal(bad.name, 'ValidationException');
    const s = await f.kms.send(new ScheduleKeyDeletionCommand({ KeyId: k?.KeyId, PendingWindowInDays: 7 }));
    assert.equal(s.KeyState, 'PendingDeletion');
    assert.equal(s.KeyId, k?.Arn);
    const pending = await awsError(f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x') })));
    assert.equal(pending.name, 'KMSInvalidStateException');
    assert.equal(pending.message, `${k?.Arn} is pending deletion.`);
    await f.kms.send(new CancelKeyDeletionCommand({ KeyId: k?.KeyId }));
    assert.equal((await f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata?.KeyState, 'Disabled');
    await f.kms.send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: k?.KeyId }));
    await f.kms.send(new ScheduleKeyDeletionCommand({ KeyId: k?.KeyId, PendingWindowInDays: 7 }));
    f.clock.advance(7 * 86_400_000 + 1000);
    const gone = await awsError(f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId })));
    assert.equal(gone.name, 'NotFoundException');
    assert.equal((await awsError(f.kms.send(new DescribeKeyCommand({ KeyId: 'alias/doomed' })))).name, 'NotFoundException');
  });
});
