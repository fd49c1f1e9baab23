import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Encoder } from 'cbor-x';
import { DescribeStream$, GetShardIterator$, PutRecord$, PutRecords$ } from '@aws-sdk/client-kinesis';
import { PutItem$ } from '@aws-sdk/client-dynamodb';
import { AssumeRole$ } from '@aws-sdk/client-sts';
import { CreateUser$ } from '@aws-sdk/client-iam';
import { CreateToken$ } from '@aws-sdk/nested-clients/sso-oidc';
import { AwsError } from '../errors.js';
import type { ServiceDefinition } from '../service.js';
import { awsJsonCodec, CBOR_CONTENT_TYPE } from './aws-json.js';
import type { ProtocolCodec } from './codec.js';
import { queryCodec } from './query.js';
import { restJsonCodec } from './rest-json.js';
import { rawRequest } from './sdk-loopback.js';
import { decodeBase64 } from './wire.js';

/** Deterministic PRNG (xorshift32), so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
    bytes(n: number): Buffer {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
}
type Rng = ReturnType<typeof rng>;

function mutate(r: Rng, input: Buffer): Buffer {
  const b = Buffer.from(input);
  const out: number[] = [...b];
  for (let n = 1 + r.int(4); n > 0; n--) {
    const i = r.int(out.length + 1);
    switch (r.int(5)) {
      case 0:
        out[i] = r.int(256);
        break;
      case 1:
        out.splice(i, 0, r.pick([0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x2c, 0x3a, 0x26, 0x3d, 0x2e, 0x25, 0x31, 0xff, 0xc1, 0x1b, 0xbf]));
        break;
      case 2:
        out.splice(i, 1 + r.int(3));
        break;
      case 3:
        out.length = Math.min(out.length, i);
        break;
      default:
        out.splice(i, 0, ...out.slice(r.int(out.length), r.int(out.length)));
    }
  }
  return Buffer.from(out);
}

/** Decode must succeed or reject with an AwsError: never another error, never hang. */
async function mustBehave(codec: ProtocolCodec, req: ReturnType<typeof rawRequest>, svc: ServiceDefinition, label: string): Promise<'ok' | 'rejected'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`decode hung on ${label}`)), 2000);
  });
  try {
    await Promise.race([codec.decode(req, svc), deadline]);
    return 'ok';
  } catch (e) {
    if (!(e instanceof AwsError)) assert.fail(`${label}: threw ${String(e)}`);
    assert.ok(e.status >= 400 && e.status < 500, `${label}: status ${e.status}`);
    return 'rejected';
  } finally {
    clearTimeout(timer);
  }
}

const noop = async () => ({});

