/**
 * Streaming record readers for S3 Select input: CSV (quotes, escapes,
 * comment lines, any field and record delimiter) and JSON (LINES: one value a
 * line; DOCUMENT: a stream of top-level values). Bytes go in chunk by chunk;
 * only the unfinished record is kept between chunks (at most 1 MiB, as AWS's
 * maxCharsPerRecord). Each record comes out with the byte offset where it
 * starts, for ScanRange.
 */
import { selectError, type Value } from './sql.js';

export const MAX_RECORD_BYTES = 1024 * 1024;

export interface RawRecord<T> {
  value: T;
  /** Byte offset of the record's first byte in the stream read. */
  start: number;
}

export interface RecordReader<T> {
  /** Parses what `chunk` completes; `final` flushes the last record. */
  push(chunk: Buffer, final: boolean): Generator<RawRecord<T>>;
}

/** Runs records through `inner` after dropping the partial record a scan range starts inside. */
export function aligned<T>(inner: RecordReader<T>, recordDelimiter: Buffer): RecordReader<T> {
  const last = recordDelimiter[recordDelimiter.length - 1] as number;
  let state: 'first' | 'skipping' | 'on' = 'first';
  let dropped = 0;
  // The tail of what was dropped that may begin a delimiter split across chunks: not yet counted in `dropped`.
  let carry: Buffer = Buffer.alloc(0);
  return {
    *push(chunk, final) {
      let c = chunk;
      if (state === 'first') {
        if (c.length === 0) return;
        state = c[0] === last ? 'on' : 'skipping';
        c = c.subarray(1);
        dropped = 1;
      }
      if (state === 'skipping') {
        const buf = carry.length > 0 ? Buffer.concat([carry, c]) : c;
        const at = buf.indexOf(recordDelimiter);
        if (at < 0) {
          const keep = Math.min(recordDelimiter.length - 1, buf.length);
          dropped += buf.length - keep;
          carry = buf.subarray(buf.length - keep);
          return;
        }
        const cut = at + recordDelimiter.length;
        dropped += cut;
        c = buf.subarray(cut);
        carry = Buffer.alloc(0);
        state = 'on';
      }
      for (const r of inner.push(c, final)) yield { value: r.value, start: r.start + dropped };
    },
  };
}

export interface CsvOptions {
  fieldDelimiter: Buffer;
  recordDelimiter: Buffer;
  quote: number | undefined;
  escape: number | undefined;
  comment: number | undefined;
}

const CR = 0x0d;
const LF = 0x0a;

function matchAt(b: Buffer, i: number, d: Buffer): boolean {
  if (d.length === 1) return b[i] === d[0];
  if (i + d.length > b.length) return false;
  for (let k = 0; k < d.length; k++) if (b[i + k] !== d[k]) return false;
  return true;
}

export class CsvReader implements RecordReader<string[]> {
  private pending: Buffer = Buffer.alloc(0);
  private base = 0;
  private readonly lfOnly: boolean;

  constructor(private readonly o: CsvOptions) {
    this.lfOnly = o.recordDelimiter.length === 1 && o.recordDelimiter[0] === LF;
  }

  *push(chunk: Buffer, final: boolean): Generator<RawRecord<string[]>> {
    const b = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let p = 0;
    for (;;) {
      if (p >= b.length) break;
      const r = this.record(b, p, final);
      if (!r) break;
      if (r.fields) yield { value: r.fields, start: this.base + p };
      p = r.next;
    }
    this.pending = b.subarray(p);
    this.base += p;
    if (this.pending.length > MAX_RECORD_BYTES) throw overMaxRecord();
    if (final && this.pending.length > 0) throw selectError('CSVParsingError', 'An error occurred while parsing the CSV file. Check the file and try again.');
  }

  /** One record from p: its fields (none for a blank or comment line) and where the next starts; undefined if the chunk ends first. */
  private record(b: Buffer, p: number, final: boolean): { fields: string[] | undefined; next: number } | undefined {
    const { fieldDelimiter: fd, recordDelimiter: rd, quote, escape, comment } = this.o;
    const len = b.length;
    if (matchAt(b, p, rd)) return { fields: undefined, next: p + rd.length };
    if (this.lfOnly && b[p] === CR && b[p + 1] === LF) return { fields: undefined, next: p + 2 };
    if (comment !== undefined && b[p] === comment) {
      const at = b.indexOf(rd, p);
      if (at < 0) return final ? { fields: undefined, next: len } : undefined;
      return { fields: undefined, next: at + rd.length };
    }
    const fields: string[] = [];
    let i = p;
    for (;;) {
      let field: string;
      if (quote !== undefined && b[i] === quote) {
        const parts: Buffer[] = [];
        i++;
        let seg = i;
        for (;;) {
          if (i >= len) {
            if (!final) return undefined;
            throw selectError('CSVParsingError', 'An error occurred while parsing the CSV file: a quoted field is not closed. Check the file and try again.');
          }
          const c = b[i];
          if (c === escape && escape !== quote) {
            if (i + 1 >= len) {
              if (!final) return undefined;
              throw selectError('CSVParsingError', 'An error occurred while parsing the CSV file: an escape character ends the file. Check the file and try again.');
            }
            parts.push(b.subarray(seg, i));
            seg = i + 1;
            i += 2;
            continue;
          }
          if (c === quote) {
            if (escape === quote && i + 1 >= len && !final) return undefined;
            if (escape === quote && b[i + 1] === quote) {
              parts.push(b.subarray(seg, i + 1));
              i += 2;
              seg = i;
              continue;
            }
            parts.push(b.subarray(seg, i));
            i++;
            break;
          }
          i++;
        }
        const tail = i;
        while (i < len && !matchAt(b, i, fd) && !matchAt(b, i, rd)) i++;
        let tailEnd = i;
        if (this.lfOnly && tailEnd > tail && b[tailEnd - 1] === CR) tailEnd--;
        parts.push(b.subarray(tail, tailEnd));
        field = Buffer.concat(parts).toString('utf8');
      } else {
        const start = i;
        while (i < len && !matchAt(b, i, fd) && !matchAt(b, i, rd)) i++;
        let end = i;
        if (this.lfOnly && end > start && b[end - 1] === CR) end--;
        field = b.toString('utf8', start, end);
      }
      if (i >= len) {
        if (!final) return undefined;
        fields.push(field);
        return { fields, next: len };
      }
      fields.push(field);
      if (matchAt(b, i, fd)) {
        i += fd.length;
        continue;
      }
      return { fields, next: i + rd.length };
    }
  }
}

