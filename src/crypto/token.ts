/**
 * A key store whose keys never leave it (an HSM token): KMS custom key
 * stores keep their keys here and ask it to encrypt and decrypt. The PKCS#11
 * implementation is in pkcs11-token.ts; tests may supply another.
 */
export interface KeyToken {
  /** Generates a non-extractable AES-256 key inside the token, named by `label`. */
  generateAesKey(label: string): Promise<void>;
  /** AES-256-GCM inside the token: returns ciphertext ‖ 16-byte tag. Throws when the key is missing. */
  encrypt(label: string, iv: Buffer, aad: Buffer, plaintext: Uint8Array): Promise<Buffer>;
  /** Throws when the tag does not verify or the key is missing. */
  decrypt(label: string, iv: Buffer, aad: Buffer, ciphertextAndTag: Buffer): Promise<Buffer>;
  random(bytes: number): Promise<Buffer>;
  destroyKey(label: string): Promise<void>;
  close(): Promise<void>;
}

export type TokenErrorCode = 'CLUSTER_NOT_FOUND' | 'INVALID_CREDENTIALS' | 'NETWORK_ERRORS' | 'INTERNAL_ERROR' | 'USER_LOGGED_IN' | 'USER_LOCKED_OUT' | 'USER_NOT_FOUND';

/** Why a token could not be opened, in the words of ConnectionErrorCode. */
export class TokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Opens the token a custom key store names (CloudHSM cluster id → token label) with its password (the user PIN). */
export type OpenToken = (tokenLabel: string, password: string) => Promise<KeyToken>;
