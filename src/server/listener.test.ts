import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http2 from 'node:http2';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listen, type Listener } from './listener.js';

function h2get(url: string, path: string, opts: http2.SecureClientSessionOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = http2.connect(url, opts);
    c.on('error', reject);
    const r = c.request({ ':path': path });
    let d = '';
    r.setEncoding('utf8');
    r.on('data', (x: string) => (d += x));
    r.on('end', () => {
      c.close();
      resolve(d);
    });
    r.on('error', reject);
    r.end();
  });
}

describe('listener: one port for HTTP/1.1, h2c and TLS', () => {
  let l: Listener;
  let cert: Buffer;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hanul-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'c.pem'));
    l = await listen({ host: '127.0.0.1', port: 0, maxHeaderSize: 16 * 1024, tls: { cert, key: readFileSync(join(dir, 'k.pem')) } }, (req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.httpVersion} ${req.url ?? ''}`);
    });
  });
  after(() => l.close(100));

  it('serves HTTP/1.1', async () => {
    const r = await fetch(`http://127.0.0.1:${l.port}/a?b=1`);
    assert.equal(await r.text(), '1.1 /a?b=1');
  });

  it('serves prior-knowledge HTTP/2 (h2c) on the same port', async () => {
    assert.equal(await h2get(`http://127.0.0.1:${l.port}`, '/h2'), '2.0 /h2');
  });

  it('serves TLS with ALPN h2 and http/1.1 on the same port', async () => {
    assert.equal(await h2get(`https://127.0.0.1:${l.port}`, '/tls2', { ca: cert }), '2.0 /tls2');
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: l.port, path: '/tls1', ca: cert, servername: 'localhost' }, (res) => {
        let d = '';
        res.on('data', (x: Buffer) => (d += x.toString()));
        res.on('end', () => resolve(d));
      }).on('error', reject);
    });
    assert.equal(body, '1.1 /tls1');
  });

  it('answers 431 to 20 KB of headers and keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect(l.port, '127.0.0.1', () => s.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`));
      let d = '';
      s.on('data', (x: Buffer) => (d += x.toString()));
      s.on('close', () => resolve(d));
      s.on('error', () => resolve(d));
    });
    assert.match(reply, /^HTTP\/1\.1 431/);
    const r = await fetch(`http://127.0.0.1:${l.port}/after`);
    assert.equal(r.status, 200);
  });

  it('tells a preface split across packets from HTTP/1.1', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect(l.port, '127.0.0.1', () => {
        s.write('PR');
        setImmediate(() => s.write('OPFIND / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      });
      let d = '';
      s.on('data', (x: Buffer) => (d += x.toString()));
      s.on('close', () => resolve(d));
    });
    assert.match(reply, /^HTTP\/1\.1 200/);
    assert.match(reply, /1\.1 \//);
  });
});

describe('listener: in-flight count', () => {
  const settled = async (l: Listener): Promise<number> => {
    const deadline = Date.now() + 5000;
    while (l.inFlight() !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return l.inFlight();
  };

  it('returns to zero after keep-alive requests, HTTP/2 streams and a client that goes away mid-response', async () => {
    const { default: http } = await import('node:http');
    const l = await listen({ host: '127.0.0.1', port: 0, maxHeaderSize: 16 * 1024 }, (req, res) => {
      if (req.url === '/hang') {
        (res as import('node:http').ServerResponse).writeHead(200).write('x');
        return;
      }
      res.end('ok');
    });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve, reject) => http.get({ port: l.port, agent, path: '/' }, (res) => res.resume().on('end', resolve)).on('error', reject));
      }
      assert.equal(await settled(l), 0);
      assert.equal(await h2get(`http://127.0.0.1:${l.port}`, '/'), 'ok');
      assert.equal(await settled(l), 0);
      await new Promise<void>((resolve) => {
        const q = http.get({ port: l.port, path: '/hang' }, (res) => res.once('data', () => (q.destroy(), resolve())));
        q.on('error', () => undefined);
      });
      assert.equal(await settled(l), 0);
      agent.destroy();
    } finally {
      await l.close(100);
    }
  });
});
