/**
 * Deliveries act as the destination's RoleARN, as Firehose does: the role's
 * trust policy must let firehose.amazonaws.com assume it, and each object
 * written is allowed by the role's policies (s3:PutObject on the object's
 * ARN). A role that is missing, not trusted or not allowed fails the
 * delivery: the records stay buffered and are retried with backoff (logged
 * and counted in hanul_firehose_delivery_failures_total).
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

/** Checks that the context's role may write this object (contexts without a role: hanul's own writes). */
export async function checkPut(ctx: RequestContext, bucketArn: string | undefined, key: string): Promise<void> {
  const actor = actors.get(ctx);
  if (!actor) return;
  const resource = `arn:aws:s3:::${bucketOf(bucketArn) ?? ''}/${key}`;
  const d = await actor.decide({ action: 's3:PutObject', resource });
  if (!d.allowed) throw new DeliveryRoleError(`Access Denied: ${actor.principal.arn} is not authorized to perform s3:PutObject on ${resource}.`);
}
