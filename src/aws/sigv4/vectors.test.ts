/**
 * The AWS SigV4 signing test suite (aws-c-auth), run backwards: every signed
 * request must verify, and any one-byte change to a signed part must not.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { SigV4Options } from './verify.js';
import { authenticate } from './verify.js';
import { asFailure } from './failure.js';
import { lookupOf, parseRequestText, principal, sigv4TestData, verifyAll, type ParsedRequest } from './harness.js';

interface Context {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  normalize: boolean;
  timestamp: string;
  omit_session_token?: boolean;
}

const root = join(sigv4TestData(), 'v4');
const cases = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

function optionsFor(ctx: Context): SigV4Options {
  const { access_key_id, secret_access_key, token } = ctx.credentials;
  return {
    lookup: lookupOf({ [access_key_id]: { secretAccessKey: secret_access_key, principal, ...(token ? { sessionToken: token } : {}) } }),
    now: new Date(ctx.timestamp),
    normalizePath: ctx.normalize,
    // The suite signs a generic service: S3's extra header rules do not apply.
    s3Rules: false,
  };
}

/** A different byte at the same place: digits count up, letters change case, anything else becomes 'x'. */
function flipChar(c: string): string {
  if (c >= '0' && c <= '8') return String.fromCharCode(c.charCodeAt(0) + 1);
  if (c === '9') return '8';
  if (/[a-z]/.test(c)) return c.toUpperCase();
  if (/[A-Z]/.test(c)) return c.toLowerCase();
  return c === 'x' ? 'y' : 'x';
}

/** Another hex digit (case changes would keep the same signature bytes). */
function flipHex(s: string, i: number): string {
  return s.slice(0, i) + (s[i] === '0' ? '1' : '0') + s.slice(i + 1);
}

function flipAt(s: string, i: number): string {
  return s.slice(0, i) + flipChar(s[i] as string) + s.slice(i + 1);
}

function lastMatch(s: string, re: RegExp): number {
  for (let i = s.length - 1; i >= 0; i--) if (re.test(s[i] as string)) return i;
  return -1;
}

interface Mutation {
  what: string;
  req: ParsedRequest;
  expect: readonly string[];
}

function clone(req: ParsedRequest): ParsedRequest {
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.view.headers)) headers[k] = [...v];
  return { view: { ...req.view, headers }, body: Buffer.from(req.body) };
}

function mutations(req: ParsedRequest, form: 'header' | 'query'): Mutation[] {
  const out: Mutation[] = [];
  const bad = ['bad-signature'] as const;
  const add = (what: string, edit: (r: ParsedRequest) => void, expect: readonly string[] = bad): void => {
    const r = clone(req);
    edit(r);
    out.push({ what, req: r, expect });
  };
  add('method', (r) => void (r.view.method = flipAt(r.view.method, 0)));
  add('path (appended byte)', (r) => void (r.view.rawPath += 'x'));
  const alnum = lastMatch(req.view.rawPath, /[A-Za-z0-9]/);
  if (alnum >= 0 && !req.view.rawPath.includes('..')) add('path (flipped byte)', (r) => void (r.view.rawPath = flipAt(r.view.rawPath, alnum)));

  const auth = new Set(['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Algorithm', 'X-Amz-SignedHeaders', 'X-Amz-Security-Token']);
  const params = req.view.rawQuery === '' ? [] : req.view.rawQuery.split('&');
  params.forEach((p, i) => {
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    if (auth.has(key)) return;
    const edited = eq < 0 || eq === p.length - 1 ? `${key}=x` : flipAt(p, eq + 1);
    add(`query value of ${key}`, (r) => void (r.view.rawQuery = params.map((q, j) => (j === i ? edited : q)).join('&')));
    // Renaming X-Amz-Expires leaves the presigned request incomplete rather than differently signed.
    const keyExpect = key === 'X-Amz-Expires' ? ['malformed'] : bad;
    add(`query key ${key}`, (r) => void (r.view.rawQuery = params.map((q, j) => (j === i ? flipAt(q, 0) : q)).join('&')), keyExpect);
  });

  const authz = req.view.headers.authorization?.[0];
  const signedList = form === 'header'
    ? /SignedHeaders=([^,]+)/.exec(authz ?? '')?.[1] ?? ''
    : decodeURIComponent(/X-Amz-SignedHeaders=([^&]+)/.exec(req.view.rawQuery)?.[1] ?? '');
  for (const name of signedList.split(';')) {
    const value = req.view.headers[name]?.[0];
    if (value === undefined) continue;
    const at = name === 'x-amz-date' ? lastMatch(value, /[0-9]/) : lastMatch(value, /[A-Za-z0-9]/);
    const expect = name === 'x-amz-security-token' ? ['token-invalid'] : bad;
    add(`signed header ${name}`, (r) => void ((r.view.headers[name] as string[])[0] = flipAt(value, at)), expect);
  }

  if (form === 'header') {
    const at = (authz ?? '').indexOf('Signature=') + 'Signature='.length;
    add('signature', (r) => void ((r.view.headers.authorization as string[])[0] = flipHex(authz as string, at)));
  } else {
    const at = req.view.rawQuery.indexOf('X-Amz-Signature=') + 'X-Amz-Signature='.length;
    add('signature', (r) => void (r.view.rawQuery = flipHex(r.view.rawQuery, at)));
  }
  if (req.body.length > 0) {
    add('body', (r) => void (r.body[0] = (r.body[0] as number) ^ 1), ['payload-hash-mismatch', 'bad-signature']);
  }
  return out;
}

