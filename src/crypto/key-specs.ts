import type { EncapsulationAlgorithmSpec, KeySpec, KeyUsageType, MacAlgorithmSpec, SigningAlgorithmSpec, EncryptionAlgorithmSpec, KeyAgreementAlgorithmSpec } from '@aws-sdk/client-kms';

/** What a key spec is and what it can do, as AWS documents it. */
export interface SpecInfo {
  kind: 'symmetric' | 'hmac' | 'rsa' | 'ec' | 'ed25519' | 'ml-dsa' | 'ml-kem';
  usages: readonly KeyUsageType[];
  /** RSA modulus bits, HMAC key bits. */
  bits?: number;
  /** node:crypto curve name. */
  curve?: string;
  /** ML-DSA / ML-KEM parameter set. */
  level?: 44 | 65 | 87 | 512 | 768 | 1024;
  signing?: readonly SigningAlgorithmSpec[];
  encryption?: readonly EncryptionAlgorithmSpec[];
  mac?: readonly MacAlgorithmSpec[];
  agreement?: readonly KeyAgreementAlgorithmSpec[];
  encapsulation?: readonly EncapsulationAlgorithmSpec[];
}

const RSA_SIGN: readonly SigningAlgorithmSpec[] = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
];
const RSA_ENC: readonly EncryptionAlgorithmSpec[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];
const rsa = (bits: number): SpecInfo => ({ kind: 'rsa', bits, usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], signing: RSA_SIGN, encryption: RSA_ENC });
const ec = (curve: string, alg: SigningAlgorithmSpec, agreement: boolean): SpecInfo => ({
  kind: 'ec',
  curve,
  usages: agreement ? ['SIGN_VERIFY', 'KEY_AGREEMENT'] : ['SIGN_VERIFY'],
  signing: [alg],
  ...(agreement ? { agreement: ['ECDH'] as const } : {}),
});
const hmac = (bits: number): SpecInfo => ({ kind: 'hmac', bits, usages: ['GENERATE_VERIFY_MAC'], mac: [`HMAC_SHA_${bits}` as MacAlgorithmSpec] });
const mldsa = (level: 44 | 65 | 87): SpecInfo => ({ kind: 'ml-dsa', level, usages: ['SIGN_VERIFY'], signing: ['ML_DSA_SHAKE_256'] });
const mlkem = (level: 512 | 768 | 1024): SpecInfo => ({ kind: 'ml-kem', level, usages: ['ENCAPSULATE_DECAPSULATE'], encapsulation: ['ML_KEM'] });

export const KEY_SPECS: Readonly<Partial<Record<KeySpec, SpecInfo>>> = {
  SYMMETRIC_DEFAULT: { kind: 'symmetric', usages: ['ENCRYPT_DECRYPT'], encryption: ['SYMMETRIC_DEFAULT'] },
  RSA_2048: rsa(2048),
  RSA_3072: rsa(3072),
  RSA_4096: rsa(4096),
  ECC_NIST_P256: ec('prime256v1', 'ECDSA_SHA_256', true),
  ECC_NIST_P384: ec('secp384r1', 'ECDSA_SHA_384', true),
  ECC_NIST_P521: ec('secp521r1', 'ECDSA_SHA_512', true),
  ECC_SECG_P256K1: ec('secp256k1', 'ECDSA_SHA_256', false),
  ECC_NIST_EDWARDS25519: { kind: 'ed25519', usages: ['SIGN_VERIFY'], signing: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] },
  ML_DSA_44: mldsa(44),
  ML_DSA_65: mldsa(65),
  ML_DSA_87: mldsa(87),
  ML_KEM_512: mlkem(512),
  ML_KEM_768: mlkem(768),
  ML_KEM_1024: mlkem(1024),
  HMAC_224: hmac(224),
  HMAC_256: hmac(256),
  HMAC_384: hmac(384),
  HMAC_512: hmac(512),
};

/** The key specs hanul serves, in the order AWS's validation messages list them. */
export const SUPPORTED_KEY_SPECS = Object.keys(KEY_SPECS) as KeySpec[];

export function specInfo(spec: string): SpecInfo | undefined {
  return (KEY_SPECS as Record<string, SpecInfo | undefined>)[spec];
}

/** Hash behind a signing algorithm (node:crypto name) and its digest length. */
export function signingHash(alg: SigningAlgorithmSpec): { hash: string; length: number } | undefined {
  if (alg.endsWith('SHA_256')) return { hash: 'sha256', length: 32 };
  if (alg.endsWith('SHA_384')) return { hash: 'sha384', length: 48 };
  if (alg.endsWith('SHA_512')) return { hash: 'sha512', length: 64 };
  return undefined;
}

/** RSAES-OAEP's plaintext cap: k - 2·hLen - 2 (AWS's documented limits). */
export function oaepMaxPlaintext(bits: number, alg: EncryptionAlgorithmSpec): number {
  const hLen = alg === 'RSAES_OAEP_SHA_1' ? 20 : 32;
  return bits / 8 - 2 * hLen - 2;
}
