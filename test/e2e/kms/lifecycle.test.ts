import assert from 'node:assert/strict';
import { constants, createCipheriv, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, sign as nodeSign, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CancelKeyDeletionCommand, CreateKeyCommand, DecryptCommand, DeleteImportedKeyMaterialCommand, DescribeKeyCommand, DisableKeyRotationCommand, EnableKeyRotationCommand, EncryptCommand, GetKeyRotationStatusCommand,
  GetParametersForImportCommand, GetPublicKeyCommand, ImportKeyMaterialCommand, ListKeyRotationsCommand, ReplicateKeyCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, UpdatePrimaryRegionCommand, VerifyCommand,
  type AlgorithmSpec,
} from '@aws-sdk/client-kms';
import { awsError, startKms, type KmsFixture } from './helpers.js';

const DAY = 86_400_000;
const te = new TextEncoder();

/** Wraps key material as a user would for ImportKeyMaterial. */
function wrap(alg: AlgorithmSpec, wrappingKey: KeyObject, material: Buffer): Buffer {
  const oaepHash = alg.endsWith('SHA_1') ? 'sha1' : 'sha256';
  if (alg.startsWith('RSAES_OAEP')) return publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, material);
  const aes = randomBytes(32);
  const c = createCipheriv('id-aes256-wrap-pad', aes, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, aes), c.update(material), c.final()]);
}

