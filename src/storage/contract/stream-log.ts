/**
 * The StreamLog contract: every adapter runs this suite unchanged, with a
 * harness that opens a fresh, empty log with small segments (so rotation
 * happens within a few entries). The metadata side of the invariant (sync
 * before COMMIT) is the MetadataStore adapter's, tested beside it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe as suite, it as test } from 'node:test';
import type { LogPointer, MetadataStore, StreamLog } from '../ports.js';
import { StreamLogSweeper } from '../stream-log-sweep.js';

const describe = (name: string, fn: () => void): void => void suite(name, fn);
const it = (name: string, fn: () => Promise<void>): void => void test(name, fn);

export interface StreamLogHarness {
  log: StreamLog;
  /** The rotation size the harness opened the log with. */
  segmentBytes: number;
  /** A new log over the same data, after `log` was closed. */
  reopen(): Promise<StreamLog>;
  /** A metadata store over the same directory whose group commit syncs `log` first. */
  metadata(log: StreamLog): Promise<MetadataStore>;
  /** Cuts `bytes` off the end of a lane's last segment (what a crash mid-append leaves). */
  tearTail(lane: string, bytes: number): Promise<void>;
  /** Flips one byte of an entry's bytes on disk (what the disk may do to an older run's entry). */
  damage(lane: string, p: LogPointer): Promise<void>;
  /** How many segment files exist behind the port. */
  files(): Promise<number>;
  cleanup(): Promise<void>;
}

