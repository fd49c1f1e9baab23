import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ConnectCustomKeyStoreCommand, CreateCustomKeyStoreCommand, CreateKeyCommand, DeleteCustomKeyStoreCommand, DescribeCustomKeyStoresCommand, DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand, ScheduleKeyDeletionCommand, UpdateCustomKeyStoreCommand,
} from '@aws-sdk/client-kms';
import { TokenError, type KeyToken, type OpenToken } from '../../../src/crypto/token.js';
import { ANCHOR, connect, connectionOutcome, exerciseStore } from './cks-flow.js';
import { awsError, startKms, type KmsFixture } from './helpers.js';

/** An in-memory token: keys are created inside and never handed out. */
function fakeTokens(): { open: OpenToken; opened: number; keyCount(): number; hold(): () => void } {
  const keys = new Map<string, Buffer>();
  const state: { opened: number; gate?: Promise<void> } = { opened: 0 };
  const open: OpenToken = async (label, password) => {
    await state.gate;
    if (label !== 'cluster-fake0001') throw new TokenError('CLUSTER_NOT_FOUND', 'no such token');
    if (password !== 'kmsuser-pass') throw new TokenError('INVALID_CREDENTIALS', 'bad pin');
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
    return token;
  };
  /** Holds every token open until the returned release is called (a slow HSM). */
  const hold = () => {
    let release = () => {};
    state.gate = new Promise<void>((r) => (release = r));
    return () => {
      delete state.gate;
      release();
    };
  };
  return { open, get opened() { return state.opened; }, keyCount: () => keys.size, hold };
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
    const { id, keyId } = await exerciseStore(f.kms, 'cluster-fake0001', 'kmsuser-pass');
    const inToken = tokens.keyCount();
    assert.ok(inToken >= 1);
    // A deleted key's material is destroyed in the token (AWS: best effort, while connected).
    await connect(f.kms, id);
    await f.kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    f.clock.advance(7 * 86_400_000 + 1000);
    assert.equal((await awsError(f.kms.send(new DescribeKeyCommand({ KeyId: keyId })))).name, 'NotFoundException');
    assert.equal(tokens.keyCount(), inToken - 1);
    await f.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
  });

  it('reports connection failures with AWS connection error codes; names are unique; password changes need a disconnected store', async () => {
    const bad = await f.kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'wrong-pin', CloudHsmClusterId: 'cluster-fake0001', TrustAnchorCertificate: ANCHOR, KeyStorePassword: 'not-the-pin' }))
      .catch((e: Error) => e);
    // The cluster is already in use by the first store.
    assert.equal((bad as Error).name, 'CloudHsmClusterInUseException');
    const { CustomKeyStoreId: id } = await f.kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'nowhere', CloudHsmClusterId: 'cluster-none0001', TrustAnchorCertificate: ANCHOR, KeyStorePassword: 'whatever1' }));
    await f.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    const d = await connectionOutcome(f.kms, id, 'FAILED');
    assert.equal(d.ConnectionErrorCode, 'CLUSTER_NOT_FOUND');
    // AWS: a FAILED store is disconnected before it connects again.
    assert.equal((await awsError(f.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreInvalidStateException');
    assert.equal((await awsError(f.kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'nowhere', CloudHsmClusterId: 'cluster-else0001', TrustAnchorCertificate: ANCHOR, KeyStorePassword: 'whatever1' })))).name, 'CustomKeyStoreNameInUseException');
    await f.kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, NewCustomKeyStoreName: 'renamed' }));
    assert.equal((await f.kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores?.[0]?.CustomKeyStoreName, 'renamed');
    await f.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await f.kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    assert.equal((await awsError(f.kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id })))).name, 'CustomKeyStoreNotFoundException');
  });

  it('ConnectCustomKeyStore returns while the store is CONNECTING; a Disconnect meanwhile wins', async () => {
    const { CustomKeyStoreId: id } = await f.kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'slow', CloudHsmClusterId: 'cluster-fake0001x', TrustAnchorCertificate: ANCHOR, KeyStorePassword: 'kmsuser-pass' }));
    const release = tokens.hold();
    await f.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    const c = (await f.kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores?.[0];
    assert.equal(c?.ConnectionState, 'CONNECTING');
    // Connecting again while CONNECTING is a no-op (200), as in AWS.
    await f.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await f.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    release();
    // The attempt that was in flight finishes and must not resurrect the store.
    await f.kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'probe', CloudHsmClusterId: 'cluster-probe0001', TrustAnchorCertificate: ANCHOR, KeyStorePassword: 'kmsuser-pass' }));
    for (let i = 0; i < 5; i++) assert.equal((await f.kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores?.[0]?.ConnectionState, 'DISCONNECTED');
    const release2 = tokens.hold();
    await f.kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    assert.equal((await f.kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores?.[0]?.ConnectionState, 'CONNECTING');
    // A key cannot be created in a store that is still connecting.
    assert.equal((await awsError(f.kms.send(new CreateKeyCommand({ CustomKeyStoreId: id, Origin: 'AWS_CLOUDHSM' })))).name, 'CustomKeyStoreInvalidStateException');
    release2();
    // The fake token only knows cluster-fake0001: this store's cluster fails.
    assert.equal((await connectionOutcome(f.kms, id, 'FAILED')).ConnectionErrorCode, 'CLUSTER_NOT_FOUND');
    await f.kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
  });
});
