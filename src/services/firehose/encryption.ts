/**
 * Server-side encryption of buffered records with hanul's KMS.
 * StartDeliveryStreamEncryption asks KMS for a data key under the chosen key
 * (CUSTOMER_MANAGED_CMK: KeyARN; AWS_OWNED_CMK: hanul's `alias/aws/firehose`)
 * and keeps only its KMS ciphertext in the stream record; records are sealed
 * with AES-256-GCM (iv ‖ ciphertext ‖ tag) under it while they wait in the
 * buffer, and opened at delivery. Stopping leaves old records readable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DecryptResponse, GenerateDataKeyResponse } from '@aws-sdk/client-kms';
import type {
  DeliveryStreamEncryptionConfigurationInput,
  StartDeliveryStreamEncryptionInput,
  StopDeliveryStreamEncryptionInput,
} from '@aws-sdk/client-firehose';
import { isAwsError } from '../../aws/errors.js';
import type { RequestContext } from '../../server/context.js';
import type { FirehoseCore } from './core.js';
import { firehoseError } from './errors.js';
import { NS_STREAM, type DeliveryStreamMeta } from './model.js';
import { checkStreamName } from './validate.js';

export interface Sealer {
  ref: string;
  seal(data: Uint8Array): Uint8Array;
}

function kmsFailure(e: unknown): unknown {
  return isAwsError(e) ? firehoseError('InvalidKMSResourceException', `${e.code}: ${e.message}`) : e;
}

export class StreamEncryption {
  /** Plaintext data keys by ref, decrypted once. */
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly core: FirehoseCore) {}

  private context(meta: DeliveryStreamMeta) {
    return { 'aws:firehose:arn': meta.arn };
  }

  private async dataKey(meta: DeliveryStreamMeta, ref: string, ctx: RequestContext): Promise<Buffer> {
    const hit = this.keys.get(ref);
    if (hit) return hit;
    const entry = meta.dataKeys?.[ref];
    if (!entry || !this.core.peers) throw firehoseError('InvalidKMSResourceException', `The data key ${ref} of Firehose ${meta.name} is not available.`);
    try {
      const r = await this.core.peers.call<DecryptResponse>('kms', 'Decrypt', { CiphertextBlob: entry.ciphertext, KeyId: entry.keyArn, EncryptionContext: this.context(meta) }, ctx);
      const k = Buffer.from(r.Plaintext as Uint8Array);
      this.keys.set(ref, k);
      return k;
    } catch (e) {
      throw kmsFailure(e);
    }
  }

  async sealer(meta: DeliveryStreamMeta, ctx: RequestContext): Promise<Sealer | undefined> {
    const ref = meta.currentKeyRef;
    if (!ref) return undefined;
    const key = await this.dataKey(meta, ref, ctx);
    return {
      ref,
      seal(data) {
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', key, iv);
        return Buffer.concat([iv, c.update(data), c.final(), c.getAuthTag()]);
      },
    };
  }

  async open(meta: DeliveryStreamMeta, ref: string, sealed: Uint8Array, ctx: RequestContext): Promise<Uint8Array> {
    const key = await this.dataKey(meta, ref, ctx);
    const b = Buffer.from(sealed);
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
    d.setAuthTag(b.subarray(b.length - 16));
    return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
  }

  async start(name: string, input: DeliveryStreamEncryptionConfigurationInput, ctx: RequestContext): Promise<void> {
    const type = input.KeyType;
    if (type !== 'AWS_OWNED_CMK' && type !== 'CUSTOMER_MANAGED_CMK') throw firehoseError('InvalidArgumentException', `KeyType ${String(type)} is not valid: AWS_OWNED_CMK or CUSTOMER_MANAGED_CMK.`);
    if (type === 'CUSTOMER_MANAGED_CMK' && !input.KeyARN) throw firehoseError('InvalidArgumentException', 'KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.');
    if (type === 'AWS_OWNED_CMK' && input.KeyARN) throw firehoseError('InvalidArgumentException', 'KeyARN must not be specified when KeyType is AWS_OWNED_CMK.');
    const meta = await this.core.store.read((tx) => this.core.getStream(tx, name));
    if (meta.type === 'KinesisStreamAsSource') throw firehoseError('InvalidArgumentException', `Firehose ${name} has a Kinesis stream as its source: encryption is configured on the Kinesis stream.`);
    if (!this.core.peers) throw firehoseError('InvalidKMSResourceException', 'KMS is not available.');
    let r: GenerateDataKeyResponse;
    try {
      r = await this.core.peers.call<GenerateDataKeyResponse>('kms', 'GenerateDataKey', { KeyId: input.KeyARN ?? 'alias/aws/firehose', KeySpec: 'AES_256', EncryptionContext: this.context(meta) }, ctx);
    } catch (e) {
      throw kmsFailure(e);
    }
    const ref = randomBytes(6).toString('hex');
    this.keys.set(ref, Buffer.from(r.Plaintext as Uint8Array));
    await this.core.store.write(async (tx) => {
      const s = await this.core.getStream(tx, name);
      s.dataKeys = { ...s.dataKeys, [ref]: { keyArn: r.KeyId as string, ciphertext: r.CiphertextBlob as Uint8Array } };
      s.currentKeyRef = ref;
      s.encryption = { KeyARN: r.KeyId, KeyType: type, Status: 'ENABLED' };
      await tx.put(NS_STREAM, name, s);
    });
  }

  handlers() {
    return {
      StartDeliveryStreamEncryption: async (input: StartDeliveryStreamEncryptionInput, ctx: RequestContext): Promise<Record<string, never>> => {
        const name = checkStreamName(input.DeliveryStreamName);
        await this.start(name, input.DeliveryStreamEncryptionConfigurationInput ?? { KeyType: 'AWS_OWNED_CMK' }, ctx);
        return {};
      },
      StopDeliveryStreamEncryption: async (input: StopDeliveryStreamEncryptionInput): Promise<Record<string, never>> => {
        const name = checkStreamName(input.DeliveryStreamName);
        await this.core.store.write(async (tx) => {
          const s = await this.core.getStream(tx, name);
          if (s.type === 'KinesisStreamAsSource') throw firehoseError('InvalidArgumentException', `Firehose ${name} has a Kinesis stream as its source.`);
          delete s.currentKeyRef;
          s.encryption = { ...(s.encryption?.KeyARN ? { KeyARN: s.encryption.KeyARN } : {}), ...(s.encryption?.KeyType ? { KeyType: s.encryption.KeyType } : {}), Status: 'DISABLED' };
          await tx.put(NS_STREAM, name, s);
        });
        return {};
      },
    };
  }
}
