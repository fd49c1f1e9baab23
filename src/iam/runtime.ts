import type { Logger } from 'pino';
import type { CredentialRecord } from '../aws/sigv4/index.js';
import type { Clock } from '../lib/clock.js';
import type { Principal, ServiceDeps } from '../server/context.js';
import type { MetadataStore, ReadTx, WriteTx } from '../storage/ports.js';
import { awsManagedPolicy } from './aws-managed.js';
import { NS, lower, type AccessKeyRecord, type GroupRecord, type ManagedPolicyRecord, type PolicyHolder, type RoleRecord, type SessionRecord, type Tag, type UserRecord } from './entities.js';
import { compilePolicy, type CompiledPolicy, type PolicyKind, type PrincipalFacts } from './policy/document.js';
import { loadSecretBox, type SecretBox } from './secrets.js';

/** A caller, resolved once and cached: who it is and every identity-side policy that bears on it. */
export interface ResolvedIdentity {
  principal: Principal;
  facts: PrincipalFacts;
  /** Undefined for the root user and anonymous callers (no identity-based policies). */
  identity?: CompiledPolicy[];
  boundary?: CompiledPolicy;
  session?: CompiledPolicy[];
  /** Context keys that depend only on the caller (aws:PrincipalArn, aws:userid, aws:PrincipalTag/…). */
  keys: ReadonlyMap<string, readonly string[]>;
  /** When MFA was presented (aws:MultiFactorAuthAge). */
  mfaAt?: Date;
  userName?: string;
  roleName?: string;
}

interface CacheEntry {
  gen: number;
  at: number;
  record: CredentialRecord | undefined;
  identity?: ResolvedIdentity;
}

/**
 * Cached entries live until any IAM write in this process (generation bump)
 * or this many real milliseconds, so a change made by another process (the
 * CLI, another cluster node) is seen soon too.
 */
const CACHE_TTL_MS = 5000;
const COMPILED_MAX = 5_000;
const CACHE_MAX = 50_000;

export class IamRuntime {
  generation = 0;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly compiled = new Map<string, CompiledPolicy>();

  constructor(
    readonly store: MetadataStore,
    readonly clock: Clock,
    readonly accountId: string,
    readonly box: SecretBox,
    readonly log?: Logger,
  ) {}

