import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { ConnectCustomKeyStoreCommand, DecryptCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { openSymmetricWith, parseCiphertextBlob } from '../../../src/crypto/ciphertext-blob.js';
import { loadPkcs11Binding, pkcs11Opener } from '../../../src/crypto/pkcs11-token.js';
import { parseConfig } from '../../../src/config.js';
import { NS_KEY, type KeyRecord } from '../../../src/services/kms/model.js';
import { tokenKeyLabel } from '../../../src/services/kms/store.js';
import { openEmbeddedStores } from '../../../src/storage/embedded.js';
import { spawnHanul, TEST_KEY, TEST_REGION, type SpawnedServer } from '../../support/hanul.js';
import { connect, exerciseStore } from './cks-flow.js';

const run = promisify(execFile);
const LABEL = 'cluster-softhsm01';
const PIN = 'kmsuser-pin';

/** The module hanul would use by default (HANUL_KMS_PKCS11_MODULE overrides it, for CI images that put SoftHSM2 elsewhere). */
const MODULE = process.env['HANUL_KMS_PKCS11_MODULE'] ?? parseConfig({}).kmsPkcs11Module;

/** Runs `fn` with SOFTHSM2_CONF pointing at the test's own token dir (SoftHSM reads it in C_Initialize), then restores it. */
async function withConf<T>(conf: string, fn: () => Promise<T> | T): Promise<T> {
  const before = process.env['SOFTHSM2_CONF'];
  process.env['SOFTHSM2_CONF'] = conf;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env['SOFTHSM2_CONF'];
    else process.env['SOFTHSM2_CONF'] = before;
  }
}

/** The slice of the pkcs11js API the inspection uses (loaded at run time: the test fails, clearly, without it). */
type Attr = { type: number; value?: unknown };
interface Inspector {
  load(path: string): void;
  C_Initialize(): void;
  C_Finalize(): void;
  C_GetSlotList(present: boolean): Buffer[];
  C_GetTokenInfo(slot: Buffer): { label: string };
  C_OpenSession(slot: Buffer, flags: number): Buffer;
  C_Login(session: Buffer, userType: number, pin: string): void;
  C_FindObjectsInit(session: Buffer, template: Attr[]): void;
  C_FindObjects(session: Buffer, max: number): Buffer[];
  C_FindObjectsFinal(session: Buffer): void;
  C_GetAttributeValue(session: Buffer, obj: Buffer, template: Attr[]): Attr[];
}

/** Every secret key object in the token, with the attributes that say whether its value can ever leave. */
async function inspectToken(): Promise<{ label: string; sensitive: boolean; extractable: boolean; neverExtractable: boolean; valueReadable: boolean }[]> {
  const binding = await loadPkcs11Binding();
  assert.ok(binding, 'the npm binding pkcs11js is not installed');
  const pkcs11js = binding as unknown as { PKCS11: new () => Inspector } & Record<string, number>;
  const c = (name: string): number => pkcs11js[name] as number;
  const p11 = new pkcs11js.PKCS11();
  p11.load(MODULE);
  p11.C_Initialize();
  try {
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === LABEL);
    assert.ok(slot, 'the test token exists');
    const session = p11.C_OpenSession(slot, c('CKF_SERIAL_SESSION'));
    p11.C_Login(session, c('CKU_USER'), PIN);
    p11.C_FindObjectsInit(session, [{ type: c('CKA_CLASS'), value: c('CKO_SECRET_KEY') }]);
    const handles = p11.C_FindObjects(session, 100);
    p11.C_FindObjectsFinal(session);
    return handles.map((h) => {
      const [label, sensitive, extractable, never] = p11.C_GetAttributeValue(session, h, [
        { type: c('CKA_LABEL') }, { type: c('CKA_SENSITIVE') }, { type: c('CKA_EXTRACTABLE') }, { type: c('CKA_NEVER_EXTRACTABLE') },
      ]);
      let valueReadable = true;
      try {
        p11.C_GetAttributeValue(session, h, [{ type: c('CKA_VALUE') }]);
      } catch (e) {
        assert.match(String((e as Error).message), /CKR_ATTRIBUTE_SENSITIVE/);
        valueReadable = false;
      }
      const bool = (v: unknown) => Buffer.isBuffer(v) && v[0] === 1;
      return { label: String(label?.value), sensitive: bool(sensitive?.value), extractable: bool(extractable?.value), neverExtractable: bool(never?.value), valueReadable };
    });
  } finally {
    p11.C_Finalize();
  }
}

