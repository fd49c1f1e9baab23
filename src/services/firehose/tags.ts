/** TagDeliveryStream, UntagDeliveryStream, ListTagsForDeliveryStream: at most 50 tags a stream. */
import type {
  ListTagsForDeliveryStreamInput,
  ListTagsForDeliveryStreamOutput,
  Tag,
  TagDeliveryStreamInput,
  UntagDeliveryStreamInput,
} from '@aws-sdk/client-firehose';
import type { FirehoseCore } from './core.js';
import { constraint, firehoseError } from './errors.js';
import { NS_STREAM } from './model.js';
import { checkStreamName } from './validate.js';

const MAX_TAGS = 50;

export function checkTags(tags: Tag[]): Tag[] {
  if (tags.length > MAX_TAGS) throw constraint(`[${tags.length} tags]`, 'tags', `Member must have length less than or equal to ${MAX_TAGS}`);
  for (const t of tags) {
    if (!t.Key || t.Key.length > 128) throw constraint(String(t.Key), 'tags.member.key', 'Member must have length between 1 and 128');
    if (t.Key.startsWith('aws:')) throw firehoseError('InvalidArgumentException', `Tag key ${t.Key} is reserved: keys cannot begin with 'aws:'.`);
    if (t.Value !== undefined && t.Value.length > 256) throw constraint(t.Value, 'tags.member.value', 'Member must have length less than or equal to 256');
  }
  return tags.map((t) => ({ Key: t.Key, Value: t.Value ?? '' }));
}

export function tagHandlers(core: FirehoseCore) {
  return {
    async TagDeliveryStream(input: TagDeliveryStreamInput): Promise<Record<string, never>> {
      const name = checkStreamName(input.DeliveryStreamName);
      const add = checkTags(input.Tags ?? []);
      if (add.length === 0) throw constraint('[]', 'tags', 'Member must have length greater than or equal to 1');
      await core.store.write(async (tx) => {
        const s = await core.getStream(tx, name);
        const map = new Map(s.tags.map((t) => [t.Key, t.Value]));
        for (const t of add) map.set(t.Key, t.Value);
        if (map.size > MAX_TAGS) throw firehoseError('LimitExceededException', `Exceeded the limit of ${MAX_TAGS} tags for Firehose ${name}.`);
        s.tags = [...map].map(([Key, Value]) => ({ Key, Value }));
        await tx.put(NS_STREAM, name, s);
      });
      return {};
    },
    async UntagDeliveryStream(input: UntagDeliveryStreamInput): Promise<Record<string, never>> {
      const name = checkStreamName(input.DeliveryStreamName);
      const keys = input.TagKeys ?? [];
      if (keys.length < 1 || keys.length > MAX_TAGS) throw constraint(`[${keys.length} keys]`, 'tagKeys', 'Member must have length between 1 and 50');
      await core.store.write(async (tx) => {
        const s = await core.getStream(tx, name);
        s.tags = s.tags.filter((t) => !keys.includes(t.Key as string));
        await tx.put(NS_STREAM, name, s);
      });
      return {};
    },
    async ListTagsForDeliveryStream(input: ListTagsForDeliveryStreamInput): Promise<ListTagsForDeliveryStreamOutput> {
      const name = checkStreamName(input.DeliveryStreamName);
      const limit = input.Limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 50) throw constraint(String(limit), 'limit', 'Member must have value between 1 and 50');
      const s = await core.store.read((tx) => core.getStream(tx, name));
      const sorted = [...s.tags].sort((a, b) => ((a.Key as string) < (b.Key as string) ? -1 : 1));
      const after = input.ExclusiveStartTagKey;
      const rest = after === undefined ? sorted : sorted.filter((t) => (t.Key as string) > after);
      return { Tags: rest.slice(0, limit), HasMoreTags: rest.length > limit };
    },
  };
}
