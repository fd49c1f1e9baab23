import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { SelectObjectContentRequest } from '@aws-sdk/client-s3';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { isAwsError } from '../../../aws/errors.js';
import type { RequestContext } from '../../../server/context.js';
import type { Rec } from './eval.js';
import { planSelect, selectEvents } from './handler.js';
import { aligned, CsvReader, JsonDocumentReader, JsonLinesReader, type RecordReader } from './readers.js';
import { runQuery } from './run.js';
import { parseSelect, selectError, tokenize } from './sql.js';

const codec = new EventStreamCodec(
  (b) => Buffer.from(b).toString('utf8'),
  (s) => Buffer.from(s, 'utf8'),
);
const NOW = new Date('2026-11-29T12:00:00Z');
const ctx = { clock: { now: () => NOW, nowMs: () => NOW.getTime() }, log: { error() {} }, requestId: 'r' } as unknown as RequestContext;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isAwsError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

interface Out {
  records: string;
  events: string[];
  stats?: string;
  error?: { code: string; message: string };
}

/** Runs a whole select over `data` (fed in `chunk`-byte pieces) and decodes the event stream. */
async function select(data: string | Buffer, req: Partial<SelectObjectContentRequest>, chunk = 7, from = 0, alignFirst = false): Promise<Out> {
  const plan = planSelect({ Bucket: 'b', Key: 'k', ExpressionType: 'SQL', InputSerialization: { CSV: {} }, OutputSerialization: { CSV: {} }, ...req } as SelectObjectContentRequest);
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const pieces: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) pieces.push(buf.subarray(i, i + chunk));
  const out: Out = { records: '', events: [] };
  for await (const frame of selectEvents(plan, { body: (async function* () { yield* pieces; })(), from, alignFirst }, undefined, ctx)) {
    const m = codec.decode(frame);
    const h = (n: string) => m.headers[n]?.value as string | undefined;
    if (h(':message-type') === 'error') {
      out.error = { code: h(':error-code') as string, message: h(':error-message') as string };
      out.events.push('error');
      continue;
    }
    const type = h(':event-type') as string;
    out.events.push(type);
    if (type === 'Records') out.records += Buffer.from(m.body).toString('utf8');
    if (type === 'Stats') out.stats = Buffer.from(m.body).toString('utf8');
  }
  return out;
}

const CSV = 'id,Name,city,score\n1,ann,Oslo,31.5\n2,bob,"Rio, BR",25\n3,"c""d",Oslo,\n4,dee,Lima,40\n';
const csvUse = { InputSerialization: { CSV: { FileHeaderInfo: 'USE' as const } } };
const q = async (expr: string, extra: Partial<SelectObjectContentRequest> = csvUse) => (await select(CSV, { Expression: expr, ...extra })).records;

