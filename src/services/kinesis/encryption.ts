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
import type { RequestContext } from '../../server/context.js';
import type { KinesisCore } from './core.js';
import { kinesisError } from './errors.js';
import { NS_STREAM, type StreamMeta } from './model.js';

/** What Kinesis needs from KMS. Errors are AwsErrors with KMS's codes (KMSNotFoundException …). */
export interface StreamKms {
  generateDataKey(keyId: string, ctx: RequestContext): Promise<{ keyArn: string; plaintext: Uint8Array; ciphertext: Uint8Array }>;
  decrypt(ciphertext: Uint8Array, keyId: string, ctx: Pick<RequestContext, 'accountId' | 'region'>): Promise<Uint8Array>;
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
  async newDataKey(keyId: string, ctx: RequestContext): Promise<{ ref: string; blob: Uint8Array; keyArn: string }> {
    const dk = await this.kms.generateDataKey(keyId, ctx);
    const ref = randomBytes(6).toString('hex');
    this.keys.set(ref, recordKey(ref, dk.plaintext));
    return { ref, blob: dk.ciphertext, keyArn: dk.keyArn };
  }

  /** The key a put must use for the stream's current encryption. */
  async keyFor(name: string, enc: StreamMeta['encryption']): Promise<RecordKey | undefined> {
    if (enc.type !== 'KMS' || enc.ref === undefined) {
      this.current.set(name, undefined);
      return undefined;
    }
    const s = await this.core.store.read((tx) => tx.get<StreamMeta>(NS_STREAM, name));
    if (!s) return undefined;
    const [k] = (await this.keysFor(s, [enc.ref])).values();
    this.current.set(name, k);
    return k;
  }

  async keysFor(s: StreamMeta, refs: (string | undefined)[]): Promise<Map<string, RecordKey>> {
    const out = new Map<string, RecordKey>();
    for (const ref of new Set(refs)) {
      if (ref === undefined) continue;
      let k = this.keys.get(ref);
      if (!k) {
        const entry = s.dataKeys?.[ref];
        if (!entry) throw kinesisError('InternalFailureException', `Data key ${ref} of stream ${s.name} is missing.`);
        const plain = await this.kms.decrypt(entry.blob, entry.keyId, { accountId: this.core.account, region: this.core.region });
        k = recordKey(ref, plain);
        this.keys.set(ref, k);
      }
      out.set(ref, k);
    }
    return out;
  }
}
