import type { GlobPiece } from './glob.js';

/**
 * The request context as the engine sees it: condition-key names lower-cased
 * (IAM compares key names case-insensitively), each with its values (one for
 * single-valued keys). A key that is absent is simply not in the map.
 */
export interface ContextKeys {
  get(lowerCasedKey: string): readonly string[] | undefined;
}

export type TemplatePart = string | { key: string; fallback?: string };

/** A string from a policy that may hold `${…}` policy variables. */
export interface Template {
  parts: readonly TemplatePart[];
}

const VAR = /\$\{([^}]*)\}/g;
const SPECIAL: Record<string, string> = { '*': '*', '?': '?', $: '$' };

/**
 * Parses policy variables; returns the plain string when there are none (the
 * common, fast case). `${*}`, `${?}`, `${$}` stand for literal characters.
 */
export function parseTemplate(s: string): string | Template {
  if (!s.includes('${')) return s;
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of s.matchAll(VAR)) {
    if (m.index > last) parts.push(s.slice(last, m.index));
    const inner = (m[1] ?? '').trim();
    const special = SPECIAL[inner];
    if (special !== undefined) {
      parts.push({ key: '', fallback: special });
    } else {
      const comma = inner.indexOf(',');
      if (comma < 0) {
        parts.push({ key: inner.toLowerCase() });
      } else {
        const key = inner.slice(0, comma).trim().toLowerCase();
        const def = /^'(.*)'$/.exec(inner.slice(comma + 1).trim());
        parts.push(def ? { key, fallback: def[1] ?? '' } : { key });
      }
    }
    last = m.index + m[0].length;
  }
  if (last < s.length) parts.push(s.slice(last));
  return { parts };
}

function lookup(keys: ContextKeys, part: { key: string; fallback?: string }): string | undefined {
  if (part.key === '') return part.fallback;
  const v = keys.get(part.key);
  // A multivalued key cannot stand in a variable; nor can an absent one without a default.
  if (v && v.length === 1) return v[0];
  return part.fallback;
}

/**
 * Resolves a template into glob pieces: the policy's own text keeps its
 * wildcards, substituted values are literal. undefined when a variable has no
 * value and no default (the element then matches nothing, as in AWS).
 */
export function resolvePieces(t: string | Template, keys: ContextKeys): GlobPiece[] | undefined {
  if (typeof t === 'string') return [{ text: t, literal: false }];
  const out: GlobPiece[] = [];
  for (const p of t.parts) {
    if (typeof p === 'string') {
      out.push({ text: p, literal: false });
      continue;
    }
    const v = lookup(keys, p);
    if (v === undefined) return undefined;
    out.push({ text: v, literal: true });
  }
  return out;
}

/** Resolves a template into a plain string (for exact comparisons). */
export function resolveString(t: string | Template, keys: ContextKeys): string | undefined {
  const pieces = resolvePieces(t, keys);
  return pieces?.map((p) => p.text).join('');
}
