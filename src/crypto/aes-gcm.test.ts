import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { GCM_TEST_CASE_16, nativeGcm, nativeGcmError, useNativeGcm, type NativeGcm } from './aes-gcm.js';

/** The addon is built by `npm ci` (native/gcm); a checkout without it fails here, not silently. */
function addon(): NativeGcm {
  const n = nativeGcm();
  assert.ok(n, `native AES-GCM addon: ${nativeGcmError ?? 'switched off'}`);
  return n;
}

function refSeal(key: Buffer, iv: Buffer, aad: Buffer, plain: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad);
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

function refOpen(key: Buffer, iv: Buffer, aad: Buffer, sealed: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
}

describe('aes-gcm: the native addon', () => {
  it('matches the GCM specification test case 16 (AES-256) both ways', () => {
    const v = GCM_TEST_CASE_16;
    const n = addon();
    assert.match(n.openssl, /^OpenSSL 3\./);
    const sealed = Buffer.alloc(v.plain.length + 16);
    assert.equal(n.key(v.key, true).seal(v.iv, v.aad, v.plain, sealed, 0), sealed.length);
    assert.equal(sealed.toString('hex'), Buffer.concat([v.cipher, v.tag]).toString('hex'));
    const plain = Buffer.alloc(v.plain.length);
    assert.equal(n.key(v.key, false).open(v.iv, v.aad, sealed, plain, 0), v.plain.length);
    assert.ok(plain.equals(v.plain));
  });

  it('agrees with node:crypto on every size, AAD and offset, one context reused for many messages', () => {
    const n = addon();
    const key = randomBytes(32);
    const sealer = n.key(key, true);
    const opener = n.key(key, false);
    const sizes = [0, 1, 15, 16, 17, 4095, 4096, 65535, 65536, 65536 + 16, ...Array.from({ length: 20 }, () => randomInt(0, 200_000))];
    for (const size of sizes) {
      const plain = randomBytes(size);
      const iv = randomBytes(12);
      const aad = randomBytes(size % 3 === 0 ? 0 : 43);
      const at = randomInt(0, 40);
      const ref = refSeal(key, iv, aad, plain);
      const dst = randomBytes(at + size + 16 + 5);
      const tail = Buffer.from(dst.subarray(at + size + 16));
      assert.equal(sealer.seal(iv, aad, plain, dst, at), size + 16, `seal ${size}`);
      assert.ok(dst.subarray(at, at + size + 16).equals(ref), `seal ${size}`);
      assert.ok(dst.subarray(at + size + 16).equals(tail), `seal ${size}: nothing past the end`);
      const out = Buffer.alloc(at + size);
      assert.equal(opener.open(iv, aad, ref, out, at), size, `open ${size}`);
      assert.ok(out.subarray(at).equals(plain), `open ${size}`);
      // And node:crypto opens what the addon sealed.
      assert.ok(refOpen(key, iv, aad, dst.subarray(at, at + size + 16)).equals(plain));
    }
  });

  it('seals and opens in place (dst is src, same start)', () => {
    const n = addon();
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const aad = Buffer.from('aad');
    const plain = randomBytes(70_000);
    const buf = Buffer.alloc(plain.length + 16);
    plain.copy(buf);
    n.key(key, true).seal(iv, aad, buf.subarray(0, plain.length), buf, 0);
    assert.ok(buf.equals(refSeal(key, iv, aad, plain)));
    assert.equal(n.key(key, false).open(iv, aad, buf, buf, 0), plain.length);
    assert.ok(buf.subarray(0, plain.length).equals(plain));
  });

  it('a tampered tag, ciphertext, AAD, IV or key fails (-1) and leaves no plaintext in dst', () => {
    const n = addon();
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const aad = randomBytes(20);
    const plain = randomBytes(65536);
    const sealed = refSeal(key, iv, aad, plain);
    const flip = (b: Buffer, i: number) => {
      const c = Buffer.from(b);
      c[i] = (c[i] as number) ^ 0x80;
      return c;
    };
    const cases: Array<[string, Buffer, Buffer, Buffer, Buffer]> = [
      ['tag', key, iv, aad, flip(sealed, sealed.length - 1)],
      ['ciphertext', key, iv, aad, flip(sealed, 1000)],
      ['aad', key, iv, flip(aad, 0), sealed],
      ['iv', key, flip(iv, 11), aad, sealed],
      ['key', flip(key, 0), iv, aad, sealed],
      ['truncated', key, iv, aad, sealed.subarray(0, sealed.length - 1)],
      ['shorter than a tag', key, iv, aad, sealed.subarray(0, 15)],
    ];
    for (const [what, k, v, a, s] of cases) {
      const dst = Buffer.alloc(plain.length, 0xee);
      assert.equal(n.key(k, false).open(v, a, s, dst, 0), -1, what);
      if (s.length >= 16) assert.ok(dst.subarray(0, s.length - 16).equals(Buffer.alloc(s.length - 16)), `${what}: zeroed`);
    }
    // The context still works after a failure.
    const dst = Buffer.alloc(plain.length);
    const o = n.key(key, false);
    assert.equal(o.open(iv, aad, flip(sealed, 5), dst, 0), -1);
    assert.equal(o.open(iv, aad, sealed, dst, 0), plain.length);
    assert.ok(dst.equals(plain));
  });

  it('refuses wrong lengths, offsets, overlaps and types without writing', () => {
    const n = addon();
    const key = randomBytes(32);
    const s = n.key(key, true);
    const o = n.key(key, false);
    const iv = randomBytes(12);
    const aad = Buffer.alloc(0);
    const plain = randomBytes(100);
    const sealed = refSeal(key, iv, aad, plain);
    const guard = (size: number) => Buffer.alloc(size, 0x5a);
    const untouched = (b: Buffer) => b.equals(Buffer.alloc(b.length, 0x5a));
    for (const [what, f, dst] of [
      ['seal: dst one byte short', (d: Buffer) => s.seal(iv, aad, plain, d, 0), guard(115)],
      ['seal: offset leaves too little', (d: Buffer) => s.seal(iv, aad, plain, d, 1), guard(116)],
      ['seal: offset past the end', (d: Buffer) => s.seal(iv, aad, plain, d, 200), guard(116)],
      ['seal: negative offset', (d: Buffer) => s.seal(iv, aad, plain, d, -1), guard(200)],
      ['seal: fractional offset', (d: Buffer) => s.seal(iv, aad, plain, d, 0.5), guard(200)],
      ['seal: NaN offset', (d: Buffer) => s.seal(iv, aad, plain, d, NaN), guard(200)],
      ['open: dst one byte short', (d: Buffer) => o.open(iv, aad, sealed, d, 0), guard(99)],
      ['open: offset leaves too little', (d: Buffer) => o.open(iv, aad, sealed, d, 2), guard(101)],
      ['open: offset 2^53', (d: Buffer) => o.open(iv, aad, sealed, d, 2 ** 53), guard(200)],
    ] as const) {
      assert.throws(() => f(dst), RangeError, what);
      assert.ok(untouched(dst), `${what}: nothing written`);
    }
    // Partly overlapping src and dst (not the same start) would read what it has written.
    const buf = Buffer.alloc(300);
    sealed.copy(buf, 0);
    assert.throws(() => o.open(iv, aad, buf.subarray(0, sealed.length), buf, 1), RangeError);
    assert.throws(() => s.seal(iv, aad, buf.subarray(10, 110), buf, 0), RangeError);
    assert.throws(() => s.seal(iv, aad, buf.subarray(0, 100), buf, 99), RangeError);
    assert.ok(buf.subarray(0, sealed.length).equals(sealed));
    // Bad keys, IVs, types, directions, receivers.
    assert.throws(() => n.key(randomBytes(31), true), RangeError);
    assert.throws(() => n.key('k'.repeat(32) as unknown as Uint8Array, true), TypeError);
    assert.throws(() => s.seal(randomBytes(16), aad, plain, guard(200), 0), RangeError);
    assert.throws(() => s.seal(iv, aad, plain, new Uint16Array(200) as unknown as Uint8Array, 0), TypeError);
    assert.throws(() => s.seal(iv, aad, [1, 2] as unknown as Uint8Array, guard(200), 0), TypeError);
    assert.throws(() => o.seal(iv, aad, plain, guard(200), 0), TypeError);
    assert.throws(() => s.open(iv, aad, sealed, guard(200), 0), TypeError);
    assert.throws(() => s.seal.call({}, iv, aad, plain, guard(200), 0), TypeError);
    assert.throws(() => (s as unknown as { seal: (...a: unknown[]) => number }).seal(iv, aad, plain), TypeError);
  });

  it('is switched off and on by useNativeGcm', () => {
    try {
      useNativeGcm(false);
      assert.equal(nativeGcm(), undefined);
    } finally {
      useNativeGcm(true);
    }
    assert.ok(nativeGcm());
  });
});
