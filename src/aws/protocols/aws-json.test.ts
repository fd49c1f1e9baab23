import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { Decoder, Encoder, Tag } from 'cbor-x';
import {
  DescribeStream$,
  GetRecords$,
  GetShardIterator$,
  KinesisClient,
  ListStreams$,
  PutRecord$,
  PutRecords$,
  PutRecordCommand,
  GetRecordsCommand,
  DescribeStreamCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { Encrypt$, EncryptCommand, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import { DynamoDBClient, PutItem$, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { AwsError, commonError } from '../errors.js';
import type { ServiceDefinition } from '../service.js';
import { awsJsonCodec, CBOR_CONTENT_TYPE } from './aws-json.js';
import type { DecodedRequest } from './codec.js';
import { loopbackClientConfig, rawRequest, responseBytes, serveWith } from './sdk-loopback.js';

const noop = async () => ({});
const T0 = new Date('2026-11-28T17:00:00.123Z');

function kinesis(handlers: Partial<Record<string, (input: any) => Promise<unknown>>> = {}): ServiceDefinition {
  const op = (schema: unknown, name: string, maxBodyBytes?: number) => ({
    schema,
    handler: handlers[name] ?? noop,
    ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
  });
  return {
    name: 'kinesis',
    signingNames: ['kinesis'],
    protocol: 'json-1.1',
    targetPrefix: 'Kinesis_20131202',
    knownOperations: ['PutRecord', 'PutRecords', 'GetRecords', 'DescribeStream', 'GetShardIterator', 'ListStreams', 'MergeShards'],
    operations: {
      PutRecord: op(PutRecord$, 'PutRecord', 2048),
      PutRecords: op(PutRecords$, 'PutRecords'),
      GetRecords: op(GetRecords$, 'GetRecords'),
      DescribeStream: op(DescribeStream$, 'DescribeStream'),
      GetShardIterator: op(GetShardIterator$, 'GetShardIterator'),
      ListStreams: op(ListStreams$, 'ListStreams'),
    },
  };
}

const jsonHeaders = (op: string) => ({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Kinesis_20131202.${op}` });

async function decodeError(p: Promise<unknown>): Promise<AwsError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AwsError, `expected AwsError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('aws-json codec against the real SDK', () => {
  it('decodes a Kinesis PutRecord the SDK sent and the SDK parses the answer', async () => {
    let seen: DecodedRequest | undefined;
    const svc = kinesis({ PutRecord: async () => ({ ShardId: 'shardId-000000000000', SequenceNumber: '4959', EncryptionType: 'NONE' }) });
    const client = new KinesisClient(loopbackClientConfig(serveWith(awsJsonCodec, svc, (d) => (seen = d))));
    const out = await client.send(new PutRecordCommand({ StreamName: 's1', PartitionKey: 'pk', Data: new Uint8Array([0, 1, 2, 255]) }));
    assert.equal(seen?.operation, 'PutRecord');
    assert.deepEqual(seen?.input, { StreamName: 's1', PartitionKey: 'pk', Data: Buffer.from([0, 1, 2, 255]) });
    assert.ok((seen?.input as { Data: unknown }).Data instanceof Uint8Array);
    assert.equal(out.ShardId, 'shardId-000000000000');
    assert.equal(out.SequenceNumber, '4959');
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.$metadata.requestId, 'req-0001');
  });

  it('GetRecords: blobs and timestamps reach the SDK as Uint8Array and Date (ms kept)', async () => {
    const svc = kinesis({
      GetRecords: async () => ({
        Records: [
          { SequenceNumber: '1', Data: Buffer.from('hello'), PartitionKey: 'a', ApproximateArrivalTimestamp: T0 },
          { SequenceNumber: '2', Data: new Uint8Array(0), PartitionKey: 'b', ApproximateArrivalTimestamp: T0, Internal: 'x' },
        ],
        NextShardIterator: 'it-2',
        MillisBehindLatest: 0,
        ChildShards: undefined,
      }),
    });
    const raw: Buffer[] = [];
    const serve = serveWith(awsJsonCodec, svc);
    const client = new KinesisClient(loopbackClientConfig(async (req, b) => {
      const res = await serve(req, b);
      raw.push(await responseBytes(res));
      return res;
    }));
    const out = await client.send(new GetRecordsCommand({ ShardIterator: 'it-1' }));
    assert.equal(out.Records?.length, 2);
    assert.equal(Buffer.from(out.Records?.[0]?.Data ?? []).toString(), 'hello');
    assert.equal(out.Records?.[0]?.ApproximateArrivalTimestamp?.toISOString(), T0.toISOString());
    assert.equal(out.MillisBehindLatest, 0);
    const wire = JSON.parse(raw[0]!.toString());
    assert.equal(wire.Records[0].ApproximateArrivalTimestamp, 1795885200.123);
    assert.equal(wire.Records[0].Data, 'aGVsbG8=');
    assert.equal('Internal' in wire.Records[1], false, 'unmodelled members never leak');
    assert.equal('ChildShards' in wire, false);
  });

  it('DescribeStream: nested lists and structures both ways', async () => {
    const desc = {
      StreamName: 's1',
      StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/s1',
      StreamStatus: 'ACTIVE',
      Shards: [
        { ShardId: 'shardId-0', HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' }, SequenceNumberRange: { StartingSequenceNumber: '1' } },
      ],
      HasMoreShards: false,
      RetentionPeriodHours: 24,
      StreamCreationTimestamp: T0,
      EnhancedMonitoring: [{ ShardLevelMetrics: ['IncomingBytes'] }],
    };
    const client = new KinesisClient(loopbackClientConfig(serveWith(awsJsonCodec, kinesis({ DescribeStream: async () => ({ StreamDescription: desc }) }))));
    const out = await client.send(new DescribeStreamCommand({ StreamName: 's1', Limit: 10 }));
    assert.deepEqual(out.StreamDescription, desc);
  });

  it('errors: the SDK surfaces name, message, status and the modelled class', async () => {
    const svc = kinesis({
      PutRecord: async () => {
        throw new AwsError('ResourceNotFoundException', 400, 'Stream s1 under account 000000000000 not found.');
      },
    });
    const client = new KinesisClient(loopbackClientConfig(serveWith(awsJsonCodec, svc)));
    const e = await client.send(new PutRecordCommand({ StreamName: 's1', PartitionKey: 'p', Data: new Uint8Array(1) })).catch((x: unknown) => x);
    assert.ok(e instanceof ResourceNotFoundException);
    assert.equal(e.name, 'ResourceNotFoundException');
    assert.equal(e.message, 'Stream s1 under account 000000000000 not found.');
    assert.equal(e.$metadata.httpStatusCode, 400);
    assert.equal(e.$metadata.requestId, 'req-0001');
  });

  it('errors the SDK does not model still carry their code, message and status', async () => {
    const svc = kinesis({
      DescribeStream: async () => {
        throw new AwsError('InternalFailure', 500, 'We encountered an internal error.');
      },
    });
    const client = new KinesisClient(loopbackClientConfig(serveWith(awsJsonCodec, svc)));
    const e = (await client.send(new DescribeStreamCommand({ StreamName: 's' })).catch((x: unknown) => x)) as {
      name: string;
      message: string;
      $fault: string;
      $metadata: { httpStatusCode: number };
    };
    assert.equal(e.name, 'InternalFailure');
    assert.equal(e.message, 'We encountered an internal error.');
    assert.equal(e.$fault, 'server');
    assert.equal(e.$metadata.httpStatusCode, 500);
  });

  it('KMS Encrypt: blob and map input, blob output', async () => {
    let seen: DecodedRequest | undefined;
    const kms: ServiceDefinition = {
      name: 'kms',
      signingNames: ['kms'],
      protocol: 'json-1.1',
      targetPrefix: 'TrentService',
      operations: {
        Encrypt: {
          schema: Encrypt$,
          handler: async (input: { Plaintext: Uint8Array; KeyId: string }) => {
            if (input.KeyId === 'missing') throw new AwsError('NotFoundException', 400, `Key '${input.KeyId}' does not exist`);
            return { CiphertextBlob: Buffer.concat([Buffer.from('ct:'), input.Plaintext]), KeyId: 'arn:aws:kms:us-east-1:000000000000:key/k', EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
          },
        },
      },
    };
    const client = new KMSClient(loopbackClientConfig(serveWith(awsJsonCodec, kms, (d) => (seen = d))));
    const out = await client.send(new EncryptCommand({ KeyId: 'alias/a', Plaintext: Buffer.from('secret'), EncryptionContext: { app: 'x' } }));
    assert.deepEqual(seen?.input, { KeyId: 'alias/a', Plaintext: Buffer.from('secret'), EncryptionContext: { app: 'x' } });
    assert.equal(Buffer.from(out.CiphertextBlob ?? []).toString(), 'ct:secret');
    assert.equal(out.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    const e = await client.send(new EncryptCommand({ KeyId: 'missing', Plaintext: Buffer.from('a') })).catch((x: unknown) => x);
    assert.ok(e instanceof NotFoundException);
    assert.equal(e.message, "Key 'missing' does not exist");
  });

  it('awsJson1_0 (DynamoDB): content type, and a recursive shape (AttributeValue)', async () => {
    let seen: DecodedRequest | undefined;
    const ddb: ServiceDefinition = {
      name: 'dynamodb',
      signingNames: ['dynamodb'],
      protocol: 'json-1.0',
      targetPrefix: 'DynamoDB_20120810',
      operations: { PutItem: { schema: PutItem$, handler: noop } },
    };
    const serve = serveWith(awsJsonCodec, ddb, (d) => (seen = d));
    let contentType: unknown;
    const client = new DynamoDBClient(loopbackClientConfig(async (req, b) => {
      const res = await serve(req, b);
      contentType = res.headers['content-type'];
      return res;
    }));
    const Item = { pk: { S: 'a' }, m: { M: { l: { L: [{ N: '1' }, { B: new Uint8Array([7]) }, { M: { deep: { BOOL: true } } }] } } } };
    await client.send(new PutItemCommand({ TableName: 't', Item }));
    assert.equal(contentType, 'application/x-amz-json-1.0');
    assert.deepEqual((seen?.input as { Item: unknown }).Item, { ...Item, m: { M: { l: { L: [{ N: '1' }, { B: Buffer.from([7]) }, { M: { deep: { BOOL: true } } }] } } } });
    // Runaway nesting is a SerializationException, not a crashed stack.
    let deep = '{"S":"x"}';
    for (let i = 0; i < 20000; i++) deep = `{"L":[${deep}]}`;
    const err = await decodeError(
      awsJsonCodec.decode(rawRequest({ headers: { 'x-amz-target': 'DynamoDB_20120810.PutItem' }, body: `{"TableName":"t","Item":{"a":${deep}}}` }), { ...ddb, operations: { PutItem: { schema: PutItem$, handler: noop } } }),
    );
    assert.equal(err.code, 'SerializationException');
  });
});

describe('aws-json codec: requests no SDK would send', () => {
  const svc = kinesis();
  const decode = (op: string, body: string | Uint8Array, headers: Record<string, string> = jsonHeaders(op)) => awsJsonCodec.decode(rawRequest({ headers, body }), svc);

  it('operation from X-Amz-Target; missing, unknown or foreign prefix → UnknownOperationException', async () => {
    assert.equal(awsJsonCodec.peekOperation(rawRequest({ headers: jsonHeaders('PutRecord') }), svc), 'PutRecord');
    for (const target of [undefined, 'Kinesis_20131202.Nope', 'TrentService.PutRecord', 'PutRecord', 'Kinesis_20131202.constructor']) {
      const err = await decodeError(awsJsonCodec.decode(rawRequest({ headers: target ? { 'x-amz-target': target } : {}, body: '{}' }), svc));
      assert.equal(err.code, 'UnknownOperationException', String(target));
      assert.equal(err.status, 400);
    }
  });

  it('a known but unimplemented operation decodes (the pipeline answers 501)', async () => {
    const d = await decode('MergeShards', '{"StreamName":"s"}');
    assert.deepEqual(d, { operation: 'MergeShards', input: { StreamName: 's' } });
  });

  it('empty body is {}; unknown members are ignored; nulls are absent', async () => {
    assert.deepEqual((await decode('ListStreams', '')).input, {});
    assert.deepEqual((await decode('ListStreams', '{"Limit":5,"Bogus":{"x":1},"ExclusiveStartStreamName":null}')).input, { Limit: 5 });
  });

  it('invalid JSON, non-objects and wrong types → SerializationException with a clear message', async () => {
    const cases: [string, string, RegExp][] = [
      ['PutRecord', '{"StreamName":', /not valid JSON/],
      ['PutRecord', '[1,2]', /JSON object/],
      ['PutRecord', '"x"', /JSON object/],
      ['PutRecord', 'null', /JSON object/],
      ['PutRecord', '{"StreamName":5}', /Expected a string but found a number at 'StreamName'/],
      ['PutRecord', '{"Data":"abc"}', /can not be converted to a Blob: Base64 encoded length is expected a multiple of 4/],
      ['PutRecord', '{"Data":"ab$="}', /Invalid Base64 character: '\$'/],
      ['PutRecord', '{"Data":"QR=="}', /Invalid last non-pad Base64 character/],
      ['PutRecord', '{"Data":"a-_b"}', /Invalid Base64 character: '-'/],
      ['PutRecord', '{"DryRun":"true"}', /Expected a boolean but found a string at 'DryRun'/],
      ['DescribeStream', '{"Limit":"10"}', /Expected a number but found a string at 'Limit'/],
      ['GetShardIterator', '{"Timestamp":"yesterday"}', /Expected a timestamp/],
      ['GetShardIterator', '{"Timestamp":true}', /Expected a timestamp/],
      ['ListStreams', '{"Limit":[1]}', /Expected a number but found a list at 'Limit'/],
      ['GetRecords', '{"ShardIterator":{"a":1}}', /Expected a string but found a structure or map at 'ShardIterator'/],
    ];
    for (const [op, body, re] of cases) {
      const err = await decodeError(decode(op, body));
      assert.equal(err.code, 'SerializationException', body);
      assert.equal(err.status, 400);
      assert.match(err.message, re, body);
    }
  });

  it('a large body (parsed from its bytes) decodes as a small one does, and fails the same way', async () => {
    const data = Buffer.alloc(1024, 9);
    const records = Array.from({ length: 100 }, (_, i) => ({ PartitionKey: `pk-${i}-é`, Data: data.toString('base64') }));
    const body = JSON.stringify({ StreamName: 's', Records: records, Bogus: { x: [1, 'a\n\u0000'] } });
    assert.ok(body.length > 128 * 1024);
    const d = await decode('PutRecords', body);
    assert.deepEqual(d.input, { StreamName: 's', Records: records.map((r) => ({ PartitionKey: r.PartitionKey, Data: data })) });
    const pad = 'x'.repeat(70_000);
    for (const [bad, re] of [
      [`{"StreamName":"${pad}",`, /not valid JSON/],
      [`{"StreamName":"${pad}\u0007"}`, /not valid JSON/],
      [`{"StreamName":"${pad}\n"}`, /not valid JSON/],
      [`["${pad}"]`, /JSON object/],
    ] as const) {
      const err = await decodeError(decode('PutRecords', bad));
      assert.equal(err.code, 'SerializationException');
      assert.match(err.message, re);
    }
  });

  it("map keys named '__proto__' stay data, both ways", async () => {
    const kms: ServiceDefinition = { name: 'kms', signingNames: ['kms'], protocol: 'json-1.1', targetPrefix: 'TrentService', operations: { Encrypt: { schema: Encrypt$, handler: noop } } };
    const d = await awsJsonCodec.decode(
      rawRequest({ headers: { 'x-amz-target': 'TrentService.Encrypt' }, body: '{"__proto__":{"polluted":1},"KeyId":"k","EncryptionContext":{"__proto__":"x","a":"b"}}' }),
      kms,
    );
    const input = d.input as { EncryptionContext: Record<string, string> };
    assert.deepEqual(Object.keys(input.EncryptionContext), ['__proto__', 'a']);
    assert.equal(Object.getPrototypeOf(input.EncryptionContext), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('timestamps: epoch seconds (fractional) and ISO 8601 → Date', async () => {
    const a = (await decode('GetShardIterator', '{"StreamName":"s","Timestamp":1795885200.123}')).input as { Timestamp: Date };
    assert.equal(a.Timestamp.toISOString(), T0.toISOString());
    const b = (await decode('GetShardIterator', '{"Timestamp":"2026-11-28T17:00:00.123Z"}')).input as { Timestamp: Date };
    assert.equal(b.Timestamp.getTime(), T0.getTime());
  });

  it('a body over maxBodyBytes → 413 RequestEntityTooLarge; a declared length is refused before reading', async () => {
    let reads = 0;
    const body = new Readable({
      read() {
        reads++;
        this.push(Buffer.alloc(1024, 0x20));
      },
    });
    const err = await decodeError(awsJsonCodec.decode(rawRequest({ headers: jsonHeaders('PutRecord'), body }), svc));
    assert.equal(err.status, 413);
    assert.equal(err.code, 'RequestEntityTooLarge');
    assert.ok(reads <= 4, `read ${reads} chunks`);
    assert.ok(body.destroyed, 'the stream is abandoned, not drained');

    let touched = false;
    const untouched = new Readable({
      read() {
        touched = true;
        this.push(null);
      },
    });
    const err2 = await decodeError(awsJsonCodec.decode(rawRequest({ headers: { ...jsonHeaders('PutRecord'), 'content-length': '999999' }, body: untouched }), svc));
    assert.equal(err2.status, 413);
    assert.equal(touched, false);
    const res = awsJsonCodec.encodeError(err2, svc, { requestId: 'r' });
    assert.equal(res.status, 413);
    assert.equal(JSON.parse(res.body as string).__type, 'RequestEntityTooLarge');
  });

  it('error shape: __type, message, fields, x-amzn-ErrorType, request id, namespaced __type when configured', () => {
    const res = awsJsonCodec.encodeError(new AwsError('LimitExceededException', 400, 'too many', { Limit: 5 }, { 'Retry-After': '1' }), svc, { requestId: 'r-1' });
    assert.equal(res.status, 400);
    assert.equal(res.headers['x-amzn-errortype'], 'LimitExceededException');
    assert.equal(res.headers['x-amzn-requestid'], 'r-1');
    assert.equal(res.headers['content-type'], 'application/x-amz-json-1.1');
    assert.equal(res.headers['retry-after'], '1');
    assert.deepEqual(JSON.parse(res.body as string), { __type: 'LimitExceededException', message: 'too many', Limit: 5 });
    const ns = awsJsonCodec.encodeError(commonError('ValidationException', 'bad'), { ...svc, errorNamespace: 'com.amazonaws.kinesis' }, { requestId: 'r' });
    assert.equal(JSON.parse(ns.body as string).__type, 'com.amazonaws.kinesis#ValidationException');
  });

  it('empty output is {}', async () => {
    const res = awsJsonCodec.encode(undefined, 'ListStreams', svc, { requestId: 'r' });
    assert.equal(res.body, '{}');
  });
});

describe('aws-json codec: CBOR 1.1', () => {
  const svc = kinesis();
  const enc = new Encoder({ useRecords: false, tagUint8Array: false });
  const dec = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);
  const cborHeaders = (op: string) => ({ 'content-type': CBOR_CONTENT_TYPE, 'x-amz-target': `Kinesis_20131202.${op}` });

  it('decodes byte strings as blobs and tag-1 epoch millis (as the Java SDK writes them) as Dates', async () => {
    const body = enc.encode({ StreamName: 's', PartitionKey: 'p', Data: Buffer.from([9, 8, 7]) });
    const d = await awsJsonCodec.decode(rawRequest({ headers: cborHeaders('PutRecord'), body }), svc);
    assert.deepEqual(d.input, { StreamName: 's', PartitionKey: 'p', Data: Buffer.from([9, 8, 7]) });
    const ts = enc.encode({ StreamName: 's', ShardId: 'x', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Tag(T0.getTime(), 1) });
    const t = (await awsJsonCodec.decode(rawRequest({ headers: cborHeaders('GetShardIterator'), body: ts }), svc)).input as { Timestamp: Date };
    assert.equal(t.Timestamp.toISOString(), T0.toISOString());
    const rfc = enc.encode({ Timestamp: new Tag(T0.getTime() / 1000, 1) });
    const r = (await awsJsonCodec.decode(rawRequest({ headers: cborHeaders('GetShardIterator'), body: rfc }), svc)).input as { Timestamp: Date };
    assert.equal(r.Timestamp.toISOString(), T0.toISOString());
  });

  it('answers in CBOR: bytes stay bytes, timestamps are tag 1 + integer millis', async () => {
    const out = { Records: [{ SequenceNumber: '1', Data: Buffer.from('hi'), PartitionKey: 'a', ApproximateArrivalTimestamp: T0 }], MillisBehindLatest: 6_000_000_000 };
    const res = awsJsonCodec.encode(out, 'GetRecords', svc, { requestId: 'r', requestContentType: CBOR_CONTENT_TYPE });
    assert.equal(res.headers['content-type'], CBOR_CONTENT_TYPE);
    const bytes = await responseBytes(res);
    const hex = bytes.toString('hex');
    assert.ok(hex.includes(`c11b${T0.getTime().toString(16).padStart(16, '0')}`), 'tag 1 + uint64 millis');
    assert.ok(hex.includes(`1b${(6_000_000_000).toString(16).padStart(16, '0')}`), 'a Long > 32 bits stays an integer');
    const back = dec.decode(bytes) as { Records: { Data: Uint8Array }[] };
    assert.deepEqual(Buffer.from(back.Records[0]!.Data), Buffer.from('hi'));
    const err = awsJsonCodec.encodeError(new AwsError('ResourceNotFoundException', 400, 'gone'), svc, { requestId: 'r', requestContentType: CBOR_CONTENT_TYPE });
    assert.deepEqual(dec.decode(await responseBytes(err)), { __type: 'ResourceNotFoundException', message: 'gone' });
  });

  it('invalid CBOR, non-maps and wrong types → SerializationException', async () => {
    for (const body of [Buffer.from('ff', 'hex'), Buffer.from('a1', 'hex'), enc.encode([1, 2]), enc.encode('x'), enc.encode({ Data: 5 }), Buffer.from('c11bffffffffffffffff', 'hex')]) {
      const err = await decodeError(awsJsonCodec.decode(rawRequest({ headers: cborHeaders('PutRecord'), body }), svc));
      assert.equal(err.code, 'SerializationException', body.toString('hex'));
    }
  });
});
