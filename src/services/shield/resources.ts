import type { RequestContext } from '../../server/context.js';
import { shieldError } from './errors.js';

import { endpointArn } from '../../server/shield/endpoint.js';

/**
 * hanul's protectable resources: the API endpoint itself (an ALB-shaped ARN,
 * src/server/shield/endpoint.ts) and each bucket's website endpoint as
 * `arn:aws:s3:::<bucket>` (a hanul extension).
 */
export { endpointArn };

export type ResourceKind = 'APPLICATION_LOAD_BALANCER' | 'S3_BUCKET_WEBSITE';

export function kindOf(arn: string): ResourceKind | undefined {
  if (arn.startsWith('arn:aws:elasticloadbalancing:')) return 'APPLICATION_LOAD_BALANCER';
  if (/^arn:aws:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(arn)) return 'S3_BUCKET_WEBSITE';
  return undefined;
}

export function bucketOf(arn: string): string | undefined {
  return arn.startsWith('arn:aws:s3:::') ? arn.slice('arn:aws:s3:::'.length) : undefined;
}

/** Throws Shield's errors for ARNs hanul cannot protect or that do not exist. */
export async function checkProtectable(arn: string, ctx: RequestContext): Promise<ResourceKind> {
  if (!/^arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+/.test(arn) || arn.length > 2048) {
    throw shieldError('InvalidParameterException', `Invalid ResourceArn: ${arn}`, { reason: 'FIELD_VALIDATION_FAILED' });
  }
  const kind = kindOf(arn);
  if (!kind) throw shieldError('InvalidResourceException', `Unrecognized resource ${arn}. hanul can protect its API endpoint (${endpointArn(ctx.region, ctx.accountId)}) and S3 bucket website endpoints (arn:aws:s3:::<bucket>).`);
  if (kind === 'APPLICATION_LOAD_BALANCER' && arn !== endpointArn(ctx.region, ctx.accountId)) {
    throw shieldError('ResourceNotFoundException', `The resource ${arn} does not exist.`, { resourceType: 'loadbalancer' });
  }
  if (kind === 'S3_BUCKET_WEBSITE') {
    const bucket = bucketOf(arn) as string;
    let exists = true;
    if (ctx.peers) {
      exists = await ctx.peers.call('s3', 'HeadBucket', { Bucket: bucket }, ctx).then(() => true, (e: { code?: string }) => e.code !== 'NoSuchBucket' && e.code !== 'NotFound');
    }
    if (!exists) throw shieldError('ResourceNotFoundException', `The resource ${arn} does not exist.`, { resourceType: 'bucket' });
  }
  return kind;
}

/** Whether a request (by host and path) is addressed to `bucket`. */
export function requestHitsBucket(bucket: string, hostname: string, path: string): boolean {
  if (hostname.startsWith(bucket + '.')) return true;
  return path === '/' + bucket || path.startsWith('/' + bucket + '/');
}
