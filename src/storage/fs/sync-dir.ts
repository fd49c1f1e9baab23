import { mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * fsync a directory, so that names just created, renamed or removed in it
 * survive a crash: fsync on a file makes its bytes durable, not its name.
 */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * mkdir -p whose result survives a crash: every directory it created is
 * fsync'd into its parent. Returns whether anything was created.
 */
export async function mkdirDurable(path: string, mode = 0o700): Promise<boolean> {
  const target = resolve(path);
  const first = await mkdir(target, { recursive: true, mode });
  if (first === undefined) return false;
  for (let d = target; ; d = dirname(d)) {
    await syncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
  return true;
}