describe('KMS custom key store on a real SoftHSM2 token through PKCS#11', () => {
  it('connects, creates keys inside the token, encrypts there, survives a restart, and never lets the key out', async () => {
    // CI installs softhsm2: a missing module is a failure to fix, not a reason to skip.
    assert.ok(existsSync(MODULE), `SoftHSM2 not found: no PKCS#11 module at ${MODULE} (apt-get install softhsm2, or set HANUL_KMS_PKCS11_MODULE)`);
    assert.ok(await loadPkcs11Binding(), 'the npm binding pkcs11js is not installed');
    const dir = await mkdtemp(join(tmpdir(), 'hanul-softhsm-'));
    const tokens = join(dir, 'tokens');
    const dataDir = join(dir, 'data');
    const conf = join(dir, 'softhsm2.conf');
    let server: SpawnedServer | undefined;
    const env = { SOFTHSM2_CONF: conf, HANUL_KMS_PKCS11_MODULE: MODULE };
    const client = (s: SpawnedServer) => new KMSClient({ endpoint: s.endpoint, region: TEST_REGION, credentials: TEST_KEY });
    try {
      await mkdir(tokens);
      await writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
      await run('softhsm2-util', ['--init-token', '--free', '--label', LABEL, '--so-pin', '87654321', '--pin', PIN], { env: { ...process.env, ...env } });

      server = await spawnHanul({ dataDir, env });
      let kms = client(server);
      const { id, keyId, ciphertext } = await exerciseStore(kms, LABEL, PIN);

      // Connected when hanul stops: it reconnects on start, and the token still holds the key.
      await connect(kms, id);
      await server.kill('SIGTERM');
      server = await spawnHanul({ dataDir, env });
      kms = client(server);
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'Enabled');
      const again = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionContext: { a: 'b' } }));
      assert.equal(new TextDecoder().decode(again.Plaintext), 'in the hsm');
      await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id })); // already connected: a no-op
      await server.kill('SIGTERM');
      server = undefined;

      // hanul's data dir holds only the key's label in the token: no sealed material.
      const stores = await openEmbeddedStores(dataDir);
      const rec = await stores.metadata.read((tx) => tx.get<KeyRecord>(NS_KEY, `${TEST_REGION}/${keyId}`));
      await stores.metadata.close();
      await stores.blobs.close();
      assert.ok(rec?.currentMaterialId);
      assert.deepEqual(rec.materials.map((m) => m.sealed.length), [0]);
      const label = tokenKeyLabel(keyId, rec.currentMaterialId);

      await withConf(conf, async () => {
        // The ciphertext hanul returned opens with the token's key, used inside the token (this process never sees it)…
        const parsed = parseCiphertextBlob(ciphertext);
        assert.ok(parsed);
        const token = await pkcs11Opener(MODULE)(LABEL, PIN);
        try {
          const pt = await openSymmetricWith((iv, aad, ct) => token.decrypt(label, iv, aad, ct), parsed, { a: 'b' });
          assert.equal(pt.toString(), 'in the hsm');
        } finally {
          await token.close();
        }
        // …and the token will not give its value to anyone: sensitive, never extractable.
        const keys = await inspectToken();
        assert.deepEqual(keys.map((k) => k.label).sort(), [label]);
        for (const k of keys) assert.deepEqual(k, { label, sensitive: true, extractable: false, neverExtractable: true, valueReadable: false });
        // What hanul does when such a key's deletion comes due (custom-key-store.test.ts checks that it does): the object goes.
        const again = await pkcs11Opener(MODULE)(LABEL, PIN);
        try {
          await again.destroyKey(label);
          await assert.rejects(again.encrypt(label, Buffer.alloc(12), Buffer.alloc(0), new Uint8Array(1)));
        } finally {
          await again.close();
        }
        assert.deepEqual(await inspectToken(), []);
      });
      // A wrong PIN is INVALID_CREDENTIALS, an unknown label CLUSTER_NOT_FOUND (the opener hanul uses).
      await withConf(conf, async () => {
        await assert.rejects(pkcs11Opener(MODULE)(LABEL, 'wrong-pin'), { code: 'INVALID_CREDENTIALS' });
        await assert.rejects(pkcs11Opener(MODULE)('cluster-nothere01', PIN), { code: 'CLUSTER_NOT_FOUND' });
      });
    } finally {
      await server?.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
    // The token lived only in the temp dir: nothing left behind.
    assert.equal(existsSync(dir), false);
  });
});
