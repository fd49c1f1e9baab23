/**
 * StreamLog on the local filesystem: `<root>/<lane>/<segment, 12 digits>.log`.
 * Each entry is framed as u32 length | u32 CRC-32 (zlib's, ~7 GB/s here; the
 * slice-by-8 CRC32C in lib/crc.ts is 3.4× slower) | bytes, little-endian.
 *
 * A process appends only to segments it created itself (a lane's first
 * append after open starts a new one), so whatever a crash left at the end
 * of an older segment — a torn frame of a put that never committed — is never
 * written after and never read: no row names it. A read checks the frame's
 * length, and the CRC of entries an earlier run wrote, so a torn or damaged
 * entry is an error, never bytes. (This run's own entries went through
 * append() and are synced before any pointer to them commits; checking them
 * too cost reads 2% CPU.)
 *
 * Everything is synchronous: appends run inside a metadata write transaction
 * (which must not await I/O) and reach only the page cache; sync() runs in
 * the SQLite group commit, itself synchronous, right before its COMMIT.
 * Reads are positional preads of bytes the page cache usually holds.
 */
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readSync, readdirSync, statSync, writeSync, writevSync } from 'node:fs';
import { rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { StoreClosedError } from '../errors.js';
import type { LogPointer, LogSegmentInfo, StreamLog } from '../ports.js';
import { mkdirDurable } from './sync-dir.js';

const LANE = /^[A-Za-z0-9_-]{1,64}$/;
const SEGMENT = /^(\d{12})\.log$/;
const FRAME = 8;

export interface FsStreamLogOptions {
  /** A segment is closed for appends once the next entry would take it past this size. Default 64 MiB. */
  segmentBytes?: number;
  /** Most segment files held open for reading. Default 64. */
  maxOpenFiles?: number;
}

interface Segment {
  lane: string;
  segment: number;
  bytes: number;
  lastAppend: number;
  fd: number | undefined;
  /** Created by this process: every byte in it went through append(). */
  fresh: boolean;
}

export class LogEntryError extends Error {
  constructor(lane: string, p: LogPointer, why: string) {
    super(`stream log entry ${lane}/${p.segment}@${p.offset}+${p.length}: ${why}`);
    this.name = 'LogEntryError';
  }
}

function segmentName(n: number): string {
  return `${String(n).padStart(12, '0')}.log`;
}

class FsStreamLog implements StreamLog {
  private readonly lanes = new Map<string, Map<number, Segment>>();
  /** The segment each lane appends to (one this process created). */
  private readonly active = new Map<string, Segment>();
  /** Highest segment number each lane has had, so a number is never reused within a run. */
  private readonly highest = new Map<string, number>();
  /** Appended to since the last sync: their fds stay open until it. */
  private readonly dirty = new Set<Segment>();
  /** Directories that gained a name since the last sync. */
  private readonly dirsToSync = new Set<string>();
  /** Open fds, least recently used first. */
  private readonly open = new Set<Segment>();
  private appends = 0;
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly segmentBytes: number,
    private readonly maxOpen: number,
  ) {
    for (const lane of readdirSync(root, { withFileTypes: true })) {
      if (!lane.isDirectory() || !LANE.test(lane.name)) continue;
      const segs = new Map<number, Segment>();
      let top = 0;
      for (const f of readdirSync(join(root, lane.name))) {
        const m = SEGMENT.exec(f);
        if (!m) continue;
        const n = Number(m[1]);
        segs.set(n, { lane: lane.name, segment: n, bytes: statSync(join(root, lane.name, f)).size, lastAppend: 0, fd: undefined, fresh: false });
        top = Math.max(top, n);
      }
      this.lanes.set(lane.name, segs);
      this.highest.set(lane.name, top);
    }
  }

  append(lane: string, bytes: Uint8Array): LogPointer {
    if (this.closed) throw new StoreClosedError('stream log');
    if (!LANE.test(lane)) throw new TypeError(`invalid stream log lane ${JSON.stringify(lane)}`);
    const need = FRAME + bytes.length;
    let seg = this.active.get(lane);
    if (!seg || (seg.bytes > 0 && seg.bytes + need > this.segmentBytes)) seg = this.rotate(lane);
    const head = Buffer.allocUnsafe(FRAME);
    head.writeUInt32LE(bytes.length, 0);
    head.writeUInt32LE(crc32(bytes), 4);
    const fd = this.fdOf(seg);
    const offset = seg.bytes;
    this.dirty.add(seg);
    try {
      let done = writevSync(fd, [head, bytes], offset);
      // A regular file takes the whole write unless the disk is full; finish a short one or fail.
      while (done < need) {
        const rest = done < FRAME ? Buffer.concat([head.subarray(done), bytes]) : bytes.subarray(done - FRAME);
        const n = writeSync(fd, rest, 0, rest.length, offset + done);
        if (n <= 0) throw new Error('short write to the stream log');
        done += n;
      }
    } catch (error) {
      // Whatever part of the frame landed is garbage no row will name; the next append starts a new segment.
      this.active.delete(lane);
      throw error;
    }
    seg.bytes += need;
    seg.lastAppend = ++this.appends;
    return { segment: seg.segment, offset, length: bytes.length };
  }

  read(lane: string, p: LogPointer): Uint8Array {
    if (this.closed) throw new StoreClosedError('stream log');
    const seg = this.lanes.get(lane)?.get(p.segment);
    if (!seg) throw new LogEntryError(lane, p, 'no such segment');
    if (p.offset + FRAME + p.length > seg.bytes) throw new LogEntryError(lane, p, 'past the end of its segment');
    const fd = this.fdOf(seg);
    const buf = Buffer.allocUnsafe(FRAME + p.length);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, p.offset + got);
      if (n === 0) throw new LogEntryError(lane, p, 'segment ends early');
      got += n;
    }
    const body = buf.subarray(FRAME);
    if (buf.readUInt32LE(0) !== p.length) throw new LogEntryError(lane, p, 'frame length does not match');
    // The CRC guards what a crash or the disk may have damaged: entries of segments an earlier run wrote.
    // This run's own entries went through append() (and a reader only gets a pointer once they were synced).
    if (!seg.fresh && buf.readUInt32LE(4) !== crc32(body)) throw new LogEntryError(lane, p, 'CRC mismatch');
    return body;
  }

  sync(): void {
    if (this.dirty.size === 0 && this.dirsToSync.size === 0) return;
    try {
      for (const seg of this.dirty) fdatasyncSync(seg.fd as number);
      for (const d of this.dirsToSync) {
        const fd = openSync(d, 'r');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    } catch (error) {
      // After a failed fsync the kernel may have dropped those pages: no later entry goes behind
      // them. Their entries belong to the group this sync was for, which now fails.
      for (const seg of this.dirty) if (this.active.get(seg.lane) === seg) this.active.delete(seg.lane);
      this.dirty.clear();
      this.trimOpen();
      throw error;
    }
    this.dirty.clear();
    this.dirsToSync.clear();
    this.trimOpen();
  }

  mark(): number {
    return this.appends;
  }

  list(): LogSegmentInfo[] {
    const out: LogSegmentInfo[] = [];
    for (const segs of this.lanes.values()) for (const s of segs.values()) out.push({ lane: s.lane, segment: s.segment, bytes: s.bytes, lastAppend: s.lastAppend });
    return out;
  }

  async deleteSegment(lane: string, segment: number, mark: number): Promise<boolean> {
    const segs = this.lanes.get(lane);
    const seg = segs?.get(segment);
    if (!segs || !seg || seg.lastAppend > mark || this.dirty.has(seg) || this.closed) return false;
    segs.delete(segment);
    if (this.active.get(lane) === seg) this.active.delete(lane);
    this.closeFd(seg);
    if (segs.size === 0) this.lanes.delete(lane);
    const dir = join(this.root, lane);
    await unlink(join(dir, segmentName(segment))).catch(ignoreMissing);
    // An append meanwhile would have re-created the lane (and a file in it): the directory stays then.
    if (!this.lanes.has(lane)) await rmdir(dir).catch(() => undefined);
    return true;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const seg of [...this.open]) this.closeFd(seg);
      this.dirty.clear();
      this.active.clear();
    }
    return Promise.resolve();
  }

  private rotate(lane: string): Segment {
    let segs = this.lanes.get(lane);
    const dir = join(this.root, lane);
    if (!segs) {
      segs = new Map();
      this.lanes.set(lane, segs);
      try {
        mkdirSync(dir, { mode: 0o700 });
        this.dirsToSync.add(this.root);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    const n = Math.max(this.highest.get(lane) ?? 0, ...segs.keys()) + 1;
    this.highest.set(lane, n);
    const fd = openSync(join(dir, segmentName(n)), 'wx+', 0o600);
    const seg: Segment = { lane, segment: n, bytes: 0, lastAppend: 0, fd, fresh: true };
    segs.set(n, seg);
    this.active.set(lane, seg);
    this.open.add(seg);
    this.dirsToSync.add(dir);
    this.trimOpen();
    return seg;
  }

  private fdOf(seg: Segment): number {
    if (seg.fd !== undefined) {
      // Most recently used goes last.
      this.open.delete(seg);
      this.open.add(seg);
      return seg.fd;
    }
    seg.fd = openSync(join(this.root, seg.lane, segmentName(seg.segment)), 'r');
    this.open.add(seg);
    this.trimOpen();
    return seg.fd;
  }

  /** Closes the least recently used fds beyond the bound, never one a sync or an append still needs. */
  private trimOpen(): void {
    if (this.open.size <= this.maxOpen) return;
    for (const seg of this.open) {
      if (this.open.size <= this.maxOpen) return;
      if (this.dirty.has(seg) || this.active.get(seg.lane) === seg) continue;
      this.closeFd(seg);
    }
  }

  private closeFd(seg: Segment): void {
    if (seg.fd === undefined) return;
    closeSync(seg.fd);
    seg.fd = undefined;
    this.open.delete(seg);
  }
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
}

export async function openFsStreamLog(root: string, opts: FsStreamLogOptions = {}): Promise<StreamLog> {
  await mkdirDurable(root, 0o700);
  return new FsStreamLog(root, opts.segmentBytes ?? 64 * 1024 * 1024, opts.maxOpenFiles ?? 64);
}