describe('S3 Select SQL: tokenizer and parser', () => {
  it('tokenizes strings, quoted names, numbers and operators', () => {
    const t = tokenize(`SELECT "Na""me", 'it''s', 1.5e3 FROM s3object s WHERE a <> 2 || 'x'`);
    assert.deepEqual(
      t.map((x) => `${x.kind}:${x.text}`),
      ['ident:SELECT', 'qident:Na"me', 'op:,', "str:it's", 'op:,', 'num:1.5e3', 'ident:FROM', 'ident:s3object', 'ident:s', 'ident:WHERE', 'ident:a', 'op:<>', 'num:2', 'op:||', 'str:x', 'eof:'],
    );
  });

  it('parses the select list, alias, FROM path, WHERE and LIMIT', () => {
    const p = parseSelect('SELECT s.a AS x, COUNT(*) FROM S3Object[*].rules[*] r LIMIT 3'.replace('s.a AS x, ', ''));
    assert.equal(p.aggs.length, 1);
    assert.deepEqual(p.from, [{ star: true }, { name: 'rules', quoted: false }, { star: true }]);
    assert.equal(p.alias, 'r');
    assert.equal(p.limit, 3);
    const w = parseSelect('select s.name from s3object s where s.age between 1 and 5 and s.n like \'a%\'');
    assert.deepEqual(w.items?.[0]?.e, { k: 'path', steps: [{ name: 'name', quoted: false }] });
  });

  it('bad SQL fails with the AWS error codes', () => {
    const cases: Array<[string, string]> = [
      ['SELECT FROM S3Object', 'ParseEmptySelect'],
      ['SELECT *', 'ParseSelectMissingFrom'],
      ['SELECT * FROM S3Object WHERE', 'ParseExpectedExpression'],
      ['SELECT * FROM S3Object WHERE COUNT(*) > 1', 'UnsupportedSqlOperation'],
      ['SELECT * FROM mytable', 'InvalidDataSource'],
      ['DELETE FROM S3Object', 'ParseUnsupportedSyntax'],
      ['SELECT *, a FROM S3Object', 'ParseAsteriskIsNotAloneInSelectList'],
      ['SELECT a, * FROM S3Object', 'ParseAsteriskIsNotAloneInSelectList'],
      ['SELECT CAST(a AS BLOB) FROM S3Object', 'ParseExpectedTypeName'],
      ['SELECT CAST a FROM S3Object', 'ParseExpectedLeftParenAfterCast'],
      ['SELECT LOWER(a', 'ParseExpectedRightParenBuiltinFunctionCall'],
      ['SELECT LOWER(a b) FROM S3Object', 'ParseExpectedArgumentDelimiter'],
      ['SELECT a AS FROM S3Object', 'ParseExpectedIdentForAlias'],
      ['SELECT SUM(*) FROM S3Object', 'ParseUnsupportedCallWithStar'],
      ['SELECT MAX(a, b) FROM S3Object', 'ParseNonUnaryAgregateFunctionCall'],
      ['SELECT SOUNDEX(a) FROM S3Object', 'UnsupportedFunction'],
      ['SELECT a FROM S3Object ORDER BY a', 'UnsupportedSqlOperation'],
      ['SELECT a FROM S3Object GROUP BY a', 'UnsupportedSqlOperation'],
      ['SELECT a, COUNT(*) FROM S3Object', 'UnsupportedSqlOperation'],
      ['SELECT a FROM S3Object LIMIT -1', 'EvaluatorNegativeLimit'],
      ['SELECT a FROM S3Object LIMIT x', 'ParseExpectedNumber'],
      ['SELECT a FROM S3Object WHERE a = 1 b', 'ParseUnexpectedToken'],
      ['SELECT a FROM S3Object WHERE a # 1', 'LexerInvalidChar'],
      ["SELECT a FROM S3Object WHERE a = 'open", 'LexerInvalidLiteral'],
      ['SELECT EXTRACT(WEEK FROM a) FROM S3Object', 'ParseExpectedDatePart'],
      ['SELECT CASE a END FROM S3Object', 'ParseExpectedWhenClause'],
      ['SELECT a FROM S3Object WHERE a IS 3', 'ParseExpectedKeyword'],
      ['SELECT s.a.(b) FROM S3Object s', 'ParseExpectedMember'],
    ];
    for (const [sql, want] of cases) assert.equal(code(() => parseSelect(sql)), want, sql);
    assert.equal(code(() => parseSelect(`SELECT '${'x'.repeat(256 * 1024)}' FROM S3Object`)), 'ExpressionTooLong');
  });
});

