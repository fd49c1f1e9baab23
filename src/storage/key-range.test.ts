import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareUtf8, prefixSuccessor, toKeyRange } from './key-range.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('key ranges', () => {
  it('compareUtf8 agrees with byte order where UTF-16 order does not', () => {
    const samples = ['', 'a', '\u007f', '\u0080', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '😀', '\u{10ffff}', 'a😀', 'a\uffff'];
    for (const a of samples)
      for (const b of samples) assert.equal(Math.sign(compareUtf8(a, b)), Math.sign(Buffer.compare(bytes(a), bytes(b))), `${a} vs ${b}`);
    assert.ok(compareUtf8('😀', '\uffff') > 0);
  });

  it('prefixSuccessor bounds exactly the strings with the prefix', () => {
    assert.equal(prefixSuccessor(''), undefined);
    assert.equal(prefixSuccessor('\u{10ffff}\u{10ffff}'), undefined);
    assert.equal(prefixSuccessor('ab'), 'ac');
    assert.equal(prefixSuccessor('a\uffff'), 'a\u{10000}');
    assert.equal(prefixSuccessor('a\ud7ff'), 'a\ue000');
    assert.equal(prefixSuccessor('a😀'), 'a😁');
    assert.equal(prefixSuccessor('a\u{10ffff}'), 'b');
    for (const p of ['a', 'a\uffff', 'a😀', 'a\u{10ffff}', '\ud7ff']) {
      const succ = prefixSuccessor(p) as string;
      for (const tail of ['', '\u{10ffff}', '\u{10ffff}\u{10ffff}z', '\uffff', 'zz']) {
        assert.ok(Buffer.compare(bytes(p + tail), bytes(succ)) < 0, `${p}+${tail} < succ`);
      }
    }
  });

  it('folds filters into the tightest bounds', () => {
    assert.deepEqual(toKeyRange({ prefix: 'a/', start: 'a/c', startAfter: 'a/b', end: 'z' }), {
      empty: false,
      lower: { key: 'a/c', inclusive: true },
      upper: 'a0',
    });
    assert.deepEqual(toKeyRange({ start: 'k', startAfter: 'k' }).lower, { key: 'k', inclusive: false });
    assert.equal(toKeyRange({ start: 'b', end: 'a' }).empty, true);
    assert.equal(toKeyRange({ prefix: 'a', startAfter: 'b' }).empty, true);
    assert.deepEqual(toKeyRange({}), { empty: false });
  });
});
