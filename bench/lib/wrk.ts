import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  requestsPerSec: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  errors: number;
}

/** Is wrk (Debian package `wrk`) on this machine? */
export async function haveWrk(): Promise<boolean> {
  try {
    await run('wrk', ['--version']);
    return true;
  } catch (e) {
    // wrk --version exits 1 after printing its version.
    return /wrk/.test(String((e as { stdout?: string }).stdout ?? ''));
  }
}

function ms(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

/**
 * Runs wrk against one URL with fixed headers (a SigV4 signature stays valid
 * for 15 minutes, so one signed request can be replayed: the server still
 * verifies every copy in full).
 */
export async function wrk(opts: { url: string; method?: string; headers?: Record<string, string>; connections: number; threads?: number; seconds: number; body?: string; script?: string }): Promise<WrkResult> {
  const args = ['-c', String(opts.connections), '-t', String(opts.threads ?? 2), '-d', `${opts.seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (opts.script !== undefined) {
    // A caller's own Lua script (e.g. a rotation of pre-signed requests).
    const { writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = `${tmpdir()}/hanul-wrk-${process.pid}-${Date.now()}.lua`;
    await writeFile(path, opts.script);
    args.push('-s', path);
  } else if ((opts.method && opts.method !== 'GET') || opts.body !== undefined) {
    const lua = `wrk.method = ${JSON.stringify(opts.method ?? 'GET')}\n${opts.body !== undefined ? `wrk.body = ${JSON.stringify(opts.body)}\n` : ''}`;
    const { writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = `${tmpdir()}/hanul-wrk-${process.pid}-${Date.now()}.lua`;
    await writeFile(path, lua);
    args.push('-s', path);
  }
  args.push(opts.url);
  const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  if (!rps) throw new Error(`could not read wrk output:\n${stdout}`);
  return {
    requestsPerSec: Number(rps[1]),
    p50ms: p50 ? ms(p50[1] as string, p50[2] as string) : NaN,
    p99ms: p99 ? ms(p99[1] as string, p99[2] as string) : NaN,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}