export function overMaxRecord() {
  return selectError('OverMaxRecordSize', 'The length of a record in the input or result is greater than the maxCharsPerRecord limit of 1 MB.');
}

function jsonError(detail: string) {
  return selectError('JSONParsingError', `An error occurred while parsing the JSON file (${detail}). Check the file and try again.`);
}

function parseJson(b: Buffer, from: number, to: number): Value {
  try {
    return JSON.parse(b.toString('utf8', from, to)) as Value;
  } catch (e) {
    throw jsonError((e as Error).message);
  }
}

/** JSON LINES: one value on each line; blank lines skipped. */
export class JsonLinesReader implements RecordReader<Value> {
  private pending: Buffer = Buffer.alloc(0);
  private base = 0;

  *push(chunk: Buffer, final: boolean): Generator<RawRecord<Value>> {
    const b = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let p = 0;
    for (;;) {
      let at = b.indexOf(LF, p);
      if (at < 0) {
        if (!final) break;
        at = b.length;
      }
      if (at > p && !isBlank(b, p, at)) yield { value: parseJson(b, p, at), start: this.base + p };
      p = Math.min(at + 1, b.length);
      if (p >= b.length) break;
    }
    this.pending = b.subarray(p);
    this.base += p;
    if (this.pending.length > MAX_RECORD_BYTES) throw overMaxRecord();
  }
}

function isBlank(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== CR && c !== LF) return false;
  }
  return true;
}

/** JSON DOCUMENT: top-level values one after another (objects, arrays or scalars), any whitespace between. */
export class JsonDocumentReader implements RecordReader<Value> {
  private pending: Buffer = Buffer.alloc(0);
  private base = 0;
  private i = 0;
  private start = -1;
  private depth = 0;
  private inStr = false;
  private esc = false;

  *push(chunk: Buffer, final: boolean): Generator<RawRecord<Value>> {
    const b = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let i = this.i;
    let done = 0;
    for (; i < b.length; i++) {
      const c = b[i] as number;
      if (this.start < 0) {
        if (c === 0x20 || c === 0x09 || c === CR || c === LF || c === 0x2c) {
          done = i + 1;
          continue;
        }
        this.start = i;
        this.depth = 0;
        if (c === 0x7b || c === 0x5b) this.depth = 1;
        else if (c === 0x22) this.inStr = true;
        else this.depth = -1; // a bare scalar: ends at whitespace
        continue;
      }
      if (this.depth === -1) {
        if (c === 0x20 || c === 0x09 || c === CR || c === LF || c === 0x2c) {
          yield this.emit(b, i);
          done = i + 1;
        }
        continue;
      }
      if (this.inStr) {
        if (this.esc) this.esc = false;
        else if (c === 0x5c) this.esc = true;
        else if (c === 0x22) {
          this.inStr = false;
          if (this.depth === 0) {
            yield this.emit(b, i + 1);
            done = i + 1;
          }
        }
        continue;
      }
      if (c === 0x22) this.inStr = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--this.depth === 0) {
          yield this.emit(b, i + 1);
          done = i + 1;
        }
      }
    }
    if (final && this.start >= 0) {
      if (this.depth !== -1) throw jsonError('the document ends inside a value');
      yield this.emit(b, b.length);
      done = b.length;
    }
    const keep = this.start >= 0 ? this.start : done;
    this.pending = b.subarray(keep);
    this.base += keep;
    this.i = i - keep;
    if (this.start >= 0) this.start -= keep;
    if (this.pending.length > MAX_RECORD_BYTES) throw overMaxRecord();
  }

  private emit(b: Buffer, end: number): RawRecord<Value> {
    const r = { value: parseJson(b, this.start, end), start: this.base + this.start };
    this.start = -1;
    return r;
  }
}
