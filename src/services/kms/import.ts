import { constants, createDecipheriv, createPrivateKey, generateKeyPair, privateDecrypt, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import * as sdk from '@aws-sdk/client-kms';
import type {
  AlgorithmSpec, DeleteImportedKeyMaterialRequest, DeleteImportedKeyMaterialResponse, GetParametersForImportRequest, GetParametersForImportResponse, ImportKeyMaterialRequest,
  ImportKeyMaterialResponse, WrappingKeySpec,
} from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import { specInfo } from '../../crypto/key-specs.js';
import { loadMaterial, publicKeyDer } from '../../crypto/material.js';
import { kmsError } from './errors.js';
import { NS_IMPORT, keyKey, type KeyRecord } from './model.js';
import { setState } from './mutate.js';
import { requireState, resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { keyAudit, noteResource } from './shared.js';
import { checks, invalid } from './validate.js';

const genKeyPair = promisify(generateKeyPair);
const WRAP_ALGS: readonly AlgorithmSpec[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'];
const WRAP_SPECS: readonly WrappingKeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096'];
const TOKEN_TTL_MS = 24 * 3_600_000;
const MAX_VALID_MS = 365 * 86_400_000;

/** Import parameters (namespace 'kms:import'): the wrapping private key, sealed like any key material. */
interface ImportParams {
  token: Uint8Array;
  algorithm: AlgorithmSpec;
  sealedWrappingKey: Uint8Array;
  validTo: Date;
}

function requireExternal(k: KeyRecord): void {
  if (k.origin !== 'EXTERNAL') throw kmsError('UnsupportedOperationException', `${k.arn} origin is ${k.origin} which is not valid for this operation.`);
}

/** Undoes the user's wrapping: RSA-OAEP directly, or RSA-OAEP of an AES key + AES key wrap with padding (RFC 5649). */
function unwrap(alg: AlgorithmSpec, wrappingKeyDer: Buffer, wrapped: Uint8Array): Buffer {
  const key = createPrivateKey({ key: wrappingKeyDer, format: 'der', type: 'pkcs8' });
  const oaepHash = alg.endsWith('SHA_1') ? 'sha1' : 'sha256';
  if (alg === 'RSAES_OAEP_SHA_1' || alg === 'RSAES_OAEP_SHA_256') return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, wrapped);
  const k = (key.asymmetricKeyDetails?.modulusLength ?? 2048) / 8;
  const aesKey = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, wrapped.subarray(0, k));
  const d = createDecipheriv(`id-aes${aesKey.length * 8}-wrap-pad`, aesKey, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([d.update(wrapped.subarray(k)), d.final()]);
}

export function importOperations(kms: Kms): Record<string, OperationSpec> {
  return {
    GetParametersForImport: {
      schema: sdk.GetParametersForImport$,
      action: 'kms:GetParametersForImport',
      audit: keyAudit<GetParametersForImportRequest>({ request: (i) => ({ keyId: i.KeyId, wrappingAlgorithm: i.WrappingAlgorithm, wrappingKeySpec: i.WrappingKeySpec }) }),
      async handler(input: GetParametersForImportRequest, ctx): Promise<GetParametersForImportResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.WrappingAlgorithm, 'wrappingAlgorithm')
          .oneOf(input.WrappingAlgorithm, 'wrappingAlgorithm', WRAP_ALGS).required(input.WrappingKeySpec, 'wrappingKeySpec').oneOf(input.WrappingKeySpec, 'wrappingKeySpec', WRAP_SPECS).done();
        const r = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, r.key.arn);
        await kms.access.authorize(ctx, r, 'GetParametersForImport');
        requireExternal(r.key);
        requireState(r.key);
        const bits = Number((input.WrappingKeySpec as string).slice(4));
        const { privateKey, publicKey } = await genKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 });
        const der = privateKey.export({ format: 'der', type: 'pkcs8' });
        const token = Buffer.concat([Buffer.from('HIT1'), randomBytes(60)]);
        const validTo = new Date(ctx.clock.nowMs() + TOKEN_TTL_MS);
        const params: ImportParams = { token, algorithm: input.WrappingAlgorithm as AlgorithmSpec, sealedWrappingKey: kms.store.seal(r.key.keyId, `import:${token.toString('hex')}`, der), validTo };
        der.fill(0);
        await kms.store.write((tx) => tx.put(NS_IMPORT, keyKey(r.key.region, r.key.keyId), params));
        return { KeyId: r.key.arn, ImportToken: token, PublicKey: publicKey.export({ format: 'der', type: 'spki' }), ParametersValidTo: validTo };
      },
    },
    ImportKeyMaterial: {
      schema: sdk.ImportKeyMaterial$,
      action: 'kms:ImportKeyMaterial',
      audit: keyAudit<ImportKeyMaterialRequest, ImportKeyMaterialResponse>({
        request: (i) => ({ keyId: i.KeyId, ...(i.ValidTo ? { validTo: i.ValidTo } : {}), expirationModel: i.ExpirationModel ?? (i.ValidTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE') }),
        response: (o) => ({ keyId: o.KeyId, keyMaterialId: o.KeyMaterialId }),
      }),
      async handler(input: ImportKeyMaterialRequest, ctx): Promise<ImportKeyMaterialResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).required(input.ImportToken, 'importToken').length(input.ImportToken, 'importToken', 1, 6144)
          .required(input.EncryptedKeyMaterial, 'encryptedKeyMaterial').length(input.EncryptedKeyMaterial, 'encryptedKeyMaterial', 1, 6144)
          .oneOf(input.ExpirationModel, 'expirationModel', ['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE']).done();
        const model = input.ExpirationModel ?? (input.ValidTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE');
        if (model === 'KEY_MATERIAL_EXPIRES' && !input.ValidTo) throw invalid('A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES');
        if (model === 'KEY_MATERIAL_DOES_NOT_EXPIRE' && input.ValidTo) throw invalid('A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE');
        const now = ctx.clock.nowMs();
        if (input.ValidTo && (input.ValidTo.getTime() <= now || input.ValidTo.getTime() > now + MAX_VALID_MS)) {
          throw invalid('ValidTo must be in the future and no more than 365 days from now.');
        }
        const r = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, r.key.arn);
        await kms.access.authorize(ctx, r, 'ImportKeyMaterial');
        requireExternal(r.key);
        requireState(r.key);
        const params = await kms.store.read((tx) => tx.get<ImportParams>(NS_IMPORT, keyKey(r.key.region, r.key.keyId)));
        const token = Buffer.from(input.ImportToken as Uint8Array);
        if (!params || !token.equals(Buffer.from(params.token))) throw kmsError('InvalidImportTokenException', 'The import token is invalid.');
        if (params.validTo.getTime() <= now) throw kmsError('ExpiredImportTokenException', 'The import token has expired.');
        let raw: Buffer;
        try {
          const der = kms.store.unsealRaw(r.key.keyId, `import:${token.toString('hex')}`, params.sealedWrappingKey);
          raw = unwrap(params.algorithm, der, input.EncryptedKeyMaterial as Uint8Array);
        } catch {
          throw kmsError('InvalidCiphertextException', 'The wrapped key material could not be decrypted with the import parameters.');
        }
        const info = specInfo(r.key.keySpec);
        let pub: Buffer | undefined;
        try {
          pub = info ? publicKeyDer(loadMaterial(info, raw)) : undefined;
        } catch {
          throw kmsError('IncorrectKeyMaterialException', `The key material is not valid for key spec ${r.key.keySpec}.`);
        }
        // Material ids of imported material come from the material itself, so re-importing it revives old ciphertexts.
        const fp = kms.store.fingerprint(raw);
        const id = fp.subarray(0, 16).toString('hex');
        const sealed = kms.store.seal(r.key.keyId, id, raw);
        raw.fill(0);
        const k = await setState(kms, ctx, input.KeyId, 'ImportKeyMaterial', (k) => {
          if (k.importFingerprint !== undefined && k.importFingerprint !== fp.toString('hex')) {
            throw kmsError('IncorrectKeyMaterialException', 'The key material in the request is not the key material that was previously imported into this KMS key.');
          }
          k.importFingerprint = fp.toString('hex');
          k.materials = [{ id, sealed, createdAt: ctx.clock.now(), ...(input.ValidTo ? { validTo: input.ValidTo } : {}) }];
          k.currentMaterialId = id;
          k.expirationModel = model;
          if (input.ValidTo) k.validTo = input.ValidTo;
          else delete k.validTo;
          if (pub) k.publicKey = pub;
          if (k.state === 'PendingImport') k.state = 'Enabled';
        });
        kms.store.dropMaterial(k.keyId);
        return { KeyId: k.arn, KeyMaterialId: id };
      },
    },
    DeleteImportedKeyMaterial: {
      schema: sdk.DeleteImportedKeyMaterial$,
      action: 'kms:DeleteImportedKeyMaterial',
      audit: keyAudit(),
      async handler(input: DeleteImportedKeyMaterialRequest, ctx): Promise<DeleteImportedKeyMaterialResponse> {
        let was: string | undefined;
        const k = await setState(kms, ctx, input.KeyId, 'DeleteImportedKeyMaterial', (k) => {
          requireExternal(k);
          requireState(k);
          was = k.currentMaterialId;
          k.materials = [];
          delete k.currentMaterialId;
          delete k.validTo;
          delete k.expirationModel;
          if (k.state === 'Enabled' || k.state === 'Disabled') k.state = 'PendingImport';
        });
        kms.store.dropMaterial(k.keyId);
        return { KeyId: k.arn, ...(was ? { KeyMaterialId: was } : {}) };
      },
    },
  };
}
