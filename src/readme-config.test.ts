// Keeps the README's configuration table true: every setting hanul reads is documented there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SETTINGS } from './config.js';

describe('README configuration table', () => {
  it('names every setting with its flag', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    for (const s of SETTINGS) {
      assert.ok(table.includes(`\`${s.env}\``), `README's configuration table lacks ${s.env}`);
      assert.ok(table.includes(`\`${s.flag}\``), `README's configuration table lacks ${s.flag}`);
    }
  });
});
