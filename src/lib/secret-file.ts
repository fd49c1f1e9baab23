import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Reads a small secret file, or creates it with `make()` the first time:
 * written to a temp file with mode 0600, fsync'd, renamed atomically, so a
 * crash never leaves a half-written secret.
 */
export async function readOrCreateSecretFile(path: string, make: () => string): Promise<{ text: string; created: boolean }> {
  try {
    return { text: await readFile(path, 'utf8'), created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const text = make();
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return { text, created: true };
}
