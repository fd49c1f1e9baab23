import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { manualClock } from '../../lib/clock.js';
import { BUCKET_KEY_TTL_MS, FrameKeyCache, SseKeys } from './sse-keys.js';
import { frameKeys, newSalt, openRange, sealAll } from './sse-frames.js';

describe('sse-keys: SSE-S3 data keys', () => {
  it('one data key per bucket until it is due for rotation; each opens under the same root key only', () => {
    const clock = manualClock();
    const root = randomBytes(32);
    const keys = new SseKeys(root, undefined, clock);
    const a1 = keys.newS3Key('bucket-a');
    const a2 = keys.newS3Key('bucket-a');
    const b = keys.newS3Key('bucket-b');
    assert.equal(a1.wrapped, a2.wrapped);
    assert.notEqual(a1.wrapped, b.wrapped);
    assert.ok(!a1.plain.equals(b.plain));
    clock.advance(BUCKET_KEY_TTL_MS + 1);
    const a3 = keys.newS3Key('bucket-a');
    assert.notEqual(a3.wrapped, a1.wrapped);
    assert.ok(!a3.plain.equals(a1.plain));
    // Without a bucket, a key of its own each time.
    assert.notEqual(keys.newS3Key().wrapped, keys.newS3Key().wrapped);

    // Another process with the same root key opens them (nothing cached there); another root key does not.
    const again = new SseKeys(root, undefined, clock);
    assert.ok(again.openS3Key(a1.wrapped).equals(a1.plain));
    assert.ok(again.openS3Key(a3.wrapped).equals(a3.plain));
    assert.throws(() => new SseKeys(randomBytes(32), undefined, clock).openS3Key(a1.wrapped), /could not be unwrapped/);
  });

  it('objects under one bucket key still get their own frame keys (per-blob salt)', () => {
    const keys = new SseKeys(randomBytes(32), undefined, manualClock());
    const k = keys.newS3Key('bucket');
    const plain = randomBytes(4096);
    const f1 = frameKeys([k.plain], newSalt());
    const f2 = frameKeys([k.plain], newSalt());
    assert.ok(!(f1.keys[0] as Buffer).equals(f2.keys[0] as Buffer));
    const s1 = sealAll(f1, plain);
    assert.ok(!s1.equals(sealAll(f2, plain)));
    assert.ok(openRange(f1, plain.length, s1, 0, plain.length - 1).equals(plain));
    assert.throws(() => openRange(f2, plain.length, s1, 0, plain.length - 1));
  });
});

describe('sse-keys: FrameKeyCache', () => {
  it('gives exactly the derived frame keys, reuses them only for the same data keys, and stays bounded', () => {
    const cache = new FrameKeyCache(3);
    const dk = [randomBytes(32)];
    const salt = newSalt();
    const enc = salt.toString('base64');
    const want = frameKeys(dk, salt);
    const got = cache.get(dk, enc);
    assert.deepEqual(got.keys, want.keys);
    assert.ok(got.salt.equals(salt));
    assert.equal(cache.hits, 0);
    // A copy of the same data key hits.
    assert.equal(cache.get([Buffer.from(dk[0] as Buffer)], enc), got);
    assert.equal(cache.hits, 1);
    // The same salt under another data key (or another layer count) derives afresh: the cache never changes the result.
    const other = [randomBytes(32)];
    assert.deepEqual(cache.get(other, enc).keys, frameKeys(other, salt).keys);
    const two = [dk[0] as Buffer, randomBytes(32)];
    assert.deepEqual(cache.get(two, enc).keys, frameKeys(two, salt).keys);
    assert.equal(cache.hits, 1);
    // Oldest entries go first; the size never passes the bound.
    for (let i = 0; i < 10; i++) cache.get(dk, newSalt().toString('base64'));
    assert.equal(cache.size, 3);
  });

  it('a blob opens with keys from the cache as from a fresh derivation', () => {
    const keys = new SseKeys(randomBytes(32), undefined, manualClock());
    const dk = [keys.newS3Key('bucket').plain];
    const salt = newSalt();
    const plain = randomBytes(5000);
    const stored = sealAll(frameKeys(dk, salt), plain);
    for (let i = 0; i < 2; i++) assert.ok(openRange(keys.frames.get(dk, salt.toString('base64')), plain.length, stored, 0, plain.length - 1).equals(plain));
    assert.equal(keys.frames.hits, 1);
  });
});
