import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopK } from './top-k.js';

describe('shield top-K', () => {
  it('keeps heavy hitters within a fixed size under many distinct values', () => {
    const t = new TopK(16);
    for (let i = 0; i < 10_000; i++) {
      t.add(`noise-${i}`);
      if (i % 3 === 0) t.add('heavy');
    }
    assert.equal(t.top(1)[0]?.value, 'heavy');
    assert.ok(t.top(100).length <= 16);
    assert.equal(t.total, 10_000 + 3334);
  });

  it('decays and merges', () => {
    const a = new TopK();
    a.add('x', 10);
    a.decay(0.5);
    assert.equal(a.get('x'), 5);
    const b = new TopK();
    b.add('x', 1);
    b.merge(a);
    assert.equal(b.get('x'), 6);
  });
});
