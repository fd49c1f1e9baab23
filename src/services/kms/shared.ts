import type { OperationAudit } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { kmsError } from './errors.js';
import type { Kms } from './runtime.js';

/** The key ARNs a request touched, for CloudTrail's `resources` (handlers note them as they resolve keys). */
const touched = new WeakMap<RequestContext, string[]>();

export function noteResource(ctx: RequestContext, arn: string): void {
  const list = touched.get(ctx);
  if (list) {
    if (!list.includes(arn)) list.push(arn);
  } else touched.set(ctx, [arn]);
}

export function touchedResources(ctx: RequestContext): { ARN: string; type: string; accountId: string }[] {
  return (touched.get(ctx) ?? []).map((ARN) => ({ ARN, type: 'AWS::KMS::Key', accountId: ctx.accountId }));
}

type AnyInput = { KeyId?: string | undefined };

/**
 * The usual CloudTrail shaping of a key operation: requestParameters hold the
 * KeyId as given (never plaintext or ciphertext), resources the key ARN.
 */
export function keyAudit<I = AnyInput, O = unknown>(over: Partial<OperationAudit<I, O>> = {}): OperationAudit<I, O> {
  return {
    request: (i: I) => ({ keyId: (i as AnyInput).KeyId }),
    response: () => null,
    resources: (_i, _o, ctx) => touchedResources(ctx),
    ...over,
  };
}

export interface Page<T> {
  items: T[];
  truncated: boolean;
  lastKey?: string;
}

/** One page of a prefix scan; the marker is the opaque (base64url) last key of the previous page. */
export async function listPage<T>(kms: Kms, ns: string, prefix: string, marker: string | undefined, limit: number, keep: (v: T) => boolean = () => true): Promise<Page<T>> {
  let startAfter: string | undefined;
  if (marker !== undefined) {
    startAfter = Buffer.from(marker, 'base64url').toString('utf8');
    if (!startAfter.startsWith(prefix)) throw kmsError('InvalidMarkerException', 'The request was rejected because the marker that specifies where pagination should next begin is not valid.');
  }
  const entries = await kms.store.read((tx) => tx.scan<T>(ns, { prefix, ...(startAfter ? { startAfter } : {}) }));
  const items: T[] = [];
  let lastKey: string | undefined;
  for (const e of entries) {
    if (!keep(e.value)) continue;
    if (items.length === limit) return { items, truncated: true, ...(lastKey ? { lastKey } : {}) };
    items.push(e.value);
    lastKey = e.key;
  }
  return { items, truncated: false };
}

export function pageMarker(p: Page<unknown>): { NextMarker?: string } {
  return p.truncated && p.lastKey ? { NextMarker: Buffer.from(p.lastKey, 'utf8').toString('base64url') } : {};
}
