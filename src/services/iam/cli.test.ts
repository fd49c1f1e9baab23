import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../config.js';
import { iamRuntime } from '../../iam/runtime.js';
import { systemClock } from '../../lib/clock.js';
import { openSqliteMetadataStore } from '../../storage/sqlite/metadata-store.js';
import type { Stores } from '../../storage/ports.js';
import { createUserCli } from './cli.js';

describe('hanul create-user', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'hanul-cli-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  it('creates a user with inline and managed policies and prints a working key', async () => {
    const file = join(dir, 'p.json');
    await writeFile(file, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }));
    let out = '';
    const code = await createUserCli(['ci', '--policy', file, '--policy', 'arn:aws:iam::aws:policy/AmazonKinesisReadOnlyAccess', '--data-dir', dir], {}, (s) => (out += s));
    assert.equal(code, 0, out);
    const printed = JSON.parse(out.slice(0, out.indexOf('\nexport'))) as { AccessKeyId: string; SecretAccessKey: string; Arn: string };
    assert.equal(printed.Arn, 'arn:aws:iam::000000000000:user/ci');
    assert.match(out, /export AWS_ACCESS_KEY_ID=AKIA/);
    const metadata = await openSqliteMetadataStore(join(dir, 'metadata.sqlite'));
    try {
      const rt = await iamRuntime({ stores: { metadata } as unknown as Stores, clock: systemClock(), config: parseConfig({ HANUL_DATA_DIR: dir }), log: pino({ level: 'silent' }) });
      const cred = await rt.credential(printed.AccessKeyId);
      assert.equal(cred?.secretAccessKey, printed.SecretAccessKey);
      const id = await rt.identityOf(cred.principal);
      assert.equal(id.identity?.length, 2);
    } finally {
      await metadata.close();
    }
  });

  it('explains bad input and refuses a bad policy without leaving a key behind', async () => {
    let out = '';
    assert.equal(await createUserCli([], {}, (s) => (out += s)), 2);
    assert.match(out, /needs a user name/);
    out = '';
    assert.equal(await createUserCli(['bad', '--policy', '{"Version":"2012-10-17"}', '--data-dir', dir], {}, (s) => (out += s)), 1);
    assert.match(out, /MalformedPolicyDocument: Missing required field Statement/);
    out = '';
    // Nothing was created: the same name is still free.
    assert.equal(await createUserCli(['bad', '--data-dir', dir], {}, (s) => (out += s)), 0, out);
  });
});
