import { compileGlob, type GlobPiece, type StringTest } from './glob.js';

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  /** Everything after the fifth colon (may itself hold colons and slashes). */
  resource: string;
}

/** Splits at the first five colons; the sixth part keeps any further colons. */
function splitSix(s: string): string[] {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < 5; i++) {
    const c = s.indexOf(':', from);
    if (c < 0) break;
    parts.push(s.slice(from, c));
    from = c + 1;
  }
  parts.push(s.slice(from));
  return parts;
}

export function parseArn(s: string): Arn | undefined {
  const p = splitSix(s);
  if (p.length !== 6 || p[0] !== 'arn' || !p[1] || !p[2]) return undefined;
  return { partition: p[1], service: p[2], region: p[3] ?? '', account: p[4] ?? '', resource: p[5] ?? '' };
}

export function isArn(s: string): boolean {
  return parseArn(s) !== undefined;
}

/**
 * An ARN pattern as the Resource element and the Arn* condition operators
 * read it: each of the six colon-separated parts is matched on its own, so a
 * `*` never spills from one part into the next. A pattern with fewer parts
 * (`arn:aws:kms:*`) lets its last part match the rest of the ARN. A value
 * that is not an ARN (`*`, a bare name) is compared as a whole.
 */
export function compileArnPattern(pattern: string | readonly GlobPiece[]): StringTest {
  const text = typeof pattern === 'string' ? pattern : pattern.map((p) => p.text).join('');
  if (text === '*' && (typeof pattern === 'string' || pattern.every((p) => !p.literal))) return () => true;
  const whole = compileGlob(pattern);
  const segments = splitPieces(typeof pattern === 'string' ? [{ text: pattern, literal: false }] : pattern);
  if (segments.length < 2 || segments[0]?.map((p) => p.text).join('') !== 'arn') return whole;
  const tests = segments.map((seg) => compileGlob(seg));
  const n = tests.length;
  return (value) => {
    const parts = splitSix(value);
    if (parts.length < n) return false;
    for (let i = 0; i < n - 1; i++) if (!(tests[i] as StringTest)(parts[i] as string)) return false;
    const rest = parts.slice(n - 1).join(':');
    return (tests[n - 1] as StringTest)(rest);
  };
}

/** splitSix over glob pieces: colons inside literal (variable) pieces do not split. */
function splitPieces(pieces: readonly GlobPiece[]): GlobPiece[][] {
  const out: GlobPiece[][] = [[]];
  for (const p of pieces) {
    if (p.literal || out.length === 6) {
      (out[out.length - 1] as GlobPiece[]).push(p);
      continue;
    }
    let text = p.text;
    for (;;) {
      const c = out.length < 6 ? text.indexOf(':') : -1;
      if (c < 0) break;
      (out[out.length - 1] as GlobPiece[]).push({ text: text.slice(0, c), literal: false });
      out.push([]);
      text = text.slice(c + 1);
    }
    (out[out.length - 1] as GlobPiece[]).push({ text, literal: false });
  }
  return out;
}
