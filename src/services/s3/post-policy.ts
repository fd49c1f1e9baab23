/**
 * S3 POST Object policies (SigV4): the form's signature is the HMAC of the
 * base64 policy under the SigV4 signing key of the credential named in
 * x-amz-credential; the policy's expiration and conditions (exact match,
 * starts-with, content-length-range) must hold for every form field.
 */
import { createHmac } from 'node:crypto';
import type { CredentialRecord } from '../../aws/sigv4/index.js';
import { deriveSigningKey, parseSignature, sameBytes } from '../../aws/sigv4/keys.js';
import type { RequestContext } from '../../server/context.js';
import { s3Error } from './errors.js';

export interface PolicyCheck {
  /** Inclusive bounds on the file size from content-length-range. */
  minSize: number;
  maxSize: number | undefined;
  /** The conditions to evaluate against the final field values. */
  conditions: Condition[];
}

type Condition = { op: 'eq' | 'starts-with'; field: string; value: string; raw: unknown };

function denied(message: string) {
  return s3Error('AccessDenied', message);
}

function invalidPolicy(message: string) {
  return s3Error('InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

/** Verifies the signature and parses the policy. `fields` are lower-cased names → values. */
export async function verifyPostPolicy(fields: ReadonlyMap<string, string>, ctx: RequestContext): Promise<{ check: PolicyCheck; credential: CredentialRecord }> {
  const policyB64 = fields.get('policy');
  const signature = fields.get('x-amz-signature');
  const credential = fields.get('x-amz-credential');
  const algorithm = fields.get('x-amz-algorithm');
  if (policyB64 === undefined || signature === undefined || credential === undefined) {
    if (fields.has('signature') || fields.has('awsaccesskeyid')) {
      throw s3Error('InvalidRequest', 'Signature Version 2 POST forms are not supported; use AWS4-HMAC-SHA256.');
    }
    throw denied('Access Denied');
  }
  if (algorithm !== 'AWS4-HMAC-SHA256') {
    throw s3Error('InvalidArgument', 'Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm', { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm });
  }
  const [accessKeyId, date, region, service, terminator, ...rest] = credential.split('/');
  if (!accessKeyId || !date || !/^\d{8}$/.test(date) || !region || service !== 's3' || terminator !== 'aws4_request' || rest.length > 0) {
    throw s3Error('InvalidArgument', 'x-amz-credential is malformed', { ArgumentName: 'x-amz-credential', ArgumentValue: credential });
  }
  const record = await ctx.credentials?.(accessKeyId);
  if (!record) throw s3Error('AccessDenied', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
  if (record.sessionToken !== undefined && fields.get('x-amz-security-token') !== record.sessionToken) {
    throw s3Error('AccessDenied', 'The provided token is malformed or otherwise invalid.');
  }
  if (record.expiresAt !== undefined && record.expiresAt.getTime() <= ctx.clock.nowMs()) throw s3Error('AccessDenied', 'The provided token has expired.');
  const key = deriveSigningKey(record.secretAccessKey, date, region, 's3');
  const expected = createHmac('sha256', key).update(policyB64, 'utf8').digest();
  const given = parseSignature(signature);
  if (!given || !sameBytes(given, expected)) {
    throw s3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { check: parsePolicy(policyB64, ctx.clock.nowMs()), credential: record };
}

function parsePolicy(policyB64: string, nowMs: number): PolicyCheck {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Could not parse the policy: the policy is not valid JSON.');
  }
  if (!doc || typeof doc !== 'object') throw invalidPolicy('Could not parse the policy.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (typeof expiration !== 'string' || Number.isNaN(Date.parse(expiration))) throw invalidPolicy('Policy missing expiration.');
  if (Date.parse(expiration) <= nowMs) throw denied('Invalid according to Policy: Policy expired.');
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.');
  const check: PolicyCheck = { minSize: 0, maxSize: undefined, conditions: [] };
  for (const c of conditions) {
    if (Array.isArray(c)) {
      const [op, a, b] = c as unknown[];
      if (typeof op === 'string' && op.toLowerCase() === 'content-length-range') {
        const min = Number(a);
        const max = Number(b);
        if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) throw invalidPolicy('Invalid content-length-range condition.');
        check.minSize = min;
        check.maxSize = max;
        continue;
      }
      if (c.length !== 3 || typeof op !== 'string' || typeof a !== 'string' || typeof b !== 'string' || !a.startsWith('$')) throw invalidPolicy(`Invalid condition ${JSON.stringify(c)}.`);
      const o = op.toLowerCase();
      if (o !== 'eq' && o !== 'starts-with') throw invalidPolicy(`Invalid condition operator ${op}.`);
      check.conditions.push({ op: o, field: a.slice(1).toLowerCase(), value: b, raw: c });
    } else if (c && typeof c === 'object') {
      for (const [k, v] of Object.entries(c)) {
        if (typeof v !== 'string') throw invalidPolicy(`Invalid condition ${JSON.stringify(c)}.`);
        check.conditions.push({ op: 'eq', field: k.toLowerCase(), value: v, raw: c });
      }
    } else {
      throw invalidPolicy(`Invalid condition ${JSON.stringify(c)}.`);
    }
  }
  return check;
}

/** Fields the policy need not mention. */
function exempt(name: string): boolean {
  return name === 'x-amz-signature' || name === 'file' || name === 'policy' || name.startsWith('x-ignore-');
}

/** Every condition holds, and every field is covered by one (`bucket` is the request's). */
export function checkConditions(check: PolicyCheck, fields: ReadonlyMap<string, string>, bucket: string): void {
  const value = (f: string) => (f === 'bucket' ? bucket : fields.get(f));
  for (const c of check.conditions) {
    const v = value(c.field) ?? '';
    // starts-with on Content-Type applies to each comma-separated value.
    const ok =
      c.op === 'eq'
        ? v === c.value
        : c.field === 'content-type'
          ? v.split(',').every((x) => x.trim().startsWith(c.value))
          : v.startsWith(c.value);
    if (!ok) throw denied(`Invalid according to Policy: Policy Condition failed: ${JSON.stringify(c.raw)}`);
  }
  const covered = new Set(check.conditions.map((c) => c.field));
  const extra = [...fields.keys()].filter((f) => !exempt(f) && !covered.has(f));
  if (extra.length > 0) throw denied(`Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);
}
