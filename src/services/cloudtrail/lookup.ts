import type { LookupAttributeKey, LookupEventsRequest, LookupEventsResponse } from '@aws-sdk/client-cloudtrail';
import type { RequestContext } from '../../server/context.js';
import type { BlobStore, MetadataStore } from '../../storage/ports.js';
import { cloudTrailError } from './errors.js';
import { matches, type StoredEvent } from './events.js';
import { NS_SEGMENT, mayHold, readSegment, type Segment } from './segments.js';
import { HISTORY_MS } from './sink.js';

const KEYS: readonly LookupAttributeKey[] = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'];
const timeKey = (ms: number) => String(Math.max(0, ms)).padStart(15, '0');

/** Where a page ended: before event `i` of segment `k`. */
interface Cursor {
  s: string;
  k: string;
  i: number;
}

/** LookupEvents: newest first, one lookup attribute, a time window (default: the last 90 days), pages of 1–50. */
export async function lookupEvents(meta: MetadataStore, blobs: BlobStore, input: LookupEventsRequest, ctx: RequestContext): Promise<LookupEventsResponse> {
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
  let cursor: Cursor | undefined;
  if (input.NextToken !== undefined) {
    try {
      const t = JSON.parse(Buffer.from(input.NextToken, 'base64url').toString('utf8')) as Partial<Cursor>;
      if (t.s !== scope || typeof t.k !== 'string' || typeof t.i !== 'number') throw new Error('scope');
      cursor = t as Cursor;
    } catch {
      throw cloudTrailError('InvalidNextTokenException', 'Invalid NextToken.');
    }
  }

  const found: { key: string; index: number; event: StoredEvent }[] = [];
  // Segments are keyed by their first event's time; walk them newest first.
  let upper = cursor ? `${cursor.k}\u0001` : `${timeKey(end)}~`;
  outer: for (;;) {
    const segs = await meta.read((tx) => tx.scan<Segment>(NS_SEGMENT, { end: upper, reverse: true, limit: 20 }));
    for (const s of segs) {
      const seg = s.value;
      if (seg.last < start) break outer;
      if (attr && !mayHold(seg, attr.AttributeKey as string, attr.AttributeValue as string)) continue;
      if (seg.first > end) continue;
      const events = await readSegment(blobs, seg);
      const from = cursor && s.key === cursor.k ? cursor.i : events.length;
      for (let i = from - 1; i >= 0; i--) {
        const e = events[i] as StoredEvent;
        const t = e.eventTime.getTime();
        if (t > end || t < start) continue;
        if (attr && !matches(e, attr.AttributeKey as string, attr.AttributeValue as string)) continue;
        found.push({ key: s.key, index: i, event: e });
        if (found.length > max) break outer;
      }
    }
    const last = segs[segs.length - 1];
    if (segs.length < 20 || !last) break;
    upper = last.key;
  }
  const page = found.slice(0, max);
  const lastHit = page[page.length - 1];
  return {
    Events: page.map(({ event: e }) => ({
      EventId: e.eventId, EventName: e.eventName, ReadOnly: String(e.readOnly), EventTime: e.eventTime, EventSource: e.eventSource,
      ...(e.accessKeyId !== undefined ? { AccessKeyId: e.accessKeyId } : {}), ...(e.username !== undefined ? { Username: e.username } : {}),
      Resources: e.resources.map((r) => ({ ResourceType: r.type, ResourceName: r.name })), CloudTrailEvent: e.json,
    })),
    ...(found.length > max && lastHit ? { NextToken: Buffer.from(JSON.stringify({ s: scope, k: lastHit.key, i: lastHit.index })).toString('base64url') } : {}),
  };
}
