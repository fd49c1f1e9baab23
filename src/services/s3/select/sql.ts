/**
 * S3 Select's SQL dialect: a tokenizer and a recursive-descent parser into a
 * small AST (evaluated by eval.ts). The dialect is one SELECT over S3Object:
 * a select list (or *), FROM S3Object[path] [alias], WHERE, LIMIT; no joins,
 * GROUP BY or ORDER BY. Failures carry the AWS error codes (ParseExpected…,
 * LexerInvalidChar, UnsupportedFunction, …).
 */
import { s3Error } from '../errors.js';
import type { S3ErrorCode } from '../errors.js';

export type Value = null | undefined | boolean | number | string | Date | Value[] | { [k: string]: Value };

export type Step = { name: string; quoted: boolean } | { index: number } | { star: true };

export type Expr =
  | { k: 'lit'; v: Value }
  | { k: 'path'; steps: Step[] }
  | { k: 'neg'; e: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'is'; e: Expr; what: 'NULL' | 'MISSING' | 'TRUE' | 'FALSE'; not: boolean }
  | { k: 'like'; e: Expr; pat: Expr; esc: Expr | undefined; not: boolean }
  | { k: 'between'; e: Expr; lo: Expr; hi: Expr; not: boolean }
  | { k: 'in'; e: Expr; list: Expr[]; not: boolean }
  | { k: 'cast'; e: Expr; type: CastType }
  | { k: 'call'; name: string; args: Expr[] }
  | { k: 'agg'; fn: AggFn; arg: Expr | undefined; ix: number }
  | { k: 'case'; operand: Expr | undefined; whens: Array<{ when: Expr; then: Expr }>; else: Expr | undefined };

export type AggFn = 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';
export type CastType = 'INT' | 'FLOAT' | 'DECIMAL' | 'STRING' | 'BOOL' | 'TIMESTAMP';

export interface SelectItem {
  e: Expr;
  alias: string | undefined;
}

export interface Query {
  /** undefined: SELECT * */
  items: SelectItem[] | undefined;
  /** The path after S3Object (e.g. [*].Rules[*]); empty for plain S3Object. */
  from: Step[];
  alias: string | undefined;
  where: Expr | undefined;
  limit: number | undefined;
  aggs: Array<Extract<Expr, { k: 'agg' }>>;
}

export const MAX_EXPRESSION_BYTES = 256 * 1024;

export function selectError(code: S3ErrorCode, message: string, fields?: Record<string, string | number>) {
  return s3Error(code, message, fields);
}

// ---------------------------------------------------------------- tokenizer

type TokKind = 'ident' | 'qident' | 'str' | 'num' | 'op' | 'ion' | 'eof';
interface Tok {
  kind: TokKind;
  text: string;
  pos: number;
}

