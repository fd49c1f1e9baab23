import { randomUUID } from 'node:crypto';
import type { AuditRecord, Principal } from '../../server/context.js';

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

/** Never throws: an audit shaper that fails leaves its part null rather than losing the event. */
function safe<T>(f: (() => T) | undefined): T | null {
  if (!f) return null;
  try {
    return f() ?? null;
  } catch {
    return null;
  }
}

const READ_PREFIXES = ['Describe', 'Get', 'List', 'Lookup'];

/** A finished call as a CloudTrail record (eventVersion 1.11), without plaintext, ciphertext or secrets. */
export function toEvent(rec: AuditRecord): StoredEvent {
  const { ctx } = rec;
  const a = rec.audit;
  const eventTime = ctx.clock.now();
  const eventId = randomUUID();
  const eventSource = rec.eventSource ?? `${ctx.service}.amazonaws.com`;
  const requestParameters = rec.input === undefined ? null : safe(a?.request ? () => a.request?.(rec.input) : undefined);
  const responseElements = rec.error || rec.output === undefined ? null : safe(a?.response ? () => a.response?.(rec.output) : undefined);
  const resources = safe(a?.resources ? () => a.resources?.(rec.input, rec.output, ctx) : undefined) ?? [];
  const readOnly = a?.readOnly ?? READ_PREFIXES.some((p) => ctx.operation.startsWith(p));
  // Built by assignment in CloudTrail's key order, not as a literal with conditional spreads:
  // those take V8's slow object-building path, and this runs for every audited call.
  const record: Record<string, unknown> = {
    eventVersion: '1.11',
    // A service calling for the caller (Kinesis → KMS): the caller's identity, invoked by the service, from the service.
    userIdentity: rec.invokedBy ? { ...identityOf(ctx.principal), invokedBy: rec.invokedBy } : identityOf(ctx.principal),
    eventTime: `${eventTime.toISOString().slice(0, 19)}Z`,
    eventSource,
    eventName: ctx.operation,
    awsRegion: ctx.region,
    sourceIPAddress: rec.invokedBy ?? ctx.sourceIp,
    userAgent: rec.invokedBy ?? ctx.userAgent,
  };
  if (rec.error) {
    record['errorCode'] = rec.error.code;
    if (rec.error.message) record['errorMessage'] = rec.error.message;
  }
  record['requestParameters'] = requestParameters;
  record['responseElements'] = responseElements;
  record['requestID'] = ctx.requestId;
  record['eventID'] = eventId;
  record['readOnly'] = readOnly;
  if (resources.length) record['resources'] = resources.map((r) => ({ accountId: r.accountId ?? ctx.accountId, type: r.type, ARN: r.ARN }));
  record['eventType'] = 'AwsApiCall';
  record['managementEvent'] = true;
  record['recipientAccountId'] = ctx.accountId;
  record['eventCategory'] = 'Management';
  if (ctx.secure && !rec.invokedBy) record['tlsDetails'] = { clientProvidedHostHeader: 'localhost' };
  const event: StoredEvent = {
    eventId, eventTime, eventName: ctx.operation, eventSource, readOnly,
    resources: resources.length ? resources.map((r) => ({ type: r.type, name: r.ARN })) : [],
    json: stringifyRecord(record, requestParameters, responseElements),
  };
  const username = usernameOf(ctx.principal);
  if (username !== undefined) event.username = username;
  if (ctx.principal.accessKeyId !== undefined) event.accessKeyId = ctx.principal.accessKeyId;
  return event;
}

/**
 * The record as JSON, bytes (Uint8Array) left out. A replacer function takes
 * JSON.stringify off its fast path, so it is used only when a shaped part
 * actually holds bytes (rare); Dates serialize through their toJSON either way.
 */
function stringifyRecord(record: Record<string, unknown>, ...shaped: unknown[]): string {
  return shaped.some(hasBytes)
    ? JSON.stringify(record, (_k, v: unknown) => (v instanceof Uint8Array ? undefined : v))
    : JSON.stringify(record);
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
