/**
 * S3 Select output: rows serialized as CSV or JSON, and the event-stream
 * messages that carry them (Records, Progress, Stats, Cont, End, and an error
 * message for a failure after the response began), framed with
 * @smithy/eventstream-codec as Kinesis SubscribeToShard frames its events.
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { display, jsonReplacer } from './eval.js';
import type { Value } from './sql.js';

const toUtf8 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
const fromUtf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const codec = new EventStreamCodec(toUtf8, fromUtf8);
const EMPTY = new Uint8Array(0);

const header = (value: string) => ({ type: 'string' as const, value });

export function recordsEvent(payload: Uint8Array): Uint8Array {
  return codec.encode({ headers: { ':message-type': header('event'), ':event-type': header('Records'), ':content-type': header('application/octet-stream') }, body: payload });
}

export interface Counters {
  scanned: number;
  processed: number;
  returned: number;
}

function details(root: string, c: Counters): Uint8Array {
  return fromUtf8(`<?xml version="1.0" encoding="UTF-8"?><${root} xmlns=""><BytesScanned>${c.scanned}</BytesScanned><BytesProcessed>${c.processed}</BytesProcessed><BytesReturned>${c.returned}</BytesReturned></${root}>`);
}

export function statsEvent(c: Counters): Uint8Array {
  return codec.encode({ headers: { ':message-type': header('event'), ':event-type': header('Stats'), ':content-type': header('text/xml') }, body: details('Stats', c) });
}

export function progressEvent(c: Counters): Uint8Array {
  return codec.encode({ headers: { ':message-type': header('event'), ':event-type': header('Progress'), ':content-type': header('text/xml') }, body: details('Progress', c) });
}

export function contEvent(): Uint8Array {
  return codec.encode({ headers: { ':message-type': header('event'), ':event-type': header('Cont') }, body: EMPTY });
}

export function endEvent(): Uint8Array {
  return codec.encode({ headers: { ':message-type': header('event'), ':event-type': header('End') }, body: EMPTY });
}

export function errorEvent(code: string, message: string): Uint8Array {
  return codec.encode({ headers: { ':message-type': header('error'), ':error-code': header(code), ':error-message': header(message) }, body: EMPTY });
}

/** A row: names (for JSON output) and values, in select-list order. */
export interface Row {
  names: string[];
  values: Value[];
}

export interface CsvOut {
  kind: 'csv';
  fieldDelimiter: string;
  recordDelimiter: string;
  quote: string;
  escape: string;
  always: boolean;
}

export interface JsonOut {
  kind: 'json';
  recordDelimiter: string;
}

export function serializer(o: CsvOut | JsonOut): (row: Row) => string {
  if (o.kind === 'json') {
    return (row) => {
      const obj: Record<string, Value> = {};
      row.names.forEach((n, i) => {
        const v = row.values[i];
        if (v !== undefined) obj[n] = v;
      });
      return JSON.stringify(obj, jsonReplacer) + o.recordDelimiter;
    };
  }
  const needs = (s: string) => s.includes(o.fieldDelimiter) || s.includes(o.recordDelimiter) || (o.quote !== '' && s.includes(o.quote)) || s.includes('\n') || s.includes('\r');
  const quoteOne = (s: string) => (o.quote === '' ? s : o.quote + s.split(o.quote).join(o.escape + o.quote) + o.quote);
  return (row) => {
    let line = '';
    for (let i = 0; i < row.values.length; i++) {
      if (i > 0) line += o.fieldDelimiter;
      const s = display(row.values[i]);
      line += o.always || needs(s) ? quoteOne(s) : s;
    }
    return line + o.recordDelimiter;
  };
}
