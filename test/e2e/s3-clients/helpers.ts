/**
 * Shared pieces for the real-client S3 tests: a hanul server (plain HTTP or
 * TLS with a throwaway self-signed certificate), an isolated environment for
 * the AWS CLIs and boto3 (the machine's own ~/.aws never leaks in), files of
 * random bytes and their hashes.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHanul, type TestServer } from '../../support/hanul.js';

export interface ClientRig {
  server: TestServer;
  /** http(s)://127.0.0.1:<port> */
  endpoint: string;
  dir: string;
  /** PEM file of the self-signed certificate when `tls`. */
  caFile?: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startRig(opts: { tls: boolean }): Promise<ClientRig> {
  const dir = await mkdtemp(join(tmpdir(), 'hanul-s3c-'));
  let env: Record<string, string> = {};
  let caFile: string | undefined;
  if (opts.tls) {
    caFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    env = { HANUL_TLS_CERT: caFile, HANUL_TLS_KEY: keyFile };
  }
  const server = await startHanul({ env });
  const endpoint = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${server.port}`;
  // Path-style addressing and SigV4 for `aws s3 presign` (CLI v1 presigns with SigV2 otherwise).
  const config = join(dir, 'config');
  await writeFile(config, '[default]\nregion = us-east-1\ns3 =\n    signature_version = s3v4\n    addressing_style = path\n');
  const creds = join(dir, 'credentials');
  await writeFile(creds, '');
  const clientEnv: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: server.region,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: creds,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...(caFile ? { AWS_CA_BUNDLE: caFile } : {}),
  };
  // pyenv's shim needs its root to find the machine's Python CLI.
  for (const k of ['PYENV_ROOT', 'PYENV_VERSION']) if (process.env[k]) clientEnv[k] = process.env[k];
  return {
    server,
    endpoint,
    dir,
    ...(caFile ? { caFile } : {}),
    env: clientEnv,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a command; rejects with its stderr on a non-zero exit. */
export function runCmd(bin: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin} ${args.join(' ')} failed: ${err.message}\n${stderr}\n${stdout}`));
      else resolve(stdout);
    });
  });
}

/** The CLI's version line, or undefined when it is not installed. */
export function cliVersion(bin: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    return execFileSync(bin, ['--version'], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
  } catch {
    return undefined;
  }
}

/** The machine's Python CLI (aws-cli 1.x) from PATH, if any. */
export function findCliV1(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const bin = join(dir, 'aws');
    if (cliVersion(bin)?.startsWith('aws-cli/1.')) return bin;
  }
  return undefined;
}

export function hasBoto3(): boolean {
  try {
    execFileSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes `size` random bytes; returns their SHA-256. */
export async function randomFile(path: string, size: number): Promise<string> {
  const buf = randomBytes(size);
  await writeFile(path, buf);
  return createHash('sha256').update(buf).digest('hex');
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** GET a URL (trusting `ca` for https); resolves with status and body. */
export async function fetchUrl(url: string, ca?: string, init: { method?: string; body?: Buffer } = {}): Promise<{ status: number; body: Buffer }> {
  if (!url.startsWith('https:')) {
    const r = await fetch(url, { method: init.method ?? 'GET', ...(init.body ? { body: init.body } : {}) });
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
  }
  const { readFileSync } = await import('node:fs');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', ...(ca ? { ca: readFileSync(ca) } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
