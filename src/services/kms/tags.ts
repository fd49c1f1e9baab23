import * as sdk from '@aws-sdk/client-kms';
import type { ListResourceTagsRequest, ListResourceTagsResponse, Tag, TagResourceRequest, UntagResourceRequest } from '@aws-sdk/client-kms';
import type { OperationSpec } from '../../aws/service.js';
import { kmsError } from './errors.js';
import { setState } from './mutate.js';
import { requireState, resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { keyAudit, noteResource } from './shared.js';
import { checks } from './validate.js';

const MAX_TAGS = 50;

/** Tag keys 1–128, values 0–256 characters; `aws:` is reserved. */
export function checkTags(tags: readonly Tag[] | undefined): void {
  if (!tags) return;
  const c = checks();
  tags.forEach((t, i) => {
    c.required(t.TagKey, `tags.${i + 1}.member.tagKey`).length(t.TagKey, `tags.${i + 1}.member.tagKey`, 1, 128);
    c.required(t.TagValue, `tags.${i + 1}.member.tagValue`).length(t.TagValue, `tags.${i + 1}.member.tagValue`, 0, 256);
  });
  c.done();
  for (const t of tags) if (t.TagKey?.toLowerCase().startsWith('aws:')) throw kmsError('TagException', 'Tags beginning with aws: are reserved and cannot be used.');
  if (new Set(tags.map((t) => t.TagKey)).size !== tags.length) throw kmsError('TagException', 'Duplicate tag keys are not allowed.');
  if (tags.length > MAX_TAGS) throw kmsError('LimitExceededException', `A KMS key can have at most ${MAX_TAGS} tags.`);
}

export function tagOperations(kms: Kms): Record<string, OperationSpec> {
  return {
    TagResource: {
      schema: sdk.TagResource$,
      action: 'kms:TagResource',
      audit: keyAudit({ request: (i: TagResourceRequest) => ({ keyId: i.KeyId, tags: i.Tags }) }),
      async handler(input: TagResourceRequest, ctx) {
        checks().required(input.Tags, 'tags').done();
        checkTags(input.Tags);
        await setState(kms, ctx, input.KeyId, 'TagResource', (k) => {
          requireState(k);
          const merged = new Map(k.tags.map((t) => [t.TagKey as string, t]));
          for (const t of input.Tags ?? []) merged.set(t.TagKey as string, { TagKey: t.TagKey, TagValue: t.TagValue });
          if (merged.size > MAX_TAGS) throw kmsError('LimitExceededException', `A KMS key can have at most ${MAX_TAGS} tags.`);
          k.tags = [...merged.values()];
        });
        return {};
      },
    },
    UntagResource: {
      schema: sdk.UntagResource$,
      action: 'kms:UntagResource',
      audit: keyAudit({ request: (i: UntagResourceRequest) => ({ keyId: i.KeyId, tagKeys: i.TagKeys }) }),
      async handler(input: UntagResourceRequest, ctx) {
        checks().required(input.TagKeys, 'tagKeys').done();
        const drop = new Set(input.TagKeys ?? []);
        await setState(kms, ctx, input.KeyId, 'UntagResource', (k) => {
          requireState(k);
          k.tags = k.tags.filter((t) => !drop.has(t.TagKey as string));
        });
        return {};
      },
    },
    ListResourceTags: {
      schema: sdk.ListResourceTags$,
      action: 'kms:ListResourceTags',
      audit: keyAudit({ readOnly: true }),
      async handler(input: ListResourceTagsRequest, ctx): Promise<ListResourceTagsResponse> {
        checks().required(input.KeyId, 'keyId').length(input.KeyId, 'keyId', 1, 2048).range(input.Limit, 'limit', 1, 50).done();
        const k = await resolveKey(kms, ctx, input.KeyId as string, 'key');
        noteResource(ctx, k.key.arn);
        await kms.access.authorize(ctx, k, 'ListResourceTags');
        const sorted = [...k.key.tags].sort((a, b) => ((a.TagKey ?? '') < (b.TagKey ?? '') ? -1 : 1));
        const start = input.Marker !== undefined ? Number(Buffer.from(input.Marker, 'base64url').toString()) : 0;
        if (!Number.isInteger(start) || start < 0) throw kmsError('InvalidMarkerException', 'The request was rejected because the marker that specifies where pagination should next begin is not valid.');
        const limit = input.Limit ?? 50;
        const page = sorted.slice(start, start + limit);
        const truncated = start + limit < sorted.length;
        return { Tags: page, Truncated: truncated, ...(truncated ? { NextMarker: Buffer.from(String(start + limit)).toString('base64url') } : {}) };
      },
    },
  };
}
