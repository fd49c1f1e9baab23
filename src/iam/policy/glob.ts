/**
 * IAM's wildcard language: `*` matches any run of characters (including
 * none), `?` exactly one. Everything else is literal. Patterns are compiled
 * once (per policy version) to a RegExp, or to a plain string comparison when
 * they hold no wildcard — most action names and many ARNs.
 */
export interface GlobPiece {
  text: string;
  /** Literal pieces come from policy variable values or `${*}`: no wildcards inside. */
  literal: boolean;
}

export type StringTest = (value: string) => boolean;

const RE_SPECIAL = /[.+^${}()|[\]\\/-]/g;

function escapeRe(s: string): string {
  return s.replace(RE_SPECIAL, '\\$&').replace(/\*/g, '\\*').replace(/\?/g, '\\?');
}

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

/** The regular-expression source of a glob made of pieces. */
export function globSource(pieces: readonly GlobPiece[]): string {
  let src = '';
  for (const p of pieces) {
    if (p.literal) {
      src += escapeRe(p.text);
      continue;
    }
    for (const ch of p.text) {
      if (ch === '*') src += '[\\s\\S]*';
      else if (ch === '?') src += '[\\s\\S]';
      else src += escapeRe(ch);
    }
  }
  return src;
}

/** Compiles a glob; `ignoreCase` for action names (IAM compares them case-insensitively). */
export function compileGlob(pattern: string | readonly GlobPiece[], ignoreCase = false): StringTest {
  const pieces = typeof pattern === 'string' ? [{ text: pattern, literal: false }] : pattern;
  if (pieces.every((p) => p.literal || !hasWildcard(p.text))) {
    const whole = pieces.map((p) => p.text).join('');
    if (ignoreCase) {
      const lower = whole.toLowerCase();
      return (v) => v.length === lower.length && v.toLowerCase() === lower;
    }
    return (v) => v === whole;
  }
  if (pieces.length === 1 && pieces[0]?.text === '*') return () => true;
  const re = new RegExp(`^${globSource(pieces)}$`, ignoreCase ? 'i' : '');
  return (v) => re.test(v);
}

/** One-off match (for values resolved per request). */
export function globMatch(pattern: string | readonly GlobPiece[], value: string, ignoreCase = false): boolean {
  return compileGlob(pattern, ignoreCase)(value);
}
