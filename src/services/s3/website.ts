/**
 * Put/Get/DeleteBucketWebsite: the configuration and S3's validation of it.
 * Serving lives in website-serve.ts.
 */
import type { DeleteBucketWebsiteRequest, GetBucketWebsiteOutput, GetBucketWebsiteRequest, PutBucketWebsiteRequest, RoutingRule } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { malformedXml, s3Error } from './errors.js';
import { NS_BUCKETS, type WebsiteConfig } from './model.js';
import { requireBucket, type S3 } from './state.js';

const MAX_ROUTING_RULES = 50;
const PROTOCOLS = new Set(['http', 'https']);

const invalidRequest = (message: string) => s3Error('InvalidRequest', message);
const invalidArgument = (message: string, name: string, value?: string) => s3Error('InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });

function checkProtocol(p: string | undefined): void {
  if (p !== undefined && !PROTOCOLS.has(p)) throw invalidArgument(`Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.`, 'Protocol', p);
}

function checkRoutingRule(r: RoutingRule): RoutingRule {
  const redirect = r.Redirect;
  if (!redirect) throw malformedXml();
  const out: RoutingRule = { Redirect: {} };
  if (r.Condition) {
    const c = r.Condition;
    if (c.KeyPrefixEquals === undefined && c.HttpErrorCodeReturnedEquals === undefined) {
      throw invalidRequest("Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.");
    }
    if (c.HttpErrorCodeReturnedEquals !== undefined) {
      const code = Number(c.HttpErrorCodeReturnedEquals);
      if (!/^\d{3}$/.test(c.HttpErrorCodeReturnedEquals) || code < 400 || code > 599) {
        throw invalidArgument(`The provided HTTP error code (${c.HttpErrorCodeReturnedEquals}) is not valid. Valid codes are 4XX or 5XX.`, 'HttpErrorCodeReturnedEquals', c.HttpErrorCodeReturnedEquals);
      }
    }
    out.Condition = { ...c };
  }
  if (redirect.ReplaceKeyWith !== undefined && redirect.ReplaceKeyPrefixWith !== undefined) {
    throw invalidRequest('You can only define ReplaceKeyPrefix or ReplaceKey but not both.');
  }
  checkProtocol(redirect.Protocol);
  if (redirect.HttpRedirectCode !== undefined) {
    const code = Number(redirect.HttpRedirectCode);
    if (!/^\d{3}$/.test(redirect.HttpRedirectCode) || code < 301 || code > 399) {
      throw invalidArgument(`The provided HTTP redirect code (${redirect.HttpRedirectCode}) is not valid. Valid codes are 3XX except 300.`, 'HttpRedirectCode', redirect.HttpRedirectCode);
    }
  }
  if (Object.values(redirect).every((v) => v === undefined)) throw invalidRequest('Redirect cannot be empty');
  out.Redirect = { ...redirect };
  return out;
}

/** Validates a website configuration as S3 does. */
export function checkWebsite(w: PutBucketWebsiteRequest['WebsiteConfiguration']): WebsiteConfig {
  if (!w) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const all = w.RedirectAllRequestsTo;
  if (all) {
    if (w.IndexDocument || w.ErrorDocument || w.RoutingRules?.length) {
      throw invalidRequest('RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.');
    }
    if (!all.HostName) throw malformedXml();
    checkProtocol(all.Protocol);
    return { RedirectAllRequestsTo: { ...all } };
  }
  if (!w.IndexDocument) throw invalidArgument('A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty', 'IndexDocument');
  const suffix = w.IndexDocument.Suffix;
  if (suffix === undefined || suffix === '' || suffix.includes('/')) {
    throw invalidArgument('The IndexDocument Suffix is not well formed', 'IndexDocument', suffix);
  }
  const out: WebsiteConfig = { IndexDocument: { Suffix: suffix } };
  if (w.ErrorDocument) {
    const key = w.ErrorDocument.Key;
    if (key === undefined || key === '') throw invalidArgument('The ErrorDocument Key is not well formed', 'ErrorDocument', key);
    out.ErrorDocument = { Key: key };
  }
  if (w.RoutingRules) {
    if (w.RoutingRules.length > MAX_ROUTING_RULES) throw invalidRequest(`The number of routing rules must not exceed the allowed limit of ${MAX_ROUTING_RULES} rules`);
    if (w.RoutingRules.length > 0) out.RoutingRules = w.RoutingRules.map(checkRoutingRule);
  }
  return out;
}

export async function putBucketWebsite(s3: S3, input: PutBucketWebsiteRequest, ctx: RequestContext): Promise<Record<string, never>> {
  const website = checkWebsite(input.WebsiteConfiguration);
  await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    await tx.put(NS_BUCKETS, bucket.name, { ...bucket, website });
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}

export async function getBucketWebsite(s3: S3, input: GetBucketWebsiteRequest, ctx: RequestContext): Promise<GetBucketWebsiteOutput> {
  const bucket = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (!bucket.website) throw noSuchWebsiteConfiguration(bucket.name);
  return { ...bucket.website };
}

export async function deleteBucketWebsite(s3: S3, input: DeleteBucketWebsiteRequest, ctx: RequestContext): Promise<Record<string, never>> {
  await s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    const { website: _drop, ...rest } = bucket;
    await tx.put(NS_BUCKETS, bucket.name, rest);
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}

export const noSuchWebsiteConfiguration = (bucket: string) =>
  s3Error('NoSuchWebsiteConfiguration', 'The specified bucket does not have a website configuration', { BucketName: bucket });
