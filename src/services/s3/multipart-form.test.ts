import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { fieldText, FormError, formBoundary, readForm } from './multipart-form.js';

function body(boundary: string, file: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`preamble\r\n--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nuploads/\${filename}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="Content-Type"\r\n\r\ntext/plain\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a \\"q\\".txt"\r\nContent-Type: text/plain\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="after"\r\n\r\nignored\r\n--${boundary}--\r\n`),
  ]);
}

async function* chunked(b: Buffer, sizes: () => number) {
  for (let i = 0; i < b.length; ) {
    const n = Math.max(1, sizes());
    yield b.subarray(i, i + n);
    i += n;
  }
}

describe('multipart/form-data reader', () => {
  it('parses the boundary from the content type', () => {
    assert.equal(formBoundary('multipart/form-data; boundary=----abc'), '----abc');
    assert.equal(formBoundary('multipart/form-data; boundary="x y"'), 'x y');
    assert.equal(formBoundary('application/xml'), undefined);
  });

  it('streams fields and a file however the bytes are split (boundary-like bytes inside the file)', async () => {
    const boundary = 'XyZ123';
    const file = Buffer.concat([randomBytes(5000), Buffer.from(`\r\n--${boundary.slice(0, 4)}`), randomBytes(3000), Buffer.from('\r\n--')]);
    for (const sizes of [() => 1, () => 7, () => Math.floor(Math.random() * 900), () => 1 << 20]) {
      const parts: Record<string, string | Buffer> = {};
      for await (const p of readForm(chunked(body(boundary, file), sizes), boundary)) {
        if (p.name === 'file') {
          assert.equal(p.filename, 'a "q".txt');
          assert.equal(p.contentType, 'text/plain');
          const cs: Buffer[] = [];
          for await (const c of p.body) cs.push(c);
          parts['file'] = Buffer.concat(cs);
        } else {
          parts[p.name] = await fieldText(p, 1024);
        }
      }
      assert.equal(parts['key'], 'uploads/${filename}');
      assert.equal(parts['Content-Type'], 'text/plain');
      assert.ok((parts['file'] as Buffer).equals(file));
      assert.equal(parts['after'], 'ignored');
    }
  });

  it('truncated or malformed bodies are FormErrors', async () => {
    const boundary = 'b0';
    const whole = body(boundary, Buffer.from('data'));
    for (const bad of [whole.subarray(0, whole.length - 30), Buffer.from('no boundary here'), Buffer.from(`--${boundary}\r\nX-Other: y\r\n\r\nv\r\n--${boundary}--`)]) {
      await assert.rejects(async () => {
        for await (const p of readForm(chunked(bad, () => 16), boundary)) for await (const _ of p.body) void _;
      }, FormError);
    }
  });
});
