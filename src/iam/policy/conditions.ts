import { isIP } from 'node:net';
import { compileCidr } from './cidr.js';
import { compileArnPattern } from './arn.js';
import { compileGlob } from './glob.js';
import { parseTemplate, resolvePieces, resolveString, type ContextKeys, type Template } from './variables.js';

/** Compares one request value against one policy value (both already parsed). */
type ValueTest = (requestValue: string, keys: ContextKeys) => boolean;

interface OperatorDef {
  /** The positive form; a negated operator is NOT(positive), applied per the set rules. */
  negated: boolean;
  /** Whether policy variables in the values are substituted. */
  variables: boolean;
  compile(value: string | Template): ValueTest;
}

const num = (s: string): number => (s.trim() === '' ? NaN : Number(s));

/** Dates in policies and in the context: ISO 8601, or epoch seconds. */
export function parseDate(s: string): number {
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  return Date.parse(s);
}

/** aws:SourceIp may arrive as an IPv4-mapped IPv6 address from the socket. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

function plain(value: string | Template, f: (v: string) => ValueTest): ValueTest {
  if (typeof value === 'string') return f(value);
  return (rv, keys) => {
    const resolved = resolveString(value, keys);
    return resolved !== undefined && f(resolved)(rv, keys);
  };
}

const stringEquals = (v: string | Template): ValueTest => plain(v, (p) => (rv) => rv === p);
const stringEqualsIc = (v: string | Template): ValueTest => plain(v, (p) => {
  const lp = p.toLowerCase();
  return (rv) => rv.toLowerCase() === lp;
});
const stringLike = (v: string | Template): ValueTest => {
  if (typeof v === 'string') {
    const t = compileGlob(v);
    return (rv) => t(rv);
  }
  return (rv, keys) => {
    const pieces = resolvePieces(v, keys);
    return pieces !== undefined && compileGlob(pieces)(rv);
  };
};
const arnLike = (v: string | Template): ValueTest => {
  if (typeof v === 'string') {
    const t = compileArnPattern(v);
    return (rv) => t(rv);
  }
  return (rv, keys) => {
    const pieces = resolvePieces(v, keys);
    return pieces !== undefined && compileArnPattern(pieces)(rv);
  };
};
const numeric = (cmp: (a: number, b: number) => boolean) => (v: string | Template): ValueTest => {
  const p = num(v as string);
  return (rv) => {
    const r = num(rv);
    return !Number.isNaN(r) && !Number.isNaN(p) && cmp(r, p);
  };
};
const date = (cmp: (a: number, b: number) => boolean) => (v: string | Template): ValueTest => {
  const p = parseDate(v as string);
  return (rv) => {
    const r = parseDate(rv);
    return !Number.isNaN(r) && !Number.isNaN(p) && cmp(r, p);
  };
};
const bool = (v: string | Template): ValueTest => plain(v, (p) => {
  const lp = p.toLowerCase();
  return (rv) => rv.toLowerCase() === lp;
});
const binary = (v: string | Template): ValueTest => {
  const p = v as string;
  return (rv) => rv === p;
};
const ip = (v: string | Template): ValueTest => {
  const test = compileCidr(v as string);
  return (rv) => test(rv);
};

const lt = (a: number, b: number) => a < b;
const le = (a: number, b: number) => a <= b;
const gt = (a: number, b: number) => a > b;
const ge = (a: number, b: number) => a >= b;
const eq = (a: number, b: number) => a === b;

const def = (compile: OperatorDef['compile'], negated = false, variables = false): OperatorDef => ({ compile, negated, variables });

/** Every base operator of the IAM policy language (lower-cased names). */
const OPERATORS: Record<string, OperatorDef> = {
  stringequals: def(stringEquals, false, true),
  stringnotequals: def(stringEquals, true, true),
  stringequalsignorecase: def(stringEqualsIc, false, true),
  stringnotequalsignorecase: def(stringEqualsIc, true, true),
  stringlike: def(stringLike, false, true),
  stringnotlike: def(stringLike, true, true),
  numericequals: def(numeric(eq)),
  numericnotequals: def(numeric(eq), true),
  numericlessthan: def(numeric(lt)),
  numericlessthanequals: def(numeric(le)),
  numericgreaterthan: def(numeric(gt)),
  numericgreaterthanequals: def(numeric(ge)),
  dateequals: def(date(eq)),
  datenotequals: def(date(eq), true),
  datelessthan: def(date(lt)),
  datelessthanequals: def(date(le)),
  dategreaterthan: def(date(gt)),
  dategreaterthanequals: def(date(ge)),
  bool: def(bool, false, true),
  binaryequals: def(binary),
  ipaddress: def(ip),
  notipaddress: def(ip, true),
  arnequals: def(arnLike, false, true),
  arnlike: def(arnLike, false, true),
  arnnotequals: def(arnLike, true, true),
  arnnotlike: def(arnLike, true, true),
};

