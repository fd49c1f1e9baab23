import { readFileSync } from 'node:fs';

/**
 * CPU seconds (user + system) of this process's main thread — the server's event loop when
 * hanul runs in-process — from /proc/self/task/<pid>/stat. Unlike wall-clock latency it barely
 * moves with other work on a shared machine.
 */
export function threadCpuSeconds(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
