/**
 * A real browser against a bucket website and bucket CORS: Debian's Chromium
 * driven by playwright-core loads a site from the website endpoint
 * (`<bucket>.s3-website.localhost`, which Chromium resolves to loopback) —
 * index.html with its CSS, script and image, a folder index, a routed
 * redirect, the custom 404 — and a page served from another origin uploads
 * through CORS with a presigned POST (no preflight) and a presigned PUT
 * (preflighted). Skipped where /usr/bin/chromium is not installed (CI installs it).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutBucketCorsCommand, PutBucketWebsiteCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { chromium, type Browser } from 'playwright-core';
import { startHanul, type TestServer } from '../../support/hanul.js';
import { makePublic } from './web-support.js';

const CHROMIUM = '/usr/bin/chromium';
const SITE = 'browser-site';
const UPLOADS = 'browser-uploads';
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

const INDEX = `<!doctype html><html><head><title>home</title><link rel="stylesheet" href="/style.css"><script src="/app.js" defer></script></head>
<body><h1 id="h">hello</h1><img id="logo" src="/logo.svg" alt="logo"><p id="out">script not run</p></body></html>`;

describe('s3 e2e: a browser on a bucket website and CORS uploads', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let server: TestServer;
  let s3: S3Client;
  let browser: Browser;
  let other: Server;
  let otherOrigin = '';
  let page = '';

  /** The fields of a SigV4 presigned POST for `key` (what createPresignedPost builds). */
  function presignedPost(key: string): Record<string, string> {
    const now = new Date(server.clock.nowMs());
    const date = now.toISOString().slice(0, 10).replace(/-/g, '');
    const amzDate = `${date}T000000Z`;
    const credential = `${server.credentials.accessKeyId}/${date}/${server.region}/s3/aws4_request`;
    const policy = {
      expiration: new Date(now.getTime() + 600_000).toISOString(),
      conditions: [{ bucket: UPLOADS }, { key }, ['content-length-range', 1, 1024], { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': amzDate }],
    };
    const b64 = Buffer.from(JSON.stringify(policy)).toString('base64');
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${server.credentials.secretAccessKey}`, date), server.region), 's3'), 'aws4_request');
    return { key, 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': amzDate, policy: b64, 'x-amz-signature': hmac(signingKey, b64).toString('hex') };
  }

  before(async () => {
    server = await startHanul();
    s3 = new S3Client({ ...server.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: SITE }));
    await s3.send(new CreateBucketCommand({ Bucket: UPLOADS }));
    await makePublic(s3, SITE, { list: true });
    await s3.send(
      new PutBucketWebsiteCommand({
        Bucket: SITE,
        WebsiteConfiguration: {
          IndexDocument: { Suffix: 'index.html' },
          ErrorDocument: { Key: '404.html' },
          RoutingRules: [{ Condition: { KeyPrefixEquals: 'old/' }, Redirect: { ReplaceKeyPrefixWith: 'docs/' } }],
        },
      }),
    );
    const files: [string, string, string][] = [
      ['index.html', INDEX, 'text/html'],
      ['style.css', 'h1 { color: rgb(10, 20, 30); }', 'text/css'],
      ['app.js', "document.getElementById('out').textContent = 'script ran';", 'text/javascript'],
      ['logo.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="7" height="5"><rect width="7" height="5" fill="red"/></svg>', 'image/svg+xml'],
      ['docs/index.html', '<!doctype html><title>docs</title><p id="d">docs index</p>', 'text/html'],
      ['404.html', '<!doctype html><title>not found</title><p id="nf">custom not found</p>', 'text/html'],
    ];
    for (const [Key, Body, ContentType] of files) await s3.send(new PutObjectCommand({ Bucket: SITE, Key, Body, ContentType }));

    other = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: UPLOADS,
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: [otherOrigin], AllowedMethods: ['POST', 'PUT'], AllowedHeaders: ['content-type'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 60 }] },
      }),
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-background-networking', '--host-resolver-rules=MAP *.localhost 127.0.0.1'],
      timeout: 30_000,
    });
  });
  after(async () => {
    await browser?.close();
    other?.close();
    s3?.destroy();
    const dir = server?.dataDir;
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads the site: styles, script, image, folder index, routed redirect, custom 404', { timeout: 60_000 }, async () => {
    const base = `http://${SITE}.s3-website.localhost:${server.port}`;
    const tab = await browser.newPage();
    tab.setDefaultTimeout(15_000);
    try {
      const home = await tab.goto(`${base}/`);
      assert.equal(home?.status(), 200);
      await tab.waitForFunction("document.getElementById('out')?.textContent === 'script ran'");
      assert.equal(await tab.evaluate("getComputedStyle(document.getElementById('h')).color"), 'rgb(10, 20, 30)');
      await tab.waitForFunction("document.getElementById('logo')?.complete === true");
      assert.equal(await tab.evaluate("document.getElementById('logo').naturalWidth"), 7);

      const docs = await tab.goto(`${base}/docs`);
      assert.equal(docs?.status(), 200);
      assert.equal(tab.url(), `${base}/docs/`);
      assert.equal(await tab.textContent('#d'), 'docs index');

      await tab.goto(`${base}/old/`);
      assert.equal(tab.url(), `${base}/docs/`);
      assert.equal(await tab.textContent('#d'), 'docs index');

      const missing = await tab.goto(`${base}/no/such/page`);
      assert.equal(missing?.status(), 404);
      assert.equal(await tab.textContent('#nf'), 'custom not found');
    } finally {
      await tab.close();
    }
  });

  it('uploads from another origin through CORS: presigned POST and preflighted presigned PUT', { timeout: 60_000 }, async () => {
    const postUrl = `http://127.0.0.1:${server.port}/${UPLOADS}`;
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: UPLOADS, Key: 'put.txt', ContentType: 'text/plain' }), { expiresIn: 300 });
    const fields = presignedPost('post.txt');
    page = `<!doctype html><title>uploader</title><script>
      (async () => {
        try {
          const form = new FormData();
          for (const [k, v] of Object.entries(${JSON.stringify(fields)})) form.append(k, v);
          form.append('file', new Blob(['posted from the browser'], { type: 'text/plain' }), 'post.txt');
          const p = await fetch(${JSON.stringify(postUrl)}, { method: 'POST', body: form });
          const u = await fetch(${JSON.stringify(putUrl)}, { method: 'PUT', body: 'put from the browser', headers: { 'content-type': 'text/plain' } });
          document.title = JSON.stringify({ post: p.status, postEtag: p.headers.get('etag'), put: u.status });
        } catch (e) {
          document.title = 'failed: ' + e;
        }
      })();
    </script>`;
    const tab = await browser.newPage();
    tab.setDefaultTimeout(15_000);
    try {
      await tab.goto(`${otherOrigin}/`);
      await tab.waitForFunction("document.title.startsWith('{') || document.title.startsWith('failed')");
      const title = await tab.title();
      assert.ok(title.startsWith('{'), title);
      const result = JSON.parse(title) as { post: number; postEtag: string | null; put: number };
      assert.equal(result.post, 204);
      assert.match(result.postEtag ?? '', /^"[0-9a-f]{32}"$/, 'ETag exposed by the CORS rule');
      assert.equal(result.put, 200);
    } finally {
      await tab.close();
    }
    const posted = await s3.send(new GetObjectCommand({ Bucket: UPLOADS, Key: 'post.txt' }));
    assert.equal(await posted.Body?.transformToString(), 'posted from the browser');
    const put = await s3.send(new GetObjectCommand({ Bucket: UPLOADS, Key: 'put.txt' }));
    assert.equal(await put.Body?.transformToString(), 'put from the browser');
  });
});
