import { randomBytes } from 'node:crypto';
import * as sdk from '@aws-sdk/client-kms';
import type {
  DecryptRequest, DecryptResponse, EncryptionAlgorithmSpec, EncryptRequest, EncryptResponse, GenerateDataKeyRequest, GenerateDataKeyResponse,
  GenerateDataKeyWithoutPlaintextRequest, GenerateDataKeyWithoutPlaintextResponse, GenerateRandomRequest, GenerateRandomResponse, ReEncryptRequest, ReEncryptResponse,
} from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { rsaOaepDecrypt, rsaOaepEncrypt } from '../../crypto/asymmetric.js';
import { openSymmetric, openSymmetricWith, parseCiphertextBlob, sealSymmetric, sealSymmetricWith } from '../../crypto/ciphertext-blob.js';
import { oaepMaxPlaintext, specInfo } from '../../crypto/key-specs.js';
import type { LoadedMaterial } from '../../crypto/material.js';
import { dryRunSucceeded, kmsError } from './errors.js';
import type { KeyRecord } from './model.js';
import type { Kms } from './runtime.js';
import { keyAudit } from './shared.js';
import { useKey } from './use-key.js';
import { checks, invalid } from './validate.js';

const ENC_ALGS: readonly EncryptionAlgorithmSpec[] = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'];

/** Encrypts under a key's current material with the algorithm the caller chose (already checked to fit the key). */
export async function encryptWith(key: KeyRecord, m: LoadedMaterial, alg: EncryptionAlgorithmSpec, plaintext: Uint8Array, context: Readonly<Record<string, string>> | undefined): Promise<Buffer> {
  if (alg === 'SYMMETRIC_DEFAULT') {
    if (m.kind === 'token') {
      return sealSymmetricWith((iv, aad, pt) => m.token.encrypt(m.label, iv, aad, pt), key.keyId, key.currentMaterialId as string, plaintext, context).catch((e: unknown) => {
        throw kmsError('KMSInternalException', `The custom key store could not encrypt: ${(e as Error).message}`);
      });
    }
    if (m.kind !== 'secret') throw kmsError('KMSInternalException', 'key material mismatch');
    return sealSymmetric(m.bytes, key.keyId, key.currentMaterialId as string, plaintext, context);
  }
  if (m.kind !== 'pkey') throw kmsError('KMSInternalException', 'key material mismatch');
  return rsaOaepEncrypt(m.publicKey, alg, plaintext);
}

