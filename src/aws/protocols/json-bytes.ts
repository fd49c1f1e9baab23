/**
 * JSON.parse for a request body that is still bytes, with JSON.parse's result
 * and its verdict on what is valid (RFC 8259: no trailing commas, no
 * comments, no control characters in strings, strict numbers).
 *
 * Why: `JSON.parse(body.toString('utf8'))` first makes the whole body one
 * string. Past 128 KiB V8 puts such a string in its large-object space, on
 * freshly mapped pages that are faulted in, filled and unmapped again for
 * every request; for a 700 KB Kinesis PutRecords that one copy cost more CPU
 * than parsing (≈ 15% of the call). Here only the values become strings,
 * each small, in the young generation. Strings without escapes are sliced
 * straight from the bytes (UTF-8 decoded as Buffer#toString does, malformed
 * sequences becoming U+FFFD); a string with escapes goes through JSON.parse
 * itself, so escapes mean exactly what they mean there.
 *
 * The codec uses it only for large bodies: for small ones V8's parser is as
 * cheap and the string costs nothing much. One difference from JSON.parse:
 * this parser recurses, so absurd nesting (thousands of levels) ends in a
 * RangeError where JSON.parse would succeed — the codec refuses both kinds
 * as too deeply nested (its readers recurse too).
 */

export class JsonBytesError extends Error {}

/** What a string's bytes may not hold unescaped (a decoded byte < 0x20 is that byte: UTF-8 never encodes one otherwise). */
// eslint-disable-next-line no-control-regex
const SPECIAL = /[\x00-\x1f\\]/;

// Byte values.
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const E_UPPER = 0x45;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const E_LOWER = 0x65;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_T = 0x74;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

/** From this many bytes on, a string's bytes are checked four at a time (below, the regex on the decoded string is as cheap). */
const SWAR_MIN = 64;

/**
 * True when b[from, to) holds no byte < 0x20 — what SPECIAL looks for in the
 * decoded string besides the backslash, which the caller finds with a native
 * search (UTF-8 encodes nothing else with such bytes: every byte of a
 * multi-byte sequence is ≥ 0x80, and a malformed one decodes to U+FFFD). Four
 * bytes per step on aligned 32-bit words ("has a byte less than n"): a 1 KiB
 * Kinesis record's base64 Data is one string of 1,368 bytes, and the regex
 * over it cost more than the rest of the parse.
 */
function noControlBytes(b: Buffer, from: number, to: number): boolean {
  const base = b.byteOffset;
  let k = from;
  // Single bytes up to a 4-byte boundary of the underlying memory.
  while (k < to && ((base + k) & 3) !== 0) {
    if ((b[k] as number) < SPACE) return false;
    k++;
  }
  const words = (to - k) >> 2;
  if (words > 0) {
    const w = new Int32Array(b.buffer, base + k, words);
    // Strings with control characters are errors: no early exit, one test at the end.
    let acc = 0;
    for (let j = 0; j < words; j++) {
      const x = w[j] as number;
      acc |= (x - 0x20202020) & ~x;
    }
    if ((acc & 0x80808080) !== 0) return false;
    k += words << 2;
  }
  while (k < to) {
    if ((b[k] as number) < SPACE) return false;
    k++;
  }
  return true;
}

export function parseJsonBytes(b: Buffer): unknown {
  const n = b.length;
  let i = 0;
  let nextBackslash = -2;

  const fail = (what: string): never => {
    throw new JsonBytesError(`${what} at byte ${i}`);
  };

  const ws = (): void => {
    while (i < n) {
      const c = b[i] as number;
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) return;
      i++;
    }
  };

  /** At an opening quote: the string, with i past its closing quote. */
  const str = (): string => {
    const start = i + 1;
    // The usual string (no escape, no control character) costs a native search for its end, its
    // decoding and a native scan of the result; per-byte work in JS is for the rest only.
    const q = b.indexOf(QUOTE, start);
    if (q >= 0) {
      const long = q - start >= SWAR_MIN;
      // The next backslash at or after start (-1: none left): found again only once passed, so one pass over the body in all.
      if (long && nextBackslash !== -1 && nextBackslash < start) nextBackslash = b.indexOf(BACKSLASH, start);
      if (!long || ((nextBackslash === -1 || nextBackslash > q) && noControlBytes(b, start, q))) {
        const s = b.toString('utf8', start, q);
        if (long || !SPECIAL.test(s)) {
          i = q + 1;
          return s;
        }
      }
    }
    let j = start;
    let escaped = false;
    for (;;) {
      if (j >= n) {
        i = j;
        fail('unterminated string');
      }
      const c = b[j] as number;
      if (c === QUOTE) break;
      if (c < SPACE) {
        i = j;
        fail('control character in string');
      }
      if (c === BACKSLASH) {
        escaped = true;
        j += 2;
      } else {
        j++;
      }
    }
    i = j + 1;
    if (!escaped) return b.toString('utf8', start, j);
    // Rare in AWS requests: let V8 read the escapes (and refuse bad ones).
    return JSON.parse(b.toString('utf8', start - 1, j + 1)) as string;
  };

  const digits = (): number => {
    const from = i;
    while (i < n && (b[i] as number) >= ZERO && (b[i] as number) <= NINE) i++;
    return i - from;
  };

  const num = (): number => {
    const start = i;
    if (b[i] === MINUS) i++;
    if (b[i] === ZERO) i++;
    else if (digits() === 0) fail('bad number');
    if (b[i] === DOT) {
      i++;
      if (digits() === 0) fail('bad number');
    }
    if (b[i] === E_LOWER || b[i] === E_UPPER) {
      i++;
      if (b[i] === PLUS || b[i] === MINUS) i++;
      if (digits() === 0) fail('bad number');
    }
    return Number(b.toString('latin1', start, i));
  };

  const word = (w: string, v: boolean | null): boolean | null => {
    for (let k = 0; k < w.length; k++) if (b[i + k] !== w.charCodeAt(k)) fail('unexpected token');
    i += w.length;
    return v;
  };

  const value = (): unknown => {
    ws();
    if (i >= n) fail('unexpected end');
    const c = b[i] as number;
    if (c === QUOTE) return str();
    if (c === LBRACE) return obj();
    if (c === LBRACKET) return arr();
    if (c === LOWER_T) return word('true', true);
    if (c === LOWER_F) return word('false', false);
    if (c === LOWER_N) return word('null', null);
    if (c === MINUS || (c >= ZERO && c <= NINE)) return num();
    return fail('unexpected token');
  };

  const obj = (): Record<string, unknown> => {
    i++;
    const o: Record<string, unknown> = {};
    ws();
    if (b[i] === RBRACE) {
      i++;
      return o;
    }
    for (;;) {
      ws();
      if (b[i] !== QUOTE) fail('expected a key');
      const k = str();
      ws();
      if (b[i] !== COLON) fail("expected ':'");
      i++;
      const v = value();
      // JSON.parse makes "__proto__" an own property; an assignment would set the prototype.
      if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
      else o[k] = v;
      ws();
      const d = b[i];
      i++;
      if (d === RBRACE) return o;
      if (d !== COMMA) fail("expected ',' or '}'");
    }
  };

  const arr = (): unknown[] => {
    i++;
    const a: unknown[] = [];
    ws();
    if (b[i] === RBRACKET) {
      i++;
      return a;
    }
    for (;;) {
      a.push(value());
      ws();
      const d = b[i];
      i++;
      if (d === RBRACKET) return a;
      if (d !== COMMA) fail("expected ',' or ']'");
    }
  };

  const out = value();
  ws();
  if (i < n) fail('unexpected data after the value');
  return out;
}
