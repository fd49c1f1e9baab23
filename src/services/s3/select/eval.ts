/**
 * Evaluates a parsed S3 Select query over records: WHERE, the select list,
 * aggregates and LIMIT. A CSV record is its fields (by position _N, or by
 * header name: unquoted names match case-insensitively, "quoted" exactly);
 * a JSON record is its value. MISSING is `undefined`, NULL is `null`.
 * CSV fields are strings: compared with or computed against a number, a
 * numeric string counts as that number.
 */
import { DATE_PARTS, parseTimestamp, selectError, type CastType, type Expr, type Query, type Step, type Value } from './sql.js';

export interface CsvHeader {
  names: string[];
  /** lower-cased name → positions */
  lower: Map<string, number[]>;
}

export type Rec = { csv: string[]; header: CsvHeader | undefined } | { json: Value };

export function csvHeader(names: string[]): CsvHeader {
  const lower = new Map<string, number[]>();
  names.forEach((n, i) => {
    const k = n.toLowerCase();
    lower.set(k, [...(lower.get(k) ?? []), i]);
  });
  return { names, lower };
}

type Obj = { [k: string]: Value };
const isObj = (v: Value): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

function member(v: Value, step: Step): Value {
  if ('index' in step) return Array.isArray(v) ? v[step.index] : undefined;
  if ('star' in step) return v;
  if (!isObj(v)) return undefined;
  if (step.name in v) return v[step.name];
  if (step.quoted) return undefined;
  const want = step.name.toLowerCase();
  for (const k of Object.keys(v)) if (k.toLowerCase() === want) return v[k];
  return undefined;
}

function csvField(rec: { csv: string[]; header: CsvHeader | undefined }, step: Step): Value {
  if (!('name' in step)) return undefined;
  const pos = /^_(\d+)$/.exec(step.name);
  if (pos && !step.quoted) {
    const n = Number(pos[1]);
    return n >= 1 && n <= rec.csv.length ? rec.csv[n - 1] : undefined;
  }
  const h = rec.header;
  let ix: number | undefined;
  if (h) {
    if (step.quoted) ix = h.names.indexOf(step.name);
    else {
      const hits = h.lower.get(step.name.toLowerCase());
      if (hits && hits.length > 1) throw selectError('AmbiguousFieldName', `The field name ${step.name} matches more than one field in the file. Check the SQL expression and the file, and try again.`);
      ix = hits?.[0];
    }
  }
  if (ix === undefined || ix < 0) throw selectError('MissingHeaders', `Some headers in the query are missing from the file (${step.name}). Check the file and try again.`);
  return rec.csv[ix];
}

export function resolvePath(rec: Rec, steps: Step[]): Value {
  if (steps.length === 0) return wholeRecord(rec);
  let v: Value;
  let rest = steps;
  if ('csv' in rec) {
    v = csvField(rec, steps[0] as Step);
    rest = steps.slice(1);
  } else {
    v = rec.json;
  }
  for (const s of rest) {
    v = member(v, s);
    if (v === undefined) return undefined;
  }
  return v;
}

export function wholeRecord(rec: Rec): Value {
  if ('json' in rec) return rec.json;
  const out: Obj = {};
  rec.csv.forEach((f, i) => {
    out[rec.header?.names[i] ?? `_${i + 1}`] = f;
  });
  return out;
}

// ---------------------------------------------------------------- coercions

function toNum(v: Value): number | null | undefined {
  if (v === null || v === undefined) return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
    return null;
  }
  if (typeof v === 'boolean') return null;
  throw selectError('IncorrectSqlFunctionArgumentType', 'A value of an incorrect type was used in an arithmetic expression.');
}

