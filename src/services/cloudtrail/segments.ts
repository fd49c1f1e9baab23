import type { BlobStore } from '../../storage/ports.js';
import { INDEXED, jsonString, type StoredEvent } from './events.js';

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
  return `[${jsonString(e.eventId)},${String(e.eventTime.getTime())},${middleOf(e)},${resources},${e.json}]`;
}

/**
 * eventName through accessKeyId: a client's consecutive calls share them, so the last event's
 * text is reused when all five match (compared, which costs less than quoting them again).
 */
let lastMiddle: { name: string; source: string; readOnly: boolean; user: string | undefined; akid: string | undefined; text: string } | undefined;
function middleOf(e: StoredEvent): string {
  const l = lastMiddle;
  if (l !== undefined && l.name === e.eventName && l.source === e.eventSource && l.readOnly === e.readOnly && l.user === e.username && l.akid === e.accessKeyId) return l.text;
  const text = `${jsonString(e.eventName)},${jsonString(e.eventSource)},${e.readOnly ? 1 : 0},${e.username === undefined ? 'null' : jsonString(e.username)},${e.accessKeyId === undefined ? 'null' : jsonString(e.accessKeyId)}`;
  lastMiddle = { name: e.eventName, source: e.eventSource, readOnly: e.readOnly, user: e.username, akid: e.accessKeyId, text };
  return text;
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
 * The segment being filled until its tick: each event's line is written into
 * a byte buffer as it is recorded, and the summary's value sets are updated
 * then. Nothing per event outlives record(): queued event objects and their
 * ~1 KB line strings, held across the tick, were copied by every young
 * collection and promoted — more GC than building them cost.
 */
export class SegmentBuilder {
  #bytes: Buffer;
  #length = 0;
  #first = 0;
  #last = 0;
  count = 0;
  /** Per indexed attribute (not EventId: unique per event, so a summary of them would be as big as the segment); null: too many values. */
  readonly #sets = new Map<string, Set<string> | null>(INDEXED.filter((a) => a !== 'EventId').map((a) => [a, new Set<string>()]));

  /** `reuse`: a previous segment's buffer, written and released (its pages are already in, and it is grown to a tick's size). */
  constructor(reuse?: Buffer) {
    this.#bytes = reuse ?? Buffer.allocUnsafe(16 * 1024);
  }

  /** The buffer, for the next segment: only once `write` has resolved (the blob store no longer reads it). */
  release(): Buffer {
    const b = this.#bytes;
    this.#bytes = Buffer.alloc(0);
    this.#length = 0;
    return b;
  }

  /** Appends one event (the lines are joined by '\n', oldest first). */
  add(e: StoredEvent): void {
    const line = toLine(e);
    const time = e.eventTime.getTime();
    // UTF-8 takes at most 3 bytes per UTF-16 unit; +1 for the separator.
    const room = this.#length + 3 * line.length + 1;
    if (room > this.#bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(room, 2 * this.#bytes.length));
      this.#bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = grown;
    }
    if (this.count > 0) this.#bytes[this.#length++] = 0x0a;
    this.#length += this.#bytes.write(line, this.#length, 'utf8');
    if (this.count === 0) this.#first = time;
    this.#last = time;
    this.count++;
    this.#note('EventName', e.eventName);
    if (e.username !== undefined) this.#note('Username', e.username);
    if (e.accessKeyId !== undefined) this.#note('AccessKeyId', e.accessKeyId);
    for (const r of e.resources) this.#note('ResourceName', r.name);
  }

  #note(attr: string, value: string): void {
    const s = this.#sets.get(attr);
    if (!s) return;
    s.add(value);
    if (s.size > MAX_DISTINCT) this.#sets.set(attr, null);
  }

  /** Stores the events as one blob; the Segment describing it (for one metadata put). */
  async write(blobs: BlobStore): Promise<Segment> {
    const body = this.#bytes.subarray(0, this.#length);
    const { id } = await blobs.write((async function* () {
      yield body;
    })());
    const attrs: Record<string, string[] | null> = {};
    for (const [a, s] of this.#sets) attrs[a] = s ? [...s] : null;
    return { blobId: id, first: this.#first, last: this.#last, count: this.count, attrs };
  }
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