describe('fuzz', () => {
  it('aws-json: random and mutated JSON/CBOR bodies', async () => {
    const svc: ServiceDefinition = {
      name: 'kinesis',
      signingNames: ['kinesis'],
      protocol: 'json-1.1',
      targetPrefix: 'Kinesis_20131202',
      operations: {
        PutRecord: { schema: PutRecord$, handler: noop },
        PutRecords: { schema: PutRecords$, handler: noop },
        DescribeStream: { schema: DescribeStream$, handler: noop },
        GetShardIterator: { schema: GetShardIterator$, handler: noop },
        PutItem: { schema: PutItem$, handler: noop },
      },
    };
    const ops = ['PutRecord', 'PutRecords', 'DescribeStream', 'GetShardIterator', 'PutItem'];
    const enc = new Encoder({ useRecords: false, tagUint8Array: false });
    const seeds = [
      { op: 'PutRecord', v: { StreamName: 's', PartitionKey: 'p', Data: 'AAEC', ExplicitHashKey: '1' } },
      { op: 'PutRecords', v: { StreamName: 's', Records: [{ Data: 'AAEC', PartitionKey: 'a' }, { Data: '', PartitionKey: 'b' }] } },
      { op: 'GetShardIterator', v: { StreamName: 's', ShardId: 'x', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: 1795885200.5 } },
      { op: 'PutItem', v: { TableName: 't', Item: { a: { M: { b: { L: [{ S: 'x' }, { B: 'AA==' }] } } } } } },
    ];
    const r = rng(0xc0dec);
    const counts = { ok: 0, rejected: 0 };
    for (let i = 0; i < 3000; i++) {
      const cbor = i % 3 === 0;
      const seed = r.pick(seeds);
      let body: Buffer;
      const mode = r.int(3);
      if (mode === 0) body = r.bytes(r.int(64));
      else if (cbor) body = mutate(r, enc.encode(seed.v.Data !== undefined ? { ...seed.v, Data: Buffer.from([0, 1, 2]) } : seed.v));
      else body = mutate(r, Buffer.from(JSON.stringify(seed.v)));
      const op = mode === 0 ? r.pick(ops) : seed.op;
      const headers = { 'x-amz-target': `Kinesis_20131202.${op}`, 'content-type': cbor ? CBOR_CONTENT_TYPE : 'application/x-amz-json-1.1' };
      counts[await mustBehave(awsJsonCodec, rawRequest({ headers, body }), svc, `${op} ${body.toString('hex')}`)]++;
    }
    assert.ok(counts.ok > 100 && counts.rejected > 100, JSON.stringify(counts));
  });

  it('aws-json: a cyclic CBOR value (shared-reference tags) against a recursive shape', async () => {
    const svc: ServiceDefinition = { name: 'ddb', signingNames: [], protocol: 'json-1.0', targetPrefix: 'DynamoDB_20120810', operations: { PutItem: { schema: PutItem$, handler: noop } } };
    const m: Record<string, unknown> = {};
    const attr = { M: m };
    m['self'] = attr;
    const body = new Encoder({ structuredClone: true, useRecords: false }).encode({ TableName: 't', Item: { a: attr } });
    const headers = { 'x-amz-target': 'DynamoDB_20120810.PutItem', 'content-type': CBOR_CONTENT_TYPE };
    assert.equal(await mustBehave(awsJsonCodec, rawRequest({ headers, body }), svc, 'cycle'), 'rejected');
  });

  it('query: random and mutated form bodies', async () => {
    const svc: ServiceDefinition = {
      name: 'iam',
      signingNames: ['iam'],
      protocol: 'query',
      operations: { CreateUser: { schema: CreateUser$, handler: noop }, AssumeRole: { schema: AssumeRole$, handler: noop }, PutItem: { schema: PutItem$, handler: noop } },
    };
    const seeds = [
      'Action=CreateUser&Version=2010-05-08&UserName=u&Tags.member.1.Key=a&Tags.member.1.Value=b&Tags.member.2.Key=c',
      'Action=AssumeRole&RoleArn=arn&RoleSessionName=s&DurationSeconds=900&PolicyArns.member.1.arn=x&TransitiveTagKeys.member.1=k',
      'Action=PutItem&TableName=t&Item.entry.1.key=a&Item.entry.1.value.M.entry.1.key=b&Item.entry.1.value.M.entry.1.value.B=AA%3D%3D',
    ];
    const r = rng(0x9e3779b9);
    const counts = { ok: 0, rejected: 0 };
    for (let i = 0; i < 3000; i++) {
      const body = r.int(4) === 0 ? r.bytes(r.int(80)) : mutate(r, Buffer.from(r.pick(seeds)));
      counts[await mustBehave(queryCodec, rawRequest({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }), svc, body.toString('hex'))]++;
    }
    assert.ok(counts.ok > 100 && counts.rejected > 100, JSON.stringify(counts));
  });

  it('rest-json: random paths, methods and bodies', async () => {
    const svc: ServiceDefinition = { name: 'oidc', signingNames: [], protocol: 'rest-json', operations: { CreateToken: { schema: CreateToken$, handler: noop } } };
    const r = rng(7);
    const counts = { ok: 0, rejected: 0 };
    for (let i = 0; i < 2000; i++) {
      const body = r.int(3) === 0 ? r.bytes(r.int(64)) : mutate(r, Buffer.from('{"clientId":"c","clientSecret":"s","grantType":"g","scope":["a"]}'));
      const path = r.pick(['/token', '/token/', '/%zz', '/tok%65n', '//token', '/token/x']);
      const method = r.pick(['POST', 'POST', 'GET', 'PUT']);
      counts[await mustBehave(restJsonCodec, rawRequest({ method, path, body }), svc, `${method} ${path} ${body.toString('hex')}`)]++;
    }
    assert.ok(counts.ok > 50 && counts.rejected > 50, JSON.stringify(counts));
  });

  it('strict base64: the native fast path agrees with a character-by-character check', () => {
    const r = rng(42);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/====-_ \n\u00e9.';
    const strict = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=|[A-Za-z0-9+/][AQgw]==)?$/;
    for (let i = 0; i < 20000; i++) {
      let s = '';
      for (let n = r.int(13); n > 0; n--) s += alphabet[r.int(alphabet.length)];
      if (i % 2 === 0) s = Buffer.from(r.bytes(r.int(10))).toString('base64');
      if (i % 4 === 0 && s.length) s = s.slice(0, r.int(s.length)) + alphabet[r.int(alphabet.length)] + s.slice(r.int(s.length));
      const got = decodeBase64(s);
      assert.equal(Buffer.isBuffer(got), strict.test(s), JSON.stringify(s));
      if (Buffer.isBuffer(got)) assert.equal(got.toString('base64'), s);
    }
  });
});