describe('S3 Select request checks', () => {
  const base = { Bucket: 'b', Key: 'k', Expression: 'SELECT * FROM S3Object', ExpressionType: 'SQL', InputSerialization: { CSV: {} }, OutputSerialization: { CSV: {} } };
  const check = (over: Record<string, unknown>) => code(() => planSelect({ ...base, ...over } as SelectObjectContentRequest));
  it('answers the SelectObjectContent error codes', () => {
    assert.equal(check({}), 'no error');
    assert.equal(check({ ExpressionType: 'XPATH' }), 'InvalidExpressionType');
    assert.equal(check({ Expression: undefined }), 'MissingRequiredParameter');
    assert.equal(check({ OutputSerialization: undefined }), 'MissingRequiredParameter');
    assert.equal(check({ InputSerialization: { CSV: {}, JSON: {} } }), 'ObjectSerializationConflict');
    assert.equal(check({ OutputSerialization: { CSV: {}, JSON: {} } }), 'ObjectSerializationConflict');
    assert.equal(check({ InputSerialization: { CSV: {}, CompressionType: 'ZSTD' } }), 'InvalidCompressionFormat');
    assert.equal(check({ InputSerialization: { CSV: {}, CompressionType: 'BZIP2' } }), 'NotImplemented');
    assert.equal(check({ InputSerialization: { Parquet: {} } }), 'no error');
    assert.equal(check({ InputSerialization: { Parquet: {}, CompressionType: 'GZIP' } }), 'InvalidRequestParameter');
    assert.equal(check({ InputSerialization: { Parquet: {}, CompressionType: 'BZIP2' } }), 'InvalidRequestParameter');
    assert.equal(check({ InputSerialization: { Parquet: {} }, ScanRange: { Start: 0, End: 99 } }), 'no error');
    assert.equal(check({ InputSerialization: { CSV: { FileHeaderInfo: 'MAYBE' } } }), 'InvalidFileHeaderInfo');
    assert.equal(check({ InputSerialization: { JSON: { Type: 'XML' } } }), 'InvalidJsonType');
    assert.equal(check({ OutputSerialization: { CSV: { QuoteFields: 'NEVER' } } }), 'InvalidQuoteFields');
    assert.equal(check({ InputSerialization: { CSV: { FieldDelimiter: ';;' } } }), 'InvalidRequestParameter');
    assert.equal(check({ ScanRange: { Start: 10, End: 5 } }), 'InvalidScanRange');
    assert.equal(check({ ScanRange: { Start: 0 }, InputSerialization: { CSV: {}, CompressionType: 'GZIP' } }), 'UnsupportedScanRangeInput');
    assert.equal(check({ ScanRange: { Start: 0 }, InputSerialization: { JSON: { Type: 'DOCUMENT' } } }), 'UnsupportedScanRangeInput');
  });
});

