#!/usr/bin/env node
// Runs every compiled test file (unit tests beside the code in dist/src, e2e in
// dist/test) with node's test runner. Files run in parallel processes: most
// e2e files wait on I/O, so more than the core count keeps the suite short.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['dist/src', 'dist/test'];
const files = [];
function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
}
for (const r of roots) {
  if (r.endsWith('.js')) files.push(r);
  else walk(r);
}
files.sort();
if (files.length === 0) {
  console.error('no test files found under', roots.join(', '), '(did the build run?)');
  process.exit(1);
}
const concurrency = process.env.HANUL_TEST_CONCURRENCY ?? '4';
const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
