/**
 * AES-256-GCM into caller-provided buffers, from the native addon in
 * native/gcm (a small C file on the OpenSSL inside Node). node:crypto's
 * Cipheriv/Decipheriv allocate a fresh output buffer per update and a new
 * cipher (key expansion included) per message; the addon keeps one
 * EVP_CIPHER_CTX per key and writes straight into the caller's buffer.
 *
 * The addon is optional: when it was not built, fails to load or fails its
 * known-answer self-test, or `useNativeGcm(false)` (HANUL_NATIVE_GCM=off) was
 * called, `nativeGcm()` answers undefined and callers use node:crypto, which
 * stays the reference for the bytes on disk. The switch is process-wide
 * state, set once at start (server/app.ts) and by tests; worker threads are
 * told the choice with each job.
 */
import { createRequire } from 'node:module';

/** One key, for one direction. Never shared between threads (each has its own). */
export interface GcmKey {
  /**
   * Seals `plain` as ciphertext ‖ tag(16) into dst[at…]; returns the bytes
   * written (plain.length + 16). dst may be plain itself (same start), or not
   * overlap it. A wrong length or offset throws RangeError; nothing is written.
   */
  seal(iv: Uint8Array, aad: Uint8Array, plain: Uint8Array, dst: Uint8Array, at: number): number;
  /**
   * Opens `sealed` (ciphertext ‖ tag) into dst[at…]; returns the plaintext
   * length, or -1 when it does not authenticate (then the bytes it would have
   * written are zeroed). Same rules for dst and lengths as seal.
   */
  open(iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array, dst: Uint8Array, at: number): number;
}

export interface NativeGcm {
  /** A key for sealing (`seal`) or opening (`open`); the other method throws. */
  key(key: Uint8Array, seal: boolean): GcmKey;
  /** OpenSSL's version string as the addon sees it. */
  openssl: string;
}

interface Addon {
  Gcm: new (key: Uint8Array, seal: boolean) => GcmKey;
  openssl: string;
}

/** Why the addon is not in use, when it is not (for the startup log and tests). */
export let nativeGcmError: string | undefined;

function load(): NativeGcm | undefined {
  let addon: Addon;
  try {
    // dist/src/crypto/ → the repo root's native/gcm.
    addon = createRequire(import.meta.url)('../../../native/gcm/index.cjs') as Addon;
  } catch (e) {
    nativeGcmError = `not loaded: ${(e as Error).message.split('\n')[0] ?? ''}`;
    return undefined;
  }
  const impl: NativeGcm = { key: (key, seal) => new addon.Gcm(key, seal), openssl: addon.openssl };
  if (!selfTest(impl)) {
    nativeGcmError = 'failed its known-answer test';
    return undefined;
  }
  return impl;
}

const hex = (s: string) => Buffer.from(s, 'hex');
/** The GCM specification's test case 16 (AES-256, 60-byte plaintext, 20-byte AAD). */
export const GCM_TEST_CASE_16 = {
  key: hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308'),
  iv: hex('cafebabefacedbaddecaf888'),
  aad: hex('feedfacedeadbeeffeedfacedeadbeefabaddad2'),
  plain: hex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39'),
  cipher: hex('522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662'),
  tag: hex('76fc6ece0f4e1768cddf8853bb2d551b'),
};

function selfTest(impl: NativeGcm): boolean {
  try {
    const v = GCM_TEST_CASE_16;
    const sealed = Buffer.alloc(v.plain.length + 16);
    const n = impl.key(v.key, true).seal(v.iv, v.aad, v.plain, sealed, 0);
    if (n !== sealed.length || !sealed.equals(Buffer.concat([v.cipher, v.tag]))) return false;
    const plain = Buffer.alloc(v.plain.length);
    if (impl.key(v.key, false).open(v.iv, v.aad, sealed, plain, 0) !== plain.length || !plain.equals(v.plain)) return false;
    sealed[0] = (sealed[0] as number) ^ 1;
    return impl.key(v.key, false).open(v.iv, v.aad, sealed, plain, 0) === -1;
  } catch {
    return false;
  }
}

let loaded: NativeGcm | undefined | null = null;
let enabled = true;

/** Turns the addon off (node:crypto is used) or back on (if it loads). */
export function useNativeGcm(on: boolean): void {
  enabled = on;
}

/** The addon, when it is loaded and switched on. */
export function nativeGcm(): NativeGcm | undefined {
  if (!enabled) return undefined;
  if (loaded === null) loaded = load();
  return loaded;
}
