/**
 * Static website hosting: Put/Get/DeleteBucketWebsite through the SDK (with
 * S3's validation errors), and the website endpoint driven with raw HTTP —
 * `<bucket>.s3-website.localhost` on the main port and any `<bucket>.…` Host
 * on HANUL_WEBSITE_PORT: index documents, folders, routing rules, redirects,
 * the custom error document, HTML errors, conditional and range reads, and
 * the configuration surviving a restart.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketWebsiteCommand,
  GetBucketWebsiteCommand,
  PutBucketCorsCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  S3Client,
  type WebsiteConfiguration,
} from '@aws-sdk/client-s3';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';
import { makePublic, raw } from './web-support.js';

const SITE = 'web-site';
const CLOSED = 'web-closed'; // public s3:GetObject, no s3:ListBucket
const PRIVATE = 'web-private';
const BARE = 'web-bare'; // public, no website configuration
const MOVED = 'web-moved';

describe('s3 e2e: static website hosting', () => {
  let server: TestServer;
  let s3: S3Client;
  let webPort: number;
  const host = (bucket: string) => `${bucket}.s3-website.localhost:${server.port}`;
  const get = (bucket: string, path: string, opts: Parameters<typeof raw>[2] = {}) => raw(server.port, path, { host: host(bucket), ...opts });
  const put = (Bucket: string, Key: string, Body: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
    s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'text/html', ...extra }));
  const site: WebsiteConfiguration = {
    IndexDocument: { Suffix: 'index.html' },
    ErrorDocument: { Key: 'error.html' },
    RoutingRules: [
      { Condition: { KeyPrefixEquals: 'old/' }, Redirect: { ReplaceKeyPrefixWith: 'new/' } },
      { Condition: { KeyPrefixEquals: 'ext/' }, Redirect: { HostName: 'example.com', Protocol: 'https', ReplaceKeyWith: 'landing', HttpRedirectCode: '307' } },
      { Condition: { HttpErrorCodeReturnedEquals: '404', KeyPrefixEquals: 'gone/' }, Redirect: { ReplaceKeyWith: 'index.html', HttpRedirectCode: '302' } },
    ],
  };

  async function start(dataDir?: string) {
    server = await startHanul({
      env: { HANUL_WEBSITE_PORT: '0' },
      ...(dataDir ? { dataDir } : {}),
    });
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    webPort = server.app.websiteListener?.port ?? 0;
  }

  before(async () => {
    await start();
    for (const Bucket of [SITE, CLOSED, PRIVATE, BARE, MOVED]) await s3.send(new CreateBucketCommand({ Bucket }));
    for (const Bucket of [SITE, BARE]) await makePublic(s3, Bucket, { list: true });
    for (const Bucket of [CLOSED, MOVED]) await makePublic(s3, Bucket);
    await s3.send(new PutBucketWebsiteCommand({ Bucket: SITE, WebsiteConfiguration: site }));
    await s3.send(new PutBucketWebsiteCommand({ Bucket: CLOSED, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' }, ErrorDocument: { Key: 'missing-error.html' } } }));
    await s3.send(new PutBucketWebsiteCommand({ Bucket: PRIVATE, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
    await s3.send(new PutBucketWebsiteCommand({ Bucket: MOVED, WebsiteConfiguration: { RedirectAllRequestsTo: { HostName: 'www.example.org', Protocol: 'https' } } }));
    await put(SITE, 'index.html', '<h1>home</h1>');
    await put(SITE, 'error.html', '<h1>custom error</h1>');
    await put(SITE, 'docs/index.html', '<h1>docs</h1>');
    await put(SITE, 'style.css', 'body { color: rgb(1, 2, 3); }', { ContentType: 'text/css' });
    await put(SITE, 'promo', '', { WebsiteRedirectLocation: '/docs/' });
    await put(SITE, 'digits.txt', '0123456789', { ContentType: 'text/plain' });
    await put(PRIVATE, 'index.html', 'secret');
    await put(BARE, 'index.html', 'bare');
  });
  after(async () => {
    s3.destroy();
    const dir = server.dataDir;
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores, returns and deletes the configuration', async () => {
    const got = await s3.send(new GetBucketWebsiteCommand({ Bucket: SITE }));
    assert.deepEqual(got.IndexDocument, site.IndexDocument);
    assert.deepEqual(got.ErrorDocument, site.ErrorDocument);
    assert.deepEqual(got.RoutingRules, site.RoutingRules);
    await s3.send(new PutBucketWebsiteCommand({ Bucket: BARE, WebsiteConfiguration: { IndexDocument: { Suffix: 'home.html' } } }));
    await s3.send(new DeleteBucketWebsiteCommand({ Bucket: BARE }));
    const f = await failure(s3.send(new GetBucketWebsiteCommand({ Bucket: BARE })));
    assert.equal(f.name, 'NoSuchWebsiteConfiguration');
    assert.equal(f.status, 404);
    assert.equal((await failure(s3.send(new GetBucketWebsiteCommand({ Bucket: 'web-nope' })))).name, 'NoSuchBucket');
  });

  it('rejects bad configurations with S3 errors', async () => {
    const bad = async (w: WebsiteConfiguration) => failure(s3.send(new PutBucketWebsiteCommand({ Bucket: BARE, WebsiteConfiguration: w })));
    const cases: [WebsiteConfiguration, string, RegExp][] = [
      [{ ErrorDocument: { Key: 'e.html' } }, 'InvalidArgument', /IndexDocument Suffix must be provided/],
      [{ IndexDocument: { Suffix: '' } }, 'InvalidArgument', /not well formed/],
      [{ IndexDocument: { Suffix: 'a/index.html' } }, 'InvalidArgument', /not well formed/],
      [{ RedirectAllRequestsTo: { HostName: 'x.com' }, IndexDocument: { Suffix: 'i.html' } }, 'InvalidRequest', /RedirectAllRequestsTo/],
      [{ IndexDocument: { Suffix: 'i.html' }, RoutingRules: [{ Redirect: { ReplaceKeyWith: 'a', ReplaceKeyPrefixWith: 'b' } }] }, 'InvalidRequest', /ReplaceKeyPrefix or ReplaceKey/],
      [{ IndexDocument: { Suffix: 'i.html' }, RoutingRules: [{ Condition: {}, Redirect: { ReplaceKeyWith: 'a' } }] }, 'InvalidRequest', /Condition cannot be empty/],
      [{ IndexDocument: { Suffix: 'i.html' }, RoutingRules: [{ Redirect: { HttpRedirectCode: '200' } }] }, 'InvalidArgument', /redirect code \(200\)/],
      [{ IndexDocument: { Suffix: 'i.html' }, RoutingRules: [{ Condition: { HttpErrorCodeReturnedEquals: '200' }, Redirect: { HostName: 'a' } }] }, 'InvalidArgument', /error code \(200\)/],
      [{ IndexDocument: { Suffix: 'i.html' }, RoutingRules: Array.from({ length: 51 }, () => ({ Redirect: { HostName: 'a' } })) }, 'InvalidRequest', /limit of 50/],
    ];
    for (const [w, code, message] of cases) {
      const f = await bad(w);
      assert.equal(f.name, code, JSON.stringify(w));
      assert.equal(f.status, 400);
      assert.match(f.message, message);
    }
    assert.equal((await failure(s3.send(new GetBucketWebsiteCommand({ Bucket: BARE })))).name, 'NoSuchWebsiteConfiguration', 'nothing stored');
  });

  it('serves the index document at the root and in folders; /docs redirects to /docs/', async () => {
    const root = await get(SITE, '/');
    assert.equal(root.status, 200);
    assert.equal(root.body, '<h1>home</h1>');
    assert.equal(root.headers['content-type'], 'text/html');
    assert.equal((await get(SITE, '/docs/')).body, '<h1>docs</h1>');
    const folder = await get(SITE, '/docs');
    assert.equal(folder.status, 302);
    assert.equal(folder.headers.location, '/docs/');
    const css = await get(SITE, '/style.css');
    assert.equal(css.headers['content-type'], 'text/css');
    const head = await get(SITE, '/index.html', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '13');
    assert.equal(head.body, '');
  });

  it('answers range and conditional reads as the REST endpoint does', async () => {
    const part = await get(SITE, '/digits.txt', { headers: { range: 'bytes=2-4' } });
    assert.equal(part.status, 206);
    assert.equal(part.body, '234');
    assert.equal(part.headers['content-range'], 'bytes 2-4/10');
    const etag = String((await get(SITE, '/digits.txt')).headers.etag);
    assert.equal((await get(SITE, '/digits.txt', { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await get(SITE, '/digits.txt', { headers: { 'if-match': '"nope"' } })).status, 412);
  });

  it('redirects by routing rule, object redirect location and RedirectAllRequestsTo', async () => {
    const prefix = await get(SITE, '/old/page.html');
    assert.equal(prefix.status, 301);
    assert.equal(prefix.headers.location, `http://${host(SITE)}/new/page.html`);
    const ext = await get(SITE, '/ext/anything');
    assert.equal(ext.status, 307);
    assert.equal(ext.headers.location, 'https://example.com/landing');
    const onError = await get(SITE, '/gone/away.html');
    assert.equal(onError.status, 302);
    assert.equal(onError.headers.location, `http://${host(SITE)}/index.html`);
    const promo = await get(SITE, '/promo');
    assert.equal(promo.status, 301);
    assert.equal(promo.headers.location, '/docs/');
    const all = await get(MOVED, '/a/b?x=1');
    assert.equal(all.status, 301);
    assert.equal(all.headers.location, 'https://www.example.org/a/b?x=1');
  });

  it('serves the custom error document with the original status', async () => {
    const r = await get(SITE, '/no/such/page.html');
    assert.equal(r.status, 404);
    assert.equal(r.body, '<h1>custom error</h1>');
    assert.equal(r.headers['content-type'], 'text/html');
  });

  it('answers HTML error pages with S3 codes', async () => {
    const noKey = await get(BARE, '/missing.html');
    assert.equal(noKey.status, 404);
    assert.match(String(noKey.headers['content-type']), /^text\/html/);
    assert.match(noKey.body, /<title>404 Not Found<\/title>/);
    const bareSite = await get(BARE, '/');
    assert.equal(bareSite.status, 404);
    assert.match(bareSite.body, /<li>Code: NoSuchWebsiteConfiguration<\/li>/);
    assert.match(bareSite.body, /<li>BucketName: web-bare<\/li>/);
    const noBucket = await get('web-nowhere', '/');
    assert.equal(noBucket.status, 404);
    assert.match(noBucket.body, /<li>Code: NoSuchBucket<\/li>/);
    const denied = await get(PRIVATE, '/');
    assert.equal(denied.status, 403);
    assert.match(denied.body, /<title>403 Forbidden<\/title>[\s\S]*<li>Code: AccessDenied<\/li>/);
    const post = await get(SITE, '/index.html', { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.match(post.body, /<li>Code: MethodNotAllowed<\/li>[\s\S]*<li>Method: POST<\/li>/);
    // No s3:ListBucket: a missing key is 403, and the missing error document is reported inside the page.
    const closed = await get(CLOSED, '/nothing.html');
    assert.equal(closed.status, 403);
    assert.match(closed.body, /<li>Code: AccessDenied<\/li>[\s\S]*An Error Occurred While Attempting to Retrieve a Custom Error Document[\s\S]*<li>Key: missing-error.html<\/li>/);
  });

  it('answers the same on HANUL_WEBSITE_PORT for any <bucket>.… Host, and region-style website hosts', async () => {
    assert.ok(webPort > 0);
    assert.equal((await raw(webPort, '/', { host: `${SITE}.localhost` })).body, '<h1>home</h1>');
    assert.equal((await raw(webPort, '/docs/', { host: `${SITE}.example.test:${webPort}` })).body, '<h1>docs</h1>');
    assert.equal((await raw(webPort, '/', { host: SITE })).body, '<h1>home</h1>');
    assert.equal((await raw(server.port, '/', { host: `${SITE}.s3-website-us-east-1.localhost` })).body, '<h1>home</h1>');
    assert.equal((await raw(server.port, '/', { host: `${SITE}.s3-website.us-east-1.localhost` })).body, '<h1>home</h1>');
    // The website port is never the REST API: a signed-looking ListBuckets is a website read.
    const notApi = await raw(webPort, '/', { host: 'localhost' });
    assert.equal(notApi.status, 404);
    assert.match(notApi.body, /NoSuchBucket/);
  });

  it('adds the bucket CORS headers and answers preflights on the website endpoint too', async () => {
    await s3.send(new PutBucketCorsCommand({ Bucket: SITE, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['GET'] }] } }));
    const r = await get(SITE, '/style.css', { headers: { origin: 'https://app.example.com' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.example.com');
    const pre = await get(SITE, '/style.css', { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' } });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers['access-control-allow-methods'], 'GET');
    const other = await get(SITE, '/style.css', { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  it('keeps the configuration across a restart', async () => {
    const dataDir = server.dataDir;
    s3.destroy();
    await server.stop({ keepData: true });
    await start(dataDir);
    const got = await s3.send(new GetBucketWebsiteCommand({ Bucket: SITE }));
    assert.deepEqual(got.RoutingRules, site.RoutingRules);
    assert.equal((await get(SITE, '/docs/')).body, '<h1>docs</h1>');
  });
});
