import * as sdk from '@aws-sdk/client-kms';
import type { GetPublicKeyRequest, GetPublicKeyResponse, MessageType, SignRequest, SignResponse, SigningAlgorithmSpec, VerifyRequest, VerifyResponse } from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import { signMessage, verifyMessage } from '../../crypto/signing.js';
import { signingHash, specInfo } from '../../crypto/key-specs.js';
import { dryRunSucceeded, kmsError } from './errors.js';
import type { KeyRecord } from './model.js';
import { checkGrantTokens } from './grant-tokens.js';
import { requireUsable, resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { keyAudit, noteResource } from './shared.js';
import { useKey } from './use-key.js';
import { checks, invalid } from './validate.js';

const SIGNING_ALGS = Object.values(sdk.SigningAlgorithmSpec).filter((a) => a !== 'SM2DSA');
const MESSAGE_TYPES: readonly MessageType[] = ['RAW', 'DIGEST', 'EXTERNAL_MU'];

/** The message must fit the algorithm: a digest of the hash's length, a 64-byte mu for ML-DSA. */
function checkMessage(key: KeyRecord, alg: SigningAlgorithmSpec, type: MessageType, message: Uint8Array): void {
  if (!specInfo(key.keySpec)?.signing?.includes(alg)) throw kmsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${key.keySpec}.`);
  if (type === 'EXTERNAL_MU') {
    if (alg !== 'ML_DSA_SHAKE_256') throw invalid(`MessageType EXTERNAL_MU is not valid for algorithm ${alg}.`);
    if (message.length !== 64) throw invalid('Message of type EXTERNAL_MU must be 64 bytes long.');
    return;
  }
  if (type === 'DIGEST') {
    if (alg === 'ML_DSA_SHAKE_256' || alg === 'ED25519_SHA_512') throw invalid(`MessageType DIGEST is not valid for algorithm ${alg}.`);
    if (message.length !== signingHash(alg)?.length) throw invalid(`Digest is invalid length for algorithm ${alg}.`);
  }
}

const signAudit = <I extends { KeyId?: string | undefined; SigningAlgorithm?: string | undefined; MessageType?: string | undefined }>() =>
  keyAudit<I>({ readOnly: true, request: (i: I) => ({ keyId: i.KeyId, signingAlgorithm: i.SigningAlgorithm, messageType: i.MessageType ?? 'RAW' }) });

export function signingOperations(kms: Kms): Record<string, OperationSpec> {
  return {
    Sign: {
      schema: sdk.Sign$,
      action: 'kms:Sign',
      audit: signAudit<SignRequest>(),
      async handler(input: SignRequest, ctx): Promise<SignResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.Message, 'message').length(input.Message, 'message', 1, 4096)
          .oneOf(input.MessageType, 'messageType', MESSAGE_TYPES).required(input.SigningAlgorithm, 'signingAlgorithm').oneOf(input.SigningAlgorithm, 'signingAlgorithm', SIGNING_ALGS)
          .grantTokens(input.GrantTokens).done();
        const alg = input.SigningAlgorithm as SigningAlgorithmSpec;
        const type = input.MessageType ?? 'RAW';
        const { key, material } = await useKey(kms, ctx, input.KeyId as string, 'Sign', { usage: 'SIGN_VERIFY', grantTokens: input.GrantTokens, conditions: { 'kms:signingalgorithm': alg, 'kms:messagetype': type } });
        checkMessage(key, alg, type, input.Message as Uint8Array);
        if (input.DryRun === true) throw dryRunSucceeded();
        return { KeyId: key.arn, Signature: signMessage(material, alg, type, input.Message as Uint8Array), SigningAlgorithm: alg };
      },
    },
    Verify: {
      schema: sdk.Verify$,
      action: 'kms:Verify',
      audit: signAudit<VerifyRequest>(),
      async handler(input: VerifyRequest, ctx): Promise<VerifyResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.Message, 'message').length(input.Message, 'message', 1, 4096)
          .oneOf(input.MessageType, 'messageType', MESSAGE_TYPES).required(input.Signature, 'signature').length(input.Signature, 'signature', 1, 6144)
          .required(input.SigningAlgorithm, 'signingAlgorithm').oneOf(input.SigningAlgorithm, 'signingAlgorithm', SIGNING_ALGS).grantTokens(input.GrantTokens).done();
        const alg = input.SigningAlgorithm as SigningAlgorithmSpec;
        const type = input.MessageType ?? 'RAW';
        const { key, material } = await useKey(kms, ctx, input.KeyId as string, 'Verify', { usage: 'SIGN_VERIFY', grantTokens: input.GrantTokens, conditions: { 'kms:signingalgorithm': alg, 'kms:messagetype': type } });
        checkMessage(key, alg, type, input.Message as Uint8Array);
        if (input.DryRun === true) throw dryRunSucceeded();
        if (!verifyMessage(material, alg, type, input.Message as Uint8Array, input.Signature as Uint8Array)) throw kmsError('KMSInvalidSignatureException', '');
        return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: alg };
      },
    },
    GetPublicKey: {
      schema: sdk.GetPublicKey$,
      action: 'kms:GetPublicKey',
      audit: keyAudit({ readOnly: true }),
      async handler(input: GetPublicKeyRequest, ctx): Promise<GetPublicKeyResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).grantTokens(input.GrantTokens).done();
        checkGrantTokens(input.GrantTokens);
        const k = await resolveKey(kms, ctx, input.KeyId as string, 'any');
        noteResource(ctx, k.key.arn);
        await kms.access.authorize(ctx, k, 'GetPublicKey', { grantTokens: input.GrantTokens });
        requireUsable(k.key);
        const key = k.key;
        const info = specInfo(key.keySpec);
        if (!key.publicKey || !info) throw kmsError('UnsupportedOperationException', `${key.arn} key spec is ${key.keySpec} which is not valid for GetPublicKey.`);
        return {
          KeyId: key.arn, PublicKey: key.publicKey, CustomerMasterKeySpec: key.keySpec as GetPublicKeyResponse['CustomerMasterKeySpec'], KeySpec: key.keySpec, KeyUsage: key.keyUsage,
          ...(key.keyUsage === 'ENCRYPT_DECRYPT' && info.encryption ? { EncryptionAlgorithms: [...info.encryption] } : {}),
          ...(key.keyUsage === 'SIGN_VERIFY' && info.signing ? { SigningAlgorithms: [...info.signing] } : {}),
          ...(key.keyUsage === 'KEY_AGREEMENT' && info.agreement ? { KeyAgreementAlgorithms: [...info.agreement] } : {}),
          ...(key.keyUsage === 'ENCAPSULATE_DECAPSULATE' && info.encapsulation ? { EncapsulationAlgorithms: [...info.encapsulation] } : {}),
        };
      },
    },
  };
}
