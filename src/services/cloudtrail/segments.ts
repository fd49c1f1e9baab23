import type { BlobStore } from '../../storage/ports.js';
import { INDEXED, type StoredEvent } from './events.js';

/**
 * Events are kept in segments: each tick's batch is one blob of JSON lines
 * (oldest first), described by one metadata record that says when it starts
 * and ends and which values of the selective lookup attributes occur in it.
 * Writing a tick costs one blob write (fsync'd off the event loop) and one
 * metadata put; a lookup reads only segments that can hold a match.
 */
export interface Segment {
  blobId: string;
  /** eventTime (ms) of the first and last event. */
  first: number;
  last: number;
  count: number;
  /** Distinct values per indexed attribute; null when too many to list (the segment must be read). */
  attrs: Record<string, string[] | null>;
}

export const NS_SEGMENT = 'ct:seg';
const MAX_DISTINCT = 256;

export const timeKey = (ms: number) => String(Math.max(0, ms)).padStart(15, '0');

/**
 * The record's JSON is the line's last element, embedded as JSON (not as a
 * string holding JSON: escaping it again cost as much as writing it). Older
 * segments hold it as a string; both read back to the same text, because
 * JSON.stringify(JSON.parse(x)) === x for any x JSON.stringify produced.
 */
type Line = [id: string, time: number, name: string, source: string, readOnly: 0 | 1, user: string | null, akid: string | null, resources: [string, string][], json: string | object];

export function toLine(e: StoredEvent): string {
  const head = [e.eventId, e.eventTime.getTime(), e.eventName, e.eventSource, e.readOnly ? 1 : 0, e.username ?? null, e.accessKeyId ?? null, e.resources.map((r) => [r.type, r.name])];
  const h = JSON.stringify(head);
  return `${h.slice(0, -1)},${e.json}]`;
}

export function fromLine(text: string): StoredEvent {
  const [eventId, t, eventName, eventSource, ro, username, accessKeyId, resources, json] = JSON.parse(text) as Line;
  return {
    eventId, eventTime: new Date(t), eventName, eventSource, readOnly: ro === 1,
    ...(username !== null ? { username } : {}), ...(accessKeyId !== null ? { accessKeyId } : {}),
    resources: resources.map(([type, name]) => ({ type, name })), json: typeof json === 'string' ? json : JSON.stringify(json),
  };
}

/** The attribute values of one event that a segment summary lists (not EventId: unique per event, so a summary of them would be as big as the segment). */
function indexed(e: StoredEvent): [string, string][] {
  const out: [string, string][] = [['EventName', e.eventName]];
  if (e.username !== undefined) out.push(['Username', e.username]);
  if (e.accessKeyId !== undefined) out.push(['AccessKeyId', e.accessKeyId]);
  for (const r of e.resources) out.push(['ResourceName', r.name]);
  return out;
}

export async function writeSegment(blobs: BlobStore, events: StoredEvent[]): Promise<Segment> {
  const sets = new Map<string, Set<string> | null>(INDEXED.filter((a) => a !== 'EventId').map((a) => [a, new Set<string>()]));
  for (const e of events) {
    for (const [a, v] of indexed(e)) {
      const s = sets.get(a);
      if (!s) continue;
      s.add(v);
      if (s.size > MAX_DISTINCT) sets.set(a, null);
    }
  }
  const body = Buffer.from(events.map(toLine).join('\n'), 'utf8');
  const { id } = await blobs.write((async function* () {
    yield body;
  })());
  const attrs: Record<string, string[] | null> = {};
  for (const [a, s] of sets) attrs[a] = s ? [...s] : null;
  return { blobId: id, first: (events[0] as StoredEvent).eventTime.getTime(), last: (events[events.length - 1] as StoredEvent).eventTime.getTime(), count: events.length, attrs };
}

/** Whether a segment can hold an event with this attribute value. */
export function mayHold(seg: Segment, key: string, value: string): boolean {
  if (!(key in seg.attrs)) return true;
  const list = seg.attrs[key];
  return list === null || list === undefined || list.includes(value);
}

const cache = new Map<string, StoredEvent[]>();

/** A segment's events, oldest first (a few recently read segments stay parsed, for paging). */
export async function readSegment(blobs: BlobStore, seg: Segment): Promise<StoredEvent[]> {
  const hit = cache.get(seg.blobId);
  if (hit) return hit;
  const chunks: Buffer[] = [];
  for await (const c of blobs.read(seg.blobId)) chunks.push(Buffer.from(c));
  const events = Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l.length > 0).map(fromLine);
  cache.set(seg.blobId, events);
  if (cache.size > 32) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return events;
}

export function forgetSegment(blobId: string): void {
  cache.delete(blobId);
}
