import { AwsError } from '../aws/errors.js';
import type { ConditionValues, OperationSpec, ResourcePolicy, ServiceDefinition } from '../aws/service.js';
import type { Authorizer } from '../server/pipeline.js';
import type { RequestContext } from '../server/context.js';
import { defaultAction, defaultConditions, defaultResource, versionedAction } from './defaults.js';
import type { CompiledPolicy } from './policy/document.js';
import { normalizeIp } from './policy/conditions.js';
import { decide, deniedMessage, type Decision, type PolicySet } from './policy/evaluate.js';
import type { ContextKeys } from './policy/variables.js';
import { iamRuntime, loadedIamRuntime, type IamRuntime, type ResolvedIdentity } from './runtime.js';

/** One access check: what a handler passes for a second resource (CopyObject's source, ReEncrypt's destination). */
export interface AccessCheck {
  action: string;
  resource: string | readonly string[];
  conditions?: ConditionValues;
}

/**
 * The IAM authorizer: every operation of every service is evaluated with
 * AWS's policy logic before its handler runs. It decides at once (returns,
 * or throws, with no Promise) when all it needs is at hand — the IAM runtime
 * loaded, the caller's identity cached, the resource, conditions and
 * resource policy answered without I/O — and awaits only what is not.
 */
export function createIamAuthorizer(): Authorizer {
  return (ctx, service, operation, input) => {
    const spec = Object.hasOwn(service.operations, operation) ? service.operations[operation] : undefined;
    if (spec?.noAuthorization || service.authorizesItself === true) return;
    const p = ctx.principal;
    if (p.type === 'anonymous' && spec?.anonymous === true) return;
    const rt = loadedIamRuntime(ctx);
    if (rt === undefined) return iamRuntime(ctx).then((loaded) => authorizeRequest(loaded, ctx, service, operation, input, spec));
    return authorizeRequest(rt, ctx, service, operation, input, spec);
  };
}

function authorizeRequest(rt: IamRuntime, ctx: RequestContext, service: ServiceDefinition, operation: string, input: unknown, spec: OperationSpec | undefined): void | Promise<void> {
  const p = ctx.principal;
  if (p.accessKeyId !== undefined && p.type !== 'root') rt.noteKeyUse(p.accessKeyId, service.name, ctx.region);
  // The root user's long-term key meets only resource policies: without any, nothing to evaluate.
  if (p.type === 'root' && !service.resourcePolicy && p.sessionToken === undefined) return;
  const access = spec?.access ? spec.access(input, ctx) : undefined;
  if (access !== undefined) return authorizeWith(rt, ctx, service, { action: access.action, resource: access.resource, conditions: withDefaults(service, input, ctx, access.conditions) }, operation);
  const action = spec?.action !== undefined ? versionedAction(service, spec.action, input) : defaultAction(service, operation, input);
  const resource = spec?.resource ? spec.resource(input, ctx) : defaultResource(service, operation, input, ctx);
  if (resource instanceof Promise) return resource.then((r) => authorizeOn(rt, ctx, service, operation, input, spec, action, r));
  return authorizeOn(rt, ctx, service, operation, input, spec, action, resource);
}

function authorizeOn(
  rt: IamRuntime,
  ctx: RequestContext,
  service: ServiceDefinition,
  operation: string,
  input: unknown,
  spec: OperationSpec | undefined,
  action: string,
  resource: string | readonly string[],
): void | Promise<void> {
  const declared = spec?.conditions ? spec.conditions(input, ctx) : undefined;
  if (declared instanceof Promise) return declared.then((d) => authorizeWith(rt, ctx, service, { action, resource, conditions: withDefaults(service, input, ctx, d) }, operation));
  return authorizeWith(rt, ctx, service, { action, resource, conditions: withDefaults(service, input, ctx, declared) }, operation);
}

function withDefaults(service: ServiceDefinition, input: unknown, ctx: RequestContext, declared: ConditionValues | undefined): ConditionValues {
  const fallback = defaultConditions(service, input, ctx);
  // Object.assign, not `{ ...a, ...b }`: V8 (Node 20) builds a double spread on its slow path.
  return declared ? Object.assign({}, fallback, declared) : fallback;
}

/**
 * For handlers: checks one more action on one more resource as the caller
 * (throws the service's AccessDenied), e.g. S3 CopyObject's s3:GetObject on
 * the source object.
 */
export async function checkAccess(ctx: RequestContext, service: ServiceDefinition, check: AccessCheck): Promise<void> {
  const rt = await iamRuntime(ctx);
  const conditions: ConditionValues = Object.assign({}, defaultConditions(service, undefined, ctx), check.conditions);
  await authorizeWith(rt, ctx, service, { action: check.action, resource: check.resource, conditions });
}

/**
 * iam:PassRole, as AWS checks it when a caller hands a role to a service that
 * will act with it later (S3 replication, a Firehose delivery stream): the
 * caller's own policies must allow iam:PassRole on the role, with
 * iam:PassedToService naming the service principal. Without it anyone allowed
 * to configure the service could borrow any role that trusts the service.
 */