describe('S3 Select evaluation over CSV', () => {
  it('SELECT *, columns by header name (case rules) and position, aliases', async () => {
    assert.equal(await q('SELECT * FROM S3Object LIMIT 1'), '1,ann,Oslo,31.5\n');
    assert.equal(await q('SELECT name, _3 FROM S3Object s WHERE s.id = 2'), 'bob,"Rio, BR"\n');
    assert.equal(await q('SELECT "Name" FROM S3Object WHERE id = 3'), '"c""d"\n');
    const missing = await select(CSV, { Expression: 'SELECT "name" FROM S3Object', ...csvUse });
    assert.equal(missing.error?.code, 'MissingHeaders');
    assert.equal(await q('SELECT s.name AS n, s.score FROM S3Object s LIMIT 1', { ...csvUse, OutputSerialization: { JSON: {} } }), '{"n":"ann","score":"31.5"}\n');
    assert.equal(await q('SELECT * FROM S3Object LIMIT 1', { ...csvUse, OutputSerialization: { JSON: {} } }), '{"id":"1","Name":"ann","city":"Oslo","score":"31.5"}\n');
  });

  it('WHERE: comparisons on numeric strings, AND/OR/NOT, IS NULL, LIKE/ESCAPE, BETWEEN, IN', async () => {
    assert.equal(await q('SELECT id FROM S3Object WHERE score > 30'), '1\n4\n');
    assert.equal(await q("SELECT id FROM S3Object WHERE city = 'Oslo' AND NOT id = 1"), '3\n');
    assert.equal(await q("SELECT id FROM S3Object WHERE city = 'Lima' OR name LIKE 'b%'"), '2\n4\n');
    assert.equal(await q("SELECT id FROM S3Object WHERE score = ''"), '3\n');
    assert.equal(await q('SELECT id FROM S3Object WHERE CAST(id AS INT) BETWEEN 2 AND 3'), '2\n3\n');
    assert.equal(await q('SELECT id FROM S3Object WHERE id NOT IN (1, 2)'), '3\n4\n');
    assert.equal(await q("SELECT id FROM S3Object WHERE city IN ('Lima', 'Rio, BR')"), '2\n4\n');
    assert.equal(await q("SELECT id FROM S3Object WHERE name LIKE '_n_'"), '1\n');
    assert.equal(await q("SELECT id FROM S3Object WHERE city LIKE '%, BR' AND '50%' LIKE '50!%' ESCAPE '!' AND NOT ('500' LIKE '50!%' ESCAPE '!')"), '2\n');
    assert.equal((await select(CSV, { Expression: "SELECT id FROM S3Object WHERE name LIKE 'a!x' ESCAPE '!'", ...csvUse })).error?.code, 'EvaluatorLikePatternInvalidEscapeSequence');
    assert.equal(await q('SELECT id FROM S3Object WHERE _5 IS NULL LIMIT 1'), '1\n');
    assert.equal(await q('SELECT id FROM S3Object WHERE _5 IS MISSING AND _4 IS NOT NULL LIMIT 1'), '1\n');
  });

  it('arithmetic, CAST, string functions, COALESCE, NULLIF, CASE, dates', async () => {
    assert.equal(await q('SELECT CAST(id AS INT) * 10 + 1, id / 2, -id, 7 % 4 FROM S3Object LIMIT 1'), '11,0,-1,3\n');
    assert.equal(await q('SELECT CAST(score AS FLOAT) / 2 FROM S3Object LIMIT 1'), '15.75\n');
    assert.equal(await q("SELECT UPPER(name), LOWER('AbC'), CHAR_LENGTH(city), CHARACTER_LENGTH(name) FROM S3Object LIMIT 1"), 'ANN,abc,4,3\n');
    assert.equal(await q("SELECT TRIM('  x  '), TRIM(LEADING '-' FROM '--a--'), SUBSTRING('hello' FROM 2 FOR 3), SUBSTRING('hello', 4) FROM S3Object LIMIT 1"), 'x,a--,ell,lo\n');
    assert.equal(await q("SELECT COALESCE(_9, score, 'none'), NULLIF(city, 'Oslo') FROM S3Object WHERE id = '3'"), ',\n');
    assert.equal(await q("SELECT name || '@' || city FROM S3Object LIMIT 1"), 'ann@Oslo\n');
    assert.equal(await q("SELECT CASE WHEN score > 30 THEN 'hi' ELSE 'lo' END, CASE city WHEN 'Oslo' THEN 1 END FROM S3Object LIMIT 2"), 'hi,1\nlo,\n');
    assert.equal(await q("SELECT CAST('true' AS BOOL), CAST(1.9 AS INTEGER), CAST(2 AS STRING), CAST('2026-01-02T03:04:05Z' AS TIMESTAMP) FROM S3Object LIMIT 1"), 'true,1,2,2026-01-02T03:04:05Z\n');
    assert.equal(
      await q("SELECT EXTRACT(YEAR FROM UTCNOW()), DATE_ADD(day, 3, TO_TIMESTAMP('2026-02-27T00:00:00Z')), DATE_DIFF(hour, TO_TIMESTAMP('2026-01-01T00:00:00Z'), TO_TIMESTAMP('2026-01-02T06:00:00Z')) FROM S3Object LIMIT 1"),
      '2026,2026-03-02T00:00:00Z,30\n',
    );
    const bad = await select(CSV, { Expression: 'SELECT CAST(name AS INT) FROM S3Object', ...csvUse });
    assert.equal(bad.error?.code, 'CastFailed');
    assert.deepEqual(bad.events, ['error']);
  });

  it('aggregates COUNT(*), COUNT, SUM, AVG, MIN, MAX; LIMIT', async () => {
    assert.equal(await q('SELECT COUNT(*), COUNT(score), SUM(CAST(id AS INT)), AVG(id), MIN(score), MAX(city) FROM S3Object'), '4,4,10,2.5,25,Rio, BR\n'.replace('Rio, BR', '"Rio, BR"'));
    assert.equal(await q("SELECT COUNT(*) FROM S3Object WHERE city = 'Oslo'"), '2\n');
    assert.equal(await q('SELECT SUM(score) FROM S3Object WHERE id = 99'), '\n');
    assert.equal(await q('SELECT id FROM S3Object LIMIT 2'), '1\n2\n');
    assert.equal(await q('SELECT id FROM S3Object LIMIT 0'), '');
  });

  it('headers IGNORE / NONE, comments, custom delimiters, quotes and escapes, CRLF', async () => {
    assert.equal(await q('SELECT _2 FROM S3Object LIMIT 1', { InputSerialization: { CSV: { FileHeaderInfo: 'IGNORE' } } }), 'ann\n');
    assert.equal(await q('SELECT _2 FROM S3Object LIMIT 1', { InputSerialization: { CSV: { FileHeaderInfo: 'NONE' } } }), 'Name\n');
    const data = "#comment\r\na;'x;y';z\r\n\r\nb;'it\\'s';w\r\n";
    const got = await select(data, {
      Expression: 'SELECT _1, _2, _3 FROM S3Object',
      InputSerialization: { CSV: { FieldDelimiter: ';', QuoteCharacter: "'", QuoteEscapeCharacter: '\\', RecordDelimiter: '\r\n' } },
      OutputSerialization: { CSV: { FieldDelimiter: '|', QuoteFields: 'ALWAYS', RecordDelimiter: '\r\n' } },
    }, 3);
    assert.equal(got.records, '"a"|"x;y"|"z"\r\n"b"|"it\'s"|"w"\r\n');
    assert.equal((await select('#a,b\n', { Expression: 'SELECT _1 FROM S3Object', InputSerialization: { CSV: { Comments: '' } } })).records, '#a\n');
    assert.equal((await select('#a,b\n', { Expression: 'SELECT _1 FROM S3Object' })).records, '');
    const lf = await select('a,b\r\nc,d\r\n', { Expression: 'SELECT _2 FROM S3Object' }, 1);
    assert.equal(lf.records, 'b\nd\n');
    const multi = await select('1,"two\nlines"\n', { Expression: 'SELECT _2 FROM S3Object', InputSerialization: { CSV: { AllowQuotedRecordDelimiter: true } } }, 2);
    assert.equal(multi.records, '"two\nlines"\n');
    const unclosed = await select('1,"open\n', { Expression: 'SELECT * FROM S3Object' });
    assert.equal(unclosed.error?.code, 'CSVParsingError');
  });

  it('events: Records then Stats (scanned, processed, returned) then End; Progress when asked; GZIP', async () => {
    const out = await select(CSV, { Expression: 'SELECT id FROM S3Object', ...csvUse, RequestProgress: { Enabled: true } });
    assert.deepEqual(out.events, ['Records', 'Progress', 'Stats', 'End']);
    const len = Buffer.byteLength(CSV);
    assert.match(out.stats ?? '', new RegExp(`<BytesScanned>${len}</BytesScanned><BytesProcessed>${len}</BytesProcessed><BytesReturned>8</BytesReturned>`));
    const gz = gzipSync(CSV);
    const z = await select(gz, { Expression: 'SELECT COUNT(*) FROM S3Object', InputSerialization: { CSV: { FileHeaderInfo: 'USE' }, CompressionType: 'GZIP' } }, 5);
    assert.equal(z.records, '4\n');
    assert.match(z.stats ?? '', new RegExp(`<BytesScanned>${gz.length}</BytesScanned><BytesProcessed>${len}</BytesProcessed>`));
    const notGz = await select(CSV, { Expression: 'SELECT * FROM S3Object', InputSerialization: { CSV: {}, CompressionType: 'GZIP' } });
    assert.equal(notGz.error?.code, 'InvalidCompressionFormat');
  });

  it('batches Records events at 256 KiB', async () => {
    const line = `${'x'.repeat(99)}\n`;
    const big = line.repeat(8000);
    const out = await select(big, { Expression: 'SELECT * FROM S3Object' }, 64 * 1024);
    assert.equal(out.records, big);
    const n = out.events.filter((e) => e === 'Records').length;
    assert.ok(n >= 3 && n <= 5, `records events: ${n}`);
  });
});

