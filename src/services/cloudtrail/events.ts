import type { OperationAudit } from '../../aws/service.js';
import { uuid } from '../../lib/ids.js';
import type { AuditRecord, Principal } from '../../server/context.js';

type AuditResource = { ARN: string; type: string; accountId?: string };

/** One recorded event (stored as a line of a segment, see segments.ts). */
export interface StoredEvent {
  eventId: string;
  eventTime: Date;
  eventName: string;
  eventSource: string;
  readOnly: boolean;
  username?: string;
  accessKeyId?: string;
  resources: { type: string; name: string }[];
  /** The full CloudTrail record, as LookupEvents' CloudTrailEvent string. */
  json: string;
}

/**
 * The selective lookup attributes: each segment lists their values, so a
 * lookup skips segments without a match. EventSource, ReadOnly and
 * ResourceType have few values and are filtered while reading.
 */
export const INDEXED = ['EventId', 'EventName', 'Username', 'AccessKeyId', 'ResourceName'] as const;

/** Whether an event matches a lookup attribute (for the scanned attributes, and as a check). */
export function matches(e: StoredEvent, key: string, value: string): boolean {
  switch (key) {
    case 'EventId':
      return e.eventId === value;
    case 'EventName':
      return e.eventName === value;
    case 'EventSource':
      return e.eventSource === value;
    case 'ReadOnly':
      return String(e.readOnly) === value;
    case 'Username':
      return e.username === value;
    case 'AccessKeyId':
      return e.accessKeyId === value;
    case 'ResourceType':
      return e.resources.some((r) => r.type === value);
    case 'ResourceName':
      return e.resources.some((r) => r.name === value);
    default:
      return false;
  }
}

function userIdentity(p: Principal): Record<string, unknown> {
  const base = { principalId: p.userId, arn: p.arn, accountId: p.accountId, ...(p.accessKeyId !== undefined ? { accessKeyId: p.accessKeyId } : {}) };
  switch (p.type) {
    case 'root':
      return { type: 'Root', ...base };
    case 'user':
      return { type: 'IAMUser', ...base, ...(p.name !== undefined ? { userName: p.name } : {}) };
    case 'assumed-role': {
      const m = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(p.arn);
      return {
        type: 'AssumedRole',
        ...base,
        sessionContext: {
          ...(m ? { sessionIssuer: { type: 'Role', principalId: p.userId.split(':')[0], arn: `arn:aws:iam::${m[1]}:role/${m[2]}`, accountId: m[1], userName: m[2] } } : {}),
          attributes: { creationDate: (p.tokenIssueTime ?? new Date(0)).toISOString().replace(/\.\d{3}Z$/, 'Z'), mfaAuthenticated: String(p.mfaAuthenticated === true) },
        },
      };
    }
    case 'anonymous':
      return { type: 'AWSAccount', principalId: '', accountId: 'ANONYMOUS_PRINCIPAL' };
  }
}

/**
 * userIdentity per principal object: a principal is fixed once built (the
 * root's is one object for the server's life), and the record holding it is
 * serialized at once and never changed, so the identity can be shared.
 */
const identities = new WeakMap<Principal, Record<string, unknown>>();
function identityOf(p: Principal): Record<string, unknown> {
  let id = identities.get(p);
  if (id === undefined) {
    id = userIdentity(p);
    identities.set(p, id);
  }
  return id;
}

function usernameOf(p: Principal): string | undefined {
  if (p.type === 'root') return 'root';
  return p.name;
}

const READ_PREFIXES = ['Describe', 'Get', 'List', 'Lookup'];
const NO_RESOURCES: readonly AuditResource[] = Object.freeze([]);

function isReadName(operation: string): boolean {
  for (const p of READ_PREFIXES) if (operation.startsWith(p)) return true;
  return false;
}

/**
 * Never throws: an audit shaper that fails leaves its part null rather than losing the event.
 * Called as methods (no closure per event).
 */
function shaped(a: OperationAudit, part: 'request' | 'response', value: unknown): unknown {
  try {
    return a[part]?.(value) ?? null;
  } catch {
    return null;
  }
}

function shapedResources(a: OperationAudit, rec: AuditRecord, ctx: AuditRecord['ctx']): readonly AuditResource[] | null {
  try {
    return a.resources?.(rec.input, rec.output, ctx) ?? null;
  } catch {
    return null;
  }
}

