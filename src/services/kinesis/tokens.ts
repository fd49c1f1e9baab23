/**
 * Opaque, tamper-evident tokens: shard iterators and NextTokens. A token is
 * base64 of (payload ‖ HMAC-SHA256(key, payload)[0..16]); the key lives in
 * the metadata store, so tokens survive restarts and any node of a cluster
 * can check them, yet a client cannot forge or edit one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const MAC_BYTES = 16;

export function seal(key: Uint8Array, payload: Buffer): string {
  const mac = createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);
  return Buffer.concat([payload, mac]).toString('base64');
}

/** The payload, or undefined when the token was not made by us (or was altered). */
export function unseal(key: Uint8Array, token: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  const raw = Buffer.from(token, 'base64');
  if (raw.length <= MAC_BYTES) return undefined;
  const payload = raw.subarray(0, raw.length - MAC_BYTES);
  const mac = raw.subarray(raw.length - MAC_BYTES);
  const want = createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);
  return timingSafeEqual(mac, want) ? payload : undefined;
}

/** A JSON-payload token (NextToken), stamped with its creation time. */
export function sealJson(key: Uint8Array, value: Record<string, unknown>, nowMs: number): string {
  return seal(key, Buffer.from(JSON.stringify({ ...value, t: nowMs })));
}

export type TokenResult<T> = { ok: true; value: T & { t: number } } | { ok: false; expired: boolean };

export function unsealJson<T>(key: Uint8Array, token: string, nowMs: number, maxAgeMs: number): TokenResult<T> {
  const payload = unseal(key, token);
  if (!payload) return { ok: false, expired: false };
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, expired: false };
  }
  if (typeof v !== 'object' || v === null || typeof (v as { t?: unknown }).t !== 'number') return { ok: false, expired: false };
  const value = v as T & { t: number };
  if (nowMs - value.t > maxAgeMs) return { ok: false, expired: true };
  return { ok: true, value };
}
