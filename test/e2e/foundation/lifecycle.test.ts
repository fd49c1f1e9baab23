// The process as a user runs it: first start generates the root key, restart
// reuses it, SIGTERM shuts down cleanly; `npm start` and the bin's shebang
// start node itself with the launch settings (no wrapper process left over).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { launchOf, waitFor } from '../../support/hanul.js';

const CLI = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Resolves with the output once the start banner is out. */
function banner(child: ChildProcess): Promise<string> {
  let out = '';
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/aws --endpoint-url/.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (c) => reject(new Error(`exited ${c}: ${out}`)));
  });
}

/** A live (not zombie) process's environment and argv, or undefined once it is gone. */
function proc(pid: number): { env: string[]; argv: string[] } | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (st.slice(st.lastIndexOf(')') + 2).startsWith('Z')) return undefined;
    return { env: readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'), argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '') };
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (st.slice(st.lastIndexOf(')') + 2).split(' ')[1] === String(pid)) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The process runs node with the bin's launch settings (environment and node flags). */
function assertLaunched(pid: number): void {
  const launch = launchOf();
  const p = proc(pid);
  assert.ok(p, `process ${pid} is alive`);
  assert.match(p.argv[0] ?? '', /node$/);
  assert.deepEqual(p.argv.slice(1, 1 + launch.nodeArgs.length), launch.nodeArgs);
  for (const [k, v] of Object.entries(launch.env)) assert.ok(p.env.includes(`${k}=${v}`), `${k}=${v} in the server's environment`);
}

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

  it("the bin's shebang (as the kernel runs it) execs node itself with the launch settings: its pid is the server's", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanul-life-'));
    const shebang = /^#!(\S+) (.*)$/.exec(readFileSync(CLI, 'utf8').split('\n', 1)[0] ?? '');
    assert.ok(shebang?.[1] && shebang[2]);
    // Linux passes everything after the interpreter as one argument.
    const child = spawn(shebang[1], [shebang[2], CLI, 'start', '--port', '0', '--data-dir', dir], {
      env: { ...process.env, HANUL_LOG_LEVEL: 'silent', HANUL_ACCESS_KEY_ID: '', HANUL_SECRET_ACCESS_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      await banner(child);
      assertLaunched(child.pid as number);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('npm start execs node with the launch settings, and SIGTERM or SIGINT to npm stops the server (no orphan)', async () => {
    const launch = launchOf();
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const env = Object.entries(launch.env).map(([k, v]) => `${k}=${v}`);
    assert.equal(pkg.scripts['start'], [...env, 'exec', 'node', ...launch.nodeArgs, 'dist/src/cli.js', 'start'].join(' '), "npm start sets what the bin's shebang sets");
    const dir = await mkdtemp(join(tmpdir(), 'hanul-life-'));
    try {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const npm = spawn('npm', ['start', '--silent', '--', '--port', '0', '--data-dir', dir], {
          cwd: ROOT,
          env: { ...process.env, HANUL_LOG_LEVEL: 'silent', HANUL_ACCESS_KEY_ID: '', HANUL_SECRET_ACCESS_KEY: '', npm_config_update_notifier: 'false' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const exited = new Promise<unknown>((r) => npm.once('exit', r));
        let server: number | undefined;
        try {
          await banner(npm);
          // exec semantics: npm's child is the server itself (no shell in between).
          const [first, ...more] = childrenOf(npm.pid as number);
          server = first;
          assert.ok(server !== undefined && more.length === 0, `npm has one child: ${String(server)} ${more.join(' ')}`);
          const pid = server;
          assertLaunched(pid);
          npm.kill(signal);
          await exited;
          await waitFor(() => proc(pid) === undefined, { timeoutMs: 15_000, what: `the server (pid ${pid}) to exit after ${signal} to npm` });
        } finally {
          npm.kill('SIGKILL');
          if (server !== undefined && proc(server)) process.kill(server, 'SIGKILL');
        }
      }
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
