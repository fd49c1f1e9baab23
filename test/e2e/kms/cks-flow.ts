import assert from 'node:assert/strict';
import {
  ConnectCustomKeyStoreCommand, CreateCustomKeyStoreCommand, CreateKeyCommand, DecryptCommand, DeleteCustomKeyStoreCommand, DescribeCustomKeyStoresCommand, DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand, EncryptCommand, GenerateDataKeyCommand, GenerateRandomCommand, UpdateCustomKeyStoreCommand, type CustomKeyStoresListEntry, type KMSClient,
} from '@aws-sdk/client-kms';
import { waitFor } from '../../support/hanul.js';
import { awsError } from './helpers.js';

/** The custom key store flow through the SDK, shared by the in-memory-token and SoftHSM2 tests. */
export const ANCHOR = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

/** ConnectCustomKeyStore only starts connecting (as AWS): poll DescribeCustomKeyStores for the outcome. */
export async function connectionOutcome(kms: KMSClient, id: string | undefined, want: 'CONNECTED' | 'FAILED' = 'CONNECTED'): Promise<CustomKeyStoresListEntry> {
  return waitFor(async () => {
    const d = (await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores?.[0];
    if (d?.ConnectionState === 'CONNECTING') return undefined;
    assert.equal(d?.ConnectionState, want, `connection state (error code ${String(d?.ConnectionErrorCode)})`);
    return d;
  }, { what: `custom key store ${String(id)} ${want}` });
}

/** Connects and waits: the state right after the call is CONNECTING (or already CONNECTED when the token answers at once). */
export async function connect(kms: KMSClient, id: string | undefined): Promise<void> {
  await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
  await connectionOutcome(kms, id);
}

/** The whole custom key store flow against whatever token `open` reaches. */
export async function exerciseStore(kms: KMSClient, clusterId: string, password: string): Promise<{ id: string; keyId: string; ciphertext: Uint8Array }> {
  const { CustomKeyStoreId: id } = await kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: `store-${clusterId}`, CloudHsmClusterId: clusterId, TrustAnchorCertificate: ANCHOR, KeyStorePassword: password }));
  assert.match(id ?? '', /^cks-[0-9a-f]{17}$/);
  const d0 = await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }));
  assert.equal(d0.CustomKeyStores?.[0]?.ConnectionState, 'DISCONNECTED');
  assert.equal((await awsError(kms.send(new CreateKeyCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreInvalidStateException');
  await connect(kms, id);
  assert.equal((await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreName: `store-${clusterId}` }))).CustomKeyStores?.[0]?.ConnectionState, 'CONNECTED');
  const k = (await kms.send(new CreateKeyCommand({ CustomKeyStoreId: id, Origin: 'AWS_CLOUDHSM' }))).KeyMetadata;
  assert.equal(k?.Origin, 'AWS_CLOUDHSM');
  assert.equal(k?.CustomKeyStoreId, id);
  assert.equal(k?.CloudHsmClusterId, clusterId);
  const enc = await kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new TextEncoder().encode('in the hsm'), EncryptionContext: { a: 'b' } }));
  assert.equal(new TextDecoder().decode((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' } }))).Plaintext), 'in the hsm');
  assert.equal((await awsError(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'c' } })))).name, 'InvalidCiphertextException');
  const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: k?.KeyId, KeySpec: 'AES_256' }));
  assert.equal((await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }))).Plaintext?.length, 32);
  assert.equal((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 16, CustomKeyStoreId: id }))).Plaintext?.length, 16);
  assert.equal((await awsError(kms.send(new CreateKeyCommand({ CustomKeyStoreId: id, KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })))).name, 'UnsupportedOperationException');

  await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
  assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata?.KeyState, 'Unavailable');
  const unavailable = await awsError(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' } })));
  assert.equal(unavailable.name, 'KMSInvalidStateException');
  assert.equal(unavailable.message, `${k?.Arn} is unavailable.`);
  assert.equal((await awsError(kms.send(new GenerateRandomCommand({ NumberOfBytes: 16, CustomKeyStoreId: id })))).name, 'CustomKeyStoreInvalidStateException');
  assert.equal((await awsError(kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreInvalidStateException');
  await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, KeyStorePassword: password }));
  await connect(kms, id);
  assert.equal((await awsError(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, KeyStorePassword: 'x'.repeat(8) })))).name, 'CustomKeyStoreInvalidStateException');
  assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata?.KeyState, 'Enabled');
  assert.equal(new TextDecoder().decode((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' } }))).Plaintext), 'in the hsm');

  assert.equal((await awsError(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreInvalidStateException');
  await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
  assert.equal((await awsError(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreHasCMKsException');
  return { id: id as string, keyId: k?.KeyId as string, ciphertext: enc.CiphertextBlob as Uint8Array };
}

