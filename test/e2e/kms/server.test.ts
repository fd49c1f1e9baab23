import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMS, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { startHanul, waitFor, type TestServer } from '../../support/hanul.js';
import { signedHeaders } from '../../../bench/lib/sign.js';

const run = promisify(execFile);

/** Every file under dir (the data dir holds SQLite files, blobs, secrets). */
async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

describe('KMS on the real server (HTTP, SigV4, pipeline, CloudTrail)', () => {
  let dataDir: string;
  let server: TestServer;
  let kms: KMSClient;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hanul-kms-srv-'));
    server = await startHanul({ dataDir });
    kms = new KMSClient({ ...server.clientConfig, maxAttempts: 1 });
  });
  after(async () => {
    kms.destroy();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps keys across a restart, and never stores key material in plaintext', async () => {
    const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const enc = await kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new TextEncoder().encode('survives'), EncryptionContext: { r: '1' } }));
    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: k?.KeyId, KeySpec: 'AES_256' }));
    const ec = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata;
    await kms.send(new SignCommand({ KeyId: ec?.KeyId, Message: new Uint8Array([1]), SigningAlgorithm: 'ECDSA_SHA_256' }));
    kms.destroy();
    await server.stop({ keepData: true });

    // The data dir: the root key file is 0600; no file contains any key's material.
    const rootKey = join(dataDir, 'kms-root.key');
    assert.equal((await stat(rootKey)).mode & 0o777, 0o600);
    const files = (await allFiles(dataDir)).filter((p) => p !== rootKey);
    const needles = [Buffer.from(dk.Plaintext as Uint8Array)];
    for (const p of files) {
      const bytes = await readFile(p);
      for (const n of needles) assert.equal(bytes.indexOf(n), -1, `${p} holds a data key in plaintext`);
      assert.equal(bytes.indexOf(Buffer.from('-----BEGIN')), -1, `${p} holds a PEM key`);
    }

    server = await startHanul({ dataDir });
    kms = new KMSClient({ ...server.clientConfig, maxAttempts: 1 });
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { r: '1' } }));
    assert.equal(new TextDecoder().decode(dec.Plaintext), 'survives');
    const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
    assert.deepEqual(Buffer.from(back.Plaintext as Uint8Array), Buffer.from(dk.Plaintext as Uint8Array));
    // The audit trail survived the restart too.
    const ct = new CloudTrailClient({ ...server.clientConfig, maxAttempts: 1 });
    const before = await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: k?.Arn }] }));
    assert.deepEqual(before.Events?.map((e) => e.EventName).slice(-3), ['GenerateDataKey', 'Encrypt', 'CreateKey']);
    ct.destroy();
  });

  it('refuses to start with another root key (material stays sealed)', async () => {
    const other = await mkdtemp(join(tmpdir(), 'hanul-kms-rk-'));
    try {
      const keyFile = join(other, 'root.b64');
      await writeFile(keyFile, Buffer.alloc(32, 7).toString('base64'));
      const s1 = await startHanul({ dataDir: other, env: { HANUL_KMS_ROOT_KEY: keyFile } });
      const c1 = new KMSClient({ ...s1.clientConfig, maxAttempts: 1 });
      const k = (await c1.send(new CreateKeyCommand({}))).KeyMetadata;
      const enc = await c1.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new Uint8Array([1, 2, 3]) }));
      c1.destroy();
      await s1.stop({ keepData: true });
      const s2 = await startHanul({ dataDir: other, env: { HANUL_KMS_ROOT_KEY: Buffer.alloc(32, 8).toString('base64') } });
      const c2 = new KMSClient({ ...s2.clientConfig, maxAttempts: 1 });
      await assert.rejects(c2.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })), (e: Error) => e.name === 'InternalError' || e.name === 'KMSInternalException' || e.name === 'InvalidCiphertextException');
      c2.destroy();
      await s2.stop({ keepData: true });
      const s3 = await startHanul({ dataDir: other, env: { HANUL_KMS_ROOT_KEY: Buffer.alloc(32, 7).toString('base64') } });
      const c3 = new KMSClient({ ...s3.clientConfig, maxAttempts: 1 });
      assert.deepEqual([...((await c3.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext as Uint8Array)], [1, 2, 3]);
      c3.destroy();
      await s3.stop({ keepData: true });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('records calls through the pipeline into CloudTrail', async () => {
    const k = (await kms.send(new CreateKeyCommand({ Description: 'trail' }))).KeyMetadata;
    await kms.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new Uint8Array([9]) }));
    const ct = new CloudTrailClient({ ...server.clientConfig, maxAttempts: 1 });
    const r = await waitFor(async () => {
      const out = await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: k?.Arn }] }));
      return (out.Events?.length ?? 0) >= 2 ? out : undefined;
    });
    assert.deepEqual(r.Events?.map((e) => e.EventName), ['Encrypt', 'CreateKey']);
    const ev = JSON.parse(r.Events?.[0]?.CloudTrailEvent ?? '{}') as Record<string, any>;
    assert.equal(ev.userIdentity.accessKeyId, server.credentials.accessKeyId);
    assert.equal(ev.sourceIPAddress, '127.0.0.1');
    ct.destroy();
  });

  it('authorizes IAM users through the key policy (delegation to IAM), identity policies and grants', async () => {
    const iam = new IAMClient({ ...server.clientConfig, maxAttempts: 1 });
    const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const userClient = async (name: string, policy?: object) => {
      await iam.send(new CreateUserCommand({ UserName: name }));
      if (policy) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify(policy) }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey;
      return new KMSClient({ ...server.clientConfig, credentials: { accessKeyId: key?.AccessKeyId as string, secretAccessKey: key?.SecretAccessKey as string }, maxAttempts: 1 });
    };
    const allowed = await userClient('kms-user', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: k?.Arn },
        { Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:EncryptionContext:env': 'prod' } } },
      ],
    });
    const nobody = await userClient('kms-nobody');
    const enc = await allowed.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new Uint8Array([1]), EncryptionContext: { env: 'dev' } }));
    await allowed.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { env: 'dev' } }));
    const prod = await allowed.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new Uint8Array([1]), EncryptionContext: { env: 'prod' } }));
    await assert.rejects(allowed.send(new DecryptCommand({ CiphertextBlob: prod.CiphertextBlob, EncryptionContext: { env: 'prod' } })), { name: 'AccessDeniedException' });
    await assert.rejects(nobody.send(new EncryptCommand({ KeyId: k?.KeyId, Plaintext: new Uint8Array([1]) })), { name: 'AccessDeniedException' });
    await assert.rejects(allowed.send(new CreateKeyCommand({})), { name: 'AccessDeniedException' });
    allowed.destroy();
    nobody.destroy();
    iam.destroy();
  });

  it('answers malformed requests with 400 and an AWS error, never a 500', async () => {
    const url = `${server.endpoint}/`;
    const call = async (op: string, body: string) => {
      const headers = await signedHeaders({ url, method: 'POST', service: 'kms', region: 'us-east-1', credentials: server.credentials, body, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${op}` } });
      delete headers['host'];
      const r = await fetch(url, { method: 'POST', headers, body });
      return { status: r.status, body: (await r.json()) as { __type: string; message?: string } };
    };
    const cases: [string, string, string][] = [
      ['Encrypt', '{"KeyId": 5, "Plaintext": "AA=="}', 'SerializationException'],
      ['Encrypt', '{"KeyId": "alias/x", "Plaintext": "not base64!!"}', 'SerializationException'],
      ['Encrypt', '{"KeyId": "alias/x", "Plaintext": "AA==", "EncryptionContext": {"a": 5}}', 'SerializationException'],
      ['GenerateRandom', '{"NumberOfBytes": 1.5}', 'ValidationException'],
      ['GenerateRandom', '[]', 'SerializationException'],
      ['GenerateRandom', '{', 'SerializationException'],
      ['CreateKey', '{"Tags": [{"TagKey": null}]}', 'ValidationException'],
      ['CreateKey', '{"KeySpec": "SM2", "KeyUsage": "SIGN_VERIFY"}', 'ValidationException'],
      ['CreateKey', '{"KeySpec": "RSA_2048", "KeyUsage": "GENERATE_VERIFY_MAC"}', 'ValidationException'],
      ['CreateKey', '{"Policy": "{}"}', 'MalformedPolicyDocumentException'],
      ['Decrypt', '{}', 'ValidationException'],
      ['Decrypt', `{"CiphertextBlob": "${Buffer.alloc(6145).toString('base64')}"}`, 'ValidationException'],
      ['ListKeys', '{"Marker": "zzzz"}', 'InvalidMarkerException'],
      ['ListAliases', '{"Limit": 101}', 'ValidationException'],
      ['Sign', '{"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "Message": "AA==", "SigningAlgorithm": "NOPE"}', 'ValidationException'],
      ['Verify', '{"KeyId": "nope", "Message": "AA==", "Signature": "AA==", "SigningAlgorithm": "ECDSA_SHA_256"}', 'NotFoundException'],
      ['EnableKey', '{"KeyId": "alias/some"}', 'NotFoundException'],
      ['CreateGrant', '{"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "GranteePrincipal": "nobody", "Operations": ["Encrypt"]}', 'ValidationException'],
    ];
    for (const [op, body, type] of cases) {
      const r = await call(op, body);
      assert.equal(r.status, 400, `${op} ${body}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.__type, type, `${op} ${body}: ${JSON.stringify(r.body)}`);
    }
  });

  it('works with the AWS Encryption SDK (KMS keyring pointed at hanul); a tampered message fails', async () => {
    const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    // The keyring calls v2-style methods (generateDataKey, decrypt): the aggregated KMS client has them.
    const client = new KMS({ ...server.clientConfig, maxAttempts: 1 });
    const keyring = new KmsKeyringNode({ generatorKeyId: k?.Arn as string, clientProvider: () => client as never });
    const { result } = await encrypt(keyring, Buffer.from('hello envelope'), { encryptionContext: { purpose: 'e2e' } });
    const out = await decrypt(keyring, result);
    assert.equal(out.plaintext.toString(), 'hello envelope');
    assert.equal(out.messageHeader.encryptionContext.purpose, 'e2e');
    const tampered = Buffer.from(result);
    tampered[tampered.length - 40] = (tampered[tampered.length - 40] as number) ^ 0xff;
    await assert.rejects(decrypt(keyring, tampered));
    client.destroy();
  });

  it('works with the AWS CLI: create-key, encrypt and decrypt with fileb://, cloudtrail lookup-events', async (t) => {
    try {
      await run('aws', ['--version']);
    } catch {
      t.skip('aws CLI not installed');
      return;
    }
    const env = { ...process.env, AWS_ACCESS_KEY_ID: server.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const aws = async (...args: string[]) => (await run('aws', ['--endpoint-url', server.endpoint, '--output', 'json', ...args], { env })).stdout;
    const created = JSON.parse(await aws('kms', 'create-key', '--description', 'from cli')) as { KeyMetadata: { KeyId: string; Arn: string } };
    const dir = await mkdtemp(join(tmpdir(), 'hanul-cli-'));
    try {
      await writeFile(join(dir, 'plain.bin'), Buffer.from([0, 1, 2, 250, 255]));
      const enc = JSON.parse(await aws('kms', 'encrypt', '--key-id', created.KeyMetadata.KeyId, '--plaintext', `fileb://${join(dir, 'plain.bin')}`)) as { CiphertextBlob: string; KeyId: string };
      assert.equal(enc.KeyId, created.KeyMetadata.Arn);
      await writeFile(join(dir, 'cipher.bin'), Buffer.from(enc.CiphertextBlob, 'base64'));
      const dec = JSON.parse(await aws('kms', 'decrypt', '--ciphertext-blob', `fileb://${join(dir, 'cipher.bin')}`)) as { Plaintext: string };
      assert.deepEqual([...Buffer.from(dec.Plaintext, 'base64')], [0, 1, 2, 250, 255]);
      const events = JSON.parse(await aws('cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=Decrypt', '--max-results', '5')) as { Events: { EventName: string }[] };
      assert.ok(events.Events.length >= 1);
      assert.equal(events.Events[0]?.EventName, 'Decrypt');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
