import * as sdk from '@aws-sdk/client-kms';
import type { DecapsulateRequest, DecapsulateResponse, EncapsulateRequest, EncapsulateResponse } from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import { mlKem } from '../../crypto/material.js';
import { dryRunSucceeded, kmsError } from './errors.js';
import type { Kms } from './runtime.js';
import { keyAudit } from './shared.js';
import { useKey } from './use-key.js';
import { checks } from './validate.js';

/** ML-KEM keys (ENCAPSULATE_DECAPSULATE): a shared secret and its ciphertext, and back. */
export function kemOperations(kms: Kms): Record<string, OperationSpec> {
  const audit = keyAudit<{ KeyId?: string | undefined; EncapsulationAlgorithm?: string | undefined }>({ readOnly: true, request: (i) => ({ keyId: i.KeyId, encapsulationAlgorithm: i.EncapsulationAlgorithm }) });
  return {
    Encapsulate: {
      schema: sdk.Encapsulate$,
      action: 'kms:Encapsulate',
      audit,
      async handler(input: EncapsulateRequest, ctx): Promise<EncapsulateResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.EncapsulationAlgorithm, 'encapsulationAlgorithm')
          .oneOf(input.EncapsulationAlgorithm, 'encapsulationAlgorithm', ['ML_KEM']).grantTokens(input.GrantTokens).done();
        const { key, material } = await useKey(kms, ctx, input.KeyId as string, 'Encapsulate', { usage: 'ENCAPSULATE_DECAPSULATE', grantTokens: input.GrantTokens, dryRun: input.DryRun });
        if (material.kind !== 'ml-kem') throw kmsError('InvalidKeyUsageException', `Algorithm ML_KEM is incompatible with key spec ${key.keySpec}.`);
        const { cipherText, sharedSecret } = mlKem(material.level).encapsulate(material.publicKey);
        return { KeyId: key.arn, SharedSecret: sharedSecret, SharedSecretCiphertextBlob: cipherText, EncapsulationAlgorithm: 'ML_KEM' };
      },
    },
    Decapsulate: {
      schema: sdk.Decapsulate$,
      action: 'kms:Decapsulate',
      audit,
      async handler(input: DecapsulateRequest, ctx): Promise<DecapsulateResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.SharedSecretCiphertextBlob, 'sharedSecretCiphertextBlob')
          .length(input.SharedSecretCiphertextBlob, 'sharedSecretCiphertextBlob', 1, 6144).required(input.EncapsulationAlgorithm, 'encapsulationAlgorithm')
          .oneOf(input.EncapsulationAlgorithm, 'encapsulationAlgorithm', ['ML_KEM']).grantTokens(input.GrantTokens).done();
        const { key, material } = await useKey(kms, ctx, input.KeyId as string, 'Decapsulate', { usage: 'ENCAPSULATE_DECAPSULATE', grantTokens: input.GrantTokens });
        if (material.kind !== 'ml-kem') throw kmsError('InvalidKeyUsageException', `Algorithm ML_KEM is incompatible with key spec ${key.keySpec}.`);
        const kem = mlKem(material.level);
        if (input.SharedSecretCiphertextBlob?.length !== kem.lengths.cipherText) throw kmsError('InvalidCiphertextException', '');
        if (input.DryRun === true) throw dryRunSucceeded();
        return { KeyId: key.arn, SharedSecret: kem.decapsulate(input.SharedSecretCiphertextBlob as Uint8Array, material.secretKey), EncapsulationAlgorithm: 'ML_KEM' };
      },
    },
  };
}
