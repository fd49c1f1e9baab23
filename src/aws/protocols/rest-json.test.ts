import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// restJson1 clients that ship with the SDK (none of hanul's own services speaks restJson1 yet).
import { GetRoleCredentials$, GetRoleCredentialsCommand, SSOClient, UnauthorizedException } from '@aws-sdk/nested-clients/sso';
import { CreateToken$, CreateTokenCommand, SSOOIDCClient } from '@aws-sdk/nested-clients/sso-oidc';
import { CreateOAuth2Token$, CreateOAuth2TokenCommand, CreateOAuth2TokenWithIAM$, CreateOAuth2TokenWithIAMCommand, SigninClient } from '@aws-sdk/nested-clients/signin';
import { AwsError } from '../errors.js';
import type { ServiceDefinition } from '../service.js';
import type { DecodedRequest } from './codec.js';
import { restJsonCodec } from './rest-json.js';
import { loopbackClientConfig, rawRequest, serveWith } from './sdk-loopback.js';

const service = (name: string, operations: ServiceDefinition['operations']): ServiceDefinition => ({ name, signingNames: [name], protocol: 'rest-json', operations });

describe('rest-json codec against the real SDK', () => {
  it('SSO GetRoleCredentials: GET with query and header bindings, nested JSON out, errors', async () => {
    let seen: DecodedRequest | undefined;
    const svc = service('sso', {
      GetRoleCredentials: {
        schema: GetRoleCredentials$,
        handler: async (input: { accessToken: string }) => {
          if (input.accessToken === 'bad') throw new AwsError('UnauthorizedException', 401, 'Session token not found or invalid');
          return { roleCredentials: { accessKeyId: 'ASIA', secretAccessKey: 's', sessionToken: 't', expiration: 1795885200000 } };
        },
      },
    });
    const client = new SSOClient(loopbackClientConfig(serveWith(restJsonCodec, svc, (d) => (seen = d))));
    const out = await client.send(new GetRoleCredentialsCommand({ roleName: 'r/1 ü', accountId: '000000000000', accessToken: 'tok' }));
    assert.deepEqual(seen, { operation: 'GetRoleCredentials', input: { roleName: 'r/1 ü', accountId: '000000000000', accessToken: 'tok' } });
    assert.deepEqual(out.roleCredentials, { accessKeyId: 'ASIA', secretAccessKey: 's', sessionToken: 't', expiration: 1795885200000 });
    const e = await client.send(new GetRoleCredentialsCommand({ roleName: 'r', accountId: '0', accessToken: 'bad' })).catch((x: unknown) => x);
    assert.ok(e instanceof UnauthorizedException, String(e));
    assert.equal(e.message, 'Session token not found or invalid');
    assert.equal(e.$metadata.httpStatusCode, 401);
  });

  it('SSO-OIDC CreateToken: POST JSON body with lists', async () => {
    let seen: DecodedRequest | undefined;
    const svc = service('sso-oauth', {
      CreateToken: { schema: CreateToken$, handler: async () => ({ accessToken: 'at', tokenType: 'Bearer', expiresIn: 3600 }) },
    });
    const client = new SSOOIDCClient(loopbackClientConfig(serveWith(restJsonCodec, svc, (d) => (seen = d))));
    const out = await client.send(new CreateTokenCommand({ clientId: 'c', clientSecret: 's', grantType: 'refresh_token', scope: ['a', 'b'] }));
    assert.deepEqual(seen?.input, { clientId: 'c', clientSecret: 's', grantType: 'refresh_token', scope: ['a', 'b'] });
    assert.equal(out.accessToken, 'at');
    assert.equal(out.expiresIn, 3600);
  });

  it('Signin: structure payloads with jsonName, and a route told apart by a literal query', async () => {
    const seen: DecodedRequest[] = [];
    const svc = service('signin', {
      CreateOAuth2Token: {
        schema: CreateOAuth2Token$,
        handler: async () => ({ tokenOutput: { accessToken: { accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' }, tokenType: 'aws_sigv4', expiresIn: 900, refreshToken: 'r', idToken: 'i' } }),
      },
      CreateOAuth2TokenWithIAM: { schema: CreateOAuth2TokenWithIAM$, handler: async () => ({ accessToken: 'x', tokenType: 'Bearer', expiresIn: 60 }) },
    });
    const client = new SigninClient(loopbackClientConfig(serveWith(restJsonCodec, svc, (d) => seen.push(d))));
    const out = await client.send(new CreateOAuth2TokenCommand({ tokenInput: { clientId: 'c', grantType: 'authorization_code', code: 'k', redirectUri: 'http://x', codeVerifier: 'v' } }));
    assert.deepEqual(seen[0], { operation: 'CreateOAuth2Token', input: { tokenInput: { clientId: 'c', grantType: 'authorization_code', code: 'k', redirectUri: 'http://x', codeVerifier: 'v' } } });
    assert.deepEqual(out.tokenOutput?.accessToken, { accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' });
    assert.equal(out.tokenOutput?.expiresIn, 900);
    const iam = await client.send(new CreateOAuth2TokenWithIAMCommand({ grantType: 'g', resource: 'r' }));
    assert.equal(seen[1]?.operation, 'CreateOAuth2TokenWithIAM');
    assert.deepEqual(seen[1]?.input, { grantType: 'g', resource: 'r' });
    assert.equal(iam.accessToken, 'x');
  });
});

describe('rest-json codec: requests no SDK would send', () => {
  const svc = service('sso', { GetRoleCredentials: { schema: GetRoleCredentials$, handler: async () => ({}) } });
  const oidc = service('oidc', { CreateToken: { schema: CreateToken$, handler: async () => ({}), maxBodyBytes: 32 } });

  it('no route → UnknownOperationException; wrong method does not match', async () => {
    assert.equal(restJsonCodec.peekOperation(rawRequest({ method: 'GET', path: '/federation/credentials' }), svc), 'GetRoleCredentials');
    assert.equal(restJsonCodec.peekOperation(rawRequest({ method: 'POST', path: '/federation/credentials' }), svc), undefined);
    await assert.rejects(restJsonCodec.decode(rawRequest({ method: 'GET', path: '/nope' }), svc), (e: unknown) => e instanceof AwsError && e.code === 'UnknownOperationException');
  });

  it('bad JSON, wrong types, over-size bodies', async () => {
    const post = (body: string) => restJsonCodec.decode(rawRequest({ method: 'POST', path: '/token', body }), oidc);
    await assert.rejects(post('{"clientId":'), (e: unknown) => e instanceof AwsError && e.code === 'SerializationException');
    await assert.rejects(post('{"scope":"a"}'), (e: unknown) => e instanceof AwsError && /Expected a list but found a string at 'scope'/.test(e.message));
    await assert.rejects(post(`{"clientId":"${'x'.repeat(64)}"}`), (e: unknown) => e instanceof AwsError && e.status === 413);
  });

  it('error shape: x-amzn-ErrorType and a JSON message', () => {
    const res = restJsonCodec.encodeError(new AwsError('ResourceNotFoundException', 404, 'no such thing', { ResourceName: 'x' }), svc, { requestId: 'r' });
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-amzn-errortype'], 'ResourceNotFoundException');
    assert.deepEqual(JSON.parse(res.body as string), { message: 'no such thing', ResourceName: 'x' });
  });
});
