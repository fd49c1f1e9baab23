import { createHmac, randomBytes } from 'node:crypto';
import { NS, lower, type MfaRecord } from './entities.js';
import type { IamRuntime } from './runtime.js';

/** RFC 6238 TOTP as virtual MFA apps compute it: HMAC-SHA1, 30-second steps, 6 digits. */
export const STEP_SECONDS = 30;
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(s: string): Buffer {
  const clean = s.replace(/=+$/, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const v = B32.indexOf(ch);
    if (v < 0) throw new Error('not base32');
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new seed: 40 random bytes, 64 Base32 characters, as IAM's virtual devices have. */
export function newSeed(): string {
  return base32Encode(randomBytes(40));
}

export function stepAt(ms: number): number {
  return Math.floor(ms / 1000 / STEP_SECONDS);
}

export function totp(seedBase32: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32Decode(seedBase32)).update(counter).digest();
  const off = (h[h.length - 1] as number) & 15;
  const bin = ((h[off] as number) & 0x7f) << 24 | (h[off + 1] as number) << 16 | (h[off + 2] as number) << 8 | (h[off + 3] as number);
  return String(bin % 1_000_000).padStart(6, '0');
}

/** The step a code belongs to, looking `back` steps into the past and one ahead (clock drift). */
export function findStep(seed: string, code: string, nowMs: number, back = 1): number | undefined {
  const now = stepAt(nowMs);
  for (let s = now + 1; s >= now - back; s--) if (totp(seed, s) === code) return s;
  return undefined;
}

export type MfaCheck = { ok: true } | { ok: false; reason: 'no-device' | 'bad-code' };

/**
 * Checks an MFA code for a user's enabled device (AssumeRole, GetSessionToken)
 * and records its step, so the same code is never accepted twice.
 */
export async function verifyUserMfa(rt: IamRuntime, userName: string | undefined, serial: string, code: string, nowMs: number): Promise<MfaCheck> {
  return verifyMfa(rt, (dev) => dev.userName !== undefined && userName !== undefined && lower(dev.userName) === lower(userName), serial, code, nowMs);
}

/** The same check for the root user's device (S3 MFA Delete's x-amz-mfa). */
export async function verifyRootMfa(rt: IamRuntime, serial: string, code: string, nowMs: number): Promise<MfaCheck> {
  return verifyMfa(rt, (dev) => dev.root === true, serial, code, nowMs);
}

async function verifyMfa(rt: IamRuntime, owns: (dev: MfaRecord) => boolean, serial: string, code: string, nowMs: number): Promise<MfaCheck> {
  return rt.write(async (tx): Promise<MfaCheck> => {
    const dev = await tx.get<MfaRecord>(NS.mfa, lower(serial));
    if (!dev || !owns(dev)) return { ok: false, reason: 'no-device' };
    if (!/^\d{6}$/.test(code)) return { ok: false, reason: 'bad-code' };
    const step = findStep(rt.box.open(dev.seed, dev.serial), code, nowMs);
    if (step === undefined || (dev.lastStep !== undefined && step <= dev.lastStep)) return { ok: false, reason: 'bad-code' };
    await tx.put(NS.mfa, lower(serial), { ...dev, lastStep: step });
    return { ok: true };
  });
}