const OPS = ['<=', '>=', '<>', '!=', '||', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.', '[', ']', ';'];

export function tokenize(sql: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i] as string)) i++;
      out.push({ kind: 'ident', text: sql.slice(start, i), pos: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      while (i < n && /[0-9]/.test(sql[i] as string)) i++;
      if (sql[i] === '.' && /[0-9]/.test(sql[i + 1] ?? '')) {
        i++;
        while (i < n && /[0-9]/.test(sql[i] as string)) i++;
      } else if (sql[i] === '.' && !/[A-Za-z_]/.test(sql[i + 1] ?? '')) {
        i++;
      }
      if ((sql[i] === 'e' || sql[i] === 'E') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
        i += 2;
        while (i < n && /[0-9]/.test(sql[i] as string)) i++;
      }
      out.push({ kind: 'num', text: sql.slice(start, i), pos: start });
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let text = '';
      i++;
      for (;;) {
        if (i >= n) throw selectError('LexerInvalidLiteral', `Invalid literal at position ${start + 1}: the quoted text is not terminated.`);
        const d = sql[i] as string;
        if (d === c) {
          if (c !== '`' && sql[i + 1] === c) {
            text += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += d;
        i++;
      }
      out.push({ kind: c === "'" ? 'str' : c === '"' ? 'qident' : 'ion', text, pos: start });
      continue;
    }
    const op = OPS.find((o) => sql.startsWith(o, i));
    if (op) {
      out.push({ kind: 'op', text: op, pos: start });
      i += op.length;
      continue;
    }
    throw selectError('LexerInvalidChar', `Invalid character at position ${start + 1}: '${c}'.`);
  }
  out.push({ kind: 'eof', text: '', pos: n });
  return out;
}

// ---------------------------------------------------------------- parser

const RESERVED = new Set([
  'SELECT', 'FROM', 'WHERE', 'LIMIT', 'AS', 'AND', 'OR', 'NOT', 'IS', 'NULL', 'MISSING', 'LIKE', 'ESCAPE', 'BETWEEN', 'IN', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END',
  'TRUE', 'FALSE', 'CAST', 'GROUP', 'ORDER', 'BY', 'HAVING', 'JOIN', 'UNION', 'INNER', 'LEFT', 'RIGHT', 'OUTER', 'CROSS', 'ON', 'DISTINCT', 'OFFSET',
]);
const UNSUPPORTED_CLAUSES = new Set(['GROUP', 'ORDER', 'HAVING', 'JOIN', 'UNION', 'INNER', 'LEFT', 'RIGHT', 'OUTER', 'CROSS', 'OFFSET']);
const AGGS = new Set<string>(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);
const TYPES: Record<string, CastType> = {
  INT: 'INT',
  INTEGER: 'INT',
  BIGINT: 'INT',
  SMALLINT: 'INT',
  FLOAT: 'FLOAT',
  REAL: 'FLOAT',
  DOUBLE: 'FLOAT',
  DECIMAL: 'DECIMAL',
  NUMERIC: 'DECIMAL',
  STRING: 'STRING',
  VARCHAR: 'STRING',
  CHAR: 'STRING',
  BOOL: 'BOOL',
  BOOLEAN: 'BOOL',
  TIMESTAMP: 'TIMESTAMP',
};
/** Scalar functions and their accepted argument counts. */
const FUNCTIONS: Record<string, [number, number]> = {
  LOWER: [1, 1],
  UPPER: [1, 1],
  CHAR_LENGTH: [1, 1],
  CHARACTER_LENGTH: [1, 1],
  COALESCE: [1, 64],
  NULLIF: [2, 2],
  UTCNOW: [0, 0],
  TO_TIMESTAMP: [1, 1],
  TO_STRING: [2, 2],
  DATE_ADD: [3, 3],
  DATE_DIFF: [3, 3],
  ABS: [1, 1],
};
export const DATE_PARTS = new Set(['YEAR', 'MONTH', 'DAY', 'HOUR', 'MINUTE', 'SECOND', 'TIMEZONE_HOUR', 'TIMEZONE_MINUTE']);

class Parser {
  private i = 0;
  readonly aggs: Array<Extract<Expr, { k: 'agg' }>> = [];
  private inAgg = false;

  constructor(private readonly t: Tok[]) {}

  private get cur(): Tok {
    return this.t[this.i] as Tok;
  }
  /** A call, so that checks of the current token don't narrow across `this.i++`. */
  private kind(): TokKind {
    return this.cur.kind;
  }
  private at(word: string): boolean {
    return this.cur.kind === 'ident' && this.cur.text.toUpperCase() === word;
  }
  private atOp(op: string): boolean {
    return this.kind() === 'op' && this.cur.text === op;
  }
  private next(): Tok {
    return this.t[this.i++] as Tok;
  }
  private eat(word: string): boolean {
    if (!this.at(word)) return false;
    this.i++;
    return true;
  }
  private eatOp(op: string): boolean {
    if (!this.atOp(op)) return false;
    this.i++;
    return true;
  }
  private where(): string {
    return this.kind() === 'eof' ? 'at the end of the expression' : `at position ${this.cur.pos + 1} ('${this.cur.text}')`;
  }
  private fail(code: S3ErrorCode, what: string): never {
    throw selectError(code, `${what} ${this.where()}.`);
  }
  private keyword(word: string): void {
    if (!this.eat(word)) this.fail('ParseExpectedKeyword', `Expected keyword ${word}`);
  }
  private nameAhead(): boolean {
    return (this.kind() === 'ident' && !RESERVED.has(this.cur.text.toUpperCase())) || this.kind() === 'qident';
  }
  /** `AS name`, or a bare name that is not a keyword. */
  private alias(): string | undefined {
    if (this.eat('AS')) {
      if (!this.nameAhead()) this.fail('ParseExpectedIdentForAlias', 'Expected an identifier for the alias');
      return this.next().text;
    }
    return this.nameAhead() ? this.next().text : undefined;
  }
  private closeCall(): void {
    if (!this.eatOp(')')) this.fail('ParseExpectedRightParenBuiltinFunctionCall', 'Expected a right parenthesis closing the function call');
  }

  query(): Query {
    if (!this.eat('SELECT')) this.fail('ParseUnsupportedSyntax', 'Only SELECT statements are supported: expected SELECT');
    if (this.at('DISTINCT')) this.fail('UnsupportedSqlOperation', 'SELECT DISTINCT is not supported');
    let items: SelectItem[] | undefined;
    if (this.at('FROM')) this.fail('ParseEmptySelect', 'The select list is empty');
    if (this.atOp('*')) {
      this.i++;
      if (this.atOp(',')) this.fail('ParseAsteriskIsNotAloneInSelectList', 'Other expressions are not allowed in the SELECT list when * is used');
    } else {
      items = [];
      do {
        if (this.atOp('*')) this.fail('ParseAsteriskIsNotAloneInSelectList', 'Other expressions are not allowed in the SELECT list when * is used');
        const e = this.expr();
        items.push({ e, alias: this.alias() });
      } while (this.eatOp(','));
    }
    if (!this.eat('FROM')) this.fail('ParseSelectMissingFrom', 'Expected FROM after the select list');
    if (!(this.kind() === 'ident' && this.cur.text.toUpperCase() === 'S3OBJECT')) {
      this.fail('InvalidDataSource', 'Invalid data source: the only table is S3Object');
    }
    this.i++;
    const from = this.steps();
    const alias = this.alias();
    if (this.atOp(',')) this.fail('UnsupportedSqlOperation', 'Only one data source is supported');
    let where: Expr | undefined;
    if (this.eat('WHERE')) {
      const before = this.aggs.length;
      where = this.expr();
      if (this.aggs.length > before) throw selectError('UnsupportedSqlOperation', 'Aggregate functions are not allowed in the WHERE clause.');
    }
    let limit: number | undefined;
    if (this.eat('LIMIT')) {
      const neg = this.eatOp('-');
      if (this.kind() !== 'num' || !/^\d+$/.test(this.cur.text)) this.fail('ParseExpectedNumber', 'Expected an integer after LIMIT');
      limit = Number(this.next().text);
      if (neg) throw selectError('EvaluatorNegativeLimit', 'The LIMIT clause must not be negative.');
    }
    this.eatOp(';');
    if (this.kind() === 'ident' && UNSUPPORTED_CLAUSES.has(this.cur.text.toUpperCase())) this.fail('UnsupportedSqlOperation', `${this.cur.text.toUpperCase()} is not supported`);
    if (this.kind() !== 'eof') this.fail('ParseUnexpectedToken', 'Unexpected token');
    const q: Query = { items, from, alias, where, limit, aggs: this.aggs };
    return q;
  }

  /** Path steps after a name: .member, [n], [*], .* */
  private steps(): Step[] {
    const out: Step[] = [];
    for (;;) {
      if (this.atOp('.')) {
        this.i++;
        if (this.eatOp('*')) {
          out.push({ star: true });
          continue;
        }
        if (this.kind() !== 'ident' && this.kind() !== 'qident') this.fail('ParseExpectedMember', 'Expected a member name after the dot');
        const tk = this.next();
        out.push({ name: tk.text, quoted: tk.kind === 'qident' });
      } else if (this.atOp('[')) {
        this.i++;
        if (this.eatOp('*')) out.push({ star: true });
        else if (this.kind() === 'num' && /^\d+$/.test(this.cur.text)) out.push({ index: Number(this.next().text) });
        else if (this.kind() === 'str') out.push({ name: this.next().text, quoted: true });
        else this.fail('ParseExpectedNumber', 'Expected an index or * in brackets');
        if (!this.eatOp(']')) this.fail('ParseExpectedTokenType', 'Expected ]');
      } else {
        return out;
      }
    }
  }

  expr(): Expr {
    return this.or();
  }
  /** One left-associative level of binary operators (keywords like AND, or symbols like +). */
  private level(ops: readonly string[], next: () => Expr): Expr {
    let l = next();
    for (;;) {
      const op = ops.find((o) => (/^[A-Z]/.test(o) ? this.at(o) : this.atOp(o)));
      if (op === undefined) return l;
      this.i++;
      l = { k: 'bin', op, l, r: next() };
    }
  }
  private or(): Expr {
    return this.level(['OR'], () => this.and());
  }
  private and(): Expr {
    return this.level(['AND'], () => this.not());
  }
  private not(): Expr {
    if (this.eat('NOT')) return { k: 'not', e: this.not() };
    return this.predicate();
  }
  private predicate(): Expr {
    const l = this.concat();
    if (this.kind() === 'op' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(this.cur.text)) {
      const op = this.next().text;
      return { k: 'bin', op: op === '<>' ? '!=' : op, l, r: this.concat() };
    }
    if (this.eat('IS')) {
      const not = this.eat('NOT');
      for (const what of ['NULL', 'MISSING', 'TRUE', 'FALSE'] as const) if (this.eat(what)) return { k: 'is', e: l, what, not };
      this.fail('ParseExpectedKeyword', 'Expected NULL, MISSING, TRUE or FALSE after IS');
    }
    const not = this.eat('NOT');
    if (this.eat('LIKE')) {
      const pat = this.concat();
      const esc = this.eat('ESCAPE') ? this.concat() : undefined;
      return { k: 'like', e: l, pat, esc, not };
    }
    if (this.eat('BETWEEN')) {
      const lo = this.concat();
      this.keyword('AND');
      return { k: 'between', e: l, lo, hi: this.concat(), not };
    }
    if (this.eat('IN')) {
      if (!this.eatOp('(')) this.fail('ParseExpectedTokenType', 'Expected ( after IN');
      const list: Expr[] = [this.expr()];
      while (this.eatOp(',')) list.push(this.expr());
      if (!this.eatOp(')')) this.fail('ParseExpectedTokenType', 'Expected ) closing the IN list');
      return { k: 'in', e: l, list, not };
    }
    if (not) this.fail('ParseExpectedKeyword', 'Expected LIKE, BETWEEN or IN after NOT');
    return l;
  }
  private concat(): Expr {
    return this.level(['||'], () => this.additive());
  }
  private additive(): Expr {
    return this.level(['+', '-'], () => this.term());
  }
  private term(): Expr {
    return this.level(['*', '/', '%'], () => this.unary());
  }
  private unary(): Expr {
    if (this.eatOp('-')) {
      const e = this.unary();
      return e.k === 'lit' && typeof e.v === 'number' ? { k: 'lit', v: -e.v } : { k: 'neg', e };
    }
    if (this.eatOp('+')) return this.unary();
    return this.primary();
  }
  private primary(): Expr {
    const tk = this.cur;
    if (tk.kind === 'num') {
      this.i++;
      return { k: 'lit', v: Number(tk.text) };
    }
    if (tk.kind === 'str') {
      this.i++;
      return { k: 'lit', v: tk.text };
    }
    if (tk.kind === 'ion') {
      this.i++;
      return { k: 'lit', v: parseTimestamp(tk.text) };
    }
    if (tk.kind === 'op' && tk.text === '(') {
      this.i++;
      const e = this.expr();
      if (!this.eatOp(')')) this.fail('ParseExpectedTokenType', 'Expected a right parenthesis');
      return e;
    }
    if (tk.kind === 'qident') {
      this.i++;
      return { k: 'path', steps: [{ name: tk.text, quoted: true }, ...this.steps()] };
    }
    if (tk.kind !== 'ident') this.fail('ParseExpectedExpression', 'Expected an expression');
    const word = tk.text.toUpperCase();
    if (word === 'NULL' || word === 'MISSING') {
      this.i++;
      return { k: 'lit', v: word === 'NULL' ? null : undefined };
    }
    if (word === 'TRUE' || word === 'FALSE') {
      this.i++;
      return { k: 'lit', v: word === 'TRUE' };
    }
    if (word === 'CASE') return this.caseExpr();
    if (word === 'CAST') {
      this.i++;
      if (!this.eatOp('(')) this.fail('ParseExpectedLeftParenAfterCast', 'Expected a left parenthesis after CAST');
      const e = this.expr();
      this.keyword('AS');
      if (this.kind() !== 'ident' || !(this.cur.text.toUpperCase() in TYPES)) this.fail('ParseExpectedTypeName', 'Expected a type name (INT, INTEGER, FLOAT, DECIMAL, STRING, BOOL, TIMESTAMP)');
      const type = TYPES[this.next().text.toUpperCase()] as CastType;
      if (this.eatOp('(')) {
        while (!this.atOp(')') && this.kind() !== 'eof') this.i++;
        this.eatOp(')');
      }
      this.closeCall();
      return { k: 'cast', e, type };
    }
    if (RESERVED.has(word)) this.fail(UNSUPPORTED_CLAUSES.has(word) ? 'UnsupportedSqlOperation' : 'ParseExpectedExpression', 'Expected an expression');
    if (this.t[this.i + 1]?.kind === 'op' && this.t[this.i + 1]?.text === '(') return this.call(word);
    this.i++;
    return { k: 'path', steps: [{ name: tk.text, quoted: false }, ...this.steps()] };
  }

  private caseExpr(): Expr {
    this.i++;
    const operand = this.at('WHEN') ? undefined : this.expr();
    const whens: Array<{ when: Expr; then: Expr }> = [];
    while (this.eat('WHEN')) {
      const when = this.expr();
      this.keyword('THEN');
      whens.push({ when, then: this.expr() });
    }
    if (whens.length === 0) this.fail('ParseExpectedWhenClause', 'Expected WHEN in CASE');
    const otherwise = this.eat('ELSE') ? this.expr() : undefined;
    this.keyword('END');
    return { k: 'case', operand, whens, else: otherwise };
  }

  private call(word: string): Expr {
    this.i += 2;
    if (AGGS.has(word)) {
      if (this.inAgg) throw selectError('UnsupportedSqlOperation', 'Aggregate functions cannot be nested.');
      let arg: Expr | undefined;
      if (this.eatOp('*')) {
        if (word !== 'COUNT') throw selectError('ParseUnsupportedCallWithStar', `${word}(*) is not supported; only COUNT(*) takes *.`);
      } else {
        this.inAgg = true;
        arg = this.expr();
        this.inAgg = false;
      }
      if (this.atOp(',')) throw selectError('ParseNonUnaryAgregateFunctionCall', `${word} takes exactly one argument.`);
      this.closeCall();
      const node = { k: 'agg' as const, fn: word as AggFn, arg, ix: this.aggs.length };
      this.aggs.push(node);
      return node;
    }
    if (word === 'TRIM') return this.trim();
    if (word === 'SUBSTRING') return this.substring();
    if (word === 'EXTRACT') {
      const part = this.datePart();
      this.keyword('FROM');
      const e = this.expr();
      this.closeCall();
      return { k: 'call', name: 'EXTRACT', args: [{ k: 'lit', v: part }, e] };
    }
    const arity = FUNCTIONS[word];
    if (!arity) throw selectError('UnsupportedFunction', `The function ${word} is not supported.`);
    const args: Expr[] = [];
    if (word === 'DATE_ADD' || word === 'DATE_DIFF') {
      args.push({ k: 'lit', v: this.datePart() });
      if (!this.eatOp(',')) this.fail('ParseExpectedArgumentDelimiter', 'Expected a comma between arguments');
    }
    if (!this.atOp(')')) {
      args.push(this.expr());
      while (this.eatOp(',')) args.push(this.expr());
    }
    if (!this.atOp(')') && this.kind() !== 'eof') this.fail('ParseExpectedArgumentDelimiter', 'Expected a comma between arguments');
    this.closeCall();
    if (args.length < arity[0] || args.length > arity[1]) throw selectError('EvaluatorInvalidArguments', `Incorrect number of arguments to the function ${word}.`);
    return { k: 'call', name: word === 'CHARACTER_LENGTH' ? 'CHAR_LENGTH' : word, args };
  }

  private datePart(): string {
    const p = this.kind() === 'ident' ? this.cur.text.toUpperCase() : '';
    if (!DATE_PARTS.has(p)) this.fail('ParseExpectedDatePart', 'Expected a date part (YEAR, MONTH, DAY, HOUR, MINUTE, SECOND)');
    this.i++;
    return p;
  }

  /** TRIM([[LEADING|TRAILING|BOTH] [chars] FROM] str) */
  private trim(): Expr {
    let mode = 'BOTH';
    for (const m of ['LEADING', 'TRAILING', 'BOTH']) if (this.eat(m)) mode = m;
    let chars: Expr = { k: 'lit', v: ' ' };
    let str: Expr;
    if (this.eat('FROM')) {
      str = this.expr();
    } else {
      const first = this.expr();
      if (this.eat('FROM')) {
        chars = first;
        str = this.expr();
      } else {
        str = first;
      }
    }
    this.closeCall();
    return { k: 'call', name: 'TRIM', args: [{ k: 'lit', v: mode }, chars, str] };
  }

  /** SUBSTRING(str FROM start [FOR len]) or SUBSTRING(str, start[, len]) */
  private substring(): Expr {
    const str = this.expr();
    const args = [str];
    if (this.eat('FROM')) {
      args.push(this.expr());
      if (this.eat('FOR')) args.push(this.expr());
    } else {
      if (!this.eatOp(',')) this.fail('ParseExpectedArgumentDelimiter', 'Expected a comma or FROM in SUBSTRING');
      args.push(this.expr());
      if (this.eatOp(',')) args.push(this.expr());
    }
    this.closeCall();
    return { k: 'call', name: 'SUBSTRING', args };
  }
}

/** Parses a whole S3 Select expression; paths are made relative to the record (the alias or S3Object prefix removed). */
export function parseSelect(sql: string): Query {
  if (Buffer.byteLength(sql, 'utf8') > MAX_EXPRESSION_BYTES) {
    throw selectError('ExpressionTooLong', 'The SQL expression is too long: the maximum byte-length for an SQL expression is 256 KB.');
  }
  const p = new Parser(tokenize(sql));
  const q = p.query();
  const strip = (e: Expr): void => {
    if (e.k !== 'path') return subExprs(e).forEach(strip);
    const first = e.steps[0];
    if (first && 'name' in first && !first.quoted) {
      const n = first.name.toLowerCase();
      if ((q.alias !== undefined && n === q.alias.toLowerCase()) || n === 's3object') e.steps.shift();
    } else if (first && 'name' in first && first.quoted && q.alias !== undefined && first.name === q.alias) {
      e.steps.shift();
    }
  };
  for (const it of q.items ?? []) strip(it.e);
  if (q.where) strip(q.where);
  if (q.aggs.length > 0 && q.items) {
    for (const it of q.items) {
      if (!containsAgg(it.e) && !isConstant(it.e)) {
        throw selectError('UnsupportedSqlOperation', 'Aggregate and non-aggregate expressions cannot be mixed in the SELECT list.');
      }
    }
  }
  return q;
}

function containsAgg(e: Expr): boolean {
  return e.k === 'agg' || subExprs(e).some(containsAgg);
}

/** The expressions directly inside `e` (none for a literal or a path). */
export function subExprs(e: Expr): Expr[] {
  switch (e.k) {
    case 'lit':
    case 'path':
      return [];
    case 'neg':
    case 'not':
    case 'cast':
    case 'is':
      return [e.e];
    case 'bin':
      return [e.l, e.r];
    case 'like':
      return e.esc ? [e.e, e.pat, e.esc] : [e.e, e.pat];
    case 'between':
      return [e.e, e.lo, e.hi];
    case 'in':
      return [e.e, ...e.list];
    case 'call':
      return e.args;
    case 'agg':
      return e.arg ? [e.arg] : [];
    case 'case': {
      const out: Expr[] = e.operand ? [e.operand] : [];
      for (const w of e.whens) out.push(w.when, w.then);
      if (e.else) out.push(e.else);
      return out;
    }
  }
}

function isConstant(e: Expr): boolean {
  return e.k === 'lit' || (e.k === 'call' && e.args.every(isConstant));
}

/** ISO 8601 timestamps as S3 Select reads them (a date alone, or with a time and an offset). */
export function parseTimestamp(text: string): Date {
  const s = text.trim();
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?T?$/i.exec(s);
  if (!m) throw selectError('CastFailed', `Attempt to convert '${s}' to TIMESTAMP failed.`);
  const [, y, mo = '01', d = '01', h = '00', mi = '00', sec = '00', frac = '', tz = 'Z'] = m;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${sec}${frac}${tz.toUpperCase()}`;
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) throw selectError('CastFailed', `Attempt to convert '${s}' to TIMESTAMP failed.`);
  return t;
}