/** The algorithm this key uses for a request; throws AWS's errors for a mismatch or an over-long RSA plaintext. */
export function encryptionAlgorithm(key: KeyRecord, requested: EncryptionAlgorithmSpec | undefined, plaintextLength: number | undefined, context: Record<string, string> | undefined): EncryptionAlgorithmSpec {
  const alg = requested ?? 'SYMMETRIC_DEFAULT';
  const info = specInfo(key.keySpec);
  if (!info?.encryption?.includes(alg)) throw kmsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${key.keySpec}.`);
  if (alg !== 'SYMMETRIC_DEFAULT') {
    if (context && Object.keys(context).length > 0) throw invalid('EncryptionContext is not supported with asymmetric KMS keys.');
    const max = oaepMaxPlaintext(info.bits ?? 2048, alg);
    if (plaintextLength !== undefined && plaintextLength > max) throw invalid(`Algorithm ${alg} and key spec ${key.keySpec} cannot encrypt data larger than ${max} bytes.`);
  }
  return alg;
}

interface Decrypted {
  key: KeyRecord;
  plaintext: Buffer;
  algorithm: EncryptionAlgorithmSpec;
  materialId?: string;
}

/** Decrypt and ReEncrypt's source side. `op` is the grant operation that authorizes it. */
export async function decryptBlob(
  kms: Kms, ctx: RequestContext,
  a: { blob: Uint8Array; keyId: string | undefined; context: Record<string, string> | undefined; algorithm: EncryptionAlgorithmSpec | undefined; grantTokens: string[] | undefined; dryRun: boolean | undefined },
  operation: 'Decrypt' | 'ReEncrypt',
): Promise<Decrypted> {
  const alg = a.algorithm ?? 'SYMMETRIC_DEFAULT';
  const grantOp = operation === 'Decrypt' ? 'Decrypt' : 'ReEncryptFrom';
  if (alg === 'SYMMETRIC_DEFAULT') {
    const parsed = parseCiphertextBlob(a.blob);
    if (!parsed) {
      if (a.keyId !== undefined) {
        // Name the key first: a wrong key for the blob is IncorrectKey, not a bad blob.
        const { key } = await useKey(kms, ctx, a.keyId, operation, { usage: 'ENCRYPT_DECRYPT', grantOp, encryptionContext: a.context, grantTokens: a.grantTokens });
        if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
      }
      throw kmsError('InvalidCiphertextException', '');
    }
    const named = a.keyId ?? parsed.keyId;
    const { key } = await useKey(kms, ctx, named, operation, {
      usage: 'ENCRYPT_DECRYPT', grantOp, encryptionContext: a.context, grantTokens: a.grantTokens,
      conditions: { 'kms:encryptionalgorithm': alg },
    }).catch((e: unknown) => {
      if (a.keyId === undefined && (e as { code?: string }).code === 'NotFoundException') throw kmsError('InvalidCiphertextException', '');
      throw e;
    });
    if (key.keyId !== parsed.keyId || key.keySpec !== 'SYMMETRIC_DEFAULT') throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    const m = kms.store.material(key, parsed.materialId);
    if (!m || (m.kind !== 'secret' && m.kind !== 'token')) throw kmsError('InvalidCiphertextException', '');
    if (a.dryRun === true) throw dryRunSucceeded();
    try {
      const plaintext = m.kind === 'token' ? await openSymmetricWith((iv, aad, ct) => m.token.decrypt(m.label, iv, aad, ct), parsed, a.context) : openSymmetric(m.bytes, parsed, a.context);
      return { key, plaintext, algorithm: alg, materialId: parsed.materialId };
    } catch {
      throw kmsError('InvalidCiphertextException', '');
    }
  }
  if (a.keyId === undefined) throw invalid('KeyId is required when decrypting with an asymmetric encryption algorithm.');
  const { key, material } = await useKey(kms, ctx, a.keyId, operation, { usage: 'ENCRYPT_DECRYPT', grantOp, grantTokens: a.grantTokens, conditions: { 'kms:encryptionalgorithm': alg } });
  if (!specInfo(key.keySpec)?.encryption?.includes(alg)) throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
  if (material.kind !== 'pkey') throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
  if (a.dryRun === true) throw dryRunSucceeded();
  try {
    return { key, plaintext: rsaOaepDecrypt(material.privateKey, alg, a.blob), algorithm: alg };
  } catch {
    throw kmsError('InvalidCiphertextException', '');
  }
}

const ctxAudit = <I extends { KeyId?: string | undefined; EncryptionContext?: Record<string, string> | undefined; EncryptionAlgorithm?: string | undefined }>() =>
  keyAudit<I>({ readOnly: true, request: (i: I) => ({ keyId: i.KeyId, ...(i.EncryptionContext ? { encryptionContext: i.EncryptionContext } : {}), encryptionAlgorithm: i.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT' }) });

function dataKeyLength(spec: string | undefined, n: number | undefined): number {
  checks().oneOf(spec, 'keySpec', ['AES_256', 'AES_128']).range(n, 'numberOfBytes', 1, 1024).done();
  if ((spec === undefined) === (n === undefined)) throw invalid('Please specify either number of bytes or key spec.');
  return n ?? (spec === 'AES_128' ? 16 : 32);
}

export function cryptoOperations(kms: Kms): Record<string, OperationSpec> {
  async function generateDataKey(input: GenerateDataKeyRequest, ctx: RequestContext, op: 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext') {
    checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).grantTokens(input.GrantTokens).done();
    const len = dataKeyLength(input.KeySpec, input.NumberOfBytes);
    const { key, material } = await useKey(kms, ctx, input.KeyId as string, op, { usage: 'ENCRYPT_DECRYPT', encryptionContext: input.EncryptionContext, grantTokens: input.GrantTokens, dryRun: input.DryRun });
    if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw kmsError('InvalidKeyUsageException', `${key.arn} key spec is ${key.keySpec} which is not valid for ${op}.`);
    const plaintext = randomBytes(len);
    return { key, plaintext, blob: await encryptWith(key, material, 'SYMMETRIC_DEFAULT', plaintext, input.EncryptionContext) };
  }

  return {
    Encrypt: {
      schema: sdk.Encrypt$,
      action: 'kms:Encrypt',
      audit: ctxAudit<EncryptRequest>(),
      async handler(input: EncryptRequest, ctx): Promise<EncryptResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048)
          .required(input.Plaintext, 'plaintext').length(input.Plaintext, 'plaintext', 1, 4096)
          .oneOf(input.EncryptionAlgorithm, 'encryptionAlgorithm', ENC_ALGS).grantTokens(input.GrantTokens).done();
        const { key, material } = await useKey(kms, ctx, input.KeyId as string, 'Encrypt', {
          usage: 'ENCRYPT_DECRYPT', encryptionContext: input.EncryptionContext, grantTokens: input.GrantTokens,
          conditions: { 'kms:encryptionalgorithm': input.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT' },
        });
        const alg = encryptionAlgorithm(key, input.EncryptionAlgorithm, input.Plaintext?.length, input.EncryptionContext);
        if (input.DryRun === true) throw dryRunSucceeded();
        return { CiphertextBlob: await encryptWith(key, material, alg, input.Plaintext as Uint8Array, input.EncryptionContext), KeyId: key.arn, EncryptionAlgorithm: alg };
      },
    },
    Decrypt: {
      schema: sdk.Decrypt$,
      action: 'kms:Decrypt',
      audit: ctxAudit<DecryptRequest>(),
      async handler(input: DecryptRequest, ctx): Promise<DecryptResponse> {
        checks().required(input.CiphertextBlob, 'ciphertextBlob').length(input.CiphertextBlob, 'ciphertextBlob', 1, 6144)
          .length(input.KeyId, 'keyId', 1, 2048).oneOf(input.EncryptionAlgorithm, 'encryptionAlgorithm', ENC_ALGS).grantTokens(input.GrantTokens).done();
        const d = await decryptBlob(kms, ctx, { blob: input.CiphertextBlob as Uint8Array, keyId: input.KeyId, context: input.EncryptionContext, algorithm: input.EncryptionAlgorithm, grantTokens: input.GrantTokens, dryRun: input.DryRun }, 'Decrypt');
        return { KeyId: d.key.arn, Plaintext: d.plaintext, EncryptionAlgorithm: d.algorithm, ...(d.materialId ? { KeyMaterialId: d.materialId } : {}) };
      },
    },
    ReEncrypt: {
      schema: sdk.ReEncrypt$,
      action: 'kms:ReEncryptFrom',
      audit: keyAudit<ReEncryptRequest>({
        readOnly: true,
        request: (i) => ({
          sourceKeyId: i.SourceKeyId, destinationKeyId: i.DestinationKeyId,
          ...(i.SourceEncryptionContext ? { sourceEncryptionContext: i.SourceEncryptionContext } : {}),
          ...(i.DestinationEncryptionContext ? { destinationEncryptionContext: i.DestinationEncryptionContext } : {}),
          sourceAAD: undefined, sourceEncryptionAlgorithm: i.SourceEncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT', destinationEncryptionAlgorithm: i.DestinationEncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT',
        }),
      }),
      async handler(input: ReEncryptRequest, ctx): Promise<ReEncryptResponse> {
        checks().required(input.CiphertextBlob, 'ciphertextBlob').length(input.CiphertextBlob, 'ciphertextBlob', 1, 6144)
          .length(input.SourceKeyId, 'sourceKeyId', 1, 2048).required(input.DestinationKeyId, 'destinationKeyId').length(input.DestinationKeyId, 'destinationKeyId', 1, 2048)
          .oneOf(input.SourceEncryptionAlgorithm, 'sourceEncryptionAlgorithm', ENC_ALGS).oneOf(input.DestinationEncryptionAlgorithm, 'destinationEncryptionAlgorithm', ENC_ALGS)
          .grantTokens(input.GrantTokens).done();
        const src = await decryptBlob(kms, ctx, { blob: input.CiphertextBlob as Uint8Array, keyId: input.SourceKeyId, context: input.SourceEncryptionContext, algorithm: input.SourceEncryptionAlgorithm, grantTokens: input.GrantTokens, dryRun: false }, 'ReEncrypt');
        const { key, material } = await useKey(kms, ctx, input.DestinationKeyId as string, 'ReEncrypt', {
          usage: 'ENCRYPT_DECRYPT', grantOp: 'ReEncryptTo', encryptionContext: input.DestinationEncryptionContext, grantTokens: input.GrantTokens,
        });
        const alg = encryptionAlgorithm(key, input.DestinationEncryptionAlgorithm, src.plaintext.length, input.DestinationEncryptionContext);
        if (input.DryRun === true) throw dryRunSucceeded();
        const blob = await encryptWith(key, material, alg, src.plaintext, input.DestinationEncryptionContext);
        src.plaintext.fill(0);
        return {
          CiphertextBlob: blob, SourceKeyId: src.key.arn, KeyId: key.arn, SourceEncryptionAlgorithm: src.algorithm, DestinationEncryptionAlgorithm: alg,
          ...(src.materialId ? { SourceKeyMaterialId: src.materialId } : {}), ...(alg === 'SYMMETRIC_DEFAULT' && key.currentMaterialId ? { DestinationKeyMaterialId: key.currentMaterialId } : {}),
        };
      },
    },
    GenerateDataKey: {
      schema: sdk.GenerateDataKey$,
      action: 'kms:GenerateDataKey',
      audit: keyAudit<GenerateDataKeyRequest>({ readOnly: true, request: (i) => ({ keyId: i.KeyId, ...(i.EncryptionContext ? { encryptionContext: i.EncryptionContext } : {}), ...(i.KeySpec ? { keySpec: i.KeySpec } : {}), ...(i.NumberOfBytes ? { numberOfBytes: i.NumberOfBytes } : {}) }) }),
      async handler(input: GenerateDataKeyRequest, ctx): Promise<GenerateDataKeyResponse> {
        const r = await generateDataKey(input, ctx, 'GenerateDataKey');
        return { CiphertextBlob: r.blob, Plaintext: r.plaintext, KeyId: r.key.arn, ...(r.key.currentMaterialId ? { KeyMaterialId: r.key.currentMaterialId } : {}) };
      },
    },
    GenerateDataKeyWithoutPlaintext: {
      schema: sdk.GenerateDataKeyWithoutPlaintext$,
      action: 'kms:GenerateDataKeyWithoutPlaintext',
      audit: keyAudit<GenerateDataKeyWithoutPlaintextRequest>({ readOnly: true, request: (i) => ({ keyId: i.KeyId, ...(i.EncryptionContext ? { encryptionContext: i.EncryptionContext } : {}), ...(i.KeySpec ? { keySpec: i.KeySpec } : {}), ...(i.NumberOfBytes ? { numberOfBytes: i.NumberOfBytes } : {}) }) }),
      async handler(input: GenerateDataKeyWithoutPlaintextRequest, ctx): Promise<GenerateDataKeyWithoutPlaintextResponse> {
        const r = await generateDataKey(input, ctx, 'GenerateDataKeyWithoutPlaintext');
        r.plaintext.fill(0);
        return { CiphertextBlob: r.blob, KeyId: r.key.arn, ...(r.key.currentMaterialId ? { KeyMaterialId: r.key.currentMaterialId } : {}) };
      },
    },
    GenerateRandom: {
      schema: sdk.GenerateRandom$,
      action: 'kms:GenerateRandom',
      audit: { readOnly: true, request: (i: GenerateRandomRequest) => ({ numberOfBytes: i.NumberOfBytes }), response: () => null, resources: () => [] },
      async handler(input: GenerateRandomRequest, ctx): Promise<GenerateRandomResponse> {
        if (input.NumberOfBytes === undefined) throw invalid('NumberOfBytes is required.');
        checks().range(input.NumberOfBytes, 'numberOfBytes', 1, 1024).length(input.CustomKeyStoreId, 'customKeyStoreId', 1, 64).done();
        await kms.access.authorizeAccount(ctx, 'GenerateRandom');
        if (input.CustomKeyStoreId !== undefined) {
          const cks = kms.customKeyStores;
          const store = cks ? await cks.get(ctx, input.CustomKeyStoreId) : undefined;
          const token = store ? cks?.token(store.id) : undefined;
          if (!token) throw kmsError('CustomKeyStoreInvalidStateException', `Custom key store ${input.CustomKeyStoreId} is not connected.`);
          return { Plaintext: await token.random(input.NumberOfBytes) };
        }
        return { Plaintext: randomBytes(input.NumberOfBytes) };
      },
    },
  };
}