describe('AWS SigV4 test suite', () => {
  it('has the suite', () => {
    assert.ok(cases.length >= 30, `only ${cases.length} cases under ${root}`);
  });

  for (const name of cases) {
    const dir = join(root, name);
    const ctx = JSON.parse(readFileSync(join(dir, 'context.json'), 'utf8')) as Context;
    for (const form of ['header', 'query'] as const) {
      describe(`${name} (${form})`, () => {
        const req = parseRequestText(readFileSync(join(dir, `${form}-signed-request.txt`), 'latin1'));

        it('verifies', async () => {
          const res = await verifyAll(req.view, req.body, optionsFor(ctx));
          assert.equal(res.outcome, 'ok');
          assert.equal(res.result?.form, form === 'header' ? 'header' : 'presigned');
          assert.equal(res.result?.scope.service, 'service');
          assert.deepEqual(res.data, req.body);
        });

        it('builds the suite’s canonical request', async (t) => {
          if (ctx.omit_session_token && form === 'query') {
            t.skip('the token was appended after signing; the first candidate includes it');
            return;
          }
          const wrong = clone(req);
          if (form === 'header') {
            const a = (wrong.view.headers.authorization as string[])[0] as string;
            (wrong.view.headers.authorization as string[])[0] = a.replace(/Signature=[0-9a-f]{64}/, `Signature=${'0'.repeat(64)}`);
          } else {
            wrong.view.rawQuery = wrong.view.rawQuery.replace(/X-Amz-Signature=[0-9a-f]{64}/, `X-Amz-Signature=${'0'.repeat(64)}`);
          }
          const expected = readFileSync(join(dir, `${form}-canonical-request.txt`), 'latin1');
          let canonical: string | undefined;
          try {
            const result = await authenticate(wrong.view, optionsFor(ctx));
            // Deferred: the canonical request is only complete once the body is hashed.
            if (result?.payload.mode === 'deferred') {
              const { createHash } = await import('node:crypto');
              result.payload.verify(createHash('sha256').update(req.body).digest('hex'));
            }
          } catch (e) {
            canonical = asFailure(e)?.details.CanonicalRequest;
          }
          assert.equal(canonical, expected);
        });

        for (const m of mutations(req, form)) {
          it(`rejects a changed ${m.what}`, async () => {
            const res = await verifyAll(m.req.view, m.req.body, optionsFor(ctx));
            assert.ok(m.expect.includes(res.outcome), `expected ${m.expect.join('|')}, got ${res.outcome}`);
          });
        }
      });
    }
  }
});
