/**
 * Tags (the stream-only operations and the newer ARN-based ones, which also
 * reach consumers) and resource policies (stored here; the IAM engine
 * evaluates them).
 */
import type {
  AddTagsToStreamInput,
  DeleteResourcePolicyInput,
  GetResourcePolicyInput,
  GetResourcePolicyOutput,
  ListTagsForResourceInput,
  ListTagsForResourceOutput,
  ListTagsForStreamInput,
  ListTagsForStreamOutput,
  PutResourcePolicyInput,
  RemoveTagsFromStreamInput,
  TagResourceInput,
  UntagResourceInput,
} from '@aws-sdk/client-kinesis';
import type { RequestContext } from '../../server/context.js';
import type { WriteTx } from '../../storage/ports.js';
import type { KinesisCore } from './core.js';
import { kinesisError, streamNotFound } from './errors.js';
import { NS_CONSUMER, NS_STREAM, parseArn, type ConsumerMeta, type StreamMeta } from './model.js';
import { STREAM_REF, TagsMapRule, check, type Rule } from './validate.js';

const MAX_TAGS = 50;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@%]*$/u;
const RESOURCE_ARN: Rule = { field: 'ResourceARN', notNull: true, lenMin: 1, lenMax: 2048, pattern: 'arn:aws.*:kinesis:.*:\\d{12}:.*stream\\/\\S+' };
const TAG_KEYS: Rule = { field: 'TagKeys', notNull: true, lenMin: 1, lenMax: 50 };

export function checkTagChars(tags: Record<string, string>, what: string): void {
  for (const [k, v] of Object.entries(tags)) {
    if (!TAG_CHARS.test(k) || !TAG_CHARS.test(v)) {
      throw kinesisError('InvalidArgumentException', `${what} because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','=','.',':','@','%'.`);
    }
  }
}

type Resource = { kind: 'stream'; key: string; meta: StreamMeta } | { kind: 'consumer'; key: string; meta: ConsumerMeta };