function bytesOf(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

export function runStreamLogContract(name: string, open: () => Promise<StreamLogHarness>): void {
  describe(`StreamLog contract: ${name}`, () => {
    it('appends and reads back, across lanes and a reopen; a reopened log appends to a new segment', async () => {
      const h = await open();
      let log = h.log;
      try {
        const put: Array<[string, LogPointer, Buffer]> = [];
        for (let i = 0; i < 12; i++) {
          const lane = i % 2 === 0 ? 'a' : 'lane_B-2';
          const b = bytesOf(1 + ((i * 97) % 700), i);
          put.push([lane, log.append(lane, b), b]);
        }
        put.push(['a', log.append('a', new Uint8Array(0)), Buffer.alloc(0)]);
        for (const [lane, p, b] of put) assert.deepEqual(Buffer.from(log.read(lane, p)), b);
        log.sync();
        await log.close();
        log = await h.reopen();
        for (const [lane, p, b] of put) assert.deepEqual(Buffer.from(log.read(lane, p)), b);
        const last = Math.max(...put.filter(([l]) => l === 'a').map(([, p]) => p.segment));
        const fresh = bytesOf(100, 99);
        const p = log.append('a', fresh);
        assert.ok(p.segment > last, 'no append after an older run’s last entry');
        assert.deepEqual(Buffer.from(log.read('a', p)), fresh);
        assert.throws(() => log.append('../etc', fresh), TypeError);
        assert.throws(() => log.append('', fresh), TypeError);
        assert.throws(() => log.read('a', { ...p, length: p.length + 1 }));
        assert.throws(() => log.read('nope', p));
      } finally {
        await log.close();
        await h.cleanup();
      }
    });

    it('ignores a torn tail: entries before it read back, the torn one is an error, appends go on', async () => {
      const h = await open();
      let log = h.log;
      try {
        const a = bytesOf(300, 1);
        const b = bytesOf(200, 2);
        const pa = log.append('t', a);
        const pb = log.append('t', b);
        log.sync();
        const pc = log.append('t', bytesOf(150, 3));
        await log.close();
        await h.tearTail('t', 40);
        log = await h.reopen();
        assert.deepEqual(Buffer.from(log.read('t', pa)), a);
        assert.deepEqual(Buffer.from(log.read('t', pb)), b);
        assert.throws(() => log.read('t', pc), 'a torn entry never reads as bytes');
        const d = bytesOf(500, 4);
        const pd = log.append('t', d);
        log.sync();
        await log.close();
        log = await h.reopen();
        assert.deepEqual(Buffer.from(log.read('t', pd)), d);
        assert.deepEqual(Buffer.from(log.read('t', pb)), b);
        await log.close();
        await h.damage('t', pb);
        log = await h.reopen();
        assert.throws(() => log.read('t', pb), 'a damaged entry never reads as bytes');
        assert.deepEqual(Buffer.from(log.read('t', pa)), a);
      } finally {
        await log.close();
        await h.cleanup();
      }
    });

    it('rotates segments at its size; an entry larger than a segment gets one of its own', async () => {
      const h = await open();
      const log = h.log;
      try {
        const size = Math.floor(h.segmentBytes / 4);
        const ptrs = Array.from({ length: 12 }, (_, i) => [log.append('r', bytesOf(size, i)), i] as const);
        const big = bytesOf(h.segmentBytes * 2, 77);
        const pb = log.append('r', big);
        const segs = log.list().filter((s) => s.lane === 'r');
        assert.ok(segs.length >= 4, `12 entries of a quarter segment fill several segments (${segs.length})`);
        for (const s of segs) if (s.segment !== pb.segment) assert.ok(s.bytes <= h.segmentBytes, `segment ${s.segment} holds ${s.bytes} bytes`);
        assert.equal(pb.offset, 0, 'the large entry starts a segment');
        for (const [p, i] of ptrs) assert.deepEqual(Buffer.from(log.read('r', p)), bytesOf(size, i));
        assert.deepEqual(Buffer.from(log.read('r', pb)), big);
        log.sync();
        assert.equal(await h.files(), segs.length);
      } finally {
        await log.close();
        await h.cleanup();
      }
    });

    it('concurrent appends in one group: one sync before the COMMIT makes every pointer and its bytes durable', async () => {
      const h = await open();
      let log = h.log;
      let syncs = 0;
      const counting: StreamLog = Object.assign(Object.create(log) as StreamLog, {
        sync: () => {
          syncs++;
          log.sync();
        },
      });
      let meta = await h.metadata(counting);
      try {
        const payloads = Array.from({ length: 64 }, (_, i) => randomBytes(100 + i * 13));
        await Promise.all(
          payloads.map((b, i) =>
            meta.write(async (tx) => {
              await tx.put('ptr', String(i).padStart(4, '0'), log.append(`l${i % 3}`, b));
            }),
          ),
        );
        assert.ok(syncs >= 1 && syncs < payloads.length / 4, `${syncs} syncs for ${payloads.length} transactions`);
        await meta.close();
        await log.close();
        log = await h.reopen();
        meta = await h.metadata(log);
        const rows = await meta.read((tx) => tx.scan<LogPointer>('ptr'));
        assert.equal(rows.length, payloads.length);
        for (const [i, r] of rows.entries()) assert.deepEqual(Buffer.from(log.read(`l${i % 3}`, r.value)), payloads[i]);
      } finally {
        await meta.close();
        await log.close();
        await h.cleanup();
      }
    });

    it('a failing sync fails the whole group: no pointer commits without its bytes synced', async () => {
      const h = await open();
      const log = h.log;
      let fail = true;
      const flaky: StreamLog = Object.assign(Object.create(log) as StreamLog, {
        sync: () => {
          if (fail) throw new Error('EIO (simulated)');
          log.sync();
        },
      });
      const meta = await h.metadata(flaky);
      try {
        const writes = [0, 1, 2].map((i) => meta.write(async (tx) => tx.put('ptr', `k${i}`, log.append('f', bytesOf(64, i)))));
        const settled = await Promise.allSettled(writes);
        assert.deepEqual(settled.map((s) => s.status), ['rejected', 'rejected', 'rejected']);
        assert.equal((await meta.read((tx) => tx.scan('ptr'))).length, 0, 'nothing of the group committed');
        fail = false;
        await meta.write(async (tx) => tx.put('ptr', 'ok', log.append('f', bytesOf(64, 9))));
        const [row] = await meta.read((tx) => tx.scan<LogPointer>('ptr'));
        assert.deepEqual(Buffer.from(log.read('f', row?.value as LogPointer)), bytesOf(64, 9));
      } finally {
        await meta.close();
        await log.close();
        await h.cleanup();
      }
    });

    it('sweep: frees dead lanes and segments below the oldest referenced, on the second sweep, never one appended since its mark', async () => {
      const h = await open();
      const log = h.log;
      const meta = await h.metadata(log);
      try {
        const size = Math.floor(h.segmentBytes / 2);
        const keptPtrs: LogPointer[] = [];
        for (let i = 0; i < 8; i++) keptPtrs.push(log.append('live', bytesOf(size, i)));
        for (let i = 0; i < 4; i++) log.append('dead', bytesOf(size, i));
        log.sync();
        const liveSegs = () => log.list().filter((s) => s.lane === 'live').map((s) => s.segment).sort((x, y) => x - y);
        const from = (keptPtrs[5] as LogPointer).segment;
        const before = liveSegs();
        assert.ok(before.some((s) => s < from), 'there are segments below the oldest kept one');
        let late: LogPointer | undefined;
        const sweeper = new StreamLogSweeper(log, meta, () => {
          // A put appending while the second sweep runs (after its mark): that segment must survive it.
          if (late === undefined && swept > 0) late = log.append('dead', bytesOf(10, 1));
          return Promise.resolve(new Map([['live', from]]));
        });
        let swept = 0;
        const first = await sweeper.sweep();
        swept++;
        assert.equal(first.deleted, 0, 'the first sweep that finds a segment free leaves it');
        assert.ok(first.free > 0);
        const second = await sweeper.sweep();
        assert.ok(late !== undefined);
        assert.ok(second.deleted > 0);
        assert.deepEqual(liveSegs(), before.filter((s) => s >= from));
        assert.deepEqual(log.list().filter((s) => s.lane === 'dead').map((s) => s.segment), [late.segment]);
        assert.deepEqual(Buffer.from(log.read('dead', late)), bytesOf(10, 1));
        for (const p of keptPtrs.slice(5)) assert.deepEqual(Buffer.from(log.read('live', p)), bytesOf(size, keptPtrs.indexOf(p)));
        assert.throws(() => log.read('live', keptPtrs[0] as LogPointer), 'a freed segment is gone');
        log.sync();
        assert.equal(await h.files(), log.list().length, 'the files went with them');
        // deleteSegment refuses a segment appended to after the caller's mark.
        const mark = log.mark();
        const again = log.append('dead', bytesOf(10, 2));
        assert.equal(await log.deleteSegment('dead', again.segment, mark), false);
      } finally {
        await meta.close();
        await log.close();
        await h.cleanup();
      }
    });
  });
}