/** A finished call as a CloudTrail record (eventVersion 1.11), without plaintext, ciphertext or secrets. */
export function toEvent(rec: AuditRecord): StoredEvent {
  const { ctx } = rec;
  const a = rec.audit;
  const eventTime = ctx.clock.now();
  const eventId = uuid();
  const eventSource = rec.eventSource ?? `${ctx.service}.amazonaws.com`;
  // Shaped without a closure per part (most operations have no shaper at all).
  const requestParameters = rec.input === undefined || a?.request === undefined ? null : shaped(a, 'request', rec.input);
  const responseElements = rec.error || rec.output === undefined || a?.response === undefined ? null : shaped(a, 'response', rec.output);
  const resources = (a?.resources === undefined ? null : shapedResources(a, rec, ctx)) ?? NO_RESOURCES;
  const readOnly = a?.readOnly ?? isReadName(ctx.operation);
  // The record's JSON is written member by member in CloudTrail's key order, each value through
  // JSON.stringify (so the text is what JSON.stringify(record) gives), with the caller's identity
  // serialized once per principal: stringifying the whole nested record was most of an audited
  // HeadBucket's recording cost.
  const identity = identityJsonOf(ctx.principal);
  let json = `{"eventVersion":"1.11","userIdentity":${rec.invokedBy !== undefined && rec.invokedBy !== '' ? `${identity.slice(0, -1)},"invokedBy":${JSON.stringify(rec.invokedBy)}}` : identity}`;
  json += `,"eventTime":"${isoSecond(eventTime.getTime())}"`;
  json += callerMembers(eventSource, ctx.operation, ctx.region, rec.invokedBy ?? ctx.sourceIp, rec.invokedBy ?? ctx.userAgent);
  if (rec.error) {
    json += member('errorCode', rec.error.code);
    if (rec.error.message) json += member('errorMessage', rec.error.message);
  }
  json += member('requestParameters', requestParameters, hasBytes(requestParameters));
  json += member('responseElements', responseElements, hasBytes(responseElements));
  json += member('requestID', ctx.requestId);
  json += member('eventID', eventId);
  json += readOnly ? ',"readOnly":true' : ',"readOnly":false';
  if (resources.length) json += member('resources', resources.map((r) => ({ accountId: r.accountId ?? ctx.accountId, type: r.type, ARN: r.ARN })));
  json += ',"eventType":"AwsApiCall","managementEvent":true';
  json += member('recipientAccountId', ctx.accountId);
  json += ',"eventCategory":"Management"';
  if (ctx.secure && !rec.invokedBy) json += ',"tlsDetails":{"clientProvidedHostHeader":"localhost"}';
  json += '}';
  const event: StoredEvent = {
    eventId, eventTime, eventName: ctx.operation, eventSource, readOnly,
    resources: resources.length ? resources.map((r) => ({ type: r.type, name: r.ARN })) : [],
    json,
  };
  const username = usernameOf(ctx.principal);
  if (username !== undefined) event.username = username;
  if (ctx.principal.accessKeyId !== undefined) event.accessKeyId = ctx.principal.accessKeyId;
  return event;
}

/**
 * eventSource through userAgent: a client's consecutive calls of one operation share them, so the
 * last call's text is reused when all five match (compared, which costs less than escaping them).
 */
let lastCaller: { source: string; name: string; region: string; ip: string; agent: string; json: string } | undefined;
function callerMembers(source: string, name: string, region: string, ip: string, agent: string): string {
  const l = lastCaller;
  if (l !== undefined && l.source === source && l.name === name && l.region === region && l.ip === ip && l.agent === agent) return l.json;
  const json = member('eventSource', source) + member('eventName', name) + member('awsRegion', region) + member('sourceIPAddress', ip) + member('userAgent', agent);
  lastCaller = { source, name, region, ip, agent, json };
  return json;
}

/** The userIdentity JSON per principal object (see identityOf). */
const identityJsons = new WeakMap<Principal, string>();
function identityJsonOf(p: Principal): string {
  let json = identityJsons.get(p);
  if (json === undefined) {
    json = JSON.stringify(identityOf(p));
    identityJsons.set(p, json);
  }
  return json;
}

/**
 * `,"name":<value>` as JSON.stringify writes a member of an object: left out
 * when the value has no JSON (undefined, a function). Bytes (Uint8Array) are
 * left out of shaped parts; a replacer function takes JSON.stringify off its
 * fast path, so it is used only when the part actually holds bytes (rare).
 */
function member(name: string, value: unknown, bytes = false): string {
  if (typeof value === 'string') return `,"${name}":${jsonString(value)}`;
  if (value === null) return `,"${name}":null`;
  const json = bytes ? (JSON.stringify(value, dropBytes) as string | undefined) : (JSON.stringify(value) as string | undefined);
  return json === undefined ? '' : `,"${name}":${json}`;
}


/**
 * JSON.stringify(s) for a string: most need no escaping, and are quoted as they are. Checked
 * char by char: the escape class has surrogates in it, which sends the regex through V8's
 * runtime (not its fast path) on every call.
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** `yyyy-mm-ddThh:mm:ssZ` of an instant, formatted once per second. */
let isoSecondAt = NaN;
let isoSecondText = '';
function isoSecond(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecondAt) {
    isoSecondText = `${new Date(second * 1000).toISOString().slice(0, 19)}Z`;
    isoSecondAt = second;
  }
  return isoSecondText;
}

function dropBytes(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? undefined : v;
}

function hasBytes(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (v instanceof Uint8Array) return true;
  // Deeper than any shaper builds: let the replacer decide.
  if (depth > 32) return true;
  if (Array.isArray(v)) return v.some((x) => hasBytes(x, depth + 1));
  if (v instanceof Date) return false;
  for (const k in v) if (hasBytes((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}
