/**
 * Firehose acts with the customer's roles, as AWS does: deliveries as the
 * destination's RoleARN (the S3 backup as the backup configuration's own),
 * reads of a Kinesis source as the source's RoleARN. Each role's trust policy
 * must let firehose.amazonaws.com assume it, and each action is allowed by the
 * role's policies together with the resource's own policy (the bucket policy
 * and ACL grants; the stream's resource policy) — a Deny in either wins. A
 * role that is missing, not trusted or not allowed fails the delivery (the
 * records stay buffered and are retried with backoff, counted in
 * hanul_firehose_delivery_failures_total) or the source read (retried on the
 * next poll, counted in hanul_firehose_source_failures_total).
 */
import { actAsRole, type RoleActor } from '../../iam/service-roles.js';
import type { RequestContext } from '../../server/context.js';
import type { FirehoseCore } from './core.js';
import { bucketOf } from './model.js';

export const SERVICE_PRINCIPAL = 'firehose.amazonaws.com';

/** The role each delivery context acts as (background contexts are made per delivery). */
const actors = new WeakMap<RequestContext, RoleActor>();

export class DeliveryRoleError extends Error {
  override name = 'DeliveryRoleError';
}

/** A background context whose principal is a session of `roleArn`. */
export async function roleContext(core: FirehoseCore, roleArn: string | undefined, operation: string): Promise<RequestContext> {
  if (roleArn === undefined) throw new DeliveryRoleError('The destination has no RoleARN.');
  const r = await actAsRole(core.deps, roleArn, SERVICE_PRINCIPAL, `Firehose-${core.region}`);
  if (!r.ok) {
    throw new DeliveryRoleError(r.reason === 'no-such-role'
      ? `Role ${roleArn} does not exist.`
      : `Firehose is unable to assume role ${roleArn}: its trust policy does not allow ${SERVICE_PRINCIPAL} to call sts:AssumeRole.`);
  }
  const ctx: RequestContext = { ...core.backgroundCtx(operation), principal: r.actor.principal };
  actors.set(ctx, r.actor);
  return ctx;
}

/**
 * Checks that the context's role may take `action` on `resource`, with the owning service's
 * resource policy (contexts without a role: hanul's own background work).
 */
export async function checkAction(core: FirehoseCore, ctx: RequestContext, service: string, action: string, resource: string): Promise<void> {
  const actor = actors.get(ctx);
  if (!actor) return;
  const policy = await core.peers?.resourcePolicy(service, resource, ctx);
  const d = await actor.decide({ action, resource }, policy);
  if (!d.allowed) throw new DeliveryRoleError(`Access Denied: ${actor.principal.arn} is not authorized to perform ${action} on ${resource}.`);
}

/** Checks that the context's role may write this object. */
export function checkPut(core: FirehoseCore, ctx: RequestContext, bucketArn: string | undefined, key: string): Promise<void> {
  return checkAction(core, ctx, 's3', 's3:PutObject', `arn:aws:s3:::${bucketOf(bucketArn) ?? ''}/${key}`);
}
