import type { NormalizedSchema } from '@smithy/core/schema';
import { ShapeError } from './json-shapes.js';
import { decodeBase64, encodeBase64 } from './wire.js';

/**
 * The AWS Query protocol's shapes: flattened form parameters
 * (`Tags.member.1.Key=a`) → typed input, and typed output → XML elements.
 * Compiled once per shape, like json-shapes.
 */

/** Form parameters as a tree: `A.B.member.2` is A → B → member → 2. */
export interface FormNode {
  value?: string;
  children?: Map<string, FormNode>;
}

export function formTree(params: Iterable<[string, string]>): FormNode {
  const root: FormNode = {};
  for (const [key, value] of params) {
    let node = root;
    let start = 0;
    for (;;) {
      const dot = key.indexOf('.', start);
      const seg = dot < 0 ? key.slice(start) : key.slice(start, dot);
      const kids = (node.children ??= new Map());
      let next = kids.get(seg);
      if (!next) kids.set(seg, (next = {}));
      node = next;
      if (dot < 0) break;
      start = dot + 1;
    }
    node.value = value;
  }
  return root;
}

export type FormReader = (node: FormNode) => unknown;

function invalid(expected: string, value: string): never {
  throw new ShapeError(`Value '${value.length > 64 ? `${value.slice(0, 64)}…` : value}' is not ${expected}`);
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const ISO_8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)$/i;

function scalar(ns: NormalizedSchema): (s: string) => unknown {
  if (ns.isStringSchema()) return (s) => s;
  if (ns.isBooleanSchema()) {
    return (s) => {
      const l = s.toLowerCase();
      return l === 'true' ? true : l === 'false' ? false : invalid('a boolean', s);
    };
  }
  if (ns.isNumericSchema() || ns.isBigIntegerSchema() || ns.isBigDecimalSchema()) {
    return (s) => {
      if (NUMBER.test(s)) return Number(s);
      return s === 'NaN' ? NaN : s === 'Infinity' ? Infinity : s === '-Infinity' ? -Infinity : invalid('a number', s);
    };
  }
  if (ns.isTimestampSchema()) {
    // Query timestamps are ISO 8601; epoch seconds are accepted as AWS's own CLI sometimes sends them.
    return (s) => {
      const d = ISO_8601.test(s) ? new Date(s) : NUMBER.test(s) ? new Date(Math.round(Number(s) * 1000)) : new Date(Number.NaN);
      return Number.isNaN(d.getTime()) ? invalid('an ISO 8601 timestamp', s) : d;
    };
  }
  if (ns.isBlobSchema()) {
    return (s) => {
      const r = decodeBase64(s);
      return Buffer.isBuffer(r) ? r : invalid(`base64 (${r.problem})`, s);
    };
  }
  return (s) => s; // documents: the raw text
}

/** Its key in the form or the XML: the xmlName trait, else the member name (as the SDK's serializer does). */
function xmlName(member: NormalizedSchema, fallback: string): string {
  const n = member.getMergedTraits().xmlName;
  return typeof n === 'string' ? n : fallback;
}

/** Numbered children in index order; non-numeric keys are not list items. */
function indexed(node: FormNode | undefined): [string, FormNode][] {
  if (!node?.children) return [];
  const out: [string, FormNode][] = [];
  for (const [k, v] of node.children) if (/^[1-9]\d{0,8}$/.test(k)) out.push([k, v]);
  return out.sort((a, b) => Number(a[0]) - Number(b[0]));
}

const formCache = new WeakMap<object, FormReader>();

export function compileFormReader(ns: NormalizedSchema, flat = false): FormReader {
  if (ns.isStructSchema()) {
    const key = ns.getSchema();
    const hit = typeof key === 'object' && key !== null ? formCache.get(key) : undefined;
    if (hit) return hit;
    // A recursive shape meets this stub while compiling; it only runs once `impl` exists.
    if (typeof key === 'object' && key !== null) formCache.set(key, (n) => impl(n));
    const members: [string, string, FormReader][] = [];
    for (const [name, member] of ns.structIterator()) {
      members.push([name, xmlName(member, name), compileFormReader(member, !!member.getMergedTraits().xmlFlattened)]);
    }
    const impl: FormReader = (node) => {
      const out: Record<string, unknown> = {};
      const kids = node.children;
      if (!kids) return out;
      for (const [name, wire, read] of members) {
        const child = kids.get(wire);
        if (child === undefined) continue;
        try {
          const v = read(child);
          if (v !== undefined) out[name] = v;
        } catch (e) {
          if (e instanceof ShapeError) e.path.unshift(wire);
          throw e;
        }
      }
      return out;
    };
    if (typeof key === 'object' && key !== null) formCache.set(key, impl);
    return impl;
  }
  if (ns.isListSchema()) {
    const item = ns.getValueSchema();
    const itemName = xmlName(item, 'member');
    const read = compileFormReader(item);
    return (node) => {
      const items = indexed(flat ? node : node.children?.get(itemName));
      const out: unknown[] = [];
      for (const [i, child] of items) {
        try {
          const v = read(child);
          if (v !== undefined) out.push(v);
        } catch (e) {
          if (e instanceof ShapeError) e.path.unshift(flat ? i : `${itemName}.${i}`);
          throw e;
        }
      }
      return out; // `Foo=` alone is the SDK's empty list
    };
  }
  if (ns.isMapSchema()) {
    const keyName = xmlName(ns.getKeySchema(), 'key');
    const valueName = xmlName(ns.getValueSchema(), 'value');
    const read = compileFormReader(ns.getValueSchema());
    return (node) => {
      const out: Record<string, unknown> = {};
      for (const [i, entry] of indexed(flat ? node : node.children?.get('entry'))) {
        const k = entry.children?.get(keyName)?.value;
        const v = entry.children?.get(valueName);
        if (k === undefined || v === undefined) continue;
        try {
          const value = read(v);
          if (value === undefined) continue;
          if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
          else out[k] = value;
        } catch (e) {
          if (e instanceof ShapeError) e.path.unshift(`${flat ? '' : 'entry.'}${i}.${valueName}`);
          throw e;
        }
      }
      return out;
    };
  }
  const parse = scalar(ns);
  return (node) => (node.value === undefined ? undefined : parse(node.value));
}

