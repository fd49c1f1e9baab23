import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssumeRole$, AssumeRoleCommand, GetCallerIdentity$, GetCallerIdentityCommand, MalformedPolicyDocumentException, STSClient } from '@aws-sdk/client-sts';
import {
  CreateUser$,
  CreateUserCommand,
  EntityAlreadyExistsException,
  GetAccountSummary$,
  GetAccountSummaryCommand,
  IAMClient,
  ListUsers$,
  ListUsersCommand,
  DeleteUser$,
  DeleteUserCommand,
} from '@aws-sdk/client-iam';
import { PutItem$ } from '@aws-sdk/client-dynamodb';
import { AwsError } from '../errors.js';
import type { ServiceDefinition } from '../service.js';
import type { DecodedRequest } from './codec.js';
import { queryCodec } from './query.js';
import { loopbackClientConfig, rawRequest, responseBytes, serveWith } from './sdk-loopback.js';

const T0 = new Date('2026-11-28T17:00:00.000Z');
const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

function sts(handlers: Record<string, (input: any) => Promise<unknown>> = {}): ServiceDefinition {
  return {
    name: 'sts',
    signingNames: ['sts'],
    protocol: 'query',
    knownOperations: ['AssumeRole', 'GetCallerIdentity', 'GetSessionToken'],
    operations: {
      AssumeRole: { schema: AssumeRole$, handler: handlers['AssumeRole'] ?? (async () => ({})) },
      GetCallerIdentity: { schema: GetCallerIdentity$, handler: handlers['GetCallerIdentity'] ?? (async () => ({})), maxBodyBytes: 64 },
    },
  };
}

function iam(handlers: Record<string, (input: any) => Promise<unknown>> = {}): ServiceDefinition {
  const op = (schema: unknown, name: string) => ({ schema, handler: handlers[name] ?? (async () => ({})) });
  return {
    name: 'iam',
    signingNames: ['iam'],
    protocol: 'query',
    operations: {
      CreateUser: op(CreateUser$, 'CreateUser'),
      ListUsers: op(ListUsers$, 'ListUsers'),
      DeleteUser: op(DeleteUser$, 'DeleteUser'),
      GetAccountSummary: op(GetAccountSummary$, 'GetAccountSummary'),
      PutItem: op(PutItem$, 'PutItem'),
    },
  };
}