export type ConditionTest = (keys: ContextKeys) => boolean;

export class ConditionError extends Error {}

/** A policy's condition values arrive as strings, numbers, booleans or arrays of them. */
function valuesOf(raw: unknown, op: string, key: string): string[] {
  const arr = Array.isArray(raw) ? raw : [raw];
  return arr.map((v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new ConditionError(`Invalid value for condition ${op}:${key}.`);
  });
}

/**
 * Compiles one operator entry (`"ForAnyValue:StringLikeIfExists": {key: values}`):
 * keys AND together, values of one key OR together (NOR for negated operators).
 */
export function compileOperator(name: string, block: unknown, variables: boolean): ConditionTest[] {
  let op = name;
  let set: 'all' | 'any' | undefined;
  const colon = op.indexOf(':');
  if (colon >= 0) {
    const q = op.slice(0, colon).toLowerCase();
    if (q === 'forallvalues') set = 'all';
    else if (q === 'foranyvalue') set = 'any';
    else throw new ConditionError(`Invalid Condition type : ${name}.`);
    op = op.slice(colon + 1);
  }
  let lower = op.toLowerCase();
  if (block === null || typeof block !== 'object' || Array.isArray(block)) throw new ConditionError(`Invalid Condition type : ${name}.`);
  const tests: ConditionTest[] = [];
  if (lower === 'null') {
    if (set) throw new ConditionError(`Invalid Condition type : ${name}.`);
    for (const [key, raw] of Object.entries(block)) {
      const k = key.toLowerCase();
      const wants = valuesOf(raw, name, key).map((v) => v.toLowerCase() === 'true');
      tests.push((keys) => {
        const present = (keys.get(k)?.length ?? 0) > 0;
        return wants.some((absent) => absent !== present);
      });
    }
    return tests;
  }
  const ifExists = lower.endsWith('ifexists');
  if (ifExists) lower = lower.slice(0, -'ifexists'.length);
  const operator = OPERATORS[lower];
  if (!operator) throw new ConditionError(`Invalid Condition type : ${name}.`);
  for (const [key, raw] of Object.entries(block)) {
    const k = key.toLowerCase();
    const valueTests = valuesOf(raw, name, key).map((v) => operator.compile(operator.variables && variables ? parseTemplate(v) : v));
    const matchOne = (rv: string, keys: ContextKeys) => valueTests.some((t) => t(rv, keys));
    const negated = operator.negated;
    tests.push((keys) => {
      const values = keys.get(k);
      if (values === undefined || values.length === 0) {
        // An empty set satisfies "for all values"; "for any value" needs one.
        if (set === 'all') return true;
        if (set === 'any') return ifExists;
        return ifExists || negated;
      }
      if (set === 'all') return values.every((v) => matchOne(v, keys) !== negated);
      if (set === 'any') return values.some((v) => matchOne(v, keys) !== negated);
      const any = values.some((v) => matchOne(v, keys));
      return any !== negated;
    });
  }
  return tests;
}

/** Compiles a whole Condition element: every operator, every key, AND. */
export function compileCondition(condition: unknown, variables: boolean): ConditionTest | undefined {
  if (condition === undefined) return undefined;
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) throw new ConditionError('Syntax errors in policy.');
  const tests: ConditionTest[] = [];
  for (const [op, block] of Object.entries(condition)) tests.push(...compileOperator(op, block, variables));
  if (tests.length === 0) return undefined;
  if (tests.length === 1) return tests[0];
  return (keys) => {
    for (const t of tests) if (!t(keys)) return false;
    return true;
  };
}
