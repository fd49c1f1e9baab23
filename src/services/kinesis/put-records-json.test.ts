import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as sdk from '@aws-sdk/client-kinesis';
import type { PutRecordsOutput } from '@aws-sdk/client-kinesis';
import { parseJsonBody, readInput } from '../../aws/protocols/aws-json.js';
import { JSON_RPC, compileReader, compileWriter } from '../../aws/protocols/json-shapes.js';
import { operationShapes } from '../../aws/protocols/operation.js';
import { decodePutRecordsJson, encodePutRecordsJson } from './put-records-json.js';
import { activeStream, kit } from './test-kit.js';

const shapes = operationShapes(sdk.PutRecords$);
assert.ok(shapes);
const reader = compileReader(shapes.input, JSON_RPC);
const writer = compileWriter(shapes.output, JSON_RPC);

/** The generic codec's answer: the input, or the error's message. */
function generic(body: Buffer): unknown {
  try {
    return readInput(reader, parseJsonBody(body));
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The fast path either leaves the body to the generic codec or answers exactly what it would. */
function same(body: Buffer): boolean {
  const fast = decodePutRecordsJson(body);
  if (fast === undefined) return false;
  const g = generic(body) as { Records?: { Data: Uint8Array }[] };
  assert.ok(!('error' in g), `fast path took a body the generic codec refuses: ${body.toString('latin1').slice(0, 200)}`);
  // Blobs compared as bytes (the generic reader's are Buffers of their own, the fast path's views of one).
  const norm = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer' ? { bytes: (x as { data: number[] }).data } : x)));
  assert.deepEqual(norm(fast), norm(g));
  for (const [i, r] of (fast.Records ?? []).entries()) assert.ok(r.Data instanceof Uint8Array && Buffer.from(r.Data).equals(Buffer.from(g.Records?.[i]?.Data as Uint8Array)));
  assert.deepEqual(Object.keys(fast), Object.keys(g));
  return true;
}

const b64 = (n: number) => randomBytes(n).toString('base64');

describe('PutRecords JSON fast path', () => {
  it('takes the usual bodies, in any member order and spacing', () => {
    const recs = Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `pk-${i}`, Data: b64(1024) }));
    assert.ok(same(Buffer.from(JSON.stringify({ StreamName: 's', Records: recs }))));
    assert.ok(same(Buffer.from(JSON.stringify({ Records: recs.map((r) => ({ Data: r.Data, PartitionKey: r.PartitionKey })), StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/s' }))));
    assert.ok(same(Buffer.from(JSON.stringify({ StreamName: 's', StreamARN: 'arn:x', Records: recs.slice(0, 3) }, null, 2))));
    assert.ok(same(Buffer.from(` \r\n\t{ "Records" : [ { "Data" : "" , "PartitionKey" : "ü名" } ] } \n`)));
    // Records of different sizes, where the last text's length lands on a later quote.
    assert.ok(same(Buffer.from('{"Records":[{"Data":"QUJDREVG","PartitionKey":"a"},{"Data":"QUJD",  "PartitionKey":"b"},{"Data":"","PartitionKey":"c"},{"Data":"QQ==","PartitionKey":"d"}]}')));
    for (const n of [0, 1, 2, 3, 4, 5, 1023]) assert.ok(same(Buffer.from(JSON.stringify({ StreamName: 's', Records: [{ PartitionKey: 'k', Data: b64(n) }] }))));
  });

  it('leaves everything else to the generic codec', () => {
    const leave = [
      '',
      '{}',
      '[]',
      'null',
      '{"Records":[]}',
      '{"Records":null}',
      '{"Records":[null]}',
      '{"StreamName":"s"}',
      '{"StreamName":"s","Records":[{"Data":"QQ==","PartitionKey":"k","ExplicitHashKey":"1"}]}',
      '{"StreamName":"s","Records":[{"Data":"QQ==","PartitionKey":"k"}],"Extra":1}',
      '{"StreamName":"s","StreamName":"t","Records":[{"Data":"QQ==","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"QQ==","Data":"QQ==","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"QQ==","PartitionKey":"k\\u0041"}]}',
      '{"StreamName":"s\\n","Records":[{"Data":"QQ==","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"QR==","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"QQ=","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"QQ==QUJD","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"QU\\/D","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"QU-D","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"QU_D","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"QU D","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"====","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"A===","PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":1,"PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"PartitionKey":"k"}]}',
      '{"StreamName":"s","Records":[{"Data":"QQ==","PartitionKey":"k"},]}',
      '{"StreamName":"s","Records":[{"Data":"QQ==","PartitionKey":"k"}]}x',
      '{"StreamName":"s","Records":[{"Data":"QQ==","PartitionKey":"k"}]',
    ];
    for (const s of leave) assert.equal(same(Buffer.from(s)), false, s);
    assert.equal(same(Buffer.from('{"StreamName":"s","Records":[{"Data":"Q\u00e9==","PartitionKey":"k"}]}', 'utf8')), false);
    assert.equal(same(Buffer.from('{"StreamName":"s","Records":[{"Data":"QUJD\u0001","PartitionKey":"k"}]}', 'utf8')), false);
  });

  it('never answers differently from the generic codec on damaged bodies', () => {
    const base = Buffer.from(JSON.stringify({ StreamName: 'st', Records: Array.from({ length: 4 }, (_, i) => ({ PartitionKey: `pk-${i}`, Data: b64(i * 7 + 1) })) }));
    const junk = [0x00, 0x01, 0x1f, 0x20, 0x22, 0x2b, 0x2c, 0x2d, 0x2f, 0x3a, 0x3d, 0x41, 0x5b, 0x5c, 0x5d, 0x5f, 0x6e, 0x7b, 0x7d, 0x80, 0xc3, 0xff];
    let taken = 0;
    for (let t = 0; t < 20_000; t++) {
      const b = Buffer.from(base);
      const k = 1 + (t % 3);
      let body: Buffer = b;
      for (let j = 0; j < k; j++) {
        const at = Math.floor(Math.random() * body.length);
        const c = junk[Math.floor(Math.random() * junk.length)] as number;
        const op = Math.floor(Math.random() * 3);
        if (op === 0) body[at] = c;
        else if (op === 1) body = Buffer.concat([body.subarray(0, at), Buffer.from([c]), body.subarray(at)]);
        else body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
      }
      if (same(body)) taken++;
    }
    assert.ok(taken > 0);
  });

  it('writes the handler\'s answer as the generic codec does', async () => {
    const k = await kit({ limits: true });
    try {
      await activeStream(k, 'enc', 2);
      const batch = Array.from({ length: 600 }, (_, i) => ({ PartitionKey: `p${i}`, Data: new Uint8Array(Buffer.from('x')) }));
      // What the codec sends: the rendered bytes, else the generic writer's text.
      const text = (o: PutRecordsOutput) => {
        const t = encodePutRecordsJson(o);
        return t === undefined ? JSON.stringify(writer(o)) : Buffer.from(t).toString('utf8');
      };
      // Past 1,000 records/s per shard the later calls are partly or wholly throttled (ErrorCode, ErrorMessage).
      let partly = 0;
      let rendered = 0;
      for (let i = 0; i < 5; i++) {
        const o = await k.call<PutRecordsOutput>('PutRecords', { StreamName: 'enc', Records: batch.slice(0, 300 + i * 50) });
        // Encoded first, while nothing has read Records (rendered from the runs when all were written).
        if (encodePutRecordsJson(o) !== undefined) rendered++;
        const t = text(o);
        assert.equal(t, JSON.stringify(writer(o)));
        assert.equal(encodePutRecordsJson(o), undefined);
        const failed = o.FailedRecordCount ?? 0;
        if (failed > 0 && failed < (o.Records?.length ?? 0)) partly++;
      }
      assert.ok(partly > 0 && rendered > 0, `partly ${partly}, rendered ${rendered}`);
      // Replaced Records are what the answer then holds.
      k.clock.advance(10_000);
      const o = await k.call<PutRecordsOutput>('PutRecords', { StreamName: 'enc', Records: batch.slice(0, 2) });
      o.Records = [{ ShardId: 'x', SequenceNumber: '1' }];
      assert.equal(encodePutRecordsJson(o), undefined);
      assert.equal(JSON.stringify(writer(o)), '{"Records":[{"SequenceNumber":"1","ShardId":"x"}],"FailedRecordCount":0,"EncryptionType":"NONE"}');
    } finally {
      await k.close();
    }
  });
});
