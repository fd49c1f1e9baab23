import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredEvent } from './events.js';
import { fromLine, SegmentBuilder, toLine, type Segment } from './segments.js';

const json = JSON.stringify({ eventVersion: '1.11', eventName: 'HeadBucket', requestParameters: { bucketName: 'a"b\\c\u2028', n: 1.5e-7, list: [1, null, true] }, '1': 'x', readOnly: true });
const event: StoredEvent = {
  eventId: 'e1', eventTime: new Date(1_700_000_000_123), eventName: 'HeadBucket', eventSource: 's3.amazonaws.com', readOnly: true,
  username: 'root', resources: [{ type: 'AWS::S3::Bucket', name: 'arn:aws:s3:::a' }], json,
};

test('a line reads back to the same event, CloudTrailEvent text byte for byte', () => {
  const back = fromLine(toLine(event));
  assert.deepEqual(back, event);
  assert.equal(back.json, json);
});

test('lines of older segments (the record as a JSON string) still read', () => {
  const old = JSON.stringify([event.eventId, event.eventTime.getTime(), event.eventName, event.eventSource, 1, 'root', null, [['AWS::S3::Bucket', 'arn:aws:s3:::a']], json]);
  assert.deepEqual(fromLine(old), event);
});

test('a line is the text JSON.stringify gives for the Line array', () => {
  for (const e of [event, { ...event, username: undefined, accessKeyId: 'AKIA"X', resources: [] }] as StoredEvent[]) {
    const head = [e.eventId, e.eventTime.getTime(), e.eventName, e.eventSource, e.readOnly ? 1 : 0, e.username ?? null, e.accessKeyId ?? null, e.resources.map((r) => [r.type, r.name])];
    assert.equal(toLine(e), `${JSON.stringify(head).slice(0, -1)},${e.json}]`);
  }
});

test('a segment is its lines joined by newlines, with the summary of its indexed values, whatever the buffer it reuses', async () => {
  const written: Buffer[] = [];
  const blobs = {
    write: async (src: AsyncIterable<Uint8Array>) => {
      const parts: Buffer[] = [];
      for await (const c of src) parts.push(Buffer.from(c));
      written.push(Buffer.concat(parts));
      return { id: `b${written.length}` };
    },
  } as unknown as Parameters<SegmentBuilder['write']>[0];
  const events: StoredEvent[] = [
    event,
    { eventId: 'e2', eventTime: new Date(1_700_000_001_000), eventName: 'PutObject', eventSource: event.eventSource, readOnly: false, accessKeyId: 'AKIA1', resources: [], json },
    // Non-ASCII text and a line longer than the initial buffer.
    { ...event, eventId: 'e3', eventTime: new Date(1_700_000_002_000), json: JSON.stringify({ note: 'ünïcødé ✓', pad: 'x'.repeat(40_000) }) },
  ];
  let reuse: Buffer | undefined = Buffer.alloc(8, 0x41);
  for (let round = 0; round < 2; round++) {
    const b: SegmentBuilder = new SegmentBuilder(reuse);
    for (const e of events) b.add(e);
    const seg: Segment = await b.write(blobs);
    reuse = b.release();
    assert.equal(written.at(-1)?.toString('utf8'), events.map(toLine).join('\n'));
    assert.deepEqual(seg, {
      blobId: `b${written.length}`, first: 1_700_000_000_123, last: 1_700_000_002_000, count: 3,
      attrs: { EventName: ['HeadBucket', 'PutObject'], Username: ['root'], AccessKeyId: ['AKIA1'], ResourceName: ['arn:aws:s3:::a'] },
    });
  }
});