  /** Every IAM change goes through here: the caches see it as soon as it commits. */
  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    try {
      return await this.store.write(fn);
    } finally {
      this.bump();
    }
  }

  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    return this.store.read(fn);
  }

  /** Drops one cached credential (a swept session). */
  forget(accessKeyId: string): void {
    this.cache.delete(accessKeyId);
  }

  bump(): void {
    this.generation++;
    this.cache.clear();
  }

  private readonly keyUse = new Map<string, number>();

  /**
   * GetAccessKeyLastUsed: AWS records use with a lag, so one write per key
   * per minute (by hanul's clock) is enough and keeps the request path free
   * of writes. It does not bump the generation: nothing authorizes by it.
   */
  noteKeyUse(accessKeyId: string, service: string, region: string): void {
    if (accessKeyId.startsWith('ASIA')) return;
    const now = this.clock.nowMs();
    const last = this.keyUse.get(accessKeyId);
    if (last !== undefined && now - last < 60_000) return;
    this.keyUse.set(accessKeyId, now);
    const date = new Date(now);
    this.store
      .write(async (tx) => {
        const key = await tx.get<AccessKeyRecord>(NS.accessKey, accessKeyId);
        if (key) await tx.put(NS.accessKey, accessKeyId, { ...key, lastUsed: { date, service, region } });
      })
      .catch((e: unknown) => this.log?.warn({ err: e }, 'could not record access key use'));
  }

  /** Compiles a policy once per distinct text (a policy version's text never changes). */
  compile(text: string, kind: PolicyKind, id?: string): CompiledPolicy {
    const key = `${kind}\u0000${id ?? ''}\u0000${text}`;
    let p = this.compiled.get(key);
    if (!p) {
      if (this.compiled.size >= COMPILED_MAX) this.compiled.clear();
      p = compilePolicy(text, kind, id);
      this.compiled.set(key, p);
    }
    return p;
  }

  arn(kind: 'user' | 'group' | 'role' | 'policy' | 'mfa', path: string, name: string): string {
    return `arn:aws:iam::${this.accountId}:${kind}${path}${name}`;
  }

  /** The CredentialLookup the SigV4 layer consults for IAM access keys and STS sessions. */
  async credential(accessKeyId: string): Promise<CredentialRecord | undefined> {
    return (await this.entry(accessKeyId)).record;
  }

  /** The caller's resolved identity (policies, context keys); cached per access key. */
  /** The cached identity without awaiting anything (the hot path); undefined when it must be resolved. */
  cachedIdentity(principal: Principal): ResolvedIdentity | undefined {
    if (principal.type === 'anonymous') return anonymousIdentity;
    if (principal.type === 'root' && principal.sessionToken === undefined) return this.roots.get(principal);
    if (principal.accessKeyId === undefined) return principal.type === 'assumed-role' ? this.serviceSessions.get(principal) : undefined;
    const hit = this.cache.get(principal.accessKeyId);
    return hit && hit.gen === this.generation && Date.now() - hit.at < CACHE_TTL_MS ? hit.identity : undefined;
  }

  async identityOf(principal: Principal): Promise<ResolvedIdentity> {
    const cached = this.cachedIdentity(principal);
    if (cached) return cached;
    if (principal.type === 'anonymous') return anonymousIdentity;
    if (principal.accessKeyId !== undefined && (principal.type !== 'root' || principal.sessionToken !== undefined)) {
      const e = await this.entry(principal.accessKeyId);
      if (e.identity) return e.identity;
    }
    if (principal.type === 'root') return this.rootIdentity(principal);
    // The key or its user went away since the request authenticated: nothing is allowed.
    return { principal, facts: factsOf(principal, []), identity: [], keys: new Map() };
  }

  private readonly roots = new WeakMap<Principal, ResolvedIdentity>();
  /** Sessions a service acts as with a customer's role (service-roles.ts actAsRole), keyed by their principal object: no access key names them. */
  private readonly serviceSessions = new WeakMap<Principal, ResolvedIdentity>();

  /** Lets every service evaluate a role session a service acts as (S3 replication calling KMS) with the role's policies. */
  registerServiceSession(id: ResolvedIdentity): void {
    this.serviceSessions.set(id.principal, id);
  }

  /** The root user's identity; the long-term root principal is one object per app, so it is built once. */
  private rootIdentity(principal: Principal): ResolvedIdentity {
    const hit = this.roots.get(principal);
    if (hit) return hit;
    const keys = baseKeys(principal, 'Account', []);
    const id: ResolvedIdentity = { principal, facts: { anonymous: false, root: true, accountId: this.accountId, arns: [[principal.arn, 'direct']] }, keys };
    if (principal.sessionToken === undefined) this.roots.set(principal, id);
    return id;
  }

  private async entry(accessKeyId: string): Promise<CacheEntry> {
    const hit = this.cache.get(accessKeyId);
    const now = Date.now();
    if (hit && hit.gen === this.generation && now - hit.at < CACHE_TTL_MS) return hit;
    const gen = this.generation;
    const e: CacheEntry = { gen, at: now, record: undefined };
    await this.store.read(async (tx) => {
      if (accessKeyId.startsWith('ASIA')) await this.resolveSession(tx, accessKeyId, e);
      else await this.resolveKey(tx, accessKeyId, e);
    });
    if (gen === this.generation) {
      // Unknown key ids are cached too (a flood of them must not reach the store each time): bound the map.
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(accessKeyId, e);
    }
    return e;
  }

  private async resolveKey(tx: ReadTx, accessKeyId: string, e: CacheEntry): Promise<void> {
    const key = await tx.get<AccessKeyRecord>(NS.accessKey, accessKeyId);
    if (!key || key.status !== 'Active') return;
    const user = await tx.get<UserRecord>(NS.user, lower(key.userName));
    if (!user) return;
    const principal: Principal = { type: 'user', arn: this.arn('user', user.path, user.name), accountId: this.accountId, userId: user.id, name: user.name, accessKeyId };
    e.record = { secretAccessKey: this.box.open(key.secret, accessKeyId), principal };
    e.identity = await this.userIdentity(tx, user, principal);
  }

  private async resolveSession(tx: ReadTx, accessKeyId: string, e: CacheEntry): Promise<void> {
    const s = await tx.get<SessionRecord>(NS.session, accessKeyId);
    if (!s) return;
    const temp = { accessKeyId, sessionToken: s.token, mfaAuthenticated: s.mfa, tokenIssueTime: s.issuedAt };
    const base = { secretAccessKey: this.box.open(s.secret, accessKeyId), sessionToken: s.token, expiresAt: s.expiresAt };
    let identity: ResolvedIdentity | undefined;
    if (s.kind === 'root') {
      const principal: Principal = { type: 'root', arn: `arn:aws:iam::${this.accountId}:root`, accountId: this.accountId, userId: this.accountId, ...temp };
      identity = this.rootIdentity(principal);
    } else if (s.kind === 'user') {
      const user = s.userName === undefined ? undefined : await tx.get<UserRecord>(NS.user, lower(s.userName));
      if (!user) return;
      const principal: Principal = { type: 'user', arn: this.arn('user', user.path, user.name), accountId: this.accountId, userId: user.id, name: user.name, ...temp };
      identity = await this.userIdentity(tx, user, principal);
    } else {
      const role = s.roleName === undefined ? undefined : await tx.get<RoleRecord>(NS.role, lower(s.roleName));
      const roleName = role?.name ?? s.roleName ?? '';
      const sessionName = s.sessionName ?? '';
      const principal: Principal = {
        type: 'assumed-role',
        arn: `arn:aws:sts::${this.accountId}:assumed-role/${roleName}/${sessionName}`,
        accountId: this.accountId,
        userId: `${s.roleId ?? ''}:${sessionName}`,
        name: sessionName,
        ...temp,
      };
      identity = await this.roleIdentity(tx, role, principal, s);
    }
    identity.keys = withTempKeys(identity.keys, s);
    if (s.mfa) identity.mfaAt = s.issuedAt;
    e.record = { ...base, principal: identity.principal };
    e.identity = identity;
  }

  /** A policy document by ARN: customer managed (its default version) or AWS managed. */
  async managedDocument(tx: ReadTx, arn: string): Promise<string | undefined> {
    const aws = awsManagedPolicy(arn);
    if (aws) return aws.document;
    const p = await this.managedPolicy(tx, arn);
    return p?.versions.find((v) => v.id === p.defaultVersion)?.document;
  }

  async managedPolicy(tx: ReadTx, arn: string): Promise<ManagedPolicyRecord | undefined> {
    const prefix = `arn:aws:iam::${this.accountId}:policy/`;
    if (!arn.startsWith(prefix)) return undefined;
    const name = arn.slice(arn.lastIndexOf('/') + 1);
    const p = await tx.get<ManagedPolicyRecord>(NS.policy, lower(name));
    return p && p.arn === arn ? p : undefined;
  }

  private async holderPolicies(tx: ReadTx, h: PolicyHolder, out: CompiledPolicy[]): Promise<void> {
    for (const arn of h.attached) {
      const text = await this.managedDocument(tx, arn);
      if (text !== undefined) out.push(this.safeCompile(text, 'identity', arn));
    }
    for (const [name, text] of Object.entries(h.inline)) out.push(this.safeCompile(text, 'identity', name));
  }

  /** Stored policies were validated when stored; a failure here is a bug, logged, and grants nothing. */
  private safeCompile(text: string, kind: PolicyKind, id: string): CompiledPolicy {
    try {
      return this.compile(text, kind, id);
    } catch (e) {
      this.log?.error({ err: e, policy: id }, 'stored IAM policy does not compile');
      return { kind, version: '2012-10-17', statements: [], size: 0, id };
    }
  }

  private async userIdentity(tx: ReadTx, user: UserRecord, principal: Principal): Promise<ResolvedIdentity> {
    const identity: CompiledPolicy[] = [];
    await this.holderPolicies(tx, user, identity);
    for (const g of user.groups) {
      const group = await tx.get<GroupRecord>(NS.group, lower(g));
      if (group) await this.holderPolicies(tx, group, identity);
    }
    const out: ResolvedIdentity = { principal, facts: factsOf(principal, []), identity, keys: baseKeys(principal, 'User', user.tags), userName: user.name };
    if (user.boundary !== undefined) out.boundary = await this.boundaryOf(tx, user.boundary);
    return out;
  }

  private async roleIdentity(tx: ReadTx, role: RoleRecord | undefined, principal: Principal, s: SessionRecord): Promise<ResolvedIdentity> {
    const identity: CompiledPolicy[] = [];
    if (role) await this.holderPolicies(tx, role, identity);
    const roleArn = role ? this.arn('role', role.path, role.name) : `arn:aws:iam::${this.accountId}:role/${s.roleName ?? ''}`;
    const tags = new Map<string, Tag>();
    for (const t of role?.tags ?? []) tags.set(lower(t.Key), t);
    for (const t of s.sessionTags ?? []) tags.set(lower(t.Key), t);
    const keys = baseKeys(principal, 'AssumedRole', [...tags.values()], roleArn);
    const out: ResolvedIdentity = { principal, facts: factsOf(principal, [[roleArn, 'role']]), identity, keys, roleName: role?.name ?? s.roleName ?? '' };
    if (role?.boundary !== undefined) out.boundary = await this.boundaryOf(tx, role.boundary);
    if (s.sessionPolicy !== undefined || (s.sessionPolicyArns?.length ?? 0) > 0) {
      const session: CompiledPolicy[] = [];
      if (s.sessionPolicy !== undefined) session.push(this.safeCompile(s.sessionPolicy, 'session', 'session policy'));
      for (const arn of s.sessionPolicyArns ?? []) {
        const text = await this.managedDocument(tx, arn);
        if (text !== undefined) session.push(this.safeCompile(text, 'session', arn));
      }
      out.session = session;
    }
    return out;
  }

  private async boundaryOf(tx: ReadTx, arn: string): Promise<CompiledPolicy> {
    const text = await this.managedDocument(tx, arn);
    // A boundary whose policy is gone allows nothing (IAM refuses to delete an attached boundary anyway).
    return text === undefined ? { kind: 'boundary', version: '2012-10-17', statements: [], size: 0, id: arn } : this.safeCompile(text, 'boundary', arn);
  }
}