describe('S3 Select evaluation over JSON', () => {
  const LINES = '{"id":1,"name":"ann","tags":["a","b"],"addr":{"city":"Oslo"}}\n\n{"id":2,"name":"bob","addr":{"city":"Rio"}}\n{"id":3,"Name":"cy"}\n';
  const json = (expr: string, type: 'LINES' | 'DOCUMENT', data = LINES, out: 'CSV' | 'JSON' = 'JSON') =>
    select(data, { Expression: expr, InputSerialization: { JSON: { Type: type } }, OutputSerialization: out === 'JSON' ? { JSON: {} } : { CSV: {} } }, 5);

  it('LINES: *, nested paths, array index, MISSING left out, case-insensitive names', async () => {
    assert.equal((await json('SELECT * FROM S3Object s WHERE s.id = 2', 'LINES')).records, '{"id":2,"name":"bob","addr":{"city":"Rio"}}\n');
    assert.equal((await json('SELECT s.addr.city, s.tags[1] FROM S3Object s', 'LINES')).records, '{"city":"Oslo","_2":"b"}\n{"city":"Rio"}\n{}\n');
    assert.equal((await json('SELECT s.name FROM S3Object s WHERE s.id = 3', 'LINES')).records, '{"name":"cy"}\n');
    assert.equal((await json('SELECT COUNT(*), SUM(s.id), MAX(s.name) FROM S3Object s WHERE s.addr IS NOT MISSING', 'LINES', LINES, 'CSV')).records, '2,3,bob\n');
    assert.equal((await json('SELECT s.id FROM S3Object s', 'LINES', '{"id":1}\n{bad\n')).error?.code, 'JSONParsingError');
  });

  it('DOCUMENT: several top-level values, FROM S3Object[*].path[*]', async () => {
    const doc = '{"rules":[{"id":"r1","on":true},{"id":"r2","on":false}]}\n {"rules":[{"id":"r3","on":true}]}';
    assert.equal((await json('SELECT r.id FROM S3Object[*].rules[*] r WHERE r."on" = true', 'DOCUMENT', doc)).records, '{"id":"r1"}\n{"id":"r3"}\n');
    assert.equal((await json('SELECT * FROM S3Object[*] s', 'DOCUMENT', '[{"a":1},{"a":"x}{"}]')).records, '{"a":1}\n{"a":"x}{"}\n');
    assert.equal((await json('SELECT * FROM S3Object', 'DOCUMENT', '{"a":')).error?.code, 'JSONParsingError');
  });
});