const XML_SPECIAL = /[&<>"'\r\n\u0085\u2028]/;
const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#x0D;',
  '\n': '&#x0A;',
  '\u0085': '&#x85;',
  '\u2028': '&#x2028;',
};

/** XML text; characters XML 1.0 cannot carry at all (most C0 controls) are dropped. */
export function escapeXml(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/.test(s)) s = s.replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g, '');
  return XML_SPECIAL.test(s) ? s.replace(/[&<>"'\r\n\u0085\u2028]/g, (c) => XML_ESCAPES[c] as string) : s;
}

/** Writes a value's content (what goes between its element's tags). */
export type XmlWriter = (value: unknown) => string;

function scalarText(ns: NormalizedSchema): XmlWriter {
  if (ns.isTimestampSchema()) {
    const f = ns.getSchema();
    if (f === 7) return (v) => (v instanceof Date ? String(v.getTime() / 1000) : escapeXml(String(v)));
    if (f === 6) return (v) => (v instanceof Date ? v.toUTCString() : escapeXml(String(v)));
    return (v) => (v instanceof Date ? v.toISOString() : escapeXml(String(v)));
  }
  if (ns.isBlobSchema()) return (v) => (v instanceof Uint8Array ? encodeBase64(v) : Buffer.from(String(v), 'utf8').toString('base64'));
  if (ns.isBooleanSchema() || ns.isNumericSchema()) return (v) => String(v);
  return (v) => escapeXml(String(v));
}

const xmlCache = new WeakMap<object, XmlWriter>();

/** Content writer for a shape; `member` writers add the element(s) around it. */
export function compileXmlWriter(ns: NormalizedSchema): XmlWriter {
  if (ns.isStructSchema()) {
    const key = ns.getSchema();
    const hit = typeof key === 'object' && key !== null ? xmlCache.get(key) : undefined;
    if (hit) return hit;
    if (typeof key === 'object' && key !== null) xmlCache.set(key, (v) => impl(v));
    const members: [string, XmlWriter][] = [];
    for (const [name, member] of ns.structIterator()) members.push([name, memberWriter(member, xmlName(member, name))]);
    const impl: XmlWriter = (v) => {
      if (typeof v !== 'object' || v === null) return '';
      const rec = v as Record<string, unknown>;
      let s = '';
      for (const [name, write] of members) {
        const w = rec[name];
        if (w !== undefined && w !== null) s += write(w);
      }
      return s;
    };
    if (typeof key === 'object' && key !== null) xmlCache.set(key, impl);
    return impl;
  }
  if (ns.isListSchema()) {
    const item = ns.getValueSchema();
    const tag = xmlName(item, 'member');
    const write = compileXmlWriter(item);
    return (v) => {
      let s = '';
      if (Array.isArray(v)) for (const x of v) if (x !== undefined && x !== null) s += `<${tag}>${write(x)}</${tag}>`;
      return s;
    };
  }
  if (ns.isMapSchema()) {
    const entry = mapEntryWriter(ns);
    return (v) => `${entry(v, 'entry')}`;
  }
  return scalarText(ns);
}

function mapEntryWriter(ns: NormalizedSchema): (v: unknown, tag: string) => string {
  const k = xmlName(ns.getKeySchema(), 'key');
  const vn = xmlName(ns.getValueSchema(), 'value');
  const write = compileXmlWriter(ns.getValueSchema());
  return (v, tag) => {
    let s = '';
    if (typeof v === 'object' && v !== null) {
      for (const [key, value] of Object.entries(v)) {
        if (value !== undefined && value !== null) s += `<${tag}><${k}>${escapeXml(key)}</${k}><${vn}>${write(value)}</${vn}></${tag}>`;
      }
    }
    return s;
  };
}

/** A struct member: `<Name>content</Name>`, or repeated `<Name>` elements when xmlFlattened. */
function memberWriter(member: NormalizedSchema, name: string): XmlWriter {
  const flat = !!member.getMergedTraits().xmlFlattened;
  if (flat && member.isListSchema()) {
    const write = compileXmlWriter(member.getValueSchema());
    return (v) => {
      let s = '';
      if (Array.isArray(v)) for (const x of v) if (x !== undefined && x !== null) s += `<${name}>${write(x)}</${name}>`;
      return s;
    };
  }
  if (flat && member.isMapSchema()) {
    const entry = mapEntryWriter(member);
    return (v) => entry(v, name);
  }
  const write = compileXmlWriter(member);
  return (v) => `<${name}>${write(v)}</${name}>`;
}
