/**
 * Enhanced fan-out consumers: registered per stream (at most 20), CREATING →
 * ACTIVE and DELETING → gone after the state delay. A consumer's ARN carries
 * its creation second, so a consumer registered again under the same name is
 * a different consumer (its old ARN no longer resolves).
 */
import type {
  Consumer,
  DeregisterStreamConsumerInput,
  DescribeStreamConsumerInput,
  DescribeStreamConsumerOutput,
  ListStreamConsumersInput,
  ListStreamConsumersOutput,
  RegisterStreamConsumerInput,
  RegisterStreamConsumerOutput,
} from '@aws-sdk/client-kinesis';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx } from '../../storage/ports.js';
import type { KinesisCore } from './core.js';
import { kinesisError, streamNotFound } from './errors.js';
import { NS_CONSUMER, NS_STREAM, parseArn, type ConsumerMeta, type StreamMeta } from './model.js';
import { checkTagChars } from './tags.js';
import { sealJson, unsealJson } from './tokens.js';
import { CONSUMER_ARN_PATTERN, NAME_PATTERN, StreamArnRule, StreamIdRule, TagsMapRule, check, type Rule } from './validate.js';

const MAX_CONSUMERS = 20;
const CONSUMER_NAME: Rule = { field: 'ConsumerName', pattern: NAME_PATTERN, lenMin: 1, lenMax: 128 };
const CONSUMER_ARN: Rule = { field: 'ConsumerARN', pattern: CONSUMER_ARN_PATTERN, lenMin: 1, lenMax: 2048 };

export function consumerOf(c: ConsumerMeta): Consumer {
  return { ConsumerName: c.name, ConsumerARN: c.arn, ConsumerStatus: c.status, ConsumerCreationTimestamp: new Date(Math.floor(c.createdMs / 1000) * 1000) };
}

/** The consumer named by ConsumerARN, or by StreamARN + ConsumerName. */
export async function findConsumer(
  core: KinesisCore,
  tx: ReadTx,
  input: { ConsumerARN?: string | undefined; StreamARN?: string | undefined; ConsumerName?: string | undefined },
): Promise<{ stream: StreamMeta; key: string; consumer: ConsumerMeta }> {
  const acct = core.account;
  let streamName: string;
  let consumerName: string;
  if (input.ConsumerARN !== undefined) {
    const p = parseArn(input.ConsumerARN);
    if (!p || p.consumer === undefined) throw kinesisError('InvalidArgumentException', `Invalid ConsumerARN: ${input.ConsumerARN}`);
    if (p.account !== acct) throw kinesisError('AccessDeniedException', `User is not authorized to access consumer ${input.ConsumerARN}: it belongs to account ${p.account}.`);
    streamName = p.stream;
    consumerName = p.consumer;
  } else if (input.StreamARN !== undefined && input.ConsumerName !== undefined) {
    const p = parseArn(input.StreamARN);
    if (!p || p.consumer !== undefined) throw kinesisError('InvalidArgumentException', `Invalid StreamARN: ${input.StreamARN}`);
    streamName = p.stream;
    consumerName = input.ConsumerName;
  } else {
    throw kinesisError('InvalidArgumentException', 'Either ConsumerARN or both ConsumerName and StreamARN must be provided.');
  }
  const stream = await tx.get<StreamMeta>(NS_STREAM, streamName);
  if (!stream) throw streamNotFound(streamName, acct);
  const key = `${stream.id}/${consumerName}`;
  const consumer = await tx.get<ConsumerMeta>(NS_CONSUMER, key);
  if (!consumer || (input.ConsumerARN !== undefined && consumer.arn !== input.ConsumerARN)) {
    throw kinesisError('ResourceNotFoundException', `Consumer ${input.ConsumerARN ?? consumerName} under account ${acct} not found.`);
  }
  return { stream, key, consumer };
}