export function tagHandlers(core: KinesisCore) {
  const acct = core.account;

  /** The stream or consumer an ARN names, inside a transaction. */
  async function resource(tx: WriteTx, arn: string): Promise<Resource> {
    const p = parseArn(arn);
    if (!p) throw kinesisError('InvalidArgumentException', `Invalid ResourceARN: ${arn}`);
    if (p.account !== acct) throw kinesisError('AccessDeniedException', `User is not authorized to access resource ${arn}: it belongs to account ${p.account}.`);
    const s = await tx.get<StreamMeta>(NS_STREAM, p.stream);
    if (!s) throw streamNotFound(p.stream, acct);
    if (p.consumer === undefined) return { kind: 'stream', key: s.name, meta: s };
    const key = `${s.id}/${p.consumer}`;
    const c = await tx.get<ConsumerMeta>(NS_CONSUMER, key);
    if (!c || c.arn !== arn) throw kinesisError('ResourceNotFoundException', `Consumer ${arn} under account ${acct} not found.`);
    return { kind: 'consumer', key, meta: c };
  }

  async function save(tx: WriteTx, r: Resource): Promise<void> {
    await tx.put(r.kind === 'stream' ? NS_STREAM : NS_CONSUMER, r.key, r.meta);
  }

  function addTags(meta: { tags: Record<string, string> }, tags: Record<string, string>, what: string): void {
    checkTagChars(tags, what);
    const merged = { ...meta.tags, ...tags };
    if (Object.keys(merged).length > MAX_TAGS) throw kinesisError('LimitExceededException', `${what} because a given stream cannot have more than ${MAX_TAGS} tags associated with it.`);
    meta.tags = merged;
  }

  return {
    async AddTagsToStream(input: AddTagsToStreamInput, ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [{ ...TagsMapRule, notNull: true, lenMax: 10 }, ...STREAM_REF]);
      const name = core.streamName(input, ctx);
      await core.store.write(async (tx) => {
        const s = await core.getStream(tx, name);
        addTags(s, input.Tags as Record<string, string>, `Failed to add tags to stream ${name} under account ${acct}`);
        await tx.put(NS_STREAM, name, s);
      });
      return {};
    },

    async RemoveTagsFromStream(input: RemoveTagsFromStreamInput, ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [{ ...TAG_KEYS, lenMax: 10 }, ...STREAM_REF]);
      const name = core.streamName(input, ctx);
      await core.store.write(async (tx) => {
        const s = await core.getStream(tx, name);
        for (const k of input.TagKeys as string[]) delete s.tags[k];
        await tx.put(NS_STREAM, name, s);
      });
      return {};
    },

    async ListTagsForStream(input: ListTagsForStreamInput, ctx: RequestContext): Promise<ListTagsForStreamOutput> {
      check(input, [...STREAM_REF, { field: 'ExclusiveStartTagKey', lenMin: 1, lenMax: 128 }, { field: 'Limit', min: 1, max: 50 }]);
      const name = core.streamName(input, ctx);
      const s = await core.store.read((tx) => core.getStream(tx, name));
      const after = input.ExclusiveStartTagKey;
      const keys = Object.keys(s.tags)
        .sort()
        .filter((k) => after === undefined || k > after);
      const limit = input.Limit ?? 50;
      return { Tags: keys.slice(0, limit).map((k) => ({ Key: k, Value: s.tags[k] as string })), HasMoreTags: keys.length > limit };
    },

    async TagResource(input: TagResourceInput, _ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [{ ...TagsMapRule, notNull: true }, RESOURCE_ARN]);
      await core.store.write(async (tx) => {
        const r = await resource(tx, input.ResourceARN as string);
        addTags(r.meta, input.Tags as Record<string, string>, `Failed to add tags to resource ${input.ResourceARN} under account ${acct}`);
        await save(tx, r);
      });
      return {};
    },

    async UntagResource(input: UntagResourceInput, _ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [TAG_KEYS, RESOURCE_ARN]);
      await core.store.write(async (tx) => {
        const r = await resource(tx, input.ResourceARN as string);
        for (const k of input.TagKeys as string[]) delete r.meta.tags[k];
        await save(tx, r);
      });
      return {};
    },

    async ListTagsForResource(input: ListTagsForResourceInput, _ctx: RequestContext): Promise<ListTagsForResourceOutput> {
      check(input, [RESOURCE_ARN]);
      const r = await core.store.write((tx) => resource(tx, input.ResourceARN as string));
      return { Tags: Object.keys(r.meta.tags).sort().map((k) => ({ Key: k, Value: r.meta.tags[k] as string })) };
    },

    async PutResourcePolicy(input: PutResourcePolicyInput, _ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [RESOURCE_ARN, { field: 'Policy', notNull: true, lenMin: 1, lenMax: 20480 }]);
      const policy = input.Policy as string;
      let parsed: unknown;
      try {
        parsed = JSON.parse(policy);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || !('Statement' in parsed)) {
        throw kinesisError('InvalidArgumentException', 'Policy document is invalid: it must be a JSON object with a Statement.');
      }
      await core.store.write(async (tx) => {
        const r = await resource(tx, input.ResourceARN as string);
        (r.meta as { policy?: string }).policy = policy;
        await save(tx, r);
      });
      return {};
    },

    async GetResourcePolicy(input: GetResourcePolicyInput, _ctx: RequestContext): Promise<GetResourcePolicyOutput> {
      check(input, [RESOURCE_ARN]);
      const r = await core.store.write((tx) => resource(tx, input.ResourceARN as string));
      return { Policy: (r.meta as { policy?: string }).policy ?? '{}' };
    },

    async DeleteResourcePolicy(input: DeleteResourcePolicyInput, _ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [RESOURCE_ARN]);
      await core.store.write(async (tx) => {
        const r = await resource(tx, input.ResourceARN as string);
        const m = r.meta as { policy?: string };
        if (m.policy === undefined) throw kinesisError('ResourceNotFoundException', `No resource policy found for resource ${input.ResourceARN}.`);
        delete m.policy;
        await save(tx, r);
      });
      return {};
    },
  };
}
