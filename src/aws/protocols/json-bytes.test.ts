import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonBytes } from './json-bytes.js';

/** JSON.parse's verdict on the same bytes: the value, or 'invalid'. */
function native(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return 'invalid';
  }
}

function ours(b: Buffer): unknown {
  try {
    return parseJsonBytes(b);
  } catch {
    return 'invalid';
  }
}

function same(b: Buffer): void {
  const want = native(b);
  const got = ours(b);
  assert.deepStrictEqual(got, want, `bytes ${b.toString('hex')} (${JSON.stringify(b.toString('latin1'))})`);
  if (want !== 'invalid') assert.equal(JSON.stringify(got), JSON.stringify(want));
}

/** A random JSON value with awkward strings (escapes, non-ASCII, lone surrogates, control characters). */
function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 4 || r < 0.3) {
    const k = Math.floor(rand() * 8);
    if (k === 0) return null;
    if (k === 1) return rand() < 0.5;
    if (k === 2) return Math.floor((rand() - 0.5) * 1e6);
    if (k === 3) return (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
    return randomString(rand);
  }
  if (r < 0.65) return Array.from({ length: Math.floor(rand() * 5) }, () => randomValue(rand, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i--) o[randomString(rand)] = randomValue(rand, depth + 1);
  return o;
}

const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u0001', '\u001f', 'é', '한', '😀', '\ud800', '\u2028', '__proto__', 'constructor', '1', '-'];

function randomString(rand: () => number): string {
  let s = '';
  for (let i = Math.floor(rand() * 6); i > 0; i--) s += ALPHABET[Math.floor(rand() * ALPHABET.length)] as string;
  return s;
}

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('parseJsonBytes', () => {
  it('agrees with JSON.parse on hand-picked texts', () => {
    const texts = [
      '{}', '[]', '""', '0', '-0', '1', '-1', '1.5', '1e5', '1E+5', '1e-5', '-0.0e0', '123456789012345678901234567890', '1.7976931348623157e309',
      'true', 'false', 'null', ' \t\r\n{ "a" : [ 1 , 2 ] } \n', '{"a":1,"a":2}', '{"__proto__":{"x":1}}', '{"__proto__":1,"__proto__":2}',
      '{"a":"\\u0041\\n\\"\\\\\\/\\b\\f\\r\\t"}', '"\\ud83d\\ude00"', '"\\ud800"', '"é한😀"', '{"1":1,"0":0,"b":2}',
      // Invalid:
      '', ' ', '{', '}', '[', '[1,]', '{"a":1,}', '{,}', '[,1]', '{"a"}', '{"a":}', '{a:1}', "{'a':1}", '01', '-', '+1', '.5', '1.', '1e', '1e+',
      '0x10', 'NaN', 'Infinity', 'tru', 'nul', 'falsey', '"abc', '"a\\"', '"\\x41"', '"\\u12"', '"\\u12G4"', '"a\nb"', '"a\tb"', '"\u0000"', '[1 2]',
      '{"a":1 "b":2}', '{} {}', '[] x', '\ufeff{}', '/* c */{}', '{"a":1}//', '"\\', '[1,[2,[3,]]]', '\u00a0{}',
    ];
    for (const t of texts) same(Buffer.from(t, 'utf8'));
  });

  it('agrees with JSON.parse on malformed UTF-8 inside and outside strings', () => {
    const cases = [
      [0x22, 0xff, 0x22], [0x22, 0xe2, 0x82, 0x22], [0x22, 0xe2, 0x22, 0x22], [0x22, 0xc0, 0xaf, 0x22], [0x22, 0xed, 0xa0, 0x80, 0x22],
      [0xff], [0x5b, 0xc3, 0x5d], [0x7b, 0x22, 0xf0, 0x9f, 0x22, 0x3a, 0x31, 0x7d],
    ];
    for (const c of cases) same(Buffer.from(c));
  });

  it('agrees with JSON.parse on random values and on random corruptions of them', () => {
    const rand = lcg(20261128);
    for (let n = 0; n < 3000; n++) {
      const b = Buffer.from(JSON.stringify(randomValue(rand, 0)) ?? 'null', 'utf8');
      same(b);
      for (let m = 0; m < 3; m++) {
        const c = Buffer.from(b);
        const at = Math.floor(rand() * c.length);
        const op = rand();
        if (op < 0.4) c[at] = Math.floor(rand() * 256);
        else if (op < 0.7) c[at] = '"\\{}[],:0-eE.tfn \n'.charCodeAt(Math.floor(rand() * 18));
        same(op < 0.85 ? c : c.subarray(0, at));
      }
    }
  });

  it('makes "__proto__" an own property, as JSON.parse does', () => {
    const o = parseJsonBytes(Buffer.from('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.deepEqual(Object.keys(o), ['__proto__']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('reads a large PutRecords-shaped body exactly', () => {
    const data = Buffer.alloc(1024, 7).toString('base64');
    const text = JSON.stringify({ StreamName: 's', Records: Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `pk-é-${i}`, Data: data })) });
    same(Buffer.from(text, 'utf8'));
  });
});
