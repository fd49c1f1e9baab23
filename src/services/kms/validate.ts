import { kmsError } from './errors.js';

/**
 * AWS's input validation, in its own words: every failed constraint of a
 * request is collected, then reported at once as
 * "N validation error(s) detected: Value 'x' at 'member' failed to satisfy
 * constraint: …; …". Blob members are sensitive: their value is never shown.
 */
export class Checks {
  private readonly errors: string[] = [];

  private fail(value: unknown, member: string, constraint: string, sensitive = false): void {
    const shown = sensitive || value === undefined ? (value === undefined ? 'Value null' : 'Value') : `Value '${show(value)}'`;
    this.errors.push(`${shown} at '${member}' failed to satisfy constraint: ${constraint}`);
  }

  required(value: unknown, member: string): this {
    if (value === undefined || value === null) this.fail(undefined, member, 'Member must not be null');
    return this;
  }

  /** String or blob length, 1-based AWS bounds. Blobs are always sensitive. */
  length(value: string | Uint8Array | readonly unknown[] | undefined, member: string, min: number, max: number): this {
    if (value === undefined || value === null) return this;
    const blob = value instanceof Uint8Array;
    const n = typeof value === 'string' ? [...value].length : value.length;
    if (n < min) this.fail(value, member, `Member must have length greater than or equal to ${min}`, blob || Array.isArray(value));
    else if (n > max) this.fail(value, member, `Member must have length less than or equal to ${max}`, blob || Array.isArray(value));
    return this;
  }

  range(value: number | undefined, member: string, min: number, max: number): this {
    if (value === undefined || value === null) return this;
    if (!Number.isInteger(value)) this.fail(value, member, 'Member must be an integer');
    else if (value < min) this.fail(value, member, `Member must have value greater than or equal to ${min}`);
    else if (value > max) this.fail(value, member, `Member must have value less than or equal to ${max}`);
    return this;
  }

  oneOf(value: string | undefined, member: string, allowed: readonly string[]): this {
    if (value === undefined || value === null) return this;
    if (!allowed.includes(value)) this.fail(value, member, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
    return this;
  }

  pattern(value: string | undefined, member: string, re: RegExp, source: string): this {
    if (value === undefined || value === null) return this;
    if (!re.test(value)) this.fail(value, member, `Member must satisfy regular expression pattern: ${source}`);
    return this;
  }

  /** Grant tokens: at most 10, each 1–8192 characters. */
  grantTokens(tokens: readonly string[] | undefined): this {
    if (!tokens) return this;
    this.length(tokens, 'grantTokens', 0, 10);
    tokens.forEach((t, i) => this.length(t, `grantTokens.${i + 1}.member`, 1, 8192));
    return this;
  }

  custom(ok: boolean, value: unknown, member: string, constraint: string): this {
    if (!ok) this.fail(value, member, constraint);
    return this;
  }

  done(): void {
    const n = this.errors.length;
    if (n === 0) return;
    throw kmsError('ValidationException', `${n} validation error${n === 1 ? '' : 's'} detected: ${this.errors.join('; ')}`);
  }
}

export const checks = () => new Checks();

function show(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return String(v);
}

/** A plain ValidationException with AWS's free-text message (for the rules that are not member constraints). */
export function invalid(message: string) {
  return kmsError('ValidationException', message);
}
