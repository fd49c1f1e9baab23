import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { Decoder } from 'cbor-x';
import { rawResponseOf } from '../../aws/http.js';
import { activeStream, kit, rejects, type Kit } from './test-kit.js';

const codec = new EventStreamCodec(
  (b) => Buffer.from(b).toString('utf8'),
  (s) => Buffer.from(s, 'utf8'),
);

interface Frame {
  type: string;
  messageType: string;
  body: Record<string, unknown>;
}

/** Reads event-stream frames off an async body as they come. */
async function* frames(body: AsyncIterable<Uint8Array>, cbor = false): AsyncGenerator<Frame> {
  const dec = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);
  let buf = Buffer.alloc(0);
  for await (const chunk of body) {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
      const len = buf.readUInt32BE(0);
      const m = codec.decode(buf.subarray(0, len));
      buf = buf.subarray(len);
      const h = (n: string) => String(m.headers[n]?.value ?? '');
      const payload = cbor ? (dec.decode(Buffer.from(m.body)) as Record<string, unknown>) : (JSON.parse(Buffer.from(m.body).toString()) as Record<string, unknown>);
      yield { type: h(':event-type') || h(':exception-type'), messageType: h(':message-type'), body: payload };
    }
  }
}

describe('SubscribeToShard (event stream)', () => {
  let k: Kit;
  let consumerArn = '';
  before(async () => {
    k = await kit({ heartbeatMs: 100, subscriptionMs: 1500 });
    await activeStream(k, 'ev', 1);
    const r = await k.call<{ Consumer: { ConsumerARN: string } }>('RegisterStreamConsumer', { StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/ev', ConsumerName: 'c' });
    consumerArn = r.Consumer.ConsumerARN;
    await k.lifecycle.idle();
  });
  after(async () => {
    await k.close();
  });

  async function subscribe(type = 'TRIM_HORIZON', contentType = 'application/x-amz-json-1.1') {
    const out = await k.call('SubscribeToShard', { ConsumerARN: consumerArn, ShardId: 'shardId-000000000000', StartingPosition: { Type: type } });
    const make = rawResponseOf(out);
    assert.ok(make, 'answers with a raw (streaming) response');
    return make({ requestContentType: contentType });
  }

  it('frames: initial-response, then records as they are put, heartbeats, and an end after the subscription time', async () => {
    await k.call('PutRecord', { StreamName: 'ev', PartitionKey: 'a', Data: new Uint8Array(Buffer.from('one')) });
    const res = await subscribe();
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/vnd.amazon.eventstream');
    await rejects(k.call('SubscribeToShard', { ConsumerARN: consumerArn, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'LATEST' } }), 'ResourceInUseException', /Another active subscription/);
    const seen: string[] = [];
    let heartbeats = 0;
    let first: Frame | undefined;
    const started = Date.now();
    for await (const f of frames(res.body as AsyncIterable<Uint8Array>)) {
      first ??= f;
      if (f.type !== 'SubscribeToShardEvent') continue;
      const recs = f.body['Records'] as { Data: string }[];
      assert.match(f.body['ContinuationSequenceNumber'] as string, /^\d{56}$/);
      if (recs.length === 0) heartbeats++;
      for (const r of recs) seen.push(Buffer.from(r.Data, 'base64').toString());
      if (seen.length === 1 && heartbeats === 0) await k.call('PutRecord', { StreamName: 'ev', PartitionKey: 'a', Data: new Uint8Array(Buffer.from('two')) });
    }
    assert.equal(first?.type, 'initial-response');
    assert.deepEqual(seen, ['one', 'two']);
    assert.ok(heartbeats >= 2, `empty events keep the subscription alive (${heartbeats})`);
    assert.ok(Date.now() - started >= 1400, 'the subscription lasted its time, then ended');
  });

  it('answers in CBOR when asked in CBOR; a later subscription takes over an earlier one', async () => {
    k.clock.advance(6000);
    const res = await subscribe('TRIM_HORIZON', 'application/x-amz-cbor-1.1');
    const it = frames(res.body as AsyncIterable<Uint8Array>, true);
    assert.equal((await it.next()).value?.type, 'initial-response');
    const ev = (await it.next()).value as Frame;
    const recs = ev.body['Records'] as { Data: Uint8Array }[];
    assert.ok(recs[0]?.Data instanceof Uint8Array);
    assert.equal(Buffer.from(recs[0].Data).toString(), 'one');
    k.clock.advance(6000);
    await subscribe('LATEST');
    let ended: Frame | undefined;
    for (;;) {
      const n = await it.next();
      if (n.done) break;
      ended = n.value;
    }
    assert.equal(ended?.messageType, 'exception');
    assert.equal(ended?.type, 'ResourceInUseException');
  });
});
