import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareSeq, decimalOfHashHex, evenSplitStart, formatSeq, formatSeqRun, hashKeyOfPartitionKey, parseSeq, shardIdOf, shardIxOf, writeSeqRun } from './seq.js';
import { decodeIterator, encodeIterator } from './iterators.js';
import { check } from './validate.js';

describe('kinesis sequence numbers and hash keys', () => {
  it('writeSeqRun writes formatSeqRun\'s numbers as bytes, carries included', () => {
    const firsts = [0n, 1n, 499n, 0xffffffn, 0x7fffffffn, 123456789012n, (1n << 40n) - 3n, (1n << 52n) + 7n, 0x7fffffffffffff00n];
    for (let t = 0; t < 200; t++) firsts.push(BigInt(Math.floor(Math.random() * 2 ** 40)) * BigInt(1 + (t % 7)));
    for (const index of firsts) {
      const first = { shardCreatedSecs: 1735689600 + (Number(index % 1000n)), shardIx: Number(index % 5n), index, arrivalSecs: 1735689700 };
      const n = 300;
      const want = formatSeqRun(first, n);
      const out = Buffer.alloc(n * 60, 0x20);
      const at = Array.from({ length: n }, (_, j) => ((j * 7) % n) * 60 + 2);
      const ok = writeSeqRun(first, n, out, at);
      if (!ok) {
        assert.ok(want.some((s) => s.length !== 56), `refused a 56-digit run from ${index}`);
        continue;
      }
      for (let j = 0; j < n; j++) assert.equal(out.toString('latin1', at[j] as number, (at[j] as number) + 56), want[j]);
    }
  });

  it('sequence numbers are 56 digits, round-trip, and order by record index', () => {
    const base = { shardCreatedSecs: 1735689600, shardIx: 3, arrivalSecs: 1735689700 };
    const a = formatSeq({ ...base, index: 1n });
    const b = formatSeq({ ...base, index: 2n, arrivalSecs: 1735689600 });
    const c = formatSeq({ ...base, index: 1_000_000_000n });
    for (const s of [a, b, c]) assert.equal(s.length, 56);
    assert.ok(a < b && b < c, 'string order');
    assert.ok(BigInt(a) < BigInt(b) && BigInt(b) < BigInt(c), 'bigint order');
    assert.equal(compareSeq(a, c), -1);
    assert.deepEqual(parseSeq(b), { ...base, index: 2n, arrivalSecs: 1735689600 });
    assert.equal(parseSeq('12345'), undefined);
    assert.equal(parseSeq('not a number'), undefined);
  });

  it('a run of consecutive numbers equals one-by-one formatting (limb carries included)', () => {
    for (const start of [0n, 1n, 123456789n, 0x7ffffffffff00000n]) {
      const base = { shardCreatedSecs: 1735689600, shardIx: 17, index: start, arrivalSecs: 1735689999 };
      const run = formatSeqRun(base, 700);
      run.forEach((s, i) => assert.equal(s, formatSeq({ ...base, index: start + BigInt(i) }), `index ${start + BigInt(i)}`));
    }
  });

  it('a child shard (created a second later) sorts after every parent number', () => {
    const parent = formatSeq({ shardCreatedSecs: 100, shardIx: 15, index: 0x7fffffffffffffffn, arrivalSecs: 200 });
    const child = formatSeq({ shardCreatedSecs: 101, shardIx: 16, index: 1n, arrivalSecs: 101 });
    assert.ok(parent < child);
  });

  it('partition keys hash with MD5 as a 128-bit number', () => {
    // md5("a") = 0cc175b9c0f1b6a831c399e269772661
    assert.equal(hashKeyOfPartitionKey('a'), '0cc175b9c0f1b6a831c399e269772661');
    assert.equal(decimalOfHashHex(hashKeyOfPartitionKey('a')), BigInt('0x0cc175b9c0f1b6a831c399e269772661').toString());
  });

  it('splits the hash space evenly as AWS does', () => {
    assert.equal(evenSplitStart(1, 3).toString(), '113427455640312821154458202477256070485');
    assert.equal(evenSplitStart(2, 3).toString(), '226854911280625642308916404954512140970');
    assert.equal(evenSplitStart(1, 2).toString(), '170141183460469231731687303715884105728');
  });

  it('shard ids', () => {
    assert.equal(shardIdOf(0), 'shardId-000000000000');
    assert.equal(shardIdOf(12), 'shardId-000000000012');
    assert.equal(shardIxOf('shardId-000000000012'), 12);
    assert.equal(shardIxOf('12'), 12);
    assert.equal(shardIxOf('shard-x'), undefined);
  });

  it('iterators are opaque and tamper-evident', () => {
    const key = new Uint8Array(32).fill(7);
    const st = { stream: 'orders', streamId: 'ab'.repeat(16), shardIx: 2, pos: 12345, createdMs: 1735689600000 };
    const it = encodeIterator(key, st);
    assert.deepEqual(decodeIterator(key, it), st);
    assert.ok(!it.includes('orders'));
    const raw = Buffer.from(it, 'base64');
    raw[14] = (raw[14] as number) ^ 1;
    assert.equal(decodeIterator(key, raw.toString('base64')), undefined);
    assert.equal(decodeIterator(new Uint8Array(32), it), undefined);
    assert.equal(decodeIterator(key, 'garbage!'), undefined);
  });

  it('validation messages read as AWS writes them', () => {
    assert.throws(
      () => check({ StreamName: 'bad name', ShardCount: 0 }, [{ field: 'StreamName', notNull: true, pattern: '[a-zA-Z0-9_.-]+', lenMin: 1, lenMax: 128 }, { field: 'ShardCount', min: 1 }]),
      (e: Error & { code: string }) =>
        e.code === 'ValidationException' &&
        e.message ===
          "2 validation errors detected: Value 'bad name' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    assert.throws(
      () => check({ Records: [{ Data: new Uint8Array(3) }] }, [{ field: 'Records', notNull: true, members: [{ field: 'PartitionKey', notNull: true }] }]),
      /Value null at 'records.1.member.partitionKey' failed to satisfy constraint: Member must not be null/,
    );
  });
});
