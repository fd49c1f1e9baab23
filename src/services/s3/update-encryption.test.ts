/**
 * UpdateObjectEncryption's one-transaction commit: when the object changes
 * between the read and the commit (an overwrite while KMS re-wraps), the
 * stale keys are never stored — the update starts over on the new object, and
 * gives up with 409 if the object keeps changing. A stand-in KMS (peers).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, UpdateObjectEncryptionCommand } from '@aws-sdk/client-s3';
import type { PeerServices } from '../../server/context.js';
import { type S3Harness, s3Failure, startS3Harness } from './test-harness.js';

const KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555';

describe('s3 UpdateObjectEncryption: an object changed meanwhile', () => {
  let h: S3Harness;
  let encrypts = 0;
  /** Runs inside KMS Encrypt, between the update's read and its commit. */
  let meanwhile: (() => Promise<void>) | undefined;
  const tag = Buffer.from('fake-kms:');
  const peers: PeerServices = {
    async call<O>(service: string, operation: string, input: unknown): Promise<O> {
      assert.equal(service, 'kms');
      const i = input as { KeyId?: string; Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array };
      if (operation === 'Encrypt') {
        encrypts++;
        await meanwhile?.();
        return { KeyId: i.KeyId, CiphertextBlob: Buffer.concat([tag, i.Plaintext as Uint8Array]) } as O;
      }
      if (operation === 'Decrypt') return { KeyId: i.KeyId, Plaintext: Buffer.from(i.CiphertextBlob as Uint8Array).subarray(tag.length) } as O;
      throw new Error(`unexpected ${operation}`);
    },
    async resourcePolicy() {
      return undefined;
    },
  };

  before(async () => {
    h = await startS3Harness({ peers });
    await h.client.send(new CreateBucketCommand({ Bucket: 'race' }));
  });
  after(async () => {
    await h.close();
  });

  const update = (Key: string) => h.client.send(new UpdateObjectEncryptionCommand({ Bucket: 'race', Key, ObjectEncryption: { SSEKMS: { KMSKeyArn: KEY_ARN } } }));
  const text = async (Key: string) => (await h.client.send(new GetObjectCommand({ Bucket: 'race', Key }))).Body!.transformToString();

  it('an overwrite during the re-wrap: the update starts over and encrypts the new object; both read back', async () => {
    await h.client.send(new PutObjectCommand({ Bucket: 'race', Key: 'k', Body: 'first' }));
    encrypts = 0;
    let once = true;
    meanwhile = async () => {
      if (!once) return;
      once = false;
      await h.client.send(new PutObjectCommand({ Bucket: 'race', Key: 'k', Body: 'second, with its own data key' }));
    };
    try {
      await update('k');
    } finally {
      meanwhile = undefined;
    }
    assert.equal(encrypts, 2);
    const head = await h.client.send(new HeadObjectCommand({ Bucket: 'race', Key: 'k' }));
    assert.deepEqual([head.ServerSideEncryption, head.SSEKMSKeyId], ['aws:kms', KEY_ARN]);
    assert.equal(await text('k'), 'second, with its own data key');
  });

  it('an object that keeps changing: 409 ConditionalRequestConflict after three tries, and the last write stands as it was', async () => {
    await h.client.send(new PutObjectCommand({ Bucket: 'race', Key: 'busy', Body: 'v0' }));
    encrypts = 0;
    let n = 0;
    meanwhile = async () => {
      await h.client.send(new PutObjectCommand({ Bucket: 'race', Key: 'busy', Body: `v${++n}` }));
    };
    let f: Awaited<ReturnType<typeof s3Failure>>;
    try {
      f = await s3Failure(update('busy'));
    } finally {
      meanwhile = undefined;
    }
    assert.deepEqual([f.name, f.status], ['ConditionalRequestConflict', 409]);
    assert.equal(encrypts, 3);
    assert.equal((await h.client.send(new HeadObjectCommand({ Bucket: 'race', Key: 'busy' }))).ServerSideEncryption, 'AES256');
    assert.equal(await text('busy'), 'v3');
  });
});
