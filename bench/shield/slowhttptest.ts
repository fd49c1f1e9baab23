import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether the Debian `slowhttptest` is installed (bench/shield uses it when present; tests never need it). */
export function haveSlowhttptest(): boolean {
  return spawnSync('slowhttptest', ['-h'], { stdio: 'ignore' }).error === undefined;
}

export interface SlowResult {
  /** Most connections the tool held open at once, and how many the server had closed by the end. */
  peakConnected: number;
  closed: number;
  total: number;
}

/**
 * Runs `slowhttptest` against a loopback URL for `seconds` (-H slow headers, -B slow body),
 * `connections` at `rate` per second, a follow-up every second; reads its CSV of socket states.
 */
export async function slowhttptest(mode: '-H' | '-B', url: string, connections: number, rate: number, seconds: number, contentType?: string): Promise<SlowResult> {
  if (!/^http:\/\/127\.\d+\.\d+\.\d+:\d+\//.test(url)) throw new Error(`refusing non-loopback target ${url}`);
  const dir = await mkdtemp(join(tmpdir(), 'shield-sht-'));
  try {
    const prefix = join(dir, 'run');
    const args = [mode, '-c', String(connections), '-r', String(rate), '-i', '1', '-x', '10', '-s', '1000000', '-l', String(seconds), '-p', '3', '-u', url, '-g', '-o', prefix, ...(contentType ? ['-f', contentType] : [])];
    await new Promise<void>((resolve) => {
      const p = spawn('slowhttptest', args, { stdio: 'ignore' });
      // Bounded: the tool stops itself at -l; this is the backstop.
      const kill = setTimeout(() => p.kill('SIGKILL'), (seconds + 15) * 1000);
      p.on('exit', () => {
        clearTimeout(kill);
        resolve();
      });
    });
    const rows = (await readFile(`${prefix}.csv`, 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const last = rows[rows.length - 1] ?? [];
    return { peakConnected: Math.max(0, ...rows.map((r) => r[3] ?? 0)), closed: last[1] ?? 0, total: connections };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