export function cast(v: Value, type: CastType): Value {
  if (v === null || v === undefined) return v;
  const fail = (): never => {
    throw selectError('CastFailed', `Attempt to convert from one data type to another using CAST failed in the SQL expression: '${display(v)}' to ${type}.`);
  };
  switch (type) {
    case 'INT': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      const n = typeof v === 'number' ? v : toNum(v);
      if (n === null || n === undefined || !Number.isFinite(n)) return fail();
      return Math.trunc(n);
    }
    case 'FLOAT':
    case 'DECIMAL': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      const n = typeof v === 'number' ? v : toNum(v);
      if (n === null || n === undefined) return fail();
      return n;
    }
    case 'STRING':
      return display(v);
    case 'BOOL':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v !== 0;
      if (typeof v === 'string') {
        const t = v.trim().toLowerCase();
        if (t === 'true') return true;
        if (t === 'false') return false;
      }
      return fail();
    case 'TIMESTAMP':
      if (v instanceof Date) return v;
      if (typeof v === 'string') return parseTimestamp(v);
      return fail();
  }
}

/** A value as text (CSV output, CAST AS STRING, ||). */
export function display(v: Value): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return formatTimestamp(v);
  return JSON.stringify(v, jsonReplacer);
}

/** JSON.stringify's replacer for S3 Select values: timestamps in S3's format (Date.toJSON has already run on `v`, so the holder's own member is read). */
export function jsonReplacer(this: unknown, k: string, v: unknown): unknown {
  const raw = (this as Record<string, unknown>)[k];
  return raw instanceof Date ? formatTimestamp(raw) : v;
}

export function formatTimestamp(d: Date): string {
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

// ---------------------------------------------------------------- comparison

/** -1/0/1, or null when the values don't compare (a NULL, or different kinds). */
function compare(a: Value, b: Value): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = toNumLoose(a);
    const y = toNumLoose(b);
    if (x === null || y === null) return null;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a instanceof Date || b instanceof Date) {
    const x = a instanceof Date ? a.getTime() : typeof a === 'string' ? tryTime(a) : null;
    const y = b instanceof Date ? b.getTime() : typeof b === 'string' ? tryTime(b) : null;
    if (x === null || y === null) return null;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    const x = typeof a === 'boolean' ? a : typeof a === 'string' ? boolOf(a) : null;
    const y = typeof b === 'boolean' ? b : typeof b === 'string' ? boolOf(b) : null;
    if (x === null || y === null) return null;
    return x === y ? 0 : x ? 1 : -1;
  }
  const sa = JSON.stringify(a);
  const sb = JSON.stringify(b);
  return sa === sb ? 0 : null;
}

function boolOf(s: string): boolean | null {
  const t = s.trim().toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : null;
}

function tryTime(s: string): number | null {
  try {
    return parseTimestamp(s).getTime();
  } catch {
    return null;
  }
}

function toNumLoose(v: Value): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return toNum(v) ?? null;
  return null;
}

function truth(v: Value): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return boolOf(v);
  return null;
}

// ---------------------------------------------------------------- LIKE

const likeCache = new Map<string, RegExp>();

function likeRegex(pattern: string, esc: string | undefined): RegExp {
  const key = `${esc ?? ''}\u0000${pattern}`;
  let re = likeCache.get(key);
  if (re) return re;
  if (esc !== undefined && [...esc].length !== 1) throw selectError('EvaluatorLikePatternInvalidEscapeSequence', 'The ESCAPE of LIKE must be a single character.');
  let src = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (esc !== undefined && c === esc) {
      const nx = chars[++i];
      if (nx === undefined || (nx !== '%' && nx !== '_' && nx !== esc)) {
        throw selectError('EvaluatorLikePatternInvalidEscapeSequence', `Invalid escape sequence in the LIKE pattern '${pattern}'.`);
      }
      src += nx.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (c === '%') src += '[\\s\\S]*';
    else if (c === '_') src += '[\\s\\S]';
    else src += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  re = new RegExp(`^${src}$`, 'u');
  if (likeCache.size > 1000) likeCache.clear();
  likeCache.set(key, re);
  return re;
}

// ---------------------------------------------------------------- evaluation

export interface EvalEnv {
  now: Date;
  aggValues?: Value[];
}

function str(v: Value, fn: string): string | null | undefined {
  if (v === null || v === undefined) return v;
  if (typeof v === 'string') return v;
  throw selectError('IncorrectSqlFunctionArgumentType', `The function ${fn} takes a string argument.`);
}

function ts(v: Value, fn: string): Date | null | undefined {
  if (v === null || v === undefined) return v;
  if (v instanceof Date) return v;
  if (typeof v === 'string') return parseTimestamp(v);
  throw selectError('IncorrectSqlFunctionArgumentType', `The function ${fn} takes a timestamp argument.`);
}

function arith(op: string, a: Value, b: Value): Value {
  if (op === '||') return a === null || a === undefined || b === null || b === undefined ? null : display(a) + display(b);
  const x = toNum(a);
  const y = toNum(b);
  if (x === null || x === undefined || y === null || y === undefined) return null;
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      if (y === 0) throw selectError('EvaluatorInvalidArguments', 'Division by zero.');
      return Number.isInteger(x) && Number.isInteger(y) ? Math.trunc(x / y) : x / y;
    default:
      if (y === 0) throw selectError('EvaluatorInvalidArguments', 'Division by zero.');
      return x % y;
  }
}

