/**
 * The MetadataStore contract: every adapter runs this suite unchanged. The
 * expected scan results come from a plain in-memory model sorted with
 * Buffer.compare, independent of the adapters' own range code.
 */
import assert from 'node:assert/strict';
import { describe as suite, it as test } from 'node:test';
import type { KvEntry, MetadataStore, ScanOptions } from '../ports.js';

// node:test returns promises the runner itself awaits; nothing to await here.
const describe = (name: string, fn: () => void): void => void suite(name, fn);
const it = (name: string, fn: () => Promise<void>): void => void test(name, fn);

export interface MetadataHarness {
  store: MetadataStore;
  /** Removes the data; the suite has closed the store (or close is idempotent). */
  cleanup(): Promise<void>;
  /** A new store over the same data, after `store` was closed: for durability. */
  reopen?(): Promise<MetadataStore>;
}

type Filter = Omit<ScanOptions, 'limit' | 'reverse'>;

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Keys where UTF-8 byte order, UTF-16 order and locale order disagree. */
export const TRICKY_KEYS = [
  '', 'A', 'a', 'a/', 'a/b', 'a/b/c', 'a/c', 'a0', 'b', '~', '\u007f', '\u0080', 'é', 'e\u0301', '\u07ff', '\u0800',
  '\ud7ff', '\ud7ffa', '\ue000', '\ufffd', '\uffff', '\uffffa', '\u{10000}', '😀', '😀z', '😁', '\u{10ffff}',
  '\u{10ffff}\u{10ffff}', '\u{10ffff}a', 'x', 'x\uffff', 'x\uffffa', 'x😀', 'x😀z', 'x😁', 'x\u{10ffff}', 'x\u{10ffff}a', 'y',
];

function model(keys: Iterable<string>, opts: ScanOptions = {}): string[] {
  let out = [...keys].filter((k) => {
    if (opts.prefix !== undefined && !k.startsWith(opts.prefix)) return false;
    if (opts.start !== undefined && byteOrder(k, opts.start) < 0) return false;
    if (opts.startAfter !== undefined && byteOrder(k, opts.startAfter) <= 0) return false;
    if (opts.end !== undefined && byteOrder(k, opts.end) >= 0) return false;
    return true;
  });
  out.sort(byteOrder);
  if (opts.reverse === true) out.reverse();
  if (opts.limit !== undefined) out = out.slice(0, opts.limit);
  return out;
}

/** Every combination of the given values for each filter option. */
function filters(): Filter[] {
  const prefixes = [undefined, '', 'a', 'a/', 'x', 'x\uffff', 'x😀', 'x\u{10ffff}', '\ud7ff', '\u{10ffff}', 'zz'];
  const starts = [undefined, 'a/b', 'x😀', '\uffff'];
  const afters = [undefined, 'a/b', 'x😀', '\ue000'];
  const ends = [undefined, 'a/c', 'x\ue000', '😁', 'y'];
  const out: Filter[] = [];
  for (const prefix of prefixes)
    for (const start of starts)
      for (const startAfter of afters)
        for (const end of ends) {
          const f: Filter = {};
          if (prefix !== undefined) f.prefix = prefix;
          if (start !== undefined) f.start = start;
          if (startAfter !== undefined) f.startAfter = startAfter;
          if (end !== undefined) f.end = end;
          out.push(f);
        }
  return out;
}

