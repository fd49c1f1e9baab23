/**
 * MFA Delete: a bucket whose versioning configuration has MfaDelete Enabled
 * needs `x-amz-mfa: "<serial> <code>"` — a TOTP of the root user's virtual MFA
 * device (IAM) — to permanently delete a version or to change the versioning
 * state; setting MfaDelete itself needs it too. A code is accepted once (the
 * device remembers the last time step used), as IAM and STS treat MFA codes.
 */
import { iamRuntime } from '../../iam/runtime.js';
import { verifyRootMfa } from '../../iam/totp.js';
import type { RequestContext } from '../../server/context.js';
import { invalidArgument, s3Error } from './errors.js';
import type { BucketRecord } from './model.js';

function mfaRequired() {
  return s3Error('AccessDenied', 'Mfa Authentication must be used for this request');
}

/** Parses the x-amz-mfa header: the device serial, one space, the six-digit code. */
export function parseMfaHeader(v: string): { serial: string; code: string } {
  const i = v.lastIndexOf(' ');
  const serial = i > 0 ? v.slice(0, i).trim() : '';
  const code = i > 0 ? v.slice(i + 1) : '';
  if (serial === '' || code === '' || /\s/.test(serial)) {
    throw invalidArgument('Mfa header is invalid -- the header should be formatted as {serialNumber}(space){tokenCode}', 'x-amz-mfa', v);
  }
  return { serial, code };
}

/** Verifies (and uses up) the code in x-amz-mfa; AccessDenied when missing or wrong. */
export async function verifyMfaHeader(ctx: RequestContext, header: string | undefined): Promise<void> {
  if (header === undefined || header === '') throw mfaRequired();
  const { serial, code } = parseMfaHeader(header);
  const rt = await iamRuntime(ctx);
  const check = await verifyRootMfa(rt, serial, code, ctx.clock.nowMs());
  if (!check.ok) throw s3Error('AccessDenied', 'Invalid MFA one time pass code');
}

export function mfaDeleteOn(b: BucketRecord): boolean {
  return b.mfaDelete === 'Enabled';
}