describe('S3 Select readers', () => {
  const all = <T>(r: RecordReader<T>, data: string, size: number) => {
    const b = Buffer.from(data);
    const out: Array<{ v: T; s: number }> = [];
    for (let i = 0; i < b.length; i += size) for (const x of r.push(b.subarray(i, i + size), false)) out.push({ v: x.value, s: x.start });
    for (const x of r.push(Buffer.alloc(0), true)) out.push({ v: x.value, s: x.start });
    return out;
  };
  const csv = () => new CsvReader({ fieldDelimiter: Buffer.from(','), recordDelimiter: Buffer.from('\n'), quote: 0x22, escape: 0x22, comment: 0x23 });

  it('CSV records and their byte offsets are the same whatever the chunking', () => {
    const data = 'a,b\n"x\n""y",é\n\nlast,1';
    const want = [
      { v: ['a', 'b'], s: 0 },
      { v: ['x\n"y', 'é'], s: 4 },
      { v: ['last', '1'], s: 16 },
    ];
    for (const size of [1, 2, 3, 5, 100]) assert.deepEqual(all(csv(), data, size), want, `chunk ${size}`);
  });

  it('a scan range drops the record it starts inside, and keeps one that starts at its first byte', () => {
    // The first byte is the one before the range: a newline means a record starts at the range.
    assert.deepEqual(all(aligned(csv(), Buffer.from('\n')), 'xx,1\nb,2\n', 2).map((r) => [r.v, r.s]), [[['b', '2'], 5]]);
    assert.deepEqual(all(aligned(csv(), Buffer.from('\n')), '\nb,2\nc,3', 1).map((r) => [r.v, r.s]), [[['b', '2'], 1], [['c', '3'], 5]]);
    assert.deepEqual(all(aligned(new JsonLinesReader(), Buffer.from('\n')), '1}\n{"a":2}\n', 3).map((r) => [r.v, r.s]), [[{ a: 2 }, 3]]);
  });

  it('JSON document values split across chunks; a record over 1 MiB is refused', () => {
    assert.deepEqual(all(new JsonDocumentReader(), ' {"a":"}\\""} [1,2] {"b":{}}', 2).map((r) => r.v), [{ a: '}"' }, [1, 2], { b: {} }]);
    assert.equal(code(() => all(csv(), `"${'x'.repeat(1024 * 1024 + 10)}`, 64 * 1024)), 'OverMaxRecordSize');
  });
});

