/**
 * Two bucket settings: Transfer Acceleration (Put/GetBucketAccelerateConfiguration)
 * and Requester Pays (Put/GetBucketRequestPayment), with its enforcement.
 *
 * Acceleration itself is an AWS edge network: hanul stores and returns the
 * state faithfully, as S3 validates it. Requester Pays is enforced: on such a
 * bucket a request from outside the owner's account must say
 * `x-amz-request-payer: requester` (else 403 AccessDenied) and is answered
 * with `x-amz-request-charged: requester`; anonymous requests are refused.
 * The check sits where the authorizer already holds the cached bucket record
 * (s3-authz.ts), as one field test for buckets without the setting.
 */
import type {
  GetBucketAccelerateConfigurationOutput,
  GetBucketAccelerateConfigurationRequest,
  GetBucketRequestPaymentOutput,
  GetBucketRequestPaymentRequest,
  PutBucketAccelerateConfigurationRequest,
  PutBucketRequestPaymentRequest,
} from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { updateBucket } from './bucket-config.js';
import { malformedXml, s3Error } from './errors.js';
import type { BucketRecord } from './model.js';
import { requireBucket, type S3 } from './state.js';

export async function putBucketAccelerateConfiguration(s3: S3, input: PutBucketAccelerateConfigurationRequest, ctx: RequestContext): Promise<Record<string, never>> {
  if (!input.AccelerateConfiguration) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const status = input.AccelerateConfiguration.Status;
  if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml();
  await updateBucket(s3, input.Bucket, ctx, (b) => {
    // Acceleration endpoints are virtual-hosted names under a wildcard certificate: a dot in the name breaks both.
    if (b.name.includes('.')) throw s3Error('InvalidRequest', 'S3 Transfer Acceleration is not supported for buckets with periods (.) in their names');
    return { ...b, accelerate: status };
  });
  return {};
}

export async function getBucketAccelerateConfiguration(s3: S3, input: GetBucketAccelerateConfigurationRequest, ctx: RequestContext): Promise<GetBucketAccelerateConfigurationOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  // Never set: S3 answers an empty <AccelerateConfiguration/>.
  return b.accelerate ? { Status: b.accelerate } : {};
}

export async function putBucketRequestPayment(s3: S3, input: PutBucketRequestPaymentRequest, ctx: RequestContext): Promise<Record<string, never>> {
  if (!input.RequestPaymentConfiguration) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  const payer = input.RequestPaymentConfiguration.Payer;
  if (payer !== 'Requester' && payer !== 'BucketOwner') throw malformedXml();
  await updateBucket(s3, input.Bucket, ctx, (b) => {
    const { requestPayer: _drop, ...rest } = b;
    return payer === 'Requester' ? { ...rest, requestPayer: 'Requester' } : rest;
  });
  return {};
}

export async function getBucketRequestPayment(s3: S3, input: GetBucketRequestPaymentRequest, ctx: RequestContext): Promise<GetBucketRequestPaymentOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  return { Payer: b.requestPayer ?? 'BucketOwner' };
}

/**
 * Requests (their contexts) the authorizer found aimed at a Requester Pays
 * bucket from outside its owner's account: the operation must carry
 * `RequestPayer` (checked by `payerCheck` once the input is at hand).
 */
const chargeable = new WeakSet<object>();
/** How many contexts were ever marked: while 0, `payerCheck` costs one number compare. */
let marked = 0;

/** Called by the authorizer with a bucket whose `requestPayer` is set: anonymous callers are refused, others marked. */
export function requesterPays(b: BucketRecord, ctx: RequestContext): void {
  const p = ctx.principal;
  if (p.type === 'anonymous') throw s3Error('AccessDenied', 'Access Denied');
  if (p.accountId === b.ownerAccount) return;
  chargeable.add(ctx);
  marked++;
}

/**
 * For a request the authorizer marked: refuses it without
 * `x-amz-request-payer: requester`; else answers `true` (the response says
 * `x-amz-request-charged: requester`). `false` for every other request.
 */
export function payerCheck(input: Record<string, unknown>, ctx: RequestContext): boolean {
  if (marked === 0 || !chargeable.has(ctx)) return false;
  const payer = input['RequestPayer'];
  if (typeof payer !== 'string' || payer.toLowerCase() !== 'requester') throw s3Error('AccessDenied', 'Access Denied');
  return true;
}

/** Adds `RequestCharged` to an operation's output (encoded as `x-amz-request-charged` where the operation has it). */
export function charged(out: unknown): unknown {
  if (out instanceof Promise) return out.then(charged);
  if (out !== null && typeof out === 'object') (out as Record<string, unknown>)['RequestCharged'] = 'requester';
  return out;
}