export function evaluate(e: Expr, rec: Rec, env: EvalEnv): Value {
  switch (e.k) {
    case 'lit':
      return e.v;
    case 'path':
      return resolvePath(rec, e.steps);
    case 'neg': {
      const n = toNum(evaluate(e.e, rec, env));
      return n === null || n === undefined ? n : -n;
    }
    case 'not': {
      const t = truth(evaluate(e.e, rec, env));
      return t === null ? null : !t;
    }
    case 'bin': {
      if (e.op === 'AND' || e.op === 'OR') {
        const l = truth(evaluate(e.l, rec, env));
        if (e.op === 'AND' && l === false) return false;
        if (e.op === 'OR' && l === true) return true;
        const r = truth(evaluate(e.r, rec, env));
        if (e.op === 'AND') return r === false ? false : l === null || r === null ? null : true;
        return r === true ? true : l === null || r === null ? null : false;
      }
      const l = evaluate(e.l, rec, env);
      const r = evaluate(e.r, rec, env);
      switch (e.op) {
        case '=':
        case '!=':
        case '<':
        case '<=':
        case '>':
        case '>=': {
          const c = compare(l, r);
          if (c === null) {
            if (l === null || l === undefined || r === null || r === undefined) return null;
            return e.op === '!=';
          }
          return e.op === '=' ? c === 0 : e.op === '!=' ? c !== 0 : e.op === '<' ? c < 0 : e.op === '<=' ? c <= 0 : e.op === '>' ? c > 0 : c >= 0;
        }
        default:
          return arith(e.op, l, r);
      }
    }
    case 'is': {
      const v = evaluate(e.e, rec, env);
      const hit = e.what === 'NULL' ? v === null || v === undefined : e.what === 'MISSING' ? v === undefined : truth(v) === (e.what === 'TRUE');
      return e.not ? !hit : hit;
    }
    case 'like': {
      const v = evaluate(e.e, rec, env);
      const p = evaluate(e.pat, rec, env);
      const esc = e.esc ? evaluate(e.esc, rec, env) : undefined;
      if (v === null || v === undefined || p === null || p === undefined || esc === null) return null;
      if (typeof p !== 'string' || (esc !== undefined && typeof esc !== 'string')) throw selectError('IncorrectSqlFunctionArgumentType', 'LIKE takes string arguments.');
      const hit = likeRegex(p, esc).test(display(v));
      return e.not ? !hit : hit;
    }
    case 'between': {
      const v = evaluate(e.e, rec, env);
      const lo = compare(v, evaluate(e.lo, rec, env));
      const hi = compare(v, evaluate(e.hi, rec, env));
      if (lo === null || hi === null) return null;
      const hit = lo >= 0 && hi <= 0;
      return e.not ? !hit : hit;
    }
    case 'in': {
      const v = evaluate(e.e, rec, env);
      if (v === null || v === undefined) return null;
      let sawNull = false;
      for (const x of e.list) {
        const w = evaluate(x, rec, env);
        if (w === null || w === undefined) sawNull = true;
        else if (compare(v, w) === 0) return !e.not;
      }
      return sawNull ? null : e.not;
    }
    case 'cast':
      return cast(evaluate(e.e, rec, env), e.type);
    case 'agg':
      return env.aggValues?.[e.ix] ?? null;
    case 'case': {
      const operand = e.operand ? evaluate(e.operand, rec, env) : undefined;
      for (const w of e.whens) {
        const hit = e.operand ? compare(operand, evaluate(w.when, rec, env)) === 0 : truth(evaluate(w.when, rec, env)) === true;
        if (hit) return evaluate(w.then, rec, env);
      }
      return e.else ? evaluate(e.else, rec, env) : null;
    }
    case 'call':
      return call(e.name, e.args, rec, env);
  }
}

