import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  ConnectCustomKeyStoreCommand, CreateCustomKeyStoreCommand, CreateKeyCommand, DecryptCommand, DeleteCustomKeyStoreCommand, DescribeCustomKeyStoresCommand, DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand, EncryptCommand, GenerateDataKeyCommand, GenerateRandomCommand, UpdateCustomKeyStoreCommand, type KMSClient,
} from '@aws-sdk/client-kms';
import { loadPkcs11Binding, pkcs11Opener } from '../../../src/crypto/pkcs11-token.js';
import { TokenError, type KeyToken, type OpenToken } from '../../../src/crypto/token.js';
import { awsError, startKms, type KmsFixture } from './helpers.js';

const run = promisify(execFile);
const ANCHOR = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

/** An in-memory token: keys are created inside and never handed out. */
function fakeTokens(): { open: OpenToken; opened: number; keyCount(): number } {
  const keys = new Map<string, Buffer>();
  const state = { opened: 0 };
  const open: OpenToken = (label, password) => {
    if (label !== 'cluster-fake0001') return Promise.reject(new TokenError('CLUSTER_NOT_FOUND', 'no such token'));
    if (password !== 'kmsuser-pass') return Promise.reject(new TokenError('INVALID_CREDENTIALS', 'bad pin'));
    state.opened++;
    let open = true;
    const key = (l: string) => {
      const k = keys.get(l);
      if (!k || !open) throw new Error('no key');
      return k;
    };
    const token: KeyToken = {
      generateAesKey: (l) => (keys.set(l, randomBytes(32)), Promise.resolve()),
      encrypt(l, iv, aad, pt) {
        const c = createCipheriv('aes-256-gcm', key(l), iv).setAAD(aad);
        return Promise.resolve(Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]));
      },
      decrypt(l, iv, aad, data) {
        const d = createDecipheriv('aes-256-gcm', key(l), iv).setAAD(aad);
        d.setAuthTag(data.subarray(data.length - 16));
        return Promise.resolve(Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]));
      },
      random: (n) => Promise.resolve(randomBytes(n)),
      destroyKey: (l) => (keys.delete(l), Promise.resolve()),
      close: () => ((open = false), Promise.resolve()),
    };
    return Promise.resolve(token);
  };
  return { open, get opened() { return state.opened; }, keyCount: () => keys.size };
}

/** The whole custom key store flow against whatever token `open` reaches. */
async function exerciseStore(kms: KMSClient, clusterId: string, password: string): Promise<void> {
  const { CustomKeyStoreId: id } = await kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: `store-${clusterId}`, CloudHsmClusterId: clusterId, TrustAnchorCertificate: ANCHOR, KeyStorePassword: password }));
  assert.match(id ?? '', /^cks-[0-9a-f]{17}$/);
  const d0 = await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }));
  assert.equal(d0.CustomKeyStores?.[0]?.ConnectionState, 'DISCONNECTED');
  assert.equal((await awsError(kms.send(new CreateKeyCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreInvalidStateException');
  await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
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
  await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, KeyStorePassword: password }));
  await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
  assert.equal((await awsError(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, KeyStorePassword: 'x'.repeat(8) })))).name, 'CustomKeyStoreInvalidStateException');
  assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k?.KeyId }))).KeyMetadata?.KeyState, 'Enabled');
  assert.equal(new TextDecoder().decode((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' } }))).Plaintext), 'in the hsm');

  assert.equal((await awsError(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreInvalidStateException');
  await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
  assert.equal((await awsError(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreHasCMKsException');
}

describe('KMS custom key stores (AWS_CLOUDHSM) with an in-memory token', () => {
  let f: KmsFixture;
  const tokens = fakeTokens();
  before(async () => {
    f = await startKms({ kms: { openToken: tokens.open } });
  });
  after(async () => {
    await f.stop();
  });

  it('connects, keeps keys inside the token, goes Unavailable when disconnected, refuses to delete a store with keys', async () => {
    await exerciseStore(f.kms, 'cluster-fake0001', 'kmsuser-pass');
    assert.ok(tokens.keyCount() >= 1);
  });

  it('reports connection failures with AWS connection error codes; names are unique; password changes need a disconnected store', async () => {
    const bad = await f.kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'wrong-pin', CloudHsmClusterId: 'cluster-fake0001', TrustAnchorCertificate: ANCHOR, KeyStorePassword: 'not-the-pin' }))
      .catch((e: Error) => e);
    // The cluster is already in use by the first store.
    assert.equal((bad as Error).name, 'CloudHsmClusterInUseException');
    const { CustomKeyStoreId: id } = await f.kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'nowhere', CloudHsmClusterId: 'cluster-none0001', TrustAnchorCertificate: ANCHOR, KeyStorePassword: 'whatever1' }));
    await f.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    const d = (await f.kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores?.[0];
    assert.equal(d?.ConnectionState, 'FAILED');
    assert.equal(d?.ConnectionErrorCode, 'CLUSTER_NOT_FOUND');
    assert.equal((await awsError(f.kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'nowhere', CloudHsmClusterId: 'cluster-else0001', TrustAnchorCertificate: ANCHOR, KeyStorePassword: 'whatever1' })))).name, 'CustomKeyStoreNameInUseException');
    await f.kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, NewCustomKeyStoreName: 'renamed' }));
    assert.equal((await f.kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores?.[0]?.CustomKeyStoreName, 'renamed');
    await f.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await f.kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    assert.equal((await awsError(f.kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreNotFoundException');
  });
});

describe('KMS custom key store on SoftHSM2 through PKCS#11', () => {
  it('does the whole flow with keys generated and used inside a SoftHSM2 token', async (t) => {
    const module = '/usr/lib/softhsm/libsofthsm2.so';
    if (!(await loadPkcs11Binding())) return t.skip('the PKCS#11 binding is not installed (npm install pkcs11js; apt-get install softhsm2)');
    const dir = await mkdtemp(join(tmpdir(), 'hanul-softhsm-'));
    try {
      await writeFile(join(dir, 'softhsm2.conf'), `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
      // SoftHSM reads its configuration from the environment when the module initializes.
      process.env['SOFTHSM2_CONF'] = join(dir, 'softhsm2.conf');
      await run('softhsm2-util', ['--init-token', '--free', '--label', 'cluster-softhsm01', '--so-pin', '87654321', '--pin', 'kmsuser-pin'], { env: process.env });
      const f = await startKms({ kms: { openToken: pkcs11Opener(module) } });
      try {
        await exerciseStore(f.kms, 'cluster-softhsm01', 'kmsuser-pin');
      } finally {
        await f.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

