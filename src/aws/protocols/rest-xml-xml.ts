/**
 * XML payloads of the rest-xml protocol, driven by the Smithy schemas: parse a
 * request payload (fast-xml-parser; DTDs and entities other than XML's five
 * and character references refused) into the typed shape, and write a typed
 * output shape as XML.
 */
import { NormalizedSchema } from '@smithy/core/schema';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AwsError } from '../errors.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function malformedXml(): AwsError {
  return new AwsError('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema');
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  // Whitespace in a <Key> is part of the key.
  trimValues: false,
  // Entities are decoded below, by us, so nothing but XML's own ever expands.
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/** Parses an XML document into a plain object tree (leaves are strings). */
export function parseXmlDocument(text: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw malformedXml();
  if (XMLValidator.validate(text) !== true) throw malformedXml();
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch {
    throw malformedXml();
  }
  if (!doc || typeof doc !== 'object') throw malformedXml();
  return doc as Record<string, unknown>;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes XML's predefined entities and character references; anything else is malformed. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&]*);?/g, (m, body: string) => {
    if (!m.endsWith(';')) throw malformedXml();
    const named = NAMED[body];
    if (named !== undefined) return named;
    const hex = /^#x([0-9a-fA-F]{1,6})$/.exec(body);
    const dec = /^#([0-9]{1,7})$/.exec(body);
    const cp = hex ? parseInt(hex[1] as string, 16) : dec ? parseInt(dec[1] as string, 10) : NaN;
    if (!Number.isInteger(cp) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0) throw malformedXml();
    return String.fromCodePoint(cp);
  });
}

type Node = unknown;

function textOf(v: Node): string {
  if (typeof v === 'string') return decodeEntities(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const t = (v as Record<string, unknown>)['#text'];
    if (typeof t === 'string' && Object.keys(v).length === 1) return decodeEntities(t);
  }
  throw malformedXml();
}

/** Reads one parsed XML element into the shape `schema` describes. */
export function readShape(schema: NormalizedSchema, node: Node): unknown {
  if (schema.isStructSchema()) {
    if (node === '' || node === undefined) return {};
    if (typeof node !== 'object' || node === null || Array.isArray(node)) throw malformedXml();
    const obj = node as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [name, member] of schema.structIterator()) {
      const t = member.getMergedTraits();
      const xmlName = (t.xmlName) ?? name;
      const v = obj[xmlName];
      if (v === undefined) continue;
      if (member.isListSchema()) {
        out[name] = readList(member, v, !!t.xmlFlattened);
      } else {
        if (Array.isArray(v)) throw malformedXml();
        out[name] = readShape(member, v);
      }
    }
    return out;
  }
  if (schema.isListSchema()) return readList(schema, node, false);
  if (schema.isMapSchema()) throw malformedXml();
  return readScalar(schema, textOf(node));
}

function readList(member: NormalizedSchema, v: Node, flat: boolean): unknown[] {
  const item = member.getValueSchema();
  let items: unknown;
  if (flat) {
    items = v;
  } else {
    if (v === '') return [];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformedXml();
    const name = (item.getMergedTraits().xmlName) ?? 'member';
    items = (v as Record<string, unknown>)[name];
    if (items === undefined) return [];
  }
  return (Array.isArray(items) ? items : [items]).map((x) => readShape(item, x));
}

export function readScalar(schema: NormalizedSchema, s: string): unknown {
  if (schema.isStringSchema()) return s;
  if (schema.isNumericSchema()) {
    const n = Number(s.trim());
    if (s.trim() === '' || !Number.isFinite(n)) throw malformedXml();
    return n;
  }
  if (schema.isBooleanSchema()) {
    const t = s.trim();
    if (t === 'true') return true;
    if (t === 'false') return false;
    throw malformedXml();
  }
  if (schema.isTimestampSchema()) {
    const d = new Date(s.trim());
    if (Number.isNaN(d.getTime())) throw malformedXml();
    return d;
  }
  if (schema.isBlobSchema()) return Buffer.from(s, 'base64');
  return s;
}

/** Escapes text for an XML element; control characters become character references. */
export function escapeXml(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[&<>"'\u0000-\u001f\u007f]/.test(s)) return s;
  // eslint-disable-next-line no-control-regex
  return s.replace(/[&<>"'\u0000-\u001f\u007f]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return c === '\t' || c === '\n' ? c : `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;
    }
  });
}

function scalarText(schema: NormalizedSchema, v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (schema.isTimestampSchema() && typeof v === 'number') return new Date(v).toISOString();
  return String(v);
}

/** Writes `value` as the element `name` (children per schema), appending to `out`. */
export function writeShape(out: string[], schema: NormalizedSchema, value: unknown, name: string, xmlns?: string): void {
  const open = xmlns ? `<${name} xmlns="${xmlns}">` : `<${name}>`;
  if (schema.isStructSchema()) {
    const obj = (value ?? {}) as Record<string, unknown>;
    const at = out.length;
    out.push(open);
    // Attributes (S3's Grantee xsi:type) and the prefixed namespace they need.
    let attrs = '';
    const ns: unknown = schema.getMergedTraits().xmlNamespace;
    if (Array.isArray(ns) && ns.length === 2) attrs += ` xmlns:${String(ns[0])}="${escapeXml(String(ns[1]))}"`;
    for (const [memberName, member] of schema.structIterator()) {
      const v = obj[memberName];
      if (v === undefined || v === null) continue;
      const t = member.getMergedTraits();
      if (t.httpHeader || t.httpPrefixHeaders || t.httpPayload || t.httpResponseCode || t.httpQuery || t.httpLabel) continue;
      if (t.xmlAttribute) {
        attrs += ` ${(t.xmlName) ?? memberName}="${escapeXml(scalarText(member, v))}"`;
        continue;
      }
      writeMember(out, member, v, (t.xmlName) ?? memberName, !!t.xmlFlattened);
    }
    if (attrs !== '') out[at] = `${open.slice(0, -1)}${attrs}>`;
    out.push(`</${name}>`);
    return;
  }
  if (schema.isListSchema()) {
    writeMember(out, schema, value, name, false);
    return;
  }
  const text = escapeXml(scalarText(schema, value));
  out.push(text === '' ? (xmlns ? `<${name} xmlns="${xmlns}"/>` : `<${name}/>`) : `${open}${text}</${name}>`);
}

function writeMember(out: string[], member: NormalizedSchema, v: unknown, name: string, flat: boolean): void {
  if (member.isListSchema()) {
    const item = member.getValueSchema();
    const items = Array.isArray(v) ? v : [];
    if (flat) {
      for (const x of items) writeShape(out, item, x, name);
    } else {
      const itemName = (item.getMergedTraits().xmlName) ?? 'member';
      out.push(`<${name}>`);
      for (const x of items) writeShape(out, item, x, itemName);
      out.push(`</${name}>`);
    }
    return;
  }
  writeShape(out, member, v, name);
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** A whole document for an output struct, with S3's namespace on the root. */
export function xmlDocument(schema: NormalizedSchema, value: unknown, rootName: string): string {
  const out: string[] = [XML_DECLARATION];
  writeShape(out, schema, value, rootName, S3_XMLNS);
  return out.join('');
}

export { NormalizedSchema };