async function decodeError(p: Promise<unknown>): Promise<AwsError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AwsError, `expected AwsError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('query codec against the real SDK', () => {
  it('STS AssumeRole: nested lists in, credentials with a timestamp out', async () => {
    let seen: DecodedRequest | undefined;
    const svc = sts({
      AssumeRole: async (input: { RoleSessionName: string }) => ({
        Credentials: { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 's<&>"\'', SessionToken: 'tok', Expiration: T0 },
        AssumedRoleUser: { AssumedRoleId: `AROAEXAMPLE:${input.RoleSessionName}`, Arn: 'arn:aws:sts::000000000000:assumed-role/r/s' },
        PackedPolicySize: 6,
      }),
    });
    const client = new STSClient(loopbackClientConfig(serveWith(queryCodec, svc, (d) => (seen = d))));
    const out = await client.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/r',
        RoleSessionName: 's',
        DurationSeconds: 900,
        PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/A' }, { arn: 'arn:aws:iam::aws:policy/B' }],
        Tags: [{ Key: 'k1', Value: 'v 1&=' }, { Key: 'k2', Value: '' }],
        TransitiveTagKeys: ['k1'],
        Policy: '{"Version":"2012-10-17"}',
      }),
    );
    assert.deepEqual(seen, {
      operation: 'AssumeRole',
      input: {
        RoleArn: 'arn:aws:iam::000000000000:role/r',
        RoleSessionName: 's',
        PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/A' }, { arn: 'arn:aws:iam::aws:policy/B' }],
        Policy: '{"Version":"2012-10-17"}',
        DurationSeconds: 900,
        Tags: [{ Key: 'k1', Value: 'v 1&=' }, { Key: 'k2', Value: '' }],
        TransitiveTagKeys: ['k1'],
      },
    });
    assert.equal(out.Credentials?.SecretAccessKey, 's<&>"\'');
    assert.equal(out.Credentials?.Expiration?.toISOString(), T0.toISOString());
    assert.equal(out.AssumedRoleUser?.AssumedRoleId, 'AROAEXAMPLE:s');
    assert.equal(out.PackedPolicySize, 6);
    assert.equal(out.$metadata.requestId, 'req-0001');
  });

  it('STS GetCallerIdentity (no input members) and a modelled error', async () => {
    const svc = sts({
      GetCallerIdentity: async () => ({ UserId: 'AIDAEXAMPLE', Account: '000000000000', Arn: 'arn:aws:iam::000000000000:user/u' }),
      AssumeRole: async () => {
        throw new AwsError('MalformedPolicyDocument', 400, 'The policy is not in the valid JSON format.');
      },
    });
    const client = new STSClient(loopbackClientConfig(serveWith(queryCodec, svc)));
    const who = await client.send(new GetCallerIdentityCommand({}));
    assert.deepEqual({ u: who.UserId, a: who.Account, r: who.Arn }, { u: 'AIDAEXAMPLE', a: '000000000000', r: 'arn:aws:iam::000000000000:user/u' });
    const e = await client.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/r', RoleSessionName: 's' })).catch((x: unknown) => x);
    assert.ok(e instanceof MalformedPolicyDocumentException, String(e));
    assert.equal(e.message, 'The policy is not in the valid JSON format.');
    assert.equal(e.$metadata.httpStatusCode, 400);
    assert.equal(e.$fault, 'client');
  });

  it('IAM CreateUser with tags; ListUsers with a list of users (timestamps, tags); errors', async () => {
    let seen: DecodedRequest | undefined;
    const user = (n: string) => ({ Path: '/', UserName: n, UserId: `AIDA${n}`, Arn: `arn:aws:iam::000000000000:user/${n}`, CreateDate: T0, Tags: [{ Key: 'team', Value: 'a' }] });
    const svc = iam({
      CreateUser: async (input: { UserName: string }) => {
        if (input.UserName === 'taken') throw new AwsError('EntityAlreadyExists', 409, 'User with name taken already exists.');
        return { User: user(input.UserName) };
      },
      ListUsers: async () => ({ Users: [user('a'), user('b')], IsTruncated: true, Marker: 'm' }),
    });
    const client = new IAMClient(loopbackClientConfig(serveWith(queryCodec, svc, (d) => (seen = d))));
    const created = await client.send(new CreateUserCommand({ UserName: 'alice', Path: '/eng/', Tags: [{ Key: 'team', Value: 'a' }, { Key: 'cost', Value: '1' }] }));
    assert.deepEqual(seen?.input, { UserName: 'alice', Path: '/eng/', Tags: [{ Key: 'team', Value: 'a' }, { Key: 'cost', Value: '1' }] });
    assert.equal(created.User?.UserName, 'alice');
    assert.equal(created.User?.CreateDate?.getTime(), T0.getTime());
    assert.deepEqual(created.User?.Tags, [{ Key: 'team', Value: 'a' }]);
    const list = await client.send(new ListUsersCommand({ MaxItems: 2 }));
    assert.deepEqual(seen?.input, { MaxItems: 2 });
    assert.deepEqual(list.Users?.map((u) => u.UserName), ['a', 'b']);
    assert.equal(list.IsTruncated, true);
    assert.equal(list.Marker, 'm');
    const e = await client.send(new CreateUserCommand({ UserName: 'taken' })).catch((x: unknown) => x);
    assert.ok(e instanceof EntityAlreadyExistsException, String(e));
    assert.equal(e.message, 'User with name taken already exists.');
    assert.equal(e.$metadata.httpStatusCode, 409);
    assert.equal((e as unknown as { Error: { Code: string } }).Error.Code, 'EntityAlreadyExists');
  });

  it('IAM: an empty list, a map output, a unit output', async () => {
    const svc = iam({
      ListUsers: async () => ({ Users: [], IsTruncated: false }),
      GetAccountSummary: async () => ({ SummaryMap: { Users: 2, Groups: 0 } }),
    });
    const serve = serveWith(queryCodec, svc);
    const bodies: string[] = [];
    const client = new IAMClient(loopbackClientConfig(async (req, b) => {
      const res = await serve(req, b);
      bodies.push((await responseBytes(res)).toString());
      return res;
    }));
    const list = await client.send(new ListUsersCommand({}));
    assert.deepEqual(list.Users, []);
    const sum = await client.send(new GetAccountSummaryCommand({}));
    assert.deepEqual(sum.SummaryMap, { Users: 2, Groups: 0 });
    assert.match(bodies[1]!, /<SummaryMap><entry><key>Users<\/key><value>2<\/value><\/entry>/);
    const del = await client.send(new DeleteUserCommand({ UserName: 'a' }));
    assert.equal(del.$metadata.httpStatusCode, 200);
    assert.equal(bodies[2], '<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>req-0001</RequestId></ResponseMetadata></DeleteUserResponse>');
  });
});

describe('query codec: requests no SDK would send', () => {
  const svc = iam();
  const post = (body: string, query = '') => queryCodec.decode(rawRequest({ headers: form, body, query }), svc);

  it('Action from the URL (peek) or the body; GET query strings work', async () => {
    assert.equal(queryCodec.peekOperation(rawRequest({ query: 'Action=ListUsers&Version=2010-05-08' }), svc), 'ListUsers');
    assert.equal(queryCodec.peekOperation(rawRequest({ body: 'Action=ListUsers' }), svc), undefined);
    const g = await queryCodec.decode(rawRequest({ method: 'GET', query: 'Action=ListUsers&MaxItems=5&PathPrefix=%2Fa%2F' }), svc);
    assert.deepEqual(g, { operation: 'ListUsers', input: { MaxItems: 5, PathPrefix: '/a/' } });
    const p = await post('MaxItems=7', 'Action=ListUsers');
    assert.deepEqual(p.input, { MaxItems: 7 });
  });

  it('unknown or missing Action → InvalidAction 400', async () => {
    for (const body of ['Action=Nope&Version=2010-05-08', 'Version=2010-05-08', '', 'Action=constructor', 'Action=__proto__']) {
      const err = await decodeError(post(body));
      assert.equal(err.code, 'InvalidAction', body);
      assert.equal(err.status, 400);
    }
  });

  it('sparse and out-of-order list indices, unknown keys ignored, maps and nested maps', async () => {
    const d = await post('Action=CreateUser&UserName=u&Tags.member.3.Key=c&Tags.member.1.Key=a&Tags.member.1.Value=x&Tags.member.x.Key=no&Bogus.a=1');
    assert.deepEqual(d.input, { UserName: 'u', Tags: [{ Key: 'a', Value: 'x' }, { Key: 'c' }] });
    const m = await post('Action=PutItem&TableName=t&Item.entry.2.key=b&Item.entry.2.value.N=1&Item.entry.1.key=a&Item.entry.1.value.L.member.1.S=x&Item.entry.3.key=__proto__&Item.entry.3.value.S=p');
    const item = (m.input as { Item: Record<string, unknown> }).Item;
    assert.deepEqual(Object.keys(item), ['a', 'b', '__proto__']);
    assert.deepEqual(item['a'], { L: [{ S: 'x' }] });
    assert.equal(Object.getPrototypeOf(item), Object.prototype);
  });

  it('wrong scalar types → InvalidParameterValue naming the parameter', async () => {
    const err = await decodeError(post('Action=ListUsers&MaxItems=ten'));
    assert.equal(err.code, 'InvalidParameterValue');
    assert.match(err.message, /Value 'ten' is not a number at 'MaxItems'/);
    const err2 = await decodeError(post('Action=PutItem&Item.entry.1.key=a&Item.entry.1.value.B=%%%'));
    assert.match(err2.message, /base64.*at 'Item\.entry\.1\.value\.B'/);
  });

  it('refuses DTDs and entities, raw or percent-encoded', async () => {
    for (const body of ['<!DOCTYPE x [<!ENTITY a "b">]>', 'Action=CreateUser&UserName=%3C!DOCTYPE%20x%3E', 'Action=CreateUser&UserName=%3C!ENTITY+a+%22b%22%3E']) {
      const err = await decodeError(post(body));
      assert.equal(err.code, 'MalformedQueryString', body);
    }
  });

  it('body limit: the operation limit applies once the Action is known', async () => {
    const s = sts();
    const err = await decodeError(queryCodec.decode(rawRequest({ headers: form, body: `Action=GetCallerIdentity&Pad=${'x'.repeat(100)}` }), s));
    assert.equal(err.status, 413);
    const ok = await queryCodec.decode(rawRequest({ headers: form, body: 'Action=GetCallerIdentity' }), s);
    assert.equal(ok.operation, 'GetCallerIdentity');
  });

  it('error shape: ErrorResponse with Type, Code, Message, fields and RequestId', () => {
    const res = queryCodec.encodeError(new AwsError('NoSuchEntity', 404, 'The user with name <x> cannot be found.', { Resource: 'x' }), svc, { requestId: 'rid' });
    assert.equal(res.status, 404);
    assert.equal(res.headers['content-type'], 'text/xml');
    assert.equal(
      res.body,
      '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name &lt;x&gt; cannot be found.</Message><Resource>x</Resource></Error><RequestId>rid</RequestId></ErrorResponse>',
    );
    const r500 = queryCodec.encodeError(new AwsError('ServiceFailure', 500, 'oops'), sts(), { requestId: 'rid' });
    assert.match(r500.body as string, /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Receiver<\/Type>/);
  });

  it('timestamps out as ISO 8601 with milliseconds', () => {
    const res = queryCodec.encode({ Users: [{ UserName: 'a', CreateDate: T0 }], IsTruncated: false }, 'ListUsers', svc, { requestId: 'r' });
    assert.match(res.body as string, /<ListUsersResult><Users><member><UserName>a<\/UserName><CreateDate>2026-11-28T17:00:00\.000Z<\/CreateDate><\/member><\/Users><IsTruncated>false<\/IsTruncated><\/ListUsersResult>/);
  });
});