export async function checkPassRole(ctx: RequestContext, service: ServiceDefinition, roleArn: string, passedToService: string): Promise<void> {
  await checkAccess(ctx, service, { action: 'iam:PassRole', resource: roleArn, conditions: { 'iam:PassedToService': passedToService } });
}

/** Throws (or rejects with) AccessDenied unless the caller may; at once when the identity and resource policies are at hand. */
function authorizeWith(rt: IamRuntime, ctx: RequestContext, service: ServiceDefinition, check: AccessCheck, operation?: string): void | Promise<void> {
  const cached = rt.cachedIdentity(ctx.principal);
  if (cached === undefined) return rt.identityOf(ctx.principal).then((identity) => decideAll(rt, ctx, service, check, operation, identity));
  return decideAll(rt, ctx, service, check, operation, cached);
}

function decideAll(rt: IamRuntime, ctx: RequestContext, service: ServiceDefinition, check: AccessCheck, operation: string | undefined, identity: ResolvedIdentity): void | Promise<void> {
  sessionCredentialRules(ctx, identity, service, operation);
  const keys = requestKeys(identity, ctx, check.conditions);
  const given = typeof check.resource === 'string' ? [check.resource] : check.resource;
  const resources = given.length === 0 ? ['*'] : given;
  for (let i = 0; i < resources.length; i++) {
    const resource = resources[i] as string;
    const rp = service.resourcePolicy && resource !== '*' ? service.resourcePolicy(resource, ctx) : undefined;
    if (rp instanceof Promise) return decideRest(rt, ctx, service, check, identity, keys, resources, i, rp);
    decideOne(rt, ctx, service, check.action, identity, keys, resource, rp);
  }
}

/** decideAll from resource `i` on, once one resource policy had to be awaited. */
async function decideRest(
  rt: IamRuntime,
  ctx: RequestContext,
  service: ServiceDefinition,
  check: AccessCheck,
  identity: ResolvedIdentity,
  keys: ContextKeys,
  resources: readonly string[],
  i: number,
  pending: Promise<ResourcePolicy | undefined>,
): Promise<void> {
  decideOne(rt, ctx, service, check.action, identity, keys, resources[i] as string, await pending);
  for (let j = i + 1; j < resources.length; j++) {
    const resource = resources[j] as string;
    const rp = service.resourcePolicy && resource !== '*' ? await service.resourcePolicy(resource, ctx) : undefined;
    decideOne(rt, ctx, service, check.action, identity, keys, resource, rp);
  }
}

function decideOne(
  rt: IamRuntime,
  ctx: RequestContext,
  service: ServiceDefinition,
  action: string,
  identity: ResolvedIdentity,
  keys: ContextKeys,
  resource: string,
  rp: ResourcePolicy | undefined,
): void {
  const set: PolicySet = {};
  if (identity.identity) set.identity = identity.identity;
  if (identity.boundary) set.boundary = identity.boundary;
  if (identity.session) set.session = identity.session;
  if (rp?.document !== undefined) {
    const compiled = compileResourcePolicy(rt, ctx, rp.document);
    if (compiled) {
      set.resource = compiled;
      if (rp.required) set.resourceRequired = true;
    }
  }
  const all = rp?.keys ? withResourceKeys(keys, rp.keys) : keys;
  const d = decide({ action, resource, principal: identity.facts, keys: all }, set);
  if (!d.allowed) throw accessDenied(service, ctx, action, resource, d);
}

function compileResourcePolicy(rt: IamRuntime, ctx: RequestContext, text: string): CompiledPolicy | undefined {
  try {
    return rt.compile(text, 'resource');
  } catch (e) {
    ctx.log.error({ err: e, requestId: ctx.requestId }, 'stored resource policy does not compile; ignored');
    return undefined;
  }
}

/**
 * GetSessionToken credentials without MFA cannot call IAM, and no
 * GetSessionToken credentials can call STS except AssumeRole and
 * GetCallerIdentity (AWS's rules for those sessions).
 */
function sessionCredentialRules(ctx: RequestContext, identity: ResolvedIdentity, service: ServiceDefinition, operation: string | undefined): void {
  const p = ctx.principal;
  if (p.sessionToken === undefined || p.type === 'assumed-role') return;
  if (service.name === 'iam' && p.mfaAuthenticated !== true) {
    throw accessDenied(service, ctx, `iam:${operation ?? ''}`, '*', undefined, 'Cannot call IAM APIs with session credentials obtained without MFA');
  }
  if (service.name === 'sts' && operation !== undefined && operation !== 'AssumeRole' && operation !== 'GetCallerIdentity') {
    throw accessDenied(service, ctx, `sts:${operation}`, '*', undefined, `Cannot call ${operation} with session credentials`);
  }
  void identity;
}

