import { createHash } from 'node:crypto';

/**
 * hanul's API endpoint as a protectable resource, shaped as an Application
 * Load Balancer ARN (stable for an account and region), so tools that
 * protect ALBs work; shown by /_hanul/health and the start banner.
 */
export function endpointArn(region: string, accountId: string): string {
  const id = createHash('sha256').update(`hanul-endpoint:${accountId}:${region}`).digest('hex').slice(0, 16);
  return `arn:aws:elasticloadbalancing:${region}:${accountId}:loadbalancer/app/hanul/${id}`;
}
