import { createHmac, timingSafeEqual } from 'node:crypto';
import * as sdk from '@aws-sdk/client-kms';
import type { DeriveSharedSecretRequest, DeriveSharedSecretResponse, GenerateMacRequest, GenerateMacResponse, MacAlgorithmSpec, VerifyMacRequest, VerifyMacResponse } from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import { ecdh, parseSpki } from '../../crypto/asymmetric.js';
import { specInfo } from '../../crypto/key-specs.js';
import { dryRunSucceeded, kmsError } from './errors.js';
import type { KeyRecord } from './model.js';
import type { Kms } from './runtime.js';
import { keyAudit } from './shared.js';
import { useKey } from './use-key.js';
import { checks, invalid } from './validate.js';

const MAC_ALGS: readonly MacAlgorithmSpec[] = ['HMAC_SHA_384', 'HMAC_SHA_256', 'HMAC_SHA_224', 'HMAC_SHA_512'];

function macAlgorithm(key: KeyRecord, alg: MacAlgorithmSpec): string {
  if (!specInfo(key.keySpec)?.mac?.includes(alg)) throw kmsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${key.keySpec}.`);
  return `sha${alg.slice('HMAC_SHA_'.length)}`;
}

const macAudit = <I extends { KeyId?: string | undefined; MacAlgorithm?: string | undefined }>() => keyAudit<I>({ readOnly: true, request: (i: I) => ({ keyId: i.KeyId, macAlgorithm: i.MacAlgorithm }) });

export function macOperations(kms: Kms): Record<string, OperationSpec> {
  return {
    GenerateMac: {
      schema: sdk.GenerateMac$,
      action: 'kms:GenerateMac',
      audit: macAudit<GenerateMacRequest>(),
      async handler(input: GenerateMacRequest, ctx): Promise<GenerateMacResponse> {
        checks().required(input.Message, 'message').length(input.Message, 'message', 1, 4096).required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048)
          .required(input.MacAlgorithm, 'macAlgorithm').oneOf(input.MacAlgorithm, 'macAlgorithm', MAC_ALGS).grantTokens(input.GrantTokens).done();
        const { key, material } = await useKey(kms, ctx, input.KeyId as string, 'GenerateMac', { usage: 'GENERATE_VERIFY_MAC', grantTokens: input.GrantTokens, conditions: { 'kms:macalgorithm': input.MacAlgorithm } });
        const hash = macAlgorithm(key, input.MacAlgorithm as MacAlgorithmSpec);
        if (input.DryRun === true) throw dryRunSucceeded();
        if (material.kind !== 'secret') throw kmsError('KMSInternalException', 'key material mismatch');
        return { Mac: createHmac(hash, material.bytes).update(input.Message as Uint8Array).digest(), MacAlgorithm: input.MacAlgorithm, KeyId: key.arn };
      },
    },
    VerifyMac: {
      schema: sdk.VerifyMac$,
      action: 'kms:VerifyMac',
      audit: macAudit<VerifyMacRequest>(),
      async handler(input: VerifyMacRequest, ctx): Promise<VerifyMacResponse> {
        checks().required(input.Message, 'message').length(input.Message, 'message', 1, 4096).required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048)
          .required(input.MacAlgorithm, 'macAlgorithm').oneOf(input.MacAlgorithm, 'macAlgorithm', MAC_ALGS).required(input.Mac, 'mac').length(input.Mac, 'mac', 1, 6144)
          .grantTokens(input.GrantTokens).done();
        const { key, material } = await useKey(kms, ctx, input.KeyId as string, 'VerifyMac', { usage: 'GENERATE_VERIFY_MAC', grantTokens: input.GrantTokens, conditions: { 'kms:macalgorithm': input.MacAlgorithm } });
        const hash = macAlgorithm(key, input.MacAlgorithm as MacAlgorithmSpec);
        if (input.DryRun === true) throw dryRunSucceeded();
        if (material.kind !== 'secret') throw kmsError('KMSInternalException', 'key material mismatch');
        const want = createHmac(hash, material.bytes).update(input.Message as Uint8Array).digest();
        const got = Buffer.from(input.Mac as Uint8Array);
        if (got.length !== want.length || !timingSafeEqual(got, want)) throw kmsError('KMSInvalidMacException', '');
        return { KeyId: key.arn, MacValid: true, MacAlgorithm: input.MacAlgorithm };
      },
    },
    DeriveSharedSecret: {
      schema: sdk.DeriveSharedSecret$,
      action: 'kms:DeriveSharedSecret',
      audit: keyAudit<DeriveSharedSecretRequest>({ readOnly: true, request: (i) => ({ keyId: i.KeyId, keyAgreementAlgorithm: i.KeyAgreementAlgorithm }) }),
      async handler(input: DeriveSharedSecretRequest, ctx): Promise<DeriveSharedSecretResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.KeyAgreementAlgorithm, 'keyAgreementAlgorithm')
          .oneOf(input.KeyAgreementAlgorithm, 'keyAgreementAlgorithm', ['ECDH']).required(input.PublicKey, 'publicKey').length(input.PublicKey, 'publicKey', 1, 8192)
          .grantTokens(input.GrantTokens).done();
        if (input.Recipient !== undefined) throw kmsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by hanul.');
        const { key, material } = await useKey(kms, ctx, input.KeyId as string, 'DeriveSharedSecret', { usage: 'KEY_AGREEMENT', grantTokens: input.GrantTokens, conditions: { 'kms:keyagreementalgorithm': 'ECDH' } });
        const peer = parseSpki(input.PublicKey as Uint8Array);
        if (!peer) throw invalid('The PublicKey is not a valid DER-encoded X.509 SubjectPublicKeyInfo.');
        if (material.kind !== 'pkey') throw kmsError('KMSInternalException', 'key material mismatch');
        const secret = ecdh(material.privateKey, peer);
        if (!secret) throw invalid(`The PublicKey is not a public key of the same curve as key spec ${key.keySpec}.`);
        if (input.DryRun === true) throw dryRunSucceeded();
        return { KeyId: key.arn, SharedSecret: secret, KeyAgreementAlgorithm: 'ECDH', KeyOrigin: key.origin };
      },
    },
  };
}
