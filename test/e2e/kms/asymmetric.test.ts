import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, diffieHellman, verify as nodeVerify, constants, publicEncrypt, createPrivateKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateKeyCommand, DecryptCommand, DeriveSharedSecretCommand, EncryptCommand, GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand, GenerateMacCommand,
  DecapsulateCommand, EncapsulateCommand, GetPublicKeyCommand, SignCommand, VerifyCommand, VerifyMacCommand, type DecryptCommandOutput, type KeySpec, type SignCommandOutput, type SigningAlgorithmSpec, type VerifyCommandOutput,
} from '@aws-sdk/client-kms';
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { awsError, startKms, type KmsFixture } from './helpers.js';

const msg = new TextEncoder().encode('message to sign');

const CASES: [KeySpec, SigningAlgorithmSpec[]][] = [
  ['RSA_2048', ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512']],
  ['ECC_NIST_P256', ['ECDSA_SHA_256']],
  ['ECC_NIST_P384', ['ECDSA_SHA_384']],
  ['ECC_NIST_P521', ['ECDSA_SHA_512']],
  ['ECC_SECG_P256K1', ['ECDSA_SHA_256']],
  ['ECC_NIST_EDWARDS25519', ['ED25519_SHA_512', 'ED25519_PH_SHA_512']],
  ['ML_DSA_44', ['ML_DSA_SHAKE_256']],
  ['ML_DSA_65', ['ML_DSA_SHAKE_256']],
  ['ML_DSA_87', ['ML_DSA_SHAKE_256']],
];

function nodeHash(alg: string): string {
  return alg.endsWith('384') ? 'sha384' : alg.endsWith('512') ? 'sha512' : 'sha256';
}

describe('KMS asymmetric keys, MACs, key agreement, data key pairs', () => {
  let f: KmsFixture;
  before(async () => {
    f = await startKms();
  });
  after(async () => {
    await f.stop();
  });

  for (const [spec, algs] of CASES) {
    it(`signs and verifies with ${spec} (RAW and DIGEST), and node:crypto agrees`, async () => {
      const k = (await f.kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata;
      assert.deepEqual(k?.SigningAlgorithms, algs);
      const pub = await f.kms.send(new GetPublicKeyCommand({ KeyId: k?.KeyId }));
      assert.equal(pub.KeySpec, spec);
      for (const alg of algs) {
        const s: SignCommandOutput = await f.kms.send(new SignCommand({ KeyId: k?.KeyId, Message: msg, SigningAlgorithm: alg }));
        assert.equal(s.KeyId, k?.Arn);
        const v: VerifyCommandOutput = await f.kms.send(new VerifyCommand({ KeyId: k?.Arn, Message: msg, Signature: s.Signature, SigningAlgorithm: alg }));
        assert.equal(v.SignatureValid, true);
        const bad = await awsError(f.kms.send(new VerifyCommand({ KeyId: k?.KeyId, Message: new TextEncoder().encode('other'), Signature: s.Signature, SigningAlgorithm: alg })));
        assert.equal(bad.name, 'KMSInvalidSignatureException');
        if (spec.startsWith('ML_DSA')) {
          if (spec === 'ML_DSA_44') {
            const raw = (pub.PublicKey as Uint8Array).subarray(-1312);
            assert.ok(ml_dsa44.verify(s.Signature as Uint8Array, msg, raw), 'noble verifies ML-DSA signature with the SPKI key');
          }
          continue;
        }
        const key = createPublicKey({ key: Buffer.from(pub.PublicKey as Uint8Array), format: 'der', type: 'spki' });
        if (alg === 'ED25519_SHA_512') assert.ok(nodeVerify(null, msg, key, s.Signature as Uint8Array));
        else if (alg !== 'ED25519_PH_SHA_512') {
          const opts = alg.startsWith('RSASSA_PSS') ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO } : { key, dsaEncoding: 'der' as const };
          assert.ok(nodeVerify(nodeHash(alg), msg, opts, s.Signature as Uint8Array), `${alg} verifies with node:crypto`);
          // DIGEST: sign the hash; the signature verifies over the message.
          const digest = createHash(nodeHash(alg)).update(msg).digest();
          const sd = await f.kms.send(new SignCommand({ KeyId: k?.KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: alg }));
          assert.ok(nodeVerify(nodeHash(alg), msg, opts, sd.Signature as Uint8Array), `${alg} DIGEST verifies with node:crypto`);
          const vd: VerifyCommandOutput = await f.kms.send(new VerifyCommand({ KeyId: k?.KeyId, Message: digest, MessageType: 'DIGEST', Signature: s.Signature, SigningAlgorithm: alg }));
          assert.equal(vd.SignatureValid, true);
          const short = await awsError(f.kms.send(new SignCommand({ KeyId: k?.KeyId, Message: digest.subarray(1), MessageType: 'DIGEST', SigningAlgorithm: alg })));
          assert.equal(short.message, `Digest is invalid length for algorithm ${alg}.`);
        } else {
          const digest = createHash('sha512').update(msg).digest();
          const vd: VerifyCommandOutput = await f.kms.send(new VerifyCommand({ KeyId: k?.KeyId, Message: digest, MessageType: 'DIGEST', Signature: s.Signature, SigningAlgorithm: alg }));
          assert.equal(vd.SignatureValid, true);
        }
      }
      const wrongAlg = await awsError(f.kms.send(new SignCommand({ KeyId: k?.KeyId, Message: msg, SigningAlgorithm: spec.startsWith('RSA') ? 'ECDSA_SHA_256' : 'RSASSA_PSS_SHA_256' })));
      assert.equal(wrongAlg.name, 'InvalidKeyUsageException');
    });
  }

  it('signs an ML-DSA external mu', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({ KeySpec: 'ML_DSA_65', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata;
    const mu = new Uint8Array(64).fill(7);
    const s = await f.kms.send(new SignCommand({ KeyId: k?.KeyId, Message: mu, MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
    assert.equal((await f.kms.send(new VerifyCommand({ KeyId: k?.KeyId, Message: mu, MessageType: 'EXTERNAL_MU', Signature: s.Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' }))).SignatureValid, true);
    assert.equal((await awsError(f.kms.send(new SignCommand({ KeyId: k?.KeyId, Message: mu.subarray(1), MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' })))).name, 'ValidationException');
  });

  it('encrypts with RSA-OAEP within AWS plaintext caps; a user with the public key can encrypt for KMS', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata;
    assert.deepEqual(k?.EncryptionAlgorithms, ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
    for (const [alg, max] of [['RSAES_OAEP_SHA_1', 214], ['RSAES_OAEP_SHA_256', 190]] as const) {
      const enc = await f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new Uint8Array(max).fill(1), EncryptionAlgorithm: alg }));
      const dec: DecryptCommandOutput = await f.kms.send(new DecryptCommand({ KeyId: k?.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: alg }));
      assert.equal(dec.Plaintext?.length, max);
      const over = await awsError(f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new Uint8Array(max + 1), EncryptionAlgorithm: alg })));
      assert.equal(over.message, `Algorithm ${alg} and key spec RSA_2048 cannot encrypt data larger than ${max} bytes.`);
    }
    const pub = await f.kms.send(new GetPublicKeyCommand({ KeyId: k?.KeyId }));
    const outside = publicEncrypt({ key: createPublicKey({ key: Buffer.from(pub.PublicKey as Uint8Array), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('from outside'));
    const dec = await f.kms.send(new DecryptCommand({ KeyId: k?.KeyId, CiphertextBlob: outside, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    assert.equal(Buffer.from(dec.Plaintext as Uint8Array).toString(), 'from outside');
    assert.equal((await awsError(f.kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: msg })))).name, 'InvalidKeyUsageException');
    const sym = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const gp = await awsError(f.kms.send(new GetPublicKeyCommand({ KeyId: sym?.KeyId })));
    assert.equal(gp.name, 'UnsupportedOperationException');
  });

  it('generates and verifies HMACs of every size', async () => {
    for (const bits of [224, 256, 384, 512] as const) {
      const k = (await f.kms.send(new CreateKeyCommand({ KeySpec: `HMAC_${bits}`, KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata;
      const alg = `HMAC_SHA_${bits}` as const;
      const m = await f.kms.send(new GenerateMacCommand({ KeyId: k?.KeyId, Message: msg, MacAlgorithm: alg }));
      assert.equal(m.Mac?.length, bits / 8);
      assert.equal((await f.kms.send(new VerifyMacCommand({ KeyId: k?.KeyId, Message: msg, MacAlgorithm: alg, Mac: m.Mac }))).MacValid, true);
      const bad = await awsError(f.kms.send(new VerifyMacCommand({ KeyId: k?.KeyId, Message: new Uint8Array([1]), MacAlgorithm: alg, Mac: m.Mac })));
      assert.equal(bad.name, 'KMSInvalidMacException');
    }
    const k = (await f.kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_224', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata;
    const wrong = await awsError(f.kms.send(new GenerateMacCommand({ KeyId: k?.KeyId, Message: msg, MacAlgorithm: 'HMAC_SHA_256' })));
    assert.equal(wrong.message, 'Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.');
    const usage = await awsError(f.kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256' })));
    assert.equal(usage.message, 'You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
  });

  it('derives an ECDH shared secret equal to the peer side', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' }))).KeyMetadata;
    const mine = createPublicKey({ key: Buffer.from((await f.kms.send(new GetPublicKeyCommand({ KeyId: k?.KeyId }))).PublicKey as Uint8Array), format: 'der', type: 'spki' });
    const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const r = await f.kms.send(new DeriveSharedSecretCommand({ KeyId: k?.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ format: 'der', type: 'spki' }) }));
    assert.deepEqual(Buffer.from(r.SharedSecret as Uint8Array), diffieHellman({ privateKey: peer.privateKey, publicKey: mine }));
    const other = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ format: 'der', type: 'spki' });
    assert.equal((await awsError(f.kms.send(new DeriveSharedSecretCommand({ KeyId: k?.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: other })))).name, 'ValidationException');
  });

  it('encapsulates and decapsulates ML-KEM shared secrets; a client can encapsulate to the public key', async () => {
    for (const spec of ['ML_KEM_512', 'ML_KEM_768', 'ML_KEM_1024'] as const) {
      const k = (await f.kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'ENCAPSULATE_DECAPSULATE' }))).KeyMetadata;
      assert.deepEqual(k?.EncapsulationAlgorithms, ['ML_KEM']);
      const e = await f.kms.send(new EncapsulateCommand({ KeyId: k?.KeyId, EncapsulationAlgorithm: 'ML_KEM' }));
      const d = await f.kms.send(new DecapsulateCommand({ KeyId: k?.KeyId, EncapsulationAlgorithm: 'ML_KEM', SharedSecretCiphertextBlob: e.SharedSecretCiphertextBlob }));
      assert.deepEqual(Buffer.from(d.SharedSecret as Uint8Array), Buffer.from(e.SharedSecret as Uint8Array));
      if (spec === 'ML_KEM_768') {
        const pub = (await f.kms.send(new GetPublicKeyCommand({ KeyId: k?.KeyId }))).PublicKey as Uint8Array;
        const mine = ml_kem768.encapsulate(pub.subarray(pub.length - 1184));
        const back = await f.kms.send(new DecapsulateCommand({ KeyId: k?.KeyId, EncapsulationAlgorithm: 'ML_KEM', SharedSecretCiphertextBlob: mine.cipherText }));
        assert.deepEqual(Buffer.from(back.SharedSecret as Uint8Array), Buffer.from(mine.sharedSecret));
      }
      assert.equal((await awsError(f.kms.send(new DecapsulateCommand({ KeyId: k?.KeyId, EncapsulationAlgorithm: 'ML_KEM', SharedSecretCiphertextBlob: new Uint8Array(5) })))).name, 'InvalidCiphertextException');
    }
  });

  it('generates data key pairs whose private key decrypts back', async () => {
    const k = (await f.kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const p = await f.kms.send(new GenerateDataKeyPairCommand({ KeyId: k?.KeyId, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: { u: '1' } }));
    const priv = createPrivateKey({ key: Buffer.from(p.PrivateKeyPlaintext as Uint8Array), format: 'der', type: 'pkcs8' });
    assert.deepEqual(createPublicKey(priv).export({ format: 'der', type: 'spki' }), Buffer.from(p.PublicKey as Uint8Array));
    const back = await f.kms.send(new DecryptCommand({ CiphertextBlob: p.PrivateKeyCiphertextBlob, EncryptionContext: { u: '1' } }));
    assert.deepEqual(Buffer.from(back.Plaintext as Uint8Array), Buffer.from(p.PrivateKeyPlaintext as Uint8Array));
    const w = await f.kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: k?.KeyId, KeyPairSpec: 'RSA_2048' }));
    assert.equal((w as { PrivateKeyPlaintext?: unknown }).PrivateKeyPlaintext, undefined);
    assert.ok((w.PublicKey?.length ?? 0) > 200);
  });
});