describe('KMS rotation, imported key material, multi-Region keys', () => {
  let f: KmsFixture;
  before(async () => {
    f = await startKms();
  });
  after(async () => {
    await f.stop();
  });

  it('rotates by the clock and on demand; old ciphertexts still decrypt', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const old = await f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('v1') }));
    assert.equal((await awsError(f.kms.send(new EnableKeyRotationCommand({ KeyId: k?.KeyId, RotationPeriodInDays: 89 })))).name, 'ValidationException');
    await f.kms.send(new EnableKeyRotationCommand({ KeyId: k?.KeyId, RotationPeriodInDays: 90 }));
    const st = await f.kms.send(new GetKeyRotationStatusCommand({ KeyId: k?.KeyId }));
    assert.equal(st.KeyRotationEnabled, true);
    assert.equal(st.RotationPeriodInDays, 90);
    assert.ok((st.NextRotationDate?.getTime() ?? 0) > Date.now() + 89 * DAY);
    assert.equal((await f.kms.send(new ListKeyRotationsCommand({ KeyId: k?.KeyId }))).Rotations?.length, 0);
    f.clock.advance(91 * DAY);
    const rotations = await f.kms.send(new ListKeyRotationsCommand({ KeyId: k?.KeyId }));
    assert.equal(rotations.Rotations?.length, 1);
    assert.equal(rotations.Rotations?.[0]?.RotationType, 'AUTOMATIC');
    const newer = await f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('v2') }));
    assert.notDeepEqual(Buffer.from(newer.CiphertextBlob as Uint8Array).subarray(39, 55), Buffer.from(old.CiphertextBlob as Uint8Array).subarray(39, 55), 'new material id');
    await f.kms.send(new RotateKeyOnDemandCommand({ KeyId: k?.KeyId }));
    const after2 = await f.kms.send(new ListKeyRotationsCommand({ KeyId: k?.KeyId }));
    assert.deepEqual(after2.Rotations?.map((r) => r.RotationType), ['AUTOMATIC', 'ON_DEMAND']);
    for (const [blob, text] of [[old.CiphertextBlob, 'v1'], [newer.CiphertextBlob, 'v2']] as const) {
      assert.equal(new TextDecoder().decode((await f.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext), text);
    }
    await f.kms.send(new DisableKeyRotationCommand({ KeyId: k?.KeyId }));
    assert.equal((await f.kms.send(new GetKeyRotationStatusCommand({ KeyId: k?.KeyId }))).KeyRotationEnabled, false);
    const rsa = (await f.kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata;
    assert.equal((await awsError(f.kms.send(new EnableKeyRotationCommand({ KeyId: rsa?.KeyId })))).name, 'UnsupportedOperationException');
  });

  for (const alg of ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'] as const) {
    it(`imports symmetric key material wrapped with ${alg}; expiry is enforced by the clock; re-import revives old ciphertexts`, async () => {
      const k = (await f.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata;
      assert.equal(k?.KeyState, 'PendingImport');
      assert.equal((await awsError(f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x') })))).message, `${k?.Arn} is pending import.`);
      const params = await f.kms.send(new GetParametersForImportCommand({ KeyId: k?.KeyId, WrappingAlgorithm: alg, WrappingKeySpec: 'RSA_2048' }));
      const wrappingKey = createPublicKey({ key: Buffer.from(params.PublicKey as Uint8Array), format: 'der', type: 'spki' });
      const material = randomBytes(32);
      await f.kms.send(new ImportKeyMaterialCommand({
        KeyId: k?.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrap(alg, wrappingKey, material), ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(f.clock.nowMs() + 2 * DAY),
      }));
      const d = (await f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata;
      assert.equal(d?.KeyState, 'Enabled');
      assert.equal(d?.ExpirationModel, 'KEY_MATERIAL_EXPIRES');
      const enc = await f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('imported') }));
      f.clock.advance(3 * DAY);
      assert.equal((await f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata?.KeyState, 'PendingImport');
      assert.equal((await awsError(f.kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).name, 'KMSInvalidStateException');
      // Different material is refused; the same material brings the key (and its old ciphertexts) back.
      const p2 = await f.kms.send(new GetParametersForImportCommand({ KeyId: k?.KeyId, WrappingAlgorithm: alg, WrappingKeySpec: 'RSA_3072' }));
      const wk2 = createPublicKey({ key: Buffer.from(p2.PublicKey as Uint8Array), format: 'der', type: 'spki' });
      const other = await awsError(f.kms.send(new ImportKeyMaterialCommand({ KeyId: k?.KeyId, ImportToken: p2.ImportToken, EncryptedKeyMaterial: wrap(alg, wk2, randomBytes(32)), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })));
      assert.equal(other.name, 'IncorrectKeyMaterialException');
      await f.kms.send(new ImportKeyMaterialCommand({ KeyId: k?.KeyId, ImportToken: p2.ImportToken, EncryptedKeyMaterial: wrap(alg, wk2, material), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
      assert.equal(new TextDecoder().decode((await f.kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext), 'imported');
      await f.kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: k?.KeyId }));
      assert.equal((await awsError(f.kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).name, 'KMSInvalidStateException');
      assert.equal((await awsError(f.kms.send(new ImportKeyMaterialCommand({ KeyId: k?.KeyId, ImportToken: new Uint8Array([1, 2, 3]), EncryptedKeyMaterial: new Uint8Array([1]) })))).name, 'InvalidImportTokenException');
    });
  }

  it('imports an asymmetric signing key (RSA_AES_KEY_WRAP) and signs with it', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata;
    const params = await f.kms.send(new GetParametersForImportCommand({ KeyId: k?.KeyId, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_4096' }));
    const wk = createPublicKey({ key: Buffer.from(params.PublicKey as Uint8Array), format: 'der', type: 'spki' });
    const mine = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await f.kms.send(new ImportKeyMaterialCommand({ KeyId: k?.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrap('RSA_AES_KEY_WRAP_SHA_256', wk, mine.privateKey.export({ format: 'der', type: 'pkcs8' })), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    const pub = await f.kms.send(new GetPublicKeyCommand({ KeyId: k?.KeyId }));
    assert.deepEqual(Buffer.from(pub.PublicKey as Uint8Array), mine.publicKey.export({ format: 'der', type: 'spki' }));
    const sig = nodeSign('sha256', Buffer.from('m'), { key: mine.privateKey, dsaEncoding: 'der' });
    assert.equal((await f.kms.send(new VerifyCommand({ KeyId: k?.KeyId, Message: te.encode('m'), Signature: sig, SigningAlgorithm: 'ECDSA_SHA_256' }))).SignatureValid, true);
    const sym = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const notExt = await awsError(f.kms.send(new GetParametersForImportCommand({ KeyId: sym?.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })));
    assert.equal(notExt.message, `${sym?.Arn} origin is AWS_KMS which is not valid for this operation.`);
  });

  it('replicates multi-Region keys: a replica decrypts the primary\'s ciphertext; the primary can move', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'mrk' }))).KeyMetadata;
    assert.match(k?.KeyId ?? '', /^mrk-[0-9a-f]{32}$/);
    assert.equal(k?.MultiRegionConfiguration?.MultiRegionKeyType, 'PRIMARY');
    const west = f.kmsIn('us-west-2');
    assert.equal((await awsError(west.send(new DescribeKeyCommand({ KeyId: k?.KeyId })))).name, 'NotFoundException');
    const r = await f.kms.send(new ReplicateKeyCommand({ KeyId: k?.KeyId, ReplicaRegion: 'us-west-2' }));
    assert.equal(r.ReplicaKeyMetadata?.Arn, `arn:aws:kms:us-west-2:000000000000:key/${k?.KeyId}`);
    assert.equal(r.ReplicaKeyMetadata?.MultiRegionConfiguration?.MultiRegionKeyType, 'REPLICA');
    const enc = await f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('everywhere'), EncryptionContext: { x: 'y' } }));
    const dec = await west.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { x: 'y' } }));
    assert.equal(new TextDecoder().decode(dec.Plaintext), 'everywhere');
    assert.equal(dec.KeyId, r.ReplicaKeyMetadata?.Arn);
    assert.equal((await awsError(f.kms.send(new ReplicateKeyCommand({ KeyId: k?.KeyId, ReplicaRegion: 'us-west-2' })))).name, 'AlreadyExistsException');
    await f.kms.send(new RotateKeyOnDemandCommand({ KeyId: k?.KeyId }));
    const enc2 = await f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('rotated') }));
    assert.equal(new TextDecoder().decode((await west.send(new DecryptCommand({ CiphertextBlob: enc2.CiphertextBlob }))).Plaintext), 'rotated');
    await f.kms.send(new UpdatePrimaryRegionCommand({ KeyId: k?.KeyId, PrimaryRegion: 'us-west-2' }));
    assert.equal((await west.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata?.MultiRegionConfiguration?.MultiRegionKeyType, 'PRIMARY');
    assert.equal((await f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata?.MultiRegionConfiguration?.MultiRegionKeyType, 'REPLICA');
    const single = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    assert.equal((await awsError(f.kms.send(new ReplicateKeyCommand({ KeyId: single?.KeyId, ReplicaRegion: 'eu-west-1' })))).name, 'UnsupportedOperationException');
  });

  it('deleting a multi-Region primary with replicas: PendingReplicaDeletion until the last replica is deleted, then its own waiting period', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata;
    const west = f.kmsIn('us-west-2');
    const eu = f.kmsIn('eu-west-1');
    await f.kms.send(new ReplicateKeyCommand({ KeyId: k?.KeyId, ReplicaRegion: 'us-west-2' }));
    await f.kms.send(new ReplicateKeyCommand({ KeyId: k?.KeyId, ReplicaRegion: 'eu-west-1' }));
    const s = await f.kms.send(new ScheduleKeyDeletionCommand({ KeyId: k?.KeyId, PendingWindowInDays: 10 }));
    assert.equal(s.KeyState, 'PendingReplicaDeletion');
    assert.equal(s.PendingWindowInDays, 10);
    // The deletion date is not known until the last replica is gone.
    assert.equal(s.DeletionDate, undefined);
    const d = (await f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata;
    assert.equal(d?.KeyState, 'PendingReplicaDeletion');
    assert.equal(d?.PendingDeletionWindowInDays, 10);
    assert.equal(d?.DeletionDate, undefined);
    const used = await awsError(f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('x') })));
    assert.equal(used.name, 'KMSInvalidStateException');
    assert.equal(used.message, `${k?.Arn} is pending replica deletion.`);
    assert.equal((await awsError(f.kms.send(new ReplicateKeyCommand({ KeyId: k?.KeyId, ReplicaRegion: 'ap-south-1' })))).name, 'KMSInvalidStateException');
    // Replicas keep working meanwhile.
    const enc = await west.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: te.encode('still here') }));
    assert.equal(new TextDecoder().decode((await eu.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext), 'still here');

    // Cancel works on a primary waiting for its replicas (it comes back Disabled); schedule again.
    await f.kms.send(new CancelKeyDeletionCommand({ KeyId: k?.KeyId }));
    assert.equal((await f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata?.KeyState, 'Disabled');
    await f.kms.send(new ScheduleKeyDeletionCommand({ KeyId: k?.KeyId, PendingWindowInDays: 10 }));

    await west.send(new ScheduleKeyDeletionCommand({ KeyId: k?.KeyId, PendingWindowInDays: 7 }));
    await eu.send(new ScheduleKeyDeletionCommand({ KeyId: k?.KeyId, PendingWindowInDays: 8 }));
    const t0 = f.clock.nowMs();
    f.clock.advance(7 * DAY + 1000);
    assert.equal((await awsError(west.send(new DescribeKeyCommand({ KeyId: k?.KeyId })))).name, 'NotFoundException');
    // One replica left: the primary still waits.
    const mid = (await f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata;
    assert.equal(mid?.KeyState, 'PendingReplicaDeletion');
    assert.deepEqual(mid?.MultiRegionConfiguration?.ReplicaKeys?.map((r) => r.Region), ['eu-west-1']);
    f.clock.advance(DAY);
    assert.equal((await awsError(eu.send(new DescribeKeyCommand({ KeyId: k?.KeyId })))).name, 'NotFoundException');
    // The last replica is deleted: the primary's 10 days start at that replica's deletion date.
    const after = (await f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata;
    assert.equal(after?.KeyState, 'PendingDeletion');
    assert.equal(after?.PendingDeletionWindowInDays, undefined);
    assert.ok(after?.DeletionDate);
    const expected = t0 + 8 * DAY + 10 * DAY;
    assert.ok(Math.abs(after.DeletionDate.getTime() - expected) < 5000, `deletion date ${after.DeletionDate.toISOString()}`);
    f.clock.advance(10 * DAY);
    assert.equal((await awsError(f.kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId })))).name, 'NotFoundException');
  });
});