function call(name: string, args: Expr[], rec: Rec, env: EvalEnv): Value {
  const arg = (i: number) => evaluate(args[i] as Expr, rec, env);
  switch (name) {
    case 'LOWER':
    case 'UPPER': {
      const s = str(arg(0), name);
      return typeof s === 'string' ? (name === 'LOWER' ? s.toLowerCase() : s.toUpperCase()) : s;
    }
    case 'CHAR_LENGTH': {
      const s = str(arg(0), name);
      return typeof s === 'string' ? [...s].length : s;
    }
    case 'TRIM': {
      const mode = arg(0) as string;
      const chars = str(arg(1), name);
      const s = str(arg(2), name);
      if (typeof s !== 'string' || typeof chars !== 'string') return null;
      const set = new Set([...chars]);
      const cs = [...s];
      let a = 0;
      let b = cs.length;
      if (mode !== 'TRAILING') while (a < b && set.has(cs[a] as string)) a++;
      if (mode !== 'LEADING') while (b > a && set.has(cs[b - 1] as string)) b--;
      return cs.slice(a, b).join('');
    }
    case 'SUBSTRING': {
      const s = str(arg(0), name);
      const start = toNum(arg(1));
      const len = args.length > 2 ? toNum(arg(2)) : undefined;
      if (typeof s !== 'string' || typeof start !== 'number' || len === null) return null;
      if (len !== undefined && len < 0) throw selectError('EvaluatorInvalidArguments', 'SUBSTRING: the length must not be negative.');
      const cs = [...s];
      // SQL positions start at 1; a start before 1 eats into the length.
      const from = Math.trunc(start);
      const to = len === undefined ? cs.length + 1 : from + Math.trunc(len);
      return cs.slice(Math.max(from, 1) - 1, Math.max(to, 1) - 1).join('');
    }
    case 'COALESCE':
      for (let i = 0; i < args.length; i++) {
        const v = arg(i);
        if (v !== null && v !== undefined) return v;
      }
      return null;
    case 'NULLIF': {
      const a = arg(0);
      return compare(a, arg(1)) === 0 ? null : a;
    }
    case 'ABS': {
      const n = toNum(arg(0));
      return typeof n === 'number' ? Math.abs(n) : n;
    }
    case 'UTCNOW':
      return env.now;
    case 'TO_TIMESTAMP':
      return ts(arg(0), name);
    case 'TO_STRING': {
      const d = ts(arg(0), name);
      const pattern = str(arg(1), name);
      return d instanceof Date && typeof pattern === 'string' ? formatPattern(d, pattern) : null;
    }
    case 'EXTRACT': {
      const part = arg(0) as string;
      const d = ts(arg(1), name);
      if (!(d instanceof Date)) return d;
      return part === 'YEAR'
        ? d.getUTCFullYear()
        : part === 'MONTH'
          ? d.getUTCMonth() + 1
          : part === 'DAY'
            ? d.getUTCDate()
            : part === 'HOUR'
              ? d.getUTCHours()
              : part === 'MINUTE'
                ? d.getUTCMinutes()
                : part === 'SECOND'
                  ? d.getUTCSeconds()
                  : 0;
    }
    case 'DATE_ADD': {
      const part = arg(0) as string;
      const n = toNum(arg(1));
      const d = ts(arg(2), name);
      if (!(d instanceof Date) || typeof n !== 'number') return null;
      const out = new Date(d.getTime());
      const k = Math.trunc(n);
      if (part === 'YEAR') out.setUTCFullYear(out.getUTCFullYear() + k);
      else if (part === 'MONTH') out.setUTCMonth(out.getUTCMonth() + k);
      else out.setTime(out.getTime() + k * (UNIT_MS[part] ?? 0));
      return out;
    }
    case 'DATE_DIFF': {
      const part = arg(0) as string;
      const a = ts(arg(1), name);
      const b = ts(arg(2), name);
      if (!(a instanceof Date) || !(b instanceof Date)) return null;
      if (part === 'YEAR' || part === 'MONTH') {
        const months = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth());
        return part === 'YEAR' ? Math.trunc(months / 12) : months;
      }
      return Math.trunc((b.getTime() - a.getTime()) / (UNIT_MS[part] ?? 1));
    }
    default:
      throw selectError('UnsupportedFunction', `The function ${name} is not supported.`);
  }
}

