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
  // Written element by element (each through JSON.stringify): the text JSON.stringify of the Line gives, without building the array.
  const resources = e.resources.length === 0 ? '[]' : JSON.stringify(e.resources.map((r) => [r.type, r.name]));
  return `[${JSON.stringify(e.eventId)},${JSON.stringify(e.eventTime.getTime())},${JSON.stringify(e.eventName)},${JSON.stringify(e.eventSource)},${e.readOnly ? 1 : 0},${e.username === undefined ? 'null' : JSON.stringify(e.username)},${e.accessKeyId === undefined ? 'null' : JSON.stringify(e.accessKeyId)},${resources},${e.json}]`;
}

export function fromLine(text: string): StoredEvent {
  const [eventId, t, eventName, eventSource, ro, username, accessKeyId, resources, json] = JSON.parse(text) as Line;
  return {
    eventId, eventTime: new Date(t), eventName, eventSource, readOnly: ro === 1,
    ...(username !== null ? { username } : {}), ...(accessKeyId !== null ? { accessKeyId } : {}),
    resources: resources.map(([type, name]) => ({ type, name })), json: typeof json === 'string' ? json : JSON.stringify(json),
  };
}

/**
 * An event waiting for its tick, already in its stored form: its line, its
 * time and the indexed values a segment summary lists (flat: attribute,
 * value, attribute, value…). The queue keeps these alive until the tick, so
 * they are a few objects rather than the event's.
 */
export interface QueuedEvent {
  line: string;
  time: number;
  attrs: string[];
}

/** The attribute values of one event that a segment summary lists (not EventId: unique per event, so a summary of them would be as big as the segment). */
export function queued(e: StoredEvent): QueuedEvent {
  const attrs = ['EventName', e.eventName];
  if (e.username !== undefined) attrs.push('Username', e.username);
  if (e.accessKeyId !== undefined) attrs.push('AccessKeyId', e.accessKeyId);
  for (const r of e.resources) attrs.push('ResourceName', r.name);
  return { line: toLine(e), time: e.eventTime.getTime(), attrs };
}

export async function writeSegment(blobs: BlobStore, events: QueuedEvent[]): Promise<Segment> {
  const sets = new Map<string, Set<string> | null>(INDEXED.filter((a) => a !== 'EventId').map((a) => [a, new Set<string>()]));
  for (const e of events) {
    for (let i = 0; i + 1 < e.attrs.length; i += 2) {
      const s = sets.get(e.attrs[i] as string);
      if (!s) continue;
      s.add(e.attrs[i + 1] as string);
      if (s.size > MAX_DISTINCT) sets.set(e.attrs[i] as string, null);
    }
  }
  const body = Buffer.from(events.map((e) => e.line).join('\n'), 'utf8');
  const { id } = await blobs.write((async function* () {
    yield body;
  })());
  const attrs: Record<string, string[] | null> = {};
  for (const [a, s] of sets) attrs[a] = s ? [...s] : null;
  return { blobId: id, first: (events[0] as QueuedEvent).time, last: (events[events.length - 1] as QueuedEvent).time, count: events.length, attrs };
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
