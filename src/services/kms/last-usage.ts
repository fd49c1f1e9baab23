import * as sdk from '@aws-sdk/client-kms';
import type { GetKeyLastUsageRequest, GetKeyLastUsageResponse, KeyLastUsageTrackingOperation } from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import type { MetadataStore } from '../../storage/ports.js';
import { resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { keyAudit, noteResource, touchedResources } from './shared.js';
import { checks } from './validate.js';

const NS_USAGE = 'kms:usage';

interface Usage {
  operation: KeyLastUsageTrackingOperation;
  at: Date;
  requestId: string;
}

/**
 * Last successful cryptographic use per key, for GetKeyLastUsage. Kept in
 * memory on the request path and written in one transaction per flush (the
 * sweeper's tick), so Encrypt/Decrypt never wait on storage.
 */
export class UsageTracker {
  private pending = new Map<string, Usage>();

  constructor(private readonly meta: MetadataStore) {}

  note(arn: string, u: Usage): void {
    this.pending.set(arn, u);
  }

  async get(arn: string): Promise<Usage | undefined> {
    return this.pending.get(arn) ?? (await this.meta.read((tx) => tx.get<Usage>(NS_USAGE, arn)));
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.meta.write(async (tx) => {
        for (const [arn, u] of batch) await tx.put(NS_USAGE, arn, u);
      });
    } catch (e) {
      for (const [arn, u] of batch) if (!this.pending.has(arn)) this.pending.set(arn, u);
      throw e;
    }
  }
}

const TRACKED = new Set<string>(Object.values(sdk.KeyLastUsageTrackingOperation));

/** Wraps the tracked cryptographic operations so a success notes the keys it used. */
export function trackUsage(ops: Record<string, OperationSpec>, tracker: UsageTracker, clock: { now(): Date }): Record<string, OperationSpec> {
  const out: Record<string, OperationSpec> = {};
  for (const [name, spec] of Object.entries(ops)) {
    if (!TRACKED.has(name)) {
      out[name] = spec;
      continue;
    }
    out[name] = {
      ...spec,
      async handler(input: unknown, ctx: RequestContext) {
        const res: unknown = await spec.handler(input, ctx);
        const at = clock.now();
        for (const r of touchedResources(ctx)) tracker.note(r.ARN, { operation: name as KeyLastUsageTrackingOperation, at, requestId: ctx.requestId });
        return res;
      },
    };
  }
  return out;
}

export function lastUsageOperations(kms: Kms, tracker: UsageTracker): Record<string, OperationSpec> {
  return {
    GetKeyLastUsage: {
      schema: sdk.GetKeyLastUsage$,
      action: 'kms:GetKeyLastUsage',
      audit: keyAudit({ readOnly: true }),
      async handler(input: GetKeyLastUsageRequest, ctx): Promise<GetKeyLastUsageResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).done();
        const k = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, k.key.arn);
        await kms.access.authorize(ctx, k, 'GetKeyLastUsage');
        const u = await tracker.get(k.key.arn);
        return {
          KeyId: k.key.keyId,
          KeyCreationDate: k.key.createdAt,
          TrackingStartDate: k.key.createdAt,
          ...(u ? { KeyLastUsage: { Operation: u.operation, Timestamp: u.at, KmsRequestId: u.requestId } } : {}),
        };
      },
    },
  };
}
