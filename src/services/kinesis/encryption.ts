/**
 * Server-side encryption of records with a KMS key.
 *
 * When a stream's encryption starts, Kinesis asks KMS for a data key under
 * the customer's key (GenerateDataKey) and keeps only the KMS ciphertext of
 * it in the stream's metadata (`dataKeys`, by a short ref). Record data is
 * sealed with AES-256-GCM under that data key (iv ‖ ciphertext ‖ tag) and
 * stored with the ref; reading asks KMS to Decrypt the data key once and
 * caches the plaintext in memory. Stopping encryption leaves old records
 * readable (their refs stay in `dataKeys`).
 *
 * KMS is reached through the `StreamKms` port, which index.ts binds to
 * hanul's KMS service; without one, StartStreamEncryption answers a clear
 * error instead of pretending.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DecryptResponse, GenerateDataKeyResponse } from '@aws-sdk/client-kms';
import { isAwsError } from '../../aws/errors.js';
import type { PeerServices, RequestContext } from '../../server/context.js';
import type { KinesisCore } from './core.js';
import { kinesisError, type KinesisErrorCode } from './errors.js';
import { NS_STREAM, type StreamMeta } from './model.js';

/**
 * What Kinesis needs from KMS, on behalf of the caller. The stream's ARN is
 * the encryption context (so KMS's audit trail names the stream). Errors are
 * Kinesis's KMS* errors (KMSNotFoundException, KMSDisabledException …).
 */
export interface StreamKms {
  generateDataKey(keyId: string, streamArn: string, ctx: RequestContext): Promise<{ keyArn: string; plaintext: Uint8Array; ciphertext: Uint8Array }>;
  decrypt(ciphertext: Uint8Array, keyId: string, streamArn: string, ctx: RequestContext): Promise<Uint8Array>;
}

/** KMS's error codes as Kinesis reports them. */
const KMS_ERRORS: Record<string, KinesisErrorCode> = {
  NotFoundException: 'KMSNotFoundException',
  DisabledException: 'KMSDisabledException',
  KMSInvalidStateException: 'KMSInvalidStateException',
  AccessDeniedException: 'KMSAccessDeniedException',
  ThrottlingException: 'KMSThrottlingException',
  LimitExceededException: 'KMSThrottlingException',
  InvalidKeyUsageException: 'KMSInvalidStateException',
  KMSOptInRequired: 'KMSOptInRequired',
};

function asKinesisError(e: unknown): unknown {
  if (!isAwsError(e)) return e;
  const code = KMS_ERRORS[e.code];
  return code ? kinesisError(code, e.message) : kinesisError('KMSInvalidStateException', `${e.code}: ${e.message}`);
}

/** StreamKms over hanul's own KMS service, called in-process as the caller. */
export function kmsViaPeers(peers: PeerServices): StreamKms {
  return {
    async generateDataKey(keyId, streamArn, ctx) {
      try {
        const r = await peers.call<GenerateDataKeyResponse>('kms', 'GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { 'aws:kinesis:arn': streamArn } }, ctx);
        return { keyArn: r.KeyId as string, plaintext: r.Plaintext as Uint8Array, ciphertext: r.CiphertextBlob as Uint8Array };
      } catch (e) {
        throw asKinesisError(e);
      }
    },
    async decrypt(blob, keyId, streamArn, ctx) {
      try {
        const r = await peers.call<DecryptResponse>('kms', 'Decrypt', { CiphertextBlob: blob, KeyId: keyId, EncryptionContext: { 'aws:kinesis:arn': streamArn } }, ctx);
        return r.Plaintext as Uint8Array;
      } catch (e) {
        throw asKinesisError(e);
      }
    },
  };
}

export interface RecordKey {
  ref: string;
  encrypt(data: Uint8Array): Uint8Array;
  decrypt(sealed: Uint8Array): Uint8Array;
}

/** Thrown inside a put's transaction when the stream's encryption is not what the put prepared for. */
export class EncryptionChanged extends Error {
  constructor(readonly encryption: StreamMeta['encryption']) {
    super('stream encryption changed');
  }
}

export function recordKey(ref: string, key: Uint8Array): RecordKey {
  return {
    ref,
    encrypt(data) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = c.update(data);
      const rest = c.final();
      return Buffer.concat([iv, body, rest, c.getAuthTag()]);
    },
    decrypt(sealed) {
      const b = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
      d.setAuthTag(b.subarray(b.length - 16));
      return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
    },
  };
}

export class StreamCrypto {
  /** Plaintext data keys by ref (never stored). */
  private readonly keys = new Map<string, RecordKey>();
  /** The current key of each stream name, as this process last saw it. */
  private readonly current = new Map<string, RecordKey | undefined>();

  constructor(
    private readonly core: KinesisCore,
    readonly kms: StreamKms,
  ) {}

  cached(name: string): RecordKey | undefined {
    return this.current.get(name);
  }

  /** Makes a fresh data key under `keyId` (a KMS call): the ref and blob to keep in the stream. */
  async newDataKey(keyId: string, streamArn: string, ctx: RequestContext): Promise<{ ref: string; blob: Uint8Array; keyArn: string }> {
    const dk = await this.kms.generateDataKey(keyId, streamArn, ctx);
    const ref = randomBytes(6).toString('hex');
    this.keys.set(ref, recordKey(ref, dk.plaintext));
    return { ref, blob: dk.ciphertext, keyArn: dk.keyArn };
  }

  /** The key a put must use for the stream's current encryption. */
  async keyFor(name: string, enc: StreamMeta['encryption'], ctx: RequestContext): Promise<RecordKey | undefined> {
    if (enc.type !== 'KMS' || enc.ref === undefined) {
      this.current.set(name, undefined);
      return undefined;
    }
    const s = await this.core.store.read((tx) => tx.get<StreamMeta>(NS_STREAM, name));
    if (!s) return undefined;
    const [k] = (await this.keysFor(s, [enc.ref], ctx)).values();
    this.current.set(name, k);
    return k;
  }

  async keysFor(s: StreamMeta, refs: (string | undefined)[], ctx: RequestContext): Promise<Map<string, RecordKey>> {
    const out = new Map<string, RecordKey>();
    for (const ref of new Set(refs)) {
      if (ref === undefined) continue;
      let k = this.keys.get(ref);
      if (!k) {
        const entry = s.dataKeys?.[ref];
        if (!entry) throw kinesisError('InternalFailureException', `Data key ${ref} of stream ${s.name} is missing.`);
        const plain = await this.kms.decrypt(entry.blob, entry.keyId, s.arn, ctx);
        k = recordKey(ref, plain);
        this.keys.set(ref, k);
      }
      out.set(ref, k);
    }
    return out;
  }
}