function factsOf(principal: Principal, extra: [string, 'direct' | 'role'][]): PrincipalFacts {
  return { anonymous: false, root: principal.type === 'root', accountId: principal.accountId, arns: [[principal.arn, 'direct'], ...extra] };
}

function baseKeys(principal: Principal, type: string, tags: readonly Tag[], principalArn = principal.arn): Map<string, readonly string[]> {
  const m = new Map<string, readonly string[]>([
    ['aws:principalarn', [principalArn]],
    ['aws:principalaccount', [principal.accountId]],
    ['aws:principaltype', [type]],
    ['aws:userid', [principal.userId]],
    ['aws:principalisawsservice', ['false']],
  ]);
  if (principal.type === 'user' && principal.name !== undefined) m.set('aws:username', [principal.name]);
  if (tags.length > 0) {
    for (const t of tags) m.set(`aws:principaltag/${lower(t.Key)}`, [t.Value]);
  }
  return m;
}

function withTempKeys(keys: ReadonlyMap<string, readonly string[]>, s: SessionRecord): Map<string, readonly string[]> {
  const m = new Map(keys);
  m.set('aws:multifactorauthpresent', [String(s.mfa)]);
  m.set('aws:tokenissuetime', [s.issuedAt.toISOString()]);
  if (s.sourceIdentity !== undefined) m.set('aws:sourceidentity', [s.sourceIdentity]);
  return m;
}

