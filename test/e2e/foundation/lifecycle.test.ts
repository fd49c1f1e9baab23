// The process as a user runs it: first start generates the root key, restart
// reuses it, SIGTERM shuts down cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const CLI = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));

function start(dataDir: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, HANUL_LOG_LEVEL: 'silent', HANUL_ACCESS_KEY_ID: '', HANUL_SECRET_ACCESS_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const banner = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/aws --endpoint-url/.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then((c) => reject(new Error(`exited ${c}: ${out}`)));
  });
  return { child, banner, exited, output: () => out };
}

describe('hanul start', () => {
  it('generates a root key on first start (0600), prints it once, reuses it after restart, exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-life-'));
    try {
      const a = start(dir);
      const banner = await a.banner;
      const file = join(dir, 'root-credentials.json');
      const creds = JSON.parse(await readFile(file, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.match(creds.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
      assert.ok(banner.includes(creds.accessKeyId));
      assert.ok(banner.includes(creds.secretAccessKey), 'the generated secret is shown once');
      assert.match(banner, /region\s+us-east-1/);
      assert.match(banner, /account\s+000000000000/);
      const endpoint = /hanul (http:\/\/\S+)/.exec(banner)?.[1];
      assert.ok(endpoint);
      assert.equal((await fetch(`${endpoint}/_hanul/health`)).status, 200);
      a.child.kill('SIGTERM');
      assert.equal(await a.exited, 0);

      const b = start(dir);
      const banner2 = await b.banner;
      assert.ok(banner2.includes(creds.accessKeyId));
      assert.ok(!banner2.includes(creds.secretAccessKey), 'the secret is not printed again');
      assert.match(banner2, /root-credentials\.json/);
      b.child.kill('SIGINT');
      assert.equal(await b.exited, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad configuration with a clear message and exit code 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-life-'));
    try {
      const c = start(dir, { HANUL_ACCOUNT_ID: 'abc' });
      c.banner.catch(() => undefined);
      assert.equal(await c.exited, 2);
      assert.match(c.output(), /HANUL_ACCOUNT_ID must be 12 digits/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
