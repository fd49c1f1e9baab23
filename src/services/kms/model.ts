import type {
  ExpirationModelType,
  KeyMetadata,
  KeySpec,
  KeyState,
  KeyUsageType,
  OriginType,
  RotationType,
  Tag,
} from '@aws-sdk/client-kms';
import { specInfo } from '../../crypto/key-specs.js';

/** One key material of a KMS key (the original, each rotation, each import). */
export interface MaterialRecord {
  /** 32 hex chars; also the id inside every ciphertext it made. */
  id: string;
  /** The material sealed under the root key (envelope.ts); never plaintext. */
  sealed: Uint8Array;
  createdAt: Date;
  /** Set for rotations (not the first material). */
  rotationType?: RotationType;
  /** Imported material: when it expires (clock-enforced). */
  validTo?: Date;
}

/** A KMS key as stored (namespace 'kms:key', key `<region>/<keyId>`). */
export interface KeyRecord {
  keyId: string;
  arn: string;
  accountId: string;
  region: string;
  createdAt: Date;
  description: string;
  keySpec: KeySpec;
  keyUsage: KeyUsageType;
  origin: OriginType;
  state: KeyState;
  deletionDate?: Date;
  pendingWindowDays?: number;
  multiRegion: boolean;
  primaryRegion?: string;
  replicaRegions?: string[];
  policy: string;
  tags: Tag[];
  rotationEnabled: boolean;
  rotationPeriodDays?: number;
  nextRotation?: Date;
  onDemandRotationStartDate?: Date;
  materials: MaterialRecord[];
  /** Undefined while an EXTERNAL key awaits import. */
  currentMaterialId?: string;
  /** DER SPKI of asymmetric keys (public; lets GetPublicKey skip unsealing). */
  publicKey?: Uint8Array;
  expirationModel?: ExpirationModelType;
  validTo?: Date;
  /** 'AWS' for AWS managed keys (alias/aws/<service>); CUSTOMER otherwise. */
  keyManager?: 'AWS' | 'CUSTOMER';
  customKeyStoreId?: string;
  /** The custom key store's CloudHSM cluster (a PKCS#11 token label). */
  cloudHsmClusterId?: string;
  /** While its custom key store is disconnected the key is Unavailable; this is the state to return to. */
  stateBeforeUnavailable?: KeyState;
  /** Keyed fingerprint (hex) of imported material: re-imports must bring the same material. */
  importFingerprint?: string;
  /** Bumped on every write: caches compare it. */
  version: number;
}

export interface AliasRecord {
  aliasName: string;
  targetKeyId: string;
  createdAt: Date;
  updatedAt: Date;
}

export const NS_KEY = 'kms:key';
export const NS_ALIAS = 'kms:alias';
export const NS_GRANT = 'kms:grant';
export const NS_IMPORT = 'kms:import';
export const NS_CKS = 'kms:cks';

export const keyKey = (region: string, keyId: string) => `${region}/${keyId}`;
export const aliasKey = (region: string, alias: string) => `${region}/${alias}`;

export function keyArn(region: string, accountId: string, keyId: string): string {
  return `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}
export function aliasArn(region: string, accountId: string, alias: string): string {
  return `arn:aws:kms:${region}:${accountId}:${alias}`;
}

/** DescribeKey's KeyMetadata, exactly as AWS shapes it per spec and state. */
export function keyMetadata(k: KeyRecord): KeyMetadata {
  const info = specInfo(k.keySpec);
  const m: KeyMetadata = {
    AWSAccountId: k.accountId,
    KeyId: k.keyId,
    Arn: k.arn,
    CreationDate: k.createdAt,
    Enabled: k.state === 'Enabled',
    Description: k.description,
    KeyUsage: k.keyUsage,
    KeyState: k.state,
    Origin: k.origin,
    KeyManager: k.keyManager ?? 'CUSTOMER',
    CustomerMasterKeySpec: k.keySpec as KeyMetadata['CustomerMasterKeySpec'],
    KeySpec: k.keySpec,
    MultiRegion: k.multiRegion,
  };
  if (k.deletionDate) m.DeletionDate = k.deletionDate;
  // AWS: present only while a multi-Region primary waits for its replicas (its deletion date is not known yet).
  if (k.state === 'PendingReplicaDeletion' && k.pendingWindowDays !== undefined) m.PendingDeletionWindowInDays = k.pendingWindowDays;
  if (k.origin === 'EXTERNAL' && k.state !== 'PendingImport' && k.expirationModel) {
    m.ExpirationModel = k.expirationModel;
    if (k.validTo) m.ValidTo = k.validTo;
  }
  if (k.keyUsage === 'ENCRYPT_DECRYPT' && info?.encryption) m.EncryptionAlgorithms = [...info.encryption];
  if (k.keyUsage === 'SIGN_VERIFY' && info?.signing) m.SigningAlgorithms = [...info.signing];
  if (k.keyUsage === 'GENERATE_VERIFY_MAC' && info?.mac) m.MacAlgorithms = [...info.mac];
  if (k.keyUsage === 'KEY_AGREEMENT' && info?.agreement) m.KeyAgreementAlgorithms = [...info.agreement];
  if (k.keyUsage === 'ENCAPSULATE_DECAPSULATE' && info?.encapsulation) m.EncapsulationAlgorithms = [...info.encapsulation];
  if (k.customKeyStoreId) m.CustomKeyStoreId = k.customKeyStoreId;
  if (k.cloudHsmClusterId) m.CloudHsmClusterId = k.cloudHsmClusterId;
  if (k.multiRegion && k.primaryRegion) {
    const arnIn = (r: string) => k.arn.replace(`:kms:${k.region}:`, `:kms:${r}:`);
    m.MultiRegionConfiguration = {
      MultiRegionKeyType: k.primaryRegion === k.region ? 'PRIMARY' : 'REPLICA',
      PrimaryKey: { Arn: arnIn(k.primaryRegion), Region: k.primaryRegion },
      ReplicaKeys: (k.replicaRegions ?? []).map((r) => ({ Arn: arnIn(r), Region: r })),
    };
  }
  if (k.currentMaterialId && (k.keySpec === 'SYMMETRIC_DEFAULT' || k.origin === 'EXTERNAL')) m.CurrentKeyMaterialId = k.currentMaterialId;
  return m;
}

/** The key policy every new key gets unless one is given (AWS's "key-default-1"). */
export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${accountId}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
    null,
    2,
  );
}