const anonymousIdentity: ResolvedIdentity = {
  principal: { type: 'anonymous', arn: '*', accountId: 'anonymous', userId: 'anonymous' },
  facts: { anonymous: true, root: false, accountId: '', arns: [] },
  keys: new Map([['aws:principaltype', ['Anonymous']], ['aws:userid', ['anonymous']]]),
};

const runtimes = new WeakMap<MetadataStore, Promise<IamRuntime>>();

/**
 * The one IamRuntime of a metadata store: the IAM and STS services, the
 * credential lookup and the authorizer all share its caches.
 */
export function iamRuntime(deps: Pick<ServiceDeps, 'stores' | 'clock' | 'config'> & { log?: Logger }): Promise<IamRuntime> {
  let rt = runtimes.get(deps.stores.metadata);
  if (!rt) {
    const store = deps.stores.metadata;
    rt = loadSecretBox(deps.config.dataDir).then((box) => {
      const r = new IamRuntime(store, deps.clock, deps.config.accountId, box, deps.log);
      ready.set(store, r);
      return r;
    });
    runtimes.set(store, rt);
  }
  return rt;
}

const ready = new WeakMap<MetadataStore, IamRuntime>();

/** The runtime if it is already loaded: the request path then needs no await. */
export function loadedIamRuntime(deps: Pick<ServiceDeps, 'stores'>): IamRuntime | undefined {
  return ready.get(deps.stores.metadata);
}

/** The credential source for IAM users' access keys and STS sessions (AppOptions.credentials). */
export function iamCredentialLookup(deps: ServiceDeps): (accessKeyId: string) => Promise<CredentialRecord | undefined> {
  const rt = iamRuntime(deps);
  return async (accessKeyId) => (await rt).credential(accessKeyId);
}