const UNIT_MS: Record<string, number> = { DAY: 86_400_000, HOUR: 3_600_000, MINUTE: 60_000, SECOND: 1000 };
void DATE_PARTS;

function formatPattern(d: Date, pattern: string): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const map: Record<string, string> = {
    yyyy: String(d.getUTCFullYear()),
    yy: pad(d.getUTCFullYear() % 100),
    MM: pad(d.getUTCMonth() + 1),
    M: String(d.getUTCMonth() + 1),
    dd: pad(d.getUTCDate()),
    d: String(d.getUTCDate()),
    HH: pad(d.getUTCHours()),
    H: String(d.getUTCHours()),
    mm: pad(d.getUTCMinutes()),
    m: String(d.getUTCMinutes()),
    ss: pad(d.getUTCSeconds()),
    s: String(d.getUTCSeconds()),
    SSS: pad(d.getUTCMilliseconds(), 3),
  };
  return pattern.replace(/yyyy|yy|MM|M|dd|d|HH|H|mm|m|SSS|ss|s/g, (t) => map[t] ?? t);
}

// ---------------------------------------------------------------- aggregates

export class Aggregates {
  private readonly count: number[];
  private readonly sum: number[];
  private readonly best: Value[];

  constructor(private readonly q: Query) {
    this.count = q.aggs.map(() => 0);
    this.sum = q.aggs.map(() => 0);
    this.best = q.aggs.map(() => null);
  }

  add(rec: Rec, env: EvalEnv): void {
    for (const a of this.q.aggs) {
      if (a.arg === undefined) {
        this.count[a.ix] = (this.count[a.ix] ?? 0) + 1;
        continue;
      }
      const v = evaluate(a.arg, rec, env);
      if (v === null || v === undefined) continue;
      if (a.fn === 'COUNT') {
        this.count[a.ix] = (this.count[a.ix] ?? 0) + 1;
      } else if (a.fn === 'SUM' || a.fn === 'AVG') {
        const n = toNum(v);
        if (n === null || n === undefined) throw selectError('IncorrectSqlFunctionArgumentType', `${a.fn} takes numeric values; got '${display(v)}'.`);
        this.sum[a.ix] = (this.sum[a.ix] ?? 0) + n;
        this.count[a.ix] = (this.count[a.ix] ?? 0) + 1;
      } else {
        const cur = this.best[a.ix];
        const val = typeof v === 'string' && toNum(v) !== null ? (toNum(v) as number) : v;
        const c = cur === null ? null : compare(val, cur);
        if (cur === null || (c !== null && (a.fn === 'MIN' ? c < 0 : c > 0))) this.best[a.ix] = val;
      }
    }
  }

  values(): Value[] {
    return this.q.aggs.map((a) => {
      const n = this.count[a.ix] as number;
      switch (a.fn) {
        case 'COUNT':
          return n;
        case 'SUM':
          return n === 0 ? null : this.sum[a.ix];
        case 'AVG':
          return n === 0 ? null : (this.sum[a.ix] as number) / n;
        case 'MIN':
        case 'MAX':
          return this.best[a.ix];
      }
    });
  }
}