export function consumerHandlers(core: KinesisCore) {
  const acct = core.account;
  return {
    async RegisterStreamConsumer(input: RegisterStreamConsumerInput, ctx: RequestContext): Promise<RegisterStreamConsumerOutput> {
      check(input, [{ ...StreamArnRule, notNull: true }, { ...CONSUMER_NAME, notNull: true }, StreamIdRule, { ...TagsMapRule, lenMax: 50 }]);
      const name = core.streamName({ StreamARN: input.StreamARN }, ctx);
      const consumerName = input.ConsumerName as string;
      if (input.Tags) checkTagChars(input.Tags, `Failed to register consumer ${consumerName} under account ${acct}`);
      let key = '';
      const c = await core.store.write(async (tx) => {
        const s = await core.getStream(tx, name);
        if (s.status !== 'ACTIVE' && s.status !== 'UPDATING') {
          throw kinesisError('ResourceInUseException', `Stream ${name} under account ${acct} not ACTIVE, instead in state ${s.status}`);
        }
        key = `${s.id}/${consumerName}`;
        if (await tx.get(NS_CONSUMER, key)) throw kinesisError('ResourceInUseException', `Consumer ${consumerName} under stream ${name} under account ${acct} already exists.`);
        const count = await tx.count(NS_CONSUMER, { prefix: `${s.id}/` });
        if (count >= MAX_CONSUMERS) {
          throw kinesisError('LimitExceededException', `Consumer count limit of ${MAX_CONSUMERS} exceeded for stream ${name} under account ${acct}.`);
        }
        const now = core.clock.nowMs();
        const meta: ConsumerMeta = {
          name: consumerName,
          arn: `${s.arn}/consumer/${consumerName}:${Math.floor(now / 1000)}`,
          streamId: s.id,
          streamName: s.name,
          streamArn: s.arn,
          status: 'CREATING',
          createdMs: now,
          dueMs: now + core.opts.stateDelayMs,
          tags: { ...input.Tags },
        };
        await tx.put(NS_CONSUMER, key, meta);
        return meta;
      });
      core.lifecycle?.schedule(`c:${key}`);
      return { Consumer: consumerOf(c) };
    },

    async DescribeStreamConsumer(input: DescribeStreamConsumerInput, _ctx: RequestContext): Promise<DescribeStreamConsumerOutput> {
      check(input, [StreamArnRule, CONSUMER_NAME, CONSUMER_ARN, StreamIdRule]);
      const { consumer: c } = await core.store.read((tx) => findConsumer(core, tx, input));
      return { ConsumerDescription: { ...consumerOf(c), StreamARN: c.streamArn } };
    },

    async ListStreamConsumers(input: ListStreamConsumersInput, ctx: RequestContext): Promise<ListStreamConsumersOutput> {
      check(input, [{ ...StreamArnRule, notNull: true }, { field: 'NextToken', lenMin: 1, lenMax: 1048576 }, { field: 'MaxResults', min: 1, max: 10000 }, StreamIdRule]);
      const now = core.clock.nowMs();
      const name = core.streamName({ StreamARN: input.StreamARN }, ctx);
      let after: string | undefined;
      if (input.NextToken !== undefined) {
        const t = unsealJson<{ a: string; s: string }>(core.iteratorKey, input.NextToken, now, 300_000);
        if (!t.ok) {
          if (t.expired) throw kinesisError('ExpiredNextTokenException', 'The nextToken has expired.');
          throw kinesisError('InvalidArgumentException', 'Invalid NextToken.');
        }
        if (t.value.s !== name) throw kinesisError('InvalidArgumentException', 'NextToken was issued for another stream.');
        after = t.value.a;
      }
      const max = input.MaxResults ?? 100;
      const rows = await core.store.read(async (tx) => {
        const s = await core.getStream(tx, name);
        if (input.StreamCreationTimestamp !== undefined && Math.floor(input.StreamCreationTimestamp.getTime() / 1000) !== Math.floor(s.createdMs / 1000)) {
          throw kinesisError('ResourceNotFoundException', `Stream ${name} created at ${input.StreamCreationTimestamp.toISOString()} under account ${acct} not found.`);
        }
        return tx.scan<ConsumerMeta>(NS_CONSUMER, { prefix: `${s.id}/`, ...(after !== undefined ? { startAfter: `${s.id}/${after}` } : {}), limit: max + 1 });
      });
      const page = rows.slice(0, max).map((r) => r.value);
      const out: ListStreamConsumersOutput = { Consumers: page.map(consumerOf) };
      const last = page[page.length - 1];
      if (rows.length > max && last) out.NextToken = sealJson(core.iteratorKey, { a: last.name, s: name }, now);
      return out;
    },

    async DeregisterStreamConsumer(input: DeregisterStreamConsumerInput, _ctx: RequestContext): Promise<Record<string, never>> {
      check(input, [StreamArnRule, CONSUMER_NAME, CONSUMER_ARN, StreamIdRule]);
      const key = await core.store.write(async (tx) => {
        const f = await findConsumer(core, tx, input);
        if (f.consumer.status === 'DELETING') return f.key;
        f.consumer.status = 'DELETING';
        f.consumer.dueMs = core.clock.nowMs() + core.opts.stateDelayMs;
        await tx.put(NS_CONSUMER, f.key, f.consumer);
        return f.key;
      });
      core.lifecycle?.schedule(`c:${key}`);
      core.subscriptions?.closeConsumer(key);
      return {};
    },
  };
}