describe('S3 Select query runner', () => {
  const plan = (sql: string, out: Partial<SelectObjectContentRequest['OutputSerialization']> = { JSON: {} }) =>
    planSelect({ Bucket: 'b', Key: 'k', ExpressionType: 'SQL', Expression: sql, InputSerialization: { Parquet: {} }, OutputSerialization: out });
  const decode = async (frames: AsyncIterable<Uint8Array>) => {
    const events: Array<{ type: string; size: number }> = [];
    const parts: Buffer[] = [];
    for await (const frame of frames) {
      const m = codec.decode(frame);
      const type = (m.headers[':event-type']?.value ?? m.headers[':error-code']?.value) as string;
      events.push({ type, size: m.body.length });
      if (type === 'Records') parts.push(Buffer.from(m.body));
    }
    return { events, records: Buffer.concat(parts).toString('utf8') };
  };

  it('Records events hold at most 256 KiB (a record may continue in the next); LIMIT stops the source', async () => {
    let pulled = 0;
    const big = 'é'.repeat(100_000);
    async function* source(): AsyncGenerator<Rec[]> {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield [{ json: { i, big } }];
      }
    }
    const c = { scanned: 0, processed: 0, returned: 0 };
    const r = await decode(runQuery(plan('SELECT s.i, s.big FROM S3Object s LIMIT 5'), source(), c, ctx));
    const records = r.events.filter((e) => e.type === 'Records');
    assert.ok(records.every((e) => e.size <= 256 * 1024), JSON.stringify(records));
    assert.ok(records.length >= 4);
    assert.equal(r.records.split('\n').filter(Boolean).length, 5);
    assert.deepEqual(JSON.parse(r.records.split('\n')[4] as string), { i: 4, big });
    assert.equal(c.returned, Buffer.byteLength(r.records));
    assert.ok(pulled <= 6, `the source was pulled ${pulled} times`);
    assert.deepEqual(r.events.slice(-2).map((e) => e.type), ['Stats', 'End']);
  });

  it('sends Cont while a slow source (a large row group) has nothing yet; a source failure ends the stream with its error', async () => {
    async function* slow(): AsyncGenerator<Rec[]> {
      await new Promise((res) => setTimeout(res, 1300));
      yield [{ json: { a: 1 } }];
      throw selectError('ParquetParsingError', 'bad page');
    }
    const r = await decode(runQuery(plan('SELECT s.a FROM S3Object s'), slow(), { scanned: 0, processed: 0, returned: 0 }, ctx));
    assert.deepEqual(r.events.map((e) => e.type), ['Cont', 'ParquetParsingError']);
  });

  it('a result record over 1 MiB is OverMaxRecordSize', async () => {
    async function* wide(): AsyncGenerator<Rec[]> {
      yield [{ json: { a: 'x'.repeat(600 * 1024), b: 'y'.repeat(600 * 1024) } }];
    }
    const c = { scanned: 0, processed: 0, returned: 0 };
    assert.deepEqual((await decode(runQuery(plan('SELECT s.a FROM S3Object s'), wide(), c, ctx))).events.map((e) => e.type).slice(-2), ['Stats', 'End']);
    assert.deepEqual((await decode(runQuery(plan('SELECT * FROM S3Object s'), wide(), c, ctx))).events.map((e) => e.type), ['OverMaxRecordSize']);
  });
});