/**
 * For services that authorize themselves (KMS: key policy, then IAM, then
 * grants): what the caller's identity-side policies (identity-based,
 * permissions boundary, session policies) say about one request. 'deny' on
 * an explicit Deny in any of them; 'allow' when all allow; else 'none'.
 * The root user's identity side allows everything.
 */
export type IdentityVerdict = 'allow' | 'deny' | 'none';

export function iamIdentityEvaluator() {
  return async (
    ctx: RequestContext,
    req: { action: string; resource: string; conditions?: Readonly<Record<string, string | readonly string[] | undefined>> },
  ): Promise<IdentityVerdict> => {
    const rt = await iamRuntime(ctx);
    const identity = await rt.identityOf(ctx.principal);
    const keys = requestKeys(identity, ctx, req.conditions);
    const set: PolicySet = { identity: identity.identity ?? [] };
    if (identity.boundary) set.boundary = identity.boundary;
    if (identity.session) set.session = identity.session;
    const d = decide({ action: req.action, resource: req.resource, principal: Object.assign({}, identity.facts, { root: false }), keys }, set);
    if (d.allowed) return 'allow';
    if (d.explicit) return 'deny';
    return ctx.principal.type === 'root' ? 'allow' : 'none';
  };
}

/**
 * The request context: the operation's service keys, then the request's
 * global keys (computed only when a policy asks), then the caller's own keys.
 * A layered view rather than a merged map: most requests consult few keys.
 */
class RequestKeys implements ContextKeys {
  private readonly own = new Map<string, readonly string[]>();
  constructor(
    private readonly identity: ResolvedIdentity,
    private readonly ctx: RequestContext,
    conditions: ConditionValues | undefined,
  ) {
    if (conditions) {
      for (const k in conditions) {
        const v = conditions[k];
        if (v !== undefined) this.own.set(k.toLowerCase(), typeof v === 'string' ? [v] : v);
      }
    }
  }

  get(key: string): readonly string[] | undefined {
    const v = this.own.get(key);
    if (v !== undefined) return v;
    switch (key) {
      case 'aws:sourceip':
        return [normalizeIp(this.ctx.sourceIp)];
      case 'aws:securetransport':
        return [String(this.ctx.secure)];
      case 'aws:currenttime':
        return [this.ctx.clock.now().toISOString()];
      case 'aws:epochtime':
        return [String(Math.floor(this.ctx.clock.nowMs() / 1000))];
      case 'aws:requestedregion':
        return [this.ctx.region];
      case 'aws:useragent':
        return this.ctx.userAgent === '' ? undefined : [this.ctx.userAgent];
      case 'aws:multifactorauthage': {
        const at = this.identity.mfaAt;
        return at ? [String(Math.max(0, Math.floor((this.ctx.clock.nowMs() - at.getTime()) / 1000)))] : undefined;
      }
      default:
        return this.identity.keys.get(key);
    }
  }
}

export function requestKeys(identity: ResolvedIdentity, ctx: RequestContext, conditions: ConditionValues | undefined): ContextKeys {
  return new RequestKeys(identity, ctx, conditions);
}

/** The request's keys with those its resource carries itself (ResourcePolicy.keys), which win. */
class ResourceKeys implements ContextKeys {
  private readonly own = new Map<string, readonly string[]>();
  constructor(
    private readonly base: ContextKeys,
    resourceKeys: ConditionValues,
  ) {
    for (const k in resourceKeys) {
      const v = resourceKeys[k];
      if (v !== undefined) this.own.set(k.toLowerCase(), typeof v === 'string' ? [v] : v);
    }
  }

  get(key: string): readonly string[] | undefined {
    return this.own.get(key) ?? this.base.get(key);
  }
}

export function withResourceKeys(base: ContextKeys, resourceKeys: ConditionValues): ContextKeys {
  return new ResourceKeys(base, resourceKeys);
}

/** AccessDenied in the service's protocol: S3 XML 403, JSON AccessDeniedException 400, Query AccessDenied 403. */
export function accessDenied(
  service: ServiceDefinition,
  ctx: RequestContext,
  action: string,
  resource: string,
  d: Extract<Decision, { allowed: false }> | undefined,
  message?: string,
): AwsError {
  const p = ctx.principal;
  let msg = message;
  if (msg === undefined) {
    if (p.type === 'anonymous' && service.protocol === 'rest-xml') msg = 'Access Denied';
    else if (d) msg = deniedMessage(p.type === 'anonymous' ? 'anonymous' : p.arn, action, resource, d, service.protocol === 'rest-xml');
    else msg = `User: ${p.arn} is not authorized to perform: ${action} on resource: ${resource}`;
  }
  switch (service.protocol) {
    case 'rest-xml':
    case 'query':
      return new AwsError('AccessDenied', 403, msg);
    case 'rest-json':
      return new AwsError('AccessDeniedException', 403, msg);
    case 'json-1.0':
    case 'json-1.1':
      return new AwsError('AccessDeniedException', 400, msg);
  }
}
