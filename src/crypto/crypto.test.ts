import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSymmetric, parseCiphertextBlob, sealSymmetric } from './ciphertext-blob.js';
import { encodeEncryptionContext } from './encryption-context.js';
import { createFingerprinter, createSealer } from './envelope.js';
import { KEY_SPECS } from './key-specs.js';
import { generateMaterial, loadMaterial } from './material.js';
import { loadKmsRootKey, ROOT_KEY_FILE } from './root-key.js';
import { signMessage, verifyMessage } from './signing.js';

describe('encryption context encoding', () => {
  it('is independent of insertion order and unambiguous', () => {
    assert.deepEqual(encodeEncryptionContext({ a: '1', b: '2' }), encodeEncryptionContext({ b: '2', a: '1' }));
    assert.notDeepEqual(encodeEncryptionContext({ a: 'bc' }), encodeEncryptionContext({ ab: 'c' }));
    assert.notDeepEqual(encodeEncryptionContext({}), encodeEncryptionContext({ '': '' }));
    assert.deepEqual(encodeEncryptionContext(undefined), encodeEncryptionContext({}));
  });
});

describe('symmetric ciphertext format', () => {
  const key = randomBytes(32);
  const id = '1234abcd-12ab-34cd-56ef-1234567890ab';
  const mat = randomBytes(16).toString('hex');
  it('round-trips and names its key and material', () => {
    const blob = sealSymmetric(key, id, mat, Buffer.from('hello'), { x: 'y' });
    const p = parseCiphertextBlob(blob);
    assert.equal(p?.keyId, id);
    assert.equal(p?.materialId, mat);
    assert.equal(openSymmetric(key, p, { x: 'y' }).toString(), 'hello');
  });
  it('fails on any flipped bit, another context, another key', () => {
    const blob = sealSymmetric(key, id, mat, Buffer.from('hello'), { x: 'y' });
    for (let i = 3; i < blob.length; i += 7) {
      const t = Buffer.from(blob);
      t[i] = (t[i] as number) ^ 1;
      const p = parseCiphertextBlob(t);
      if (p) assert.throws(() => openSymmetric(key, p, { x: 'y' }), `byte ${i}`);
    }
    assert.throws(() => openSymmetric(key, parseCiphertextBlob(blob)!, { x: 'z' }));
    assert.throws(() => openSymmetric(randomBytes(32), parseCiphertextBlob(blob)!, { x: 'y' }));
  });
  it('rejects what is not ours', () => {
    assert.equal(parseCiphertextBlob(Buffer.from('hello world, not a blob')), undefined);
    assert.equal(parseCiphertextBlob(new Uint8Array(0)), undefined);
    assert.equal(parseCiphertextBlob(Buffer.from([0x48, 1, 200, 1, 2])), undefined);
  });
});

describe('sealing under the root key', () => {
  it('opens only with the same root key and AAD', () => {
    const root = randomBytes(32);
    const s = createSealer(root);
    const sealed = s.seal(Buffer.from('material'), 'kms-material:a:b');
    assert.equal(s.open(sealed, 'kms-material:a:b').toString(), 'material');
    assert.throws(() => s.open(sealed, 'kms-material:a:c'));
    assert.throws(() => createSealer(randomBytes(32)).open(sealed, 'kms-material:a:b'));
    assert.equal(Buffer.from(sealed).indexOf(Buffer.from('material')), -1);
    const fp = createFingerprinter(root);
    assert.deepEqual(fp(Buffer.from('x')), fp(Buffer.from('x')));
    assert.notDeepEqual(fp(Buffer.from('x')), createFingerprinter(randomBytes(32))(Buffer.from('x')));
  });
});

describe('KMS root key', () => {
  it('comes from base64 config, a file, or is generated once into the data dir (0600)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-rk-'));
    try {
      const b64 = randomBytes(32).toString('base64');
      assert.equal((await loadKmsRootKey({ dataDir: dir, kmsRootKey: b64 })).key.toString('base64'), b64);
      await writeFile(join(dir, 'k.txt'), `${b64}\n`);
      const f = await loadKmsRootKey({ dataDir: dir, kmsRootKey: join(dir, 'k.txt') });
      assert.equal(f.source, 'file');
      assert.equal(f.key.toString('base64'), b64);
      const g = await loadKmsRootKey({ dataDir: dir, kmsRootKey: undefined });
      assert.equal(g.source, 'generated');
      assert.equal((await stat(join(dir, ROOT_KEY_FILE))).mode & 0o777, 0o600);
      const again = await loadKmsRootKey({ dataDir: dir, kmsRootKey: undefined });
      assert.equal(again.source, 'data-dir');
      assert.deepEqual(again.key, g.key);
      assert.equal((await readFile(join(dir, ROOT_KEY_FILE), 'utf8')).trim(), g.key.toString('base64'));
      await assert.rejects(loadKmsRootKey({ dataDir: dir, kmsRootKey: 'tooshort' }));
      await writeFile(join(dir, 'bad.txt'), 'AAAA');
      await assert.rejects(loadKmsRootKey({ dataDir: dir, kmsRootKey: join(dir, 'bad.txt') }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('DIGEST signing', () => {
  it('RSA-PSS and PKCS#1 over a digest verify as signatures over the message', async () => {
    const spec = KEY_SPECS.RSA_2048!;
    const m = loadMaterial(spec, await generateMaterial(spec));
    const msg = Buffer.from('the message');
    const digest = createHash('sha384').update(msg).digest();
    const pss = signMessage(m, 'RSASSA_PSS_SHA_384', 'DIGEST', digest);
    assert.ok(m.kind === 'pkey' && verify('sha384', msg, { key: m.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, pss));
    assert.ok(verifyMessage(m, 'RSASSA_PSS_SHA_384', 'DIGEST', digest, pss));
    assert.ok(!verifyMessage(m, 'RSASSA_PSS_SHA_384', 'DIGEST', createHash('sha384').update('other').digest(), pss));
    const p1 = signMessage(m, 'RSASSA_PKCS1_V1_5_SHA_384', 'DIGEST', digest);
    assert.ok(m.kind === 'pkey' && verify('sha384', msg, m.publicKey, p1));
  });
  it('imported PKCS#8 material must match the key spec', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    assert.throws(() => loadMaterial(KEY_SPECS.ECC_NIST_P256!, ec));
    assert.doesNotThrow(() => loadMaterial(KEY_SPECS.ECC_NIST_P384!, ec));
    assert.throws(() => loadMaterial(KEY_SPECS.SYMMETRIC_DEFAULT!, randomBytes(16)));
  });
});
