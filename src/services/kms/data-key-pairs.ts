import * as sdk from '@aws-sdk/client-kms';
import type { DataKeyPairSpec, GenerateDataKeyPairRequest, GenerateDataKeyPairResponse, GenerateDataKeyPairWithoutPlaintextRequest, GenerateDataKeyPairWithoutPlaintextResponse } from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { specInfo } from '../../crypto/key-specs.js';
import { generateMaterial, loadMaterial, publicKeyDer } from '../../crypto/material.js';
import { encryptWith } from './crypto-ops.js';
import { kmsError } from './errors.js';
import type { Kms } from './runtime.js';
import { keyAudit } from './shared.js';
import { useKey } from './use-key.js';
import { checks } from './validate.js';

const PAIR_SPECS: readonly DataKeyPairSpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'ECC_NIST_EDWARDS25519'];

export function dataKeyPairOperations(kms: Kms): Record<string, OperationSpec> {
  async function generate(input: GenerateDataKeyPairRequest, ctx: RequestContext, op: string) {
    checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.KeyPairSpec, 'keyPairSpec')
      .oneOf(input.KeyPairSpec, 'keyPairSpec', PAIR_SPECS).grantTokens(input.GrantTokens).done();
    if (input.Recipient !== undefined) throw kmsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by hanul.');
    const { key, material } = await useKey(kms, ctx, input.KeyId as string, op, { usage: 'ENCRYPT_DECRYPT', encryptionContext: input.EncryptionContext, grantTokens: input.GrantTokens, dryRun: input.DryRun });
    if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw kmsError('InvalidKeyUsageException', `${key.arn} key spec is ${key.keySpec} which is not valid for ${op}.`);
    const info = specInfo(input.KeyPairSpec as string);
    if (!info) throw kmsError('UnsupportedOperationException', `KeyPairSpec ${input.KeyPairSpec} is not supported.`);
    const priv = await generateMaterial(info);
    const pub = publicKeyDer(loadMaterial(info, priv)) as Buffer;
    return { key, priv, pub, blob: await encryptWith(key, material, 'SYMMETRIC_DEFAULT', priv, input.EncryptionContext) };
  }
  const audit = keyAudit<GenerateDataKeyPairRequest>({ readOnly: true, request: (i) => ({ keyId: i.KeyId, keyPairSpec: i.KeyPairSpec, ...(i.EncryptionContext ? { encryptionContext: i.EncryptionContext } : {}) }) });
  return {
    GenerateDataKeyPair: {
      schema: sdk.GenerateDataKeyPair$,
      action: 'kms:GenerateDataKeyPair',
      audit,
      async handler(input: GenerateDataKeyPairRequest, ctx): Promise<GenerateDataKeyPairResponse> {
        const r = await generate(input, ctx, 'GenerateDataKeyPair');
        return { PrivateKeyCiphertextBlob: r.blob, PrivateKeyPlaintext: r.priv, PublicKey: r.pub, KeyId: r.key.arn, KeyPairSpec: input.KeyPairSpec, ...(r.key.currentMaterialId ? { KeyMaterialId: r.key.currentMaterialId } : {}) };
      },
    },
    GenerateDataKeyPairWithoutPlaintext: {
      schema: sdk.GenerateDataKeyPairWithoutPlaintext$,
      action: 'kms:GenerateDataKeyPairWithoutPlaintext',
      audit,
      async handler(input: GenerateDataKeyPairWithoutPlaintextRequest, ctx): Promise<GenerateDataKeyPairWithoutPlaintextResponse> {
        const r = await generate(input, ctx, 'GenerateDataKeyPairWithoutPlaintext');
        r.priv.fill(0);
        return { PrivateKeyCiphertextBlob: r.blob, PublicKey: r.pub, KeyId: r.key.arn, KeyPairSpec: input.KeyPairSpec, ...(r.key.currentMaterialId ? { KeyMaterialId: r.key.currentMaterialId } : {}) };
      },
    },
  };
}
