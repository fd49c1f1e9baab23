import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sha256Hex, Signer, SigningKey } from './keys.js';

test('the HMAC from cached pads is createHmac’s, for any message length and any characters (read as latin1)', () => {
  for (const keyLength of [32, 20, 64]) {
    const key = randomBytes(keyLength);
    const signer = new Signer(new SigningKey(key), '20240501T000000Z', '20240501/us-east-1/s3/aws4_request');
    for (const message of ['', 'a', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(5000), 'é\u00ff', '\u0101\u4e2d\ud83d\ude00', 'AWS4-HMAC-SHA256\n20240501T000000Z\n'.repeat(300)]) {
      const expected = createHmac('sha256', key).update(message, 'latin1').digest();
      assert.deepEqual(signer.sign(message), expected);
      assert.equal(signer.verify(message, expected), true);
      assert.equal(signer.verify(message, Buffer.from(expected.map((b, i) => (i === 31 ? b ^ 1 : b)))), false);
    }
  }
});

test('sha256Hex hashes a string as its latin1 bytes, short or long', () => {
  for (const s of ['', 'abc', 'é\u00ff', '\u0101\u4e2d', 'q'.repeat(70_000), `${'r'.repeat(70_000)}\u0101`]) {
    assert.equal(sha256Hex(s), createHash('sha256').update(s, 'latin1').digest('hex'));
  }
});
