import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.js';
import type { Clock } from '../../src/lib/clock.js';
import { startApp, type App, type AppOptions } from '../../src/server/app.js';

export const TEST_REGION = 'us-east-1';
export const TEST_KEY = { accessKeyId: 'AKIAHANULTESTROOT000', secretAccessKey: 'hanul-test-secret-key-0000000000000000000' };

export interface TestServer {
  app: App;
  endpoint: string;
  port: number;
  region: string;
  dataDir: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  clock: Clock;
  /** SDK client config: `new S3Client({ ...server.clientConfig, forcePathStyle: true })`. */
  clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Stops the server; removes the data dir unless `keepData`. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/**
 * Starts the real server in this process on a free port with a fresh data
 * dir (or the given one) and a known root key. Pass `env` for extra settings
 * as a user would (HANUL_* variables).
 */
export async function startHanul(opts: { env?: Record<string, string>; dataDir?: string; app?: AppOptions } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'hanul-test-')));
  const config = parseConfig({
    HANUL_PORT: '0',
    HANUL_DATA_DIR: dataDir,
    HANUL_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
    HANUL_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey,
    HANUL_LOG_LEVEL: 'silent',
    HANUL_SHUTDOWN_GRACE_MS: '2000',
    ...opts.env,
  });
  const app = await startApp(config, { log: pino({ level: config.logLevel }), ...opts.app });
  const endpoint = app.endpoint;
  const credentials = { ...TEST_KEY };
  if (config.rootAccessKeyId) credentials.accessKeyId = config.rootAccessKeyId;
  if (config.rootSecretAccessKey) credentials.secretAccessKey = config.rootSecretAccessKey;
  return {
    app,
    endpoint,
    port: app.listener.port,
    region: config.region,
    dataDir,
    credentials,
    clock: app.clock,
    clientConfig: { endpoint, region: config.region, credentials },
    async stop(o = {}) {
      await app.close();
      if (!o.keepData && opts.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface SpawnedServer {
  child: ChildProcess;
  endpoint: string;
  port: number;
  dataDir: string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/**
 * How the `hanul` bin starts node: the environment and node flags of its
 * shebang (`#!/usr/bin/env -S NAME=value … node --flag …`, src/cli.ts's first
 * line; `npm start` sets the same). Spawned servers use them, so tests and
 * benches run what users run. `cli` defaults to this build's dist/src/cli.js.
 */
export function launchOf(cli: string = CLI): { env: Record<string, string>; nodeArgs: string[] } {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*\benv\s+-S\s+(.*)$/.exec(first);
  const env: Record<string, string> = {};
  if (!m?.[1]) return { env, nodeArgs: [] };
  const words = m[1].trim().split(/\s+/);
  let i = 0;
  for (; i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i] as string); i++) {
    const w = words[i] as string;
    env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
  if (words[i] !== 'node') throw new Error(`${cli}: the shebang does not run node: ${first}`);
  return { env, nodeArgs: words.slice(i + 1) };
}

/**
 * Starts hanul as a child process (for kill -9 and restart tests). Waits for
 * the banner, polling its output with a deadline.
 */
export async function spawnHanul(opts: { dataDir: string; port?: number; env?: Record<string, string>; timeoutMs?: number }): Promise<SpawnedServer> {
  const launch = launchOf();
  // node itself, not a wrapper: child.pid is the server's (kill -9 tests).
  const child = spawn(process.execPath, [...launch.nodeArgs, CLI, 'start'], {
    env: {
      ...process.env,
      ...launch.env,
      HANUL_PORT: String(opts.port ?? 0),
      HANUL_DATA_DIR: opts.dataDir,
      HANUL_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
      HANUL_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey,
      HANUL_LOG_LEVEL: 'silent',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hanul did not start within ${opts.timeoutMs ?? 20000} ms: ${out}${err}`)), opts.timeoutMs ?? 20000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /hanul (https?:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hanul exited with ${code}: ${out}${err}`));
    });
  });
  return {
    child,
    endpoint,
    port: Number(new URL(endpoint).port),
    dataDir: opts.dataDir,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `check` until it returns a truthy value or the deadline passes. Never a fixed sleep. */
export async function waitFor<T>(check: () => Promise<T> | T, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}

/** A call's failure: `name` is the wire error code (the SDK's `Code` where it names the class differently); `error` has the error document's other fields. */
export async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined; error: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; Code?: string; message: string; $metadata?: { httpStatusCode?: number } };
    const out = { name: err.Code ?? err.name, message: err.message, status: err.$metadata?.httpStatusCode };
    // Not enumerable: tests compare the three members above with deepEqual.
    return Object.defineProperty(out, 'error', { value: err, enumerable: false }) as typeof out & { error: Record<string, unknown> };
  }
  assert.fail('expected the call to fail');
}

/** Every regular file under `dir` (a data dir's blobs, databases, logs). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * SigV4 headers for a raw S3 request to a test server (to send bytes the SDK
 * would not: wrong digests, odd paths), signed by the SDK's own signer with
 * the server's root key and an UNSIGNED-PAYLOAD body hash.
 */
export async function signS3(
  server: Pick<TestServer, 'endpoint' | 'region' | 'credentials'>,
  req: { method: string; path: string; query?: Record<string, string>; headers?: Record<string, string>; body?: string },
): Promise<Record<string, string>> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@aws-crypto/sha256-js');
  const url = new URL(server.endpoint);
  const signer = new SignatureV4({ service: 's3', region: server.region, credentials: server.credentials, sha256: Sha256, uriEscapePath: false });
  const signed = await signer.sign({
    method: req.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: req.path,
    ...(req.query !== undefined ? { query: req.query } : {}),
    headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...req.headers },
    ...(req.body !== undefined ? { body: req.body } : {}),
  });
  return signed.headers;
}