/** Deterministic PRNG (mulberry32) so a failing random run can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const keysOf = (entries: KvEntry[]): string[] => entries.map((e) => e.key);

export function runMetadataStoreContract(name: string, open: () => Promise<MetadataHarness>): void {
  /** Runs `body` on a fresh store and always cleans up. */
  const withStore = (body: (s: MetadataStore, h: MetadataHarness) => Promise<void>) => async (): Promise<void> => {
    const h = await open();
    try {
      await body(h.store, h);
    } finally {
      await h.store.close();
      await h.cleanup();
    }
  };
  const putAll = (s: MetadataStore, ns: string, keys: string[]): Promise<void> =>
    s.write(async (tx) => {
      for (const k of keys) await tx.put(ns, k, k);
    });

  describe(`MetadataStore contract: ${name}`, () => {
    it('gets, puts, overwrites and deletes', withStore(async (s) => {
      assert.equal(await s.read((tx) => tx.get('t', 'k')), undefined);
      await s.write((tx) => tx.put('t', 'k', 1));
      assert.equal(await s.read((tx) => tx.get('t', 'k')), 1);
      await s.write((tx) => tx.put('t', 'k', { v: 2 }));
      assert.deepEqual(await s.read((tx) => tx.get('t', 'k')), { v: 2 });
      assert.equal(await s.write((tx) => tx.delete('t', 'k')), true);
      assert.equal(await s.write((tx) => tx.delete('t', 'k')), false);
      assert.equal(await s.read((tx) => tx.get('t', 'k')), undefined);
      assert.equal(await s.write(async () => 'returned'), 'returned');
    }));

    it('keeps namespaces separate', withStore(async (s) => {
      await s.write(async (tx) => {
        await tx.put('a', 'k', 'in a');
        await tx.put('ab', 'k', 'in ab');
        await tx.put('b', 'k2', 'in b');
      });
      assert.equal(await s.read((tx) => tx.get('a', 'k')), 'in a');
      assert.equal(await s.read((tx) => tx.get('ab', 'k')), 'in ab');
      assert.deepEqual(await s.read((tx) => tx.scan('a')), [{ key: 'k', value: 'in a' }]);
      assert.equal(await s.read((tx) => tx.count('b')), 1);
      assert.equal(await s.write((tx) => tx.deleteRange('a', {})), 1);
      assert.equal(await s.read((tx) => tx.get('ab', 'k')), 'in ab');
    }));

    it('round-trips structured values, as copies', withStore(async (s) => {
      const value = {
        date: new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123)),
        bytes: new Uint8Array([0, 1, 254, 255]),
        buffer: Buffer.from('héllo'),
        big: 2n ** 70n,
        map: new Map<unknown, unknown>([['a', 1], [2, { nested: [1, 2, 3] }]]),
        set: new Set(['x', 'y']),
        nested: { deep: { list: [null, true, 1.5, 'ü😀', -0, Number.NaN, Infinity] } },
        big1m: new Uint8Array(1024 * 1024).fill(7),
      };
      await s.write((tx) => tx.put('v', 'k', value));
      const got = await s.read((tx) => tx.get<typeof value>('v', 'k'));
      assert.ok(got !== undefined);
      assert.deepEqual(got, value);
      assert.ok(got.date instanceof Date && got.bytes instanceof Uint8Array && got.map instanceof Map);
      assert.ok(Object.is(got.nested.deep.list[4], -0));
      // Stored state is neither shared with the writer nor with readers.
      value.nested.deep.list.push('mutated');
      got.bytes[0] = 99;
      got.map.set('new', 1);
      const again = await s.read((tx) => tx.get<typeof value>('v', 'k'));
      assert.equal(again?.bytes[0], 0);
      assert.equal(again?.map.has('new'), false);
      assert.equal(again?.nested.deep.list.length, 7);
      await assert.rejects(s.write((tx) => tx.put('v', 'u', undefined)), TypeError);
    }));

    it('rejects keys that are not valid UTF-8, or contain NUL', withStore(async (s) => {
      await assert.rejects(s.write((tx) => tx.put('v', 'bad\ud800', 1)), TypeError);
      await assert.rejects(s.read((tx) => tx.get('v', '\udc00')), TypeError);
      await assert.rejects(s.write((tx) => tx.put('v', 'a\u0000b', 1)), TypeError);
    }));

    it('scans in UTF-8 byte order, forward and reverse', withStore(async (s) => {
      await putAll(s, 'o', TRICKY_KEYS);
      const sorted = [...TRICKY_KEYS].sort(byteOrder);
      assert.notDeepEqual(sorted, [...TRICKY_KEYS].sort(), 'the keys must tell byte order from UTF-16 order');
      const all = await s.read((tx) => tx.scan('o'));
      assert.deepEqual(keysOf(all), sorted);
      assert.deepEqual(all.map((e) => e.value), sorted);
      assert.deepEqual(keysOf(await s.read((tx) => tx.scan('o', { reverse: true }))), [...sorted].reverse());
    }));

    it('applies prefix/start/startAfter/end/limit/reverse, alone and combined', withStore(async (s) => {
      await putAll(s, 'o', TRICKY_KEYS);
      const cases = filters();
      await s.read(async (tx) => {
        for (const f of cases) {
          assert.equal(await tx.count('o', f), model(TRICKY_KEYS, f).length, `count ${JSON.stringify(f)}`);
          for (const reverse of [false, true])
            for (const limit of [undefined, 0, 1, 3]) {
              const opts: ScanOptions = { ...f, reverse };
              if (limit !== undefined) opts.limit = limit;
              assert.deepEqual(keysOf(await tx.scan('o', opts)), model(TRICKY_KEYS, opts), JSON.stringify(opts));
            }
        }
      });
      await assert.rejects(s.read((tx) => tx.scan('o', { limit: -1 })), RangeError);
    }));

    it('deleteRange removes exactly the matching keys', withStore(async (s) => {
      await putAll(s, 'o', TRICKY_KEYS);
      const rollback = new Error('roll back');
      for (const f of filters().filter((_, i) => i % 7 === 0)) {
        // Each check runs in a transaction that then throws: a rollback test too.
        await assert.rejects(
          s.write(async (tx) => {
            assert.equal(await tx.deleteRange('o', f), model(TRICKY_KEYS, f).length, JSON.stringify(f));
            const left = new Set(model(TRICKY_KEYS, f));
            assert.deepEqual(keysOf(await tx.scan('o')), model(TRICKY_KEYS.filter((k) => !left.has(k))));
            throw rollback;
          }),
          (e) => e === rollback,
        );
      }
      assert.equal(await s.read((tx) => tx.count('o')), TRICKY_KEYS.length);
      assert.equal(await s.write((tx) => tx.deleteRange('o', { prefix: 'x' })), model(TRICKY_KEYS, { prefix: 'x' }).length);
      assert.deepEqual(keysOf(await s.read((tx) => tx.scan('o', { prefix: 'x' }))), []);
    }));

    it('matches an in-memory model under random operations', withStore(async (s) => {
      const rand = prng(20240229);
      const alphabet = ['a', 'b', '/', '\u007f', '\u0080', 'é', '\ud7ff', '\ue000', '\uffff', '😀', '\u{10ffff}'];
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
      const key = (): string => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(alphabet)).join('');
      const live = new Map<string, number>();
      for (let round = 0; round < 40; round++) {
        const ops = Array.from({ length: 10 }, () => ({ op: rand(), k: key(), v: Math.floor(rand() * 1000) }));
        await s.write(async (tx) => {
          for (const { op, k, v } of ops) {
            if (op < 0.7) await tx.put('r', k, v);
            else assert.equal(await tx.delete('r', k), live.has(k));
            if (op < 0.7) live.set(k, v);
            else live.delete(k);
          }
        });
        const opts: ScanOptions = { reverse: rand() < 0.5 };
        if (rand() < 0.5) opts.prefix = Array.from(key()).slice(0, 2).join('');
        if (rand() < 0.3) opts.startAfter = key();
        if (rand() < 0.3) opts.end = key();
        if (rand() < 0.5) opts.limit = Math.floor(rand() * 5);
        const got = await s.read((tx) => tx.scan<number>('r', opts));
        assert.deepEqual(keysOf(got), model(live.keys(), opts), JSON.stringify(opts));
        for (const e of got) assert.equal(e.value, live.get(e.key));
      }
    }));

    it('a throwing transaction leaves nothing and rethrows its error', withStore(async (s) => {
      await putAll(s, 't', ['keep1', 'keep2']);
      const boom = new Error('boom');
      await assert.rejects(
        s.write(async (tx) => {
          await tx.put('t', 'new', 1);
          await tx.delete('t', 'keep1');
          await tx.deleteRange('t', { prefix: 'keep2' });
          assert.equal(await tx.get('t', 'new'), 1, 'a transaction sees its own writes');
          assert.equal(await tx.count('t'), 1);
          throw boom;
        }),
        (e) => e === boom,
      );
      assert.deepEqual(keysOf(await s.read((tx) => tx.scan('t'))), ['keep1', 'keep2']);
    }));

    it('serializes concurrent writers: 200 increments make 200', withStore(async (s) => {
      await Promise.all(
        Array.from({ length: 200 }, () =>
          s.write(async (tx) => {
            const n = (await tx.get<number>('c', 'n')) ?? 0;
            await Promise.resolve();
            await tx.put('c', 'n', n + 1);
          }),
        ),
      );
      assert.equal(await s.read((tx) => tx.get('c', 'n')), 200);
    }));

    it('isolates concurrent failures: only the failing transactions are undone', withStore(async (s) => {
      const results = await Promise.allSettled(
        Array.from({ length: 100 }, (_, i) =>
          s.write(async (tx) => {
            await tx.put('f', `k${i}`, i);
            if (i % 3 === 0) throw new Error(`fail ${i}`);
            return i;
          }),
        ),
      );
      for (const [i, r] of results.entries()) {
        if (i % 3 === 0) assert.equal(r.status === 'rejected' && (r.reason as Error).message, `fail ${i}`);
        else assert.equal(r.status === 'fulfilled' && r.value, i);
      }
      const keys = keysOf(await s.read((tx) => tx.scan('f')));
      assert.deepEqual(keys, model(Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => `k${i}`)));
    }));

    it('readers see whole transactions: never half of one', withStore(async (s) => {
      const all: Array<Promise<unknown>> = [];
      for (let i = 0; i < 100; i++) {
        all.push(
          s.write(async (tx) => {
            await tx.put('a', `${i}`, i);
            await Promise.resolve();
            await tx.put('b', `${i}`, i);
          }),
          s.read(async (tx) => {
            const a = keysOf(await tx.scan('a'));
            await Promise.resolve();
            assert.deepEqual(keysOf(await tx.scan('b')), a);
          }),
        );
        // Let groups commit between rounds, so readers meet many states.
        if (i % 10 === 0) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(all);
      assert.equal(await s.read((tx) => tx.count('b')), 100);
    }));

    it('a write is visible to every read that starts after it resolved', withStore(async (s) => {
      for (let i = 0; i < 20; i++) {
        await s.write((tx) => tx.put('rw', 'n', i));
        assert.equal(await s.read((tx) => tx.get('rw', 'n')), i);
      }
    }));

    it('a tx object cannot be used after its transaction ended', withStore(async (s) => {
      let leaked: { get(ns: string, k: string): Promise<unknown> } | undefined;
      await s.write(async (tx) => {
        leaked = tx;
      });
      await assert.rejects(leaked!.get('t', 'k'));
      await s.read(async (tx) => {
        leaked = tx;
      });
      await assert.rejects(leaked!.get('t', 'k'));
    }));

    it('is durable across close and reopen; refuses use after close', withStore(async (s, h) => {
      await putAll(s, 'd', ['x', 'y']);
      const pending = s.write((tx) => tx.put('d', 'z', 'queued before close'));
      await s.close();
      await pending;
      await assert.rejects(s.write((tx) => tx.put('d', 'late', 1)));
      await assert.rejects(s.read((tx) => tx.get('d', 'x')));
      if (h.reopen === undefined) return;
      const again = await h.reopen();
      try {
        assert.deepEqual(keysOf(await again.read((tx) => tx.scan('d'))), ['x', 'y', 'z']);
      } finally {
        await again.close();
      }
    }));
  });
}
