// The AWS CLI (`aws iam …`, `aws sts assume-role`) against the server, then
// the returned temporary credentials used by the CLI itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { promisify } from 'node:util';
import { startHanul, type TestServer } from '../../support/hanul.js';
import { doc } from './helpers.js';

const run = promisify(execFile);

async function haveAws(): Promise<boolean> {
  try {
    await run('aws', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('AWS CLI: aws iam, aws sts', { skip: !(await haveAws()) && 'aws CLI not installed' }, () => {
  let server: TestServer;
  const aws = async (args: string[], creds?: { AccessKeyId: string; SecretAccessKey: string; SessionToken?: string }) => {
    const c = creds ?? { AccessKeyId: server.credentials.accessKeyId, SecretAccessKey: server.credentials.secretAccessKey };
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      AWS_ACCESS_KEY_ID: c.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: c.SecretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_MAX_ATTEMPTS: '1',
      ...(c.SessionToken ? { AWS_SESSION_TOKEN: c.SessionToken } : {}),
    };
    try {
      const { stdout } = await run('aws', ['--endpoint-url', server.endpoint, '--output', 'json', ...args], { env });
      return { ok: true as const, json: stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, any>) };
    } catch (e) {
      return { ok: false as const, stderr: String((e as { stderr?: string }).stderr ?? e) };
    }
  };
  before(async () => (server = await startHanul()));
  after(() => server.stop());

  it('creates a user, a policy and a key; the CLI decodes the policy document', async () => {
    const u = await aws(['iam', 'create-user', '--user-name', 'cli-user']);
    assert.ok(u.ok);
    assert.equal(u.json.User.Arn, 'arn:aws:iam::000000000000:user/cli-user');
    const p = doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' });
    assert.ok((await aws(['iam', 'put-user-policy', '--user-name', 'cli-user', '--policy-name', 'assume', '--policy-document', p])).ok);
    const got = await aws(['iam', 'get-user-policy', '--user-name', 'cli-user', '--policy-name', 'assume']);
    assert.ok(got.ok);
    assert.deepEqual(got.json.PolicyDocument, JSON.parse(p));
    const dup = await aws(['iam', 'create-user', '--user-name', 'cli-user']);
    assert.ok(!dup.ok && /EntityAlreadyExists/.test(dup.stderr), dup.ok ? '' : dup.stderr);
  });

  it('virtual MFA through the CLI: Base32 seed to a file, enable with two codes, get-session-token with MFA', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-cli-mfa-'));
    try {
      const seedFile = join(dir, 'seed.txt');
      const dev = await aws(['iam', 'create-virtual-mfa-device', '--virtual-mfa-device-name', 'cli-user', '--outfile', seedFile, '--bootstrap-method', 'Base32StringSeed']);
      assert.ok(dev.ok, dev.ok ? '' : dev.stderr);
      const serial = dev.json.VirtualMFADevice.SerialNumber as string;
      const seed = (await readFile(seedFile, 'utf8')).trim();
      assert.match(seed, /^[A-Z2-7]{64}$/);
      const totp = new TOTP({ secret: Secret.fromBase32(seed), digits: 6, period: 30, algorithm: 'SHA1' });
      const now = server.clock.nowMs();
      const enabled = await aws(['iam', 'enable-mfa-device', '--user-name', 'cli-user', '--serial-number', serial, '--authentication-code1', totp.generate({ timestamp: now - 30_000 }), '--authentication-code2', totp.generate({ timestamp: now })]);
      assert.ok(enabled.ok, enabled.ok ? '' : enabled.stderr);
      const key = await aws(['iam', 'create-access-key', '--user-name', 'cli-user']);
      assert.ok(key.ok);
      server.clock.advance(30_000);
      const st = await aws(['sts', 'get-session-token', '--serial-number', serial, '--token-code', totp.generate({ timestamp: server.clock.nowMs() })], key.json.AccessKey);
      assert.ok(st.ok, st.ok ? '' : st.stderr);
      assert.match(st.json.Credentials.AccessKeyId, /^ASIA/);
      assert.ok((await aws(['iam', 'delete-access-key', '--user-name', 'cli-user', '--access-key-id', key.json.AccessKey.AccessKeyId])).ok);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('aws sts assume-role, then the CLI uses the temporary credentials', async () => {
    const trust = doc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/cli-user' }, Action: 'sts:AssumeRole' });
    assert.ok((await aws(['iam', 'create-role', '--role-name', 'cli-role', '--assume-role-policy-document', trust])).ok);
    assert.ok((await aws(['iam', 'put-role-policy', '--role-name', 'cli-role', '--policy-name', 'list', '--policy-document', doc({ Effect: 'Allow', Action: 'iam:ListRoles', Resource: '*' })])).ok);
    const key = await aws(['iam', 'create-access-key', '--user-name', 'cli-user']);
    assert.ok(key.ok);
    const user = key.json.AccessKey as { AccessKeyId: string; SecretAccessKey: string };
    const assumed = await aws(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/cli-role', '--role-session-name', 'cli'], user);
    assert.ok(assumed.ok, assumed.ok ? '' : assumed.stderr);
    const creds = assumed.json.Credentials as { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
    const who = await aws(['sts', 'get-caller-identity'], creds);
    assert.ok(who.ok);
    assert.equal(who.json.Arn, 'arn:aws:sts::000000000000:assumed-role/cli-role/cli');
    const roles = await aws(['iam', 'list-roles'], creds);
    assert.ok(roles.ok);
    assert.deepEqual(roles.json.Roles.map((r: { RoleName: string }) => r.RoleName), ['cli-role']);
    const denied = await aws(['iam', 'list-users'], creds);
    assert.ok(!denied.ok && /AccessDenied.*not authorized to perform: iam:ListUsers/.test(denied.stderr), denied.ok ? '' : denied.stderr);
  });
});
