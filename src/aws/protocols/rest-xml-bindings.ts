/**
 * HTTP bindings of a rest-xml operation, precomputed once per operation from
 * its Smithy schema: where each input member comes from (label, query,
 * header, prefix headers, payload) and where each output member goes.
 * Decoding and encoding then are plain loops over these plans.
 */
import { NormalizedSchema } from '@smithy/core/schema';
import { AwsError } from '../errors.js';
import type { StaticOperationSchema } from './rest-xml-routing.js';

export type ScalarType = 'string' | 'number' | 'boolean' | 'timestamp' | 'blob' | 'list' | 'other';

export interface InputMember {
  name: string;
  type: ScalarType;
  /** For timestamps: Smithy format (5 date-time, 6 http-date, 7 epoch-seconds, 4 default). */
  tsFormat: number;
  listItem?: ScalarType;
}

export interface PayloadBinding {
  name: string;
  kind: 'stream' | 'blob' | 'string' | 'struct';
  schema: NormalizedSchema;
  /** Root element the struct payload must have. */
  xmlName: string;
}

export interface InputPlan {
  labels: InputMember[];
  query: Array<InputMember & { wire: string }>;
  headers: Array<InputMember & { wire: string }>;
  prefixHeaders: { name: string; prefix: string } | undefined;
  payload: PayloadBinding | undefined;
  /** Unbound members with no payload member: the whole input is the XML body, under this root (SelectObjectContent). */
  body: PayloadBinding | undefined;
  /** Lower-case names of the headers bound to input members. */
  headerNames: ReadonlySet<string>;
}

export interface OutputPlan {
  headers: Array<InputMember & { wire: string }>;
  prefixHeaders: { name: string; prefix: string } | undefined;
  payload: PayloadBinding | undefined;
  /** Members that go in the XML body (when there is no payload member). */
  bodyMembers: number;
  rootName: string;
  schema: NormalizedSchema;
  status: number;
}

function typeOf(ns: NormalizedSchema): ScalarType {
  if (ns.isStringSchema()) return 'string';
  if (ns.isNumericSchema() || ns.isBigIntegerSchema()) return 'number';
  if (ns.isBooleanSchema()) return 'boolean';
  if (ns.isTimestampSchema()) return 'timestamp';
  if (ns.isBlobSchema()) return 'blob';
  if (ns.isListSchema()) return 'list';
  return 'other';
}

function member(name: string, ns: NormalizedSchema): InputMember {
  const type = typeOf(ns);
  const m: InputMember = { name, type, tsFormat: type === 'timestamp' ? (ns.getSchema() as number) : 0 };
  if (type === 'list') m.listItem = typeOf(ns.getValueSchema());
  return m;
}

function payloadOf(name: string, ns: NormalizedSchema): PayloadBinding {
  const t = ns.getMergedTraits();
  const kind = ns.isStructSchema() ? 'struct' : ns.isBlobSchema() ? (ns.isStreaming() ? 'stream' : 'blob') : 'string';
  return { name, kind, schema: ns, xmlName: (t.xmlName) ?? ns.getName() ?? name };
}

export function inputPlan(op: StaticOperationSchema): InputPlan {
  const input = NormalizedSchema.of(op[4]() as never);
  const names = new Set<string>();
  const plan: InputPlan = { labels: [], query: [], headers: [], prefixHeaders: undefined, payload: undefined, body: undefined, headerNames: names };
  if (!input.isStructSchema()) return plan;
  let unbound = false;
  for (const [name, ns] of input.structIterator()) {
    const t = ns.getMergedTraits();
    if (t.httpLabel) plan.labels.push(member(name, ns));
    else if (typeof t.httpQuery === 'string') plan.query.push({ ...member(name, ns), wire: t.httpQuery });
    else if (typeof t.httpHeader === 'string') plan.headers.push({ ...member(name, ns), wire: t.httpHeader.toLowerCase() });
    else if (typeof t.httpPrefixHeaders === 'string') plan.prefixHeaders = { name, prefix: t.httpPrefixHeaders.toLowerCase() };
    else if (t.httpPayload) plan.payload = payloadOf(name, ns);
    else unbound = true;
  }
  for (const h of plan.headers) names.add(h.wire);
  if (unbound && !plan.payload) plan.body = { name: '', kind: 'struct', schema: input, xmlName: (input.getMergedTraits().xmlName) ?? input.getName() ?? '' };
  return plan;
}

export function outputPlan(op: StaticOperationSchema): OutputPlan {
  const output = NormalizedSchema.of(op[5]() as never);
  const status = op[3].http?.[2] ?? 200;
  const plan: OutputPlan = { headers: [], prefixHeaders: undefined, payload: undefined, bodyMembers: 0, rootName: '', schema: output, status };
  if (!output.isStructSchema()) return plan;
  plan.rootName = (output.getMergedTraits().xmlName) ?? output.getName() ?? op[2];
  for (const [name, ns] of output.structIterator()) {
    const t = ns.getMergedTraits();
    if (typeof t.httpHeader === 'string') plan.headers.push({ ...member(name, ns), wire: t.httpHeader.toLowerCase() });
    else if (typeof t.httpPrefixHeaders === 'string') plan.prefixHeaders = { name, prefix: t.httpPrefixHeaders.toLowerCase() };
    else if (t.httpPayload) plan.payload = payloadOf(name, ns);
    else if (!t.httpResponseCode) plan.bodyMembers++;
  }
  return plan;
}

function invalidArgument(message: string, name: string, value: string): AwsError {
  return new AwsError('InvalidArgument', 400, message, { ArgumentName: name, ArgumentValue: value });
}

/** Parses a header or query string into the member's type; `where` names it in errors. */
export function parseWireValue(m: InputMember, raw: string, wire: string, where: 'header' | 'query'): unknown {
  switch (m.type) {
    case 'string':
      return raw;
    case 'number': {
      const t = raw.trim();
      const n = Number(t);
      if (t === '' || !Number.isFinite(n)) throw invalidArgument(`Invalid value for ${where} ${wire}: '${raw}' is not a number`, wire, raw);
      return n;
    }
    case 'boolean': {
      const t = raw.trim().toLowerCase();
      if (t === 'true') return true;
      if (t === 'false') return false;
      throw invalidArgument(`Invalid value for ${where} ${wire}: '${raw}' is not a boolean`, wire, raw);
    }
    case 'timestamp': {
      const t = raw.trim();
      const d = m.tsFormat === 7 || /^\d+(\.\d+)?$/.test(t) ? new Date(Number(t) * 1000) : new Date(t);
      if (Number.isNaN(d.getTime())) throw invalidArgument(`Invalid value for ${where} ${wire}: '${raw}' is not a date`, wire, raw);
      return d;
    }
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'blob':
      return Buffer.from(raw, 'base64');
    case 'other':
      return raw;
  }
}

/** Formats one output header value. */
export function formatHeaderValue(m: InputMember, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Date) {
    if (m.tsFormat === 5) return v.toISOString();
    if (m.tsFormat === 7) return String(Math.floor(v.getTime() / 1000));
    return v.toUTCString();
  }
  if (Array.isArray(v)) return v.map(String).join(',');
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}
