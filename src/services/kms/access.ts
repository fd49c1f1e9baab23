import type { GrantOperation } from '@aws-sdk/client-kms';
import type { RequestContext } from '../../server/context.js';
import { kmsError } from './errors.js';
import { constraintsAllow, type GrantRecord } from './grant-model.js';
import type { KeyRecord } from './model.js';
import { evaluatePolicy, type AccessRequest, type ConditionValue } from './policy.js';
import { parseGrantToken } from './grant-tokens.js';
import type { KmsStore, LoadedKey } from './store.js';

/**
 * The IAM engine plugs in here: given the KMS request (action `kms:<Op>`,
 * resource = key ARN, condition keys), what do the caller's identity
 * policies say? Absent → only key policies and grants decide (the account
 * root is always allowed by a policy that names its account).
 */
export type IdentityPolicyEvaluator = (ctx: RequestContext, req: AccessRequest) => Promise<'allow' | 'deny' | 'none'>;

export interface AuthorizeOptions {
  /** The grant operation this call needs (ReEncrypt → ReEncryptFrom/ReEncryptTo). Defaults to the operation. */
  grantOp?: GrantOperation;
  encryptionContext?: Readonly<Record<string, string>> | undefined;
  grantTokens?: readonly string[] | undefined;
  /** Extra condition keys (kms:EncryptionAlgorithm, kms:SigningAlgorithm, kms:RequestAlias, …), lower-cased. */
  conditions?: Record<string, ConditionValue>;
}

/** Condition keys every KMS request carries, plus those of its key and context. */
export function conditionKeys(ctx: RequestContext, key: KeyRecord | undefined, opts: AuthorizeOptions): Record<string, ConditionValue> {
  const c: Record<string, ConditionValue> = {
    'kms:calleraccount': ctx.principal.accountId,
    'aws:principalarn': ctx.principal.arn,
    'aws:principalaccount': ctx.principal.accountId,
    'aws:principaltype': ctx.principal.type === 'root' ? 'Account' : ctx.principal.type === 'user' ? 'User' : 'AssumedRole',
    'aws:userid': ctx.principal.userId,
    'aws:sourceip': ctx.sourceIp,
    'aws:securetransport': String(ctx.secure),
    'aws:currenttime': ctx.clock.now().toISOString(),
    'aws:requestedregion': ctx.region,
  };
  if (ctx.principal.name !== undefined) c['aws:username'] = ctx.principal.name;
  if (key) {
    c['kms:keyspec'] = key.keySpec;
    c['kms:customermasterkeyspec'] = key.keySpec;
    c['kms:keyusage'] = key.keyUsage;
    c['kms:customermasterkeyusage'] = key.keyUsage;
    c['kms:keyorigin'] = key.origin;
    c['kms:multiregion'] = String(key.multiRegion);
    if (key.multiRegion) c['kms:multiregionkeytype'] = key.primaryRegion === key.region ? 'PRIMARY' : 'REPLICA';
  }
  if (opts.encryptionContext) {
    const keys = Object.keys(opts.encryptionContext);
    c['kms:encryptioncontextkeys'] = keys;
    for (const k of keys) c[`kms:encryptioncontext:${k.toLowerCase()}`] = opts.encryptionContext[k];
  }
  return { ...c, ...opts.conditions };
}

function denied(ctx: RequestContext, action: string, resource: string, explicit: boolean) {
  const why = explicit ? 'with an explicit deny in a resource-based policy' : `because no resource-based policy allows the ${action} action`;
  return kmsError('AccessDeniedException', `User: ${ctx.principal.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}`);
}

export class KmsAccess {
  constructor(
    private readonly store: KmsStore,
    private readonly identity: IdentityPolicyEvaluator | undefined,
  ) {}

  /** Key policy, then (if it delegates to the account) identity policies, then grants. Throws AccessDeniedException. */
  async authorize(ctx: RequestContext, loaded: LoadedKey, operation: string, opts: AuthorizeOptions = {}): Promise<void> {
    const key = loaded.key;
    const action = `kms:${operation}`;
    // Condition keys are built only if a statement (or IAM) looks at them: the default policy never does.
    let conditions: Record<string, ConditionValue> | undefined;
    const req: AccessRequest = {
      action,
      resource: key.arn,
      principal: ctx.principal,
      get conditions() {
        return (conditions ??= conditionKeys(ctx, key, opts));
      },
    };
    const decision = evaluatePolicy(key.policy, req);
    if (decision === 'deny') throw denied(ctx, action, key.arn, true);
    if (decision === 'allow') return;
    if (decision === 'delegate' && this.identity) {
      const r = await this.identity(ctx, req);
      if (r === 'deny') throw kmsError('AccessDeniedException', `User: ${ctx.principal.arn} is not authorized to perform: ${action} on resource: ${key.arn} with an explicit deny in an identity-based policy`);
      if (r === 'allow') return;
    }
    const grantOp = opts.grantOp ?? (operation as GrantOperation);
    if (await this.grantAllows(ctx, loaded, grantOp, opts)) return;
    throw denied(ctx, action, key.arn, false);
  }

  /** For account-level actions (CreateKey, ListKeys, ListAliases, …): the root may; others need identity policies. */
  async authorizeAccount(ctx: RequestContext, operation: string): Promise<void> {
    if (ctx.principal.type === 'root') return;
    const action = `kms:${operation}`;
    if (this.identity) {
      const r = await this.identity(ctx, { action, resource: '*', principal: ctx.principal, conditions: conditionKeys(ctx, undefined, {}) });
      if (r === 'allow') return;
    }
    throw kmsError('AccessDeniedException', `User: ${ctx.principal.arn} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`);
  }

  private async grantAllows(ctx: RequestContext, loaded: LoadedKey, op: GrantOperation, opts: AuthorizeOptions): Promise<boolean> {
    const who = granteeNames(ctx);
    const fits = (g: GrantRecord) => who.includes(g.granteePrincipal) && g.operations.includes(op) && constraintsAllow(g.constraints, opts.encryptionContext);
    if (loaded.grants.some(fits)) return true;
    // A grant token makes its grant usable at once, before any cache would show it.
    for (const t of opts.grantTokens ?? []) {
      const ref = parseGrantToken(t);
      if (!ref || ref.keyId !== loaded.key.keyId || ref.region !== loaded.key.region) continue;
      const g = await this.store.read((tx) => tx.get<GrantRecord>('kms:grant', `${ref.region}/${ref.keyId}/${ref.grantId}`));
      if (g && g.tokens.includes(t) && fits(g)) return true;
    }
    return false;
  }
}

/** The names a grant's GranteePrincipal may use for this caller. */
export function granteeNames(ctx: RequestContext): string[] {
  const names = [ctx.principal.arn];
  const m = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(ctx.principal.arn);
  if (m) names.push(`arn:aws:iam::${m[1]}:role/${m[2]}`);
  if (ctx.principal.type === 'root') names.push(ctx.principal.accountId);
  return names;
}
