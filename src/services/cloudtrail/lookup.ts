import type { LookupEventsRequest, LookupEventsResponse, LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import type { RequestContext } from '../../server/context.js';
import type { MetadataStore } from '../../storage/ports.js';
import { cloudTrailError } from './errors.js';
import { INDEXED, NS_EVENT, NS_INDEX, matches, type StoredEvent } from './events.js';
import { HISTORY_MS, indexKey } from './sink.js';

const KEYS: readonly LookupAttributeKey[] = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'];
const timeKey = (ms: number) => String(Math.max(0, ms)).padStart(15, '0');

/** LookupEvents: newest first, one lookup attribute, a time window (default: the last 90 days), pages of 1–50. */
export async function lookupEvents(meta: MetadataStore, input: LookupEventsRequest, ctx: RequestContext): Promise<LookupEventsResponse> {
  const attrs = input.LookupAttributes ?? [];
  if (attrs.length > 1) throw cloudTrailError('InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
  const attr = attrs[0];
  if (attr) {
    if (!attr.AttributeKey || !KEYS.includes(attr.AttributeKey)) {
      throw cloudTrailError('InvalidLookupAttributesException', `Invalid attribute key: ${String(attr.AttributeKey)}. Valid keys are ${KEYS.join(', ')}.`);
    }
    if (attr.AttributeValue === undefined || attr.AttributeValue.length < 1 || attr.AttributeValue.length > 2000) {
      throw cloudTrailError('InvalidLookupAttributesException', 'AttributeValue must be 1 to 2000 characters long.');
    }
  }
  if (input.EventCategory !== undefined && input.EventCategory !== 'insight') throw cloudTrailError('InvalidEventCategoryException', `Invalid event category: ${String(input.EventCategory)}`);
  const max = input.MaxResults ?? 50;
  if (!Number.isInteger(max) || max < 1 || max > 50) throw cloudTrailError('InvalidMaxResultsException', 'Value for MaxResults is invalid. It must be between 1 and 50.');
  const now = ctx.clock.nowMs();
  const end = input.EndTime?.getTime() ?? now;
  const start = input.StartTime?.getTime() ?? Math.min(end, now) - HISTORY_MS;
  if (start > end) throw cloudTrailError('InvalidTimeRangeException', 'Start time must be earlier than end time.');
  if (input.EventCategory === 'insight') return { Events: [] };

  const scope = attr ? `${attr.AttributeKey as string}=${attr.AttributeValue as string}` : '*';
  let before: string | undefined;
  if (input.NextToken !== undefined) {
    try {
      const t = JSON.parse(Buffer.from(input.NextToken, 'base64url').toString('utf8')) as { s?: unknown; k?: unknown };
      if (t.s !== scope || typeof t.k !== 'string') throw new Error('scope');
      before = t.k;
    } catch {
      throw cloudTrailError('InvalidNextTokenException', 'Invalid NextToken.');
    }
  }
  // Event keys are `<timeKey>:<id>`: end is exclusive, so one past the end millisecond.
  const hi = before !== undefined && before < `${timeKey(end + 1)}` ? before : timeKey(end + 1);
  const lo = timeKey(start);
  const events = await meta.read(async (tx) => {
    const out: { key: string; event: StoredEvent }[] = [];
    if (attr && (INDEXED as readonly string[]).includes(attr.AttributeKey as string)) {
      const prefix = indexKey(attr.AttributeKey as string, attr.AttributeValue as string, '');
      const rows = await tx.scan<string>(NS_INDEX, { prefix, start: prefix + lo, end: prefix + hi, reverse: true, limit: max + 1 });
      for (const r of rows) {
        const key = r.key.slice(prefix.length);
        const e = await tx.get<StoredEvent>(NS_EVENT, key);
        if (e) out.push({ key, event: e });
      }
      return out;
    }
    // No attribute, or one with few distinct values: walk the events newest first, filtering.
    let end = hi;
    for (;;) {
      const rows = await tx.scan<StoredEvent>(NS_EVENT, { start: lo, end, reverse: true, limit: 200 });
      for (const r of rows) {
        if (!attr || matches(r.value, attr.AttributeKey as string, attr.AttributeValue as string)) out.push({ key: r.key, event: r.value });
        if (out.length > max) return out;
      }
      const last = rows[rows.length - 1];
      if (rows.length < 200 || !last) return out;
      end = last.key;
    }
  });
  const page = events.slice(0, max);
  const last = page[page.length - 1];
  return {
    Events: page.map(({ event: e }) => ({
      EventId: e.eventId, EventName: e.eventName, ReadOnly: String(e.readOnly), EventTime: e.eventTime, EventSource: e.eventSource,
      ...(e.accessKeyId !== undefined ? { AccessKeyId: e.accessKeyId } : {}), ...(e.username !== undefined ? { Username: e.username } : {}),
      Resources: e.resources.map((r) => ({ ResourceType: r.type, ResourceName: r.name })), CloudTrailEvent: e.json,
    })),
    ...(events.length > max && last ? { NextToken: Buffer.from(JSON.stringify({ s: scope, k: last.key })).toString('base64url') } : {}),
  };
}
