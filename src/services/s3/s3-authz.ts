/**
 * How S3's own access controls meet the IAM engine. S3 offers the engine one
 * resource policy per request (ServiceDefinition.resourcePolicy): the bucket
 * policy, plus the Allow statements the bucket's and the object's ACLs amount
 * to (when Object Ownership leaves ACLs enabled), shaped by Block Public
 * Access — IgnorePublicAcls drops public grants, RestrictPublicBuckets drops a
 * public policy's Allows for callers outside the bucket owner's account. The
 * engine then applies AWS's logic: an explicit Deny anywhere wins, the
 * resource policy can grant on its own (the only way an anonymous caller is
 * ever allowed), otherwise identity policies must allow.
 */
import type { _Error, DeleteObjectsOutput, DeleteObjectsRequest, ObjectIdentifier } from '@aws-sdk/client-s3';
import { checkAccess } from '../../iam/authorize.js';
import type { CompiledPolicy } from '../../iam/policy/document.js';
import { anonymousPrincipal } from '../../iam/root-key.js';
import { iamRuntime, loadedIamRuntime, type ResolvedIdentity } from '../../iam/runtime.js';
import { isAwsError } from '../../aws/errors.js';
import type { ConditionValues, ResourcePolicy, ServiceDefinition } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { aclStatements } from './acl-model.js';
import { type BucketRecord, nsObjects, type ObjectRecord } from './model.js';
import { isPublicPolicy } from './public-policy.js';
import type { S3 } from './state.js';
import { parseCopySource } from './copy.js';
import { noSuchBucket } from './errors.js';
import { requesterPays } from './bucket-settings.js';
import { directoryArn, isDirectoryName } from './directory.js';

/** The root user of the owner account may always manage the policy (AWS's guard against locking yourself out). */
const POLICY_OPERATIONS = new Set(['PutBucketPolicy', 'GetBucketPolicy', 'DeleteBucketPolicy']);

/** Whether ACLs take part in authorization on this bucket (Object Ownership). */
export function aclsEnabled(b: BucketRecord): boolean {
  return b.ownership !== undefined && b.ownership !== 'BucketOwnerEnforced';
}

const publicCache = new Map<string, boolean>();
function policyIsPublic(text: string): boolean {
  let v = publicCache.get(text);
  if (v === undefined) {
    if (publicCache.size > 1000) publicCache.clear();
    publicCache.set(text, (v = isPublicPolicy(text)));
  }
  return v;
}

function parseArn(arn: string): { bucket: string; key?: string } | undefined {
  // A directory bucket's policy applies to its own ARN (arn:aws:s3express:<region>:<account>:bucket/<name>).
  if (arn.startsWith('arn:aws:s3express:')) {
    const at = arn.indexOf(':bucket/');
    return at < 0 ? undefined : { bucket: arn.slice(at + ':bucket/'.length) };
  }
  if (!arn.startsWith('arn:aws:s3:::')) return undefined;
  const rest = arn.slice('arn:aws:s3:::'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? { bucket: rest } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

function callerInAccount(ctx: RequestContext, account: string): boolean {
  return ctx.principal.type !== 'anonymous' && ctx.principal.accountId === account;
}

/**
 * The resource policy the IAM engine evaluates for one S3 resource ARN. At
 * once (not in a Promise) when the bucket is cached and no object ACL must be
 * read: the authorizer then awaits nothing for it.
 */
export function s3ResourcePolicy(s3: S3, arn: string, ctx: RequestContext): ResourcePolicy | undefined | Promise<ResourcePolicy | undefined> {
  const parsed = parseArn(arn);
  if (!parsed) return undefined;
  const b = s3.buckets.getNow(s3, parsed.bucket);
  return b instanceof Promise ? b.then((rec) => bucketResourcePolicy(s3, rec, parsed.key, ctx)) : bucketResourcePolicy(s3, b, parsed.key, ctx);
}

function bucketResourcePolicy(s3: S3, b: BucketRecord | undefined, key: string | undefined, ctx: RequestContext): ResourcePolicy | undefined | Promise<ResourcePolicy | undefined> {
  if (!b) return undefined;
  // ABAC: the one field test every other bucket pays for it.
  if (b.abac !== undefined) {
    const rp = policyOf(s3, b, key, ctx);
    const keys = bucketTagKeys(b);
    return rp instanceof Promise ? rp.then((p) => ({ ...p, keys })) : { ...rp, keys };
  }
  return policyOf(s3, b, key, ctx);
}

const tagKeysOfBucket = new WeakMap<BucketRecord, ConditionValues>();
/**
 * A bucket with ABAC enabled carries its tags into every request on it and on its objects, as
 * `aws:ResourceTag/<key>` and `s3:BucketTag/<key>` (once per cached record). Without ABAC S3 leaves
 * bucket tags out of authorization altogether, as AWS documents.
 */
export function bucketTagKeys(b: BucketRecord): ConditionValues {
  let keys = tagKeysOfBucket.get(b);
  if (keys === undefined) {
    const out: Record<string, string> = {};
    for (const t of b.tags ?? []) {
      out[`aws:ResourceTag/${t.Key}`] = t.Value;
      out[`s3:BucketTag/${t.Key}`] = t.Value;
    }
    tagKeysOfBucket.set(b, (keys = out));
  }
  return keys;
}

function policyOf(s3: S3, b: BucketRecord, key: string | undefined, ctx: RequestContext): ResourcePolicy | undefined | Promise<ResourcePolicy | undefined> {
  // Requester Pays: the one field test every other bucket pays for it (bucket-settings.ts).
  if (b.requestPayer !== undefined) requesterPays(b, ctx);
  if (ctx.principal.type === 'root' && ctx.principal.accountId === b.ownerAccount && POLICY_OPERATIONS.has(ctx.operation)) return undefined;
  const pab = b.publicAccessBlock;
  const policy = b.policy;
  let statements: object[] | undefined;
  if (policy !== undefined && pab?.RestrictPublicBuckets === true && !callerInAccount(ctx, b.ownerAccount) && policyIsPublic(policy)) {
    // Restricted: the policy's Allows reach no one outside the account; its Denies still bind.
    statements = policyStatements(policy).filter((st) => (st as { Effect?: unknown }).Effect !== 'Allow');
  }
  if (!aclsEnabled(b)) return combined(policy, statements, []);
  const ignore = pab?.IgnorePublicAcls === true;
  const extra = b.acl ? aclStatements('bucket', b.name, b.acl, b.ownerAccount, ignore) : [];
  if (key === undefined) return combined(policy, statements, extra);
  return s3.meta
    .read((tx) => tx.get<ObjectRecord>(nsObjects(b.name), key))
    .then((rec) => {
      if (rec?.acl && rec.deleteMarker !== true) extra.push(...aclStatements('object', b.name, rec.acl, b.ownerAccount, ignore));
      return combined(policy, statements, extra);
    });
}

/** The bucket policy (or its `statements` left after Block Public Access) with the ACLs' `extra` Allow statements. */
function combined(policy: string | undefined, statements: object[] | undefined, extra: object[]): ResourcePolicy | undefined {
  if (extra.length > 0) statements = [...(statements ?? (policy !== undefined ? policyStatements(policy) : [])), ...extra];
  if (statements === undefined) return policy === undefined ? undefined : { document: policy };
  if (statements.length === 0) return undefined;
  const version = policy !== undefined ? ((JSON.parse(policy) as { Version?: string }).Version ?? '2008-10-17') : '2012-10-17';
  return { document: JSON.stringify({ Version: version, Statement: statements }) };
}

function policyStatements(text: string): object[] {
  const st = (JSON.parse(text) as { Statement?: unknown }).Statement;
  return (Array.isArray(st) ? st : [st]) as object[];
}

/** Object operations whose requests carry s3:ExistingObjectTag/<key>. */
export const EXISTING_TAG_OPERATIONS = new Set([
  'GetObject',
  'HeadObject',
  'GetObjectAcl',
  'PutObjectAcl',
  'GetObjectTagging',
  'PutObjectTagging',
  'DeleteObjectTagging',
  'GetObjectAttributes',
  'GetObjectRetention',
  'PutObjectRetention',
  'GetObjectLegalHold',
  'PutObjectLegalHold',
]);

/**
 * s3:ExistingObjectTag/<key> for an object request: the current object's
 * tags. Looked up only when a policy could ask — the bucket policy or one of
 * the caller's identity-side policies names the key — so plain GETs cost no
 * extra read.
 */
export function existingObjectTagKeys(s3: S3, input: { Bucket?: string; Key?: string }, ctx: RequestContext): ConditionValues | Promise<ConditionValues> {
  const bucket = input.Bucket;
  const key = input.Key;
  if (bucket === undefined || key === undefined) return {};
  // At once (no Promise) when the bucket is cached and no policy asks: a plain GET's authorization awaits nothing here.
  const b = s3.buckets.getNow(s3, bucket);
  return b instanceof Promise ? b.then((rec) => tagKeysOf(s3, rec, key, ctx)) : tagKeysOf(s3, b, key, ctx);
}

function tagKeysOf(s3: S3, b: BucketRecord | undefined, key: string, ctx: RequestContext): ConditionValues | Promise<ConditionValues> {
  if (!b) return {};
  if (b.policy !== undefined && /existingobjecttag/i.test(b.policy)) return objectTagKeys(s3, b.name, key);
  const asks = identityAsks(ctx);
  if (asks instanceof Promise) return asks.then((yes) => (yes ? objectTagKeys(s3, b.name, key) : {}));
  return asks ? objectTagKeys(s3, b.name, key) : {};
}

async function objectTagKeys(s3: S3, bucket: string, key: string): Promise<ConditionValues> {
  const rec = await s3.meta.read((tx) => tx.get<ObjectRecord>(nsObjects(bucket), key));
  const out: Record<string, string> = {};
  for (const t of rec?.tags ?? []) out[`s3:ExistingObjectTag/${t.Key}`] = t.Value;
  return out;
}

const asksTags = new WeakMap<CompiledPolicy, boolean>();
function policyAsksTags(p: CompiledPolicy): boolean {
  let v = asksTags.get(p);
  if (v === undefined) {
    v = p.statements.some((st) => st.conditionKeys?.some((k) => k.toLowerCase().startsWith('s3:existingobjecttag/')) === true);
    asksTags.set(p, v);
  }
  return v;
}

/** Whether the caller's identity-side policies (own, boundary, session) read s3:ExistingObjectTag. */
function identityAsks(ctx: RequestContext): boolean | Promise<boolean> {
  const p = ctx.principal;
  if (p.type === 'anonymous' || (p.type === 'root' && p.sessionToken === undefined)) return false;
  const rt = loadedIamRuntime(ctx);
  if (rt === undefined) return iamRuntime(ctx).then((r) => r.identityOf(p)).then(identityReadsTags);
  const id = rt.cachedIdentity(p);
  return id === undefined ? rt.identityOf(p).then(identityReadsTags) : identityReadsTags(id);
}

function identityReadsTags(id: ResolvedIdentity): boolean {
  const all = [...(id.identity ?? []), ...(id.session ?? []), ...(id.boundary ? [id.boundary] : [])];
  return all.some(policyAsksTags);
}

/**
 * For code that serves S3 content without a signed request (the website
 * endpoint): whether an anonymous caller may perform `action` (e.g.
 * 's3:GetObject') on `resourceArn` (e.g. 'arn:aws:s3:::site/index.html'),
 * by the bucket policy, ACLs and Block Public Access exactly as the REST
 * endpoint decides. `conditions` adds request keys (e.g. 's3:ExistingObjectTag/x').
 */
export async function authorizeAnonymous(service: ServiceDefinition, ctx: RequestContext, action: string, resourceArn: string, conditions?: ConditionValues): Promise<boolean> {
  // A view of the request with another principal; not a spread, which would run ctx's lazy `signal` getter.
  const anon = Object.assign(Object.create(ctx) as RequestContext, { principal: anonymousPrincipal() });
  try {
    await checkAccess(anon, service, { action, resource: resourceArn, ...(conditions ? { conditions } : {}) });
    return true;
  } catch (e) {
    if (isAwsError(e) && e.code === 'AccessDenied') return false;
    throw e;
  }
}

/** Reads whose "no such key" S3 shows only to callers who may list the bucket. */
export const MISSING_KEY_HIDDEN = new Set([
  'GetObject',
  'HeadObject',
  'GetObjectAttributes',
  'GetObjectTagging',
  'GetObjectAcl',
  'SelectObjectContent',
  'GetObjectAnnotation',
  'ListObjectAnnotations',
]);

/**
 * S3 answers a read of a missing key with 404 NoSuchKey only when the caller
 * has s3:ListBucket on the bucket; otherwise with 403 AccessDenied, so that
 * keys cannot be probed for (e.g. an anonymous caller a policy lets GetObject).
 */
export async function missingKeyAs(e: unknown, service: ServiceDefinition, input: { Bucket?: unknown }, ctx: RequestContext): Promise<never> {
  if (!isAwsError(e) || e.code !== 'NoSuchKey' || typeof input.Bucket !== 'string') throw e;
  if (ctx.principal.type === 'root' && ctx.principal.sessionToken === undefined) throw e;
  // Without s3:ListBucket this throws AccessDenied in place of the NoSuchKey.
  await checkAccess(ctx, service, { action: 's3:ListBucket', resource: `arn:aws:s3:::${input.Bucket}` });
  throw e;
}

type DeleteObjectsInput = DeleteObjectsRequest;
type DeleteObjectsResult = DeleteObjectsOutput;

/**
 * DeleteObjects is authorized per key, as S3 does (s3:DeleteObject, or
 * s3:DeleteObjectVersion for a version): a denied key becomes an AccessDenied
 * entry of the result and the others are deleted.
 */
export async function deleteObjectsPerKey(s3: S3, service: ServiceDefinition, input: DeleteObjectsInput, ctx: RequestContext, run: (input: DeleteObjectsInput) => Promise<DeleteObjectsResult>): Promise<DeleteObjectsResult> {
  const objects = input.Delete?.Objects;
  const bucket = input.Bucket;
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > 1000 || typeof bucket !== 'string') return run(input);
  const allowed: ObjectIdentifier[] = [];
  const denied: _Error[] = [];
  for (const o of objects) {
    const versioned = o.VersionId !== undefined;
    try {
      await checkAccess(ctx, service, {
        action: versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject',
        resource: `arn:aws:s3:::${bucket}/${o.Key ?? ''}`,
        ...(versioned ? { conditions: { 's3:versionid': o.VersionId } } : {}),
      });
      allowed.push(o);
    } catch (e) {
      if (!isAwsError(e) || e.code !== 'AccessDenied') throw e;
      denied.push({ ...(o.Key !== undefined ? { Key: o.Key } : {}), ...(versioned ? { VersionId: o.VersionId } : {}), Code: 'AccessDenied', Message: 'Access Denied' });
    }
  }
  if (allowed.length === 0) {
    if (!(await s3.buckets.get(s3, bucket))) throw noSuchBucket(bucket);
    return { Errors: denied };
  }
  const out = await run({ ...input, Delete: { ...input.Delete, Objects: allowed } });
  if (denied.length > 0) out.Errors = [...(out.Errors ?? []), ...denied];
  return out;
}

/** CopyObject / UploadPartCopy: the caller must also be allowed to read the source (s3:GetObject, or s3:GetObjectVersion). */
export async function checkCopySource(service: ServiceDefinition, input: { CopySource?: string }, ctx: RequestContext): Promise<void> {
  let src: ReturnType<typeof parseCopySource>;
  try {
    src = parseCopySource(input.CopySource);
  } catch {
    return; // The handler answers a malformed source.
  }
  if (isDirectoryName(src.bucket)) {
    // A directory bucket source reads as s3express:CreateSession (ReadOnly suffices).
    await checkAccess(ctx, service, { action: 's3express:CreateSession', resource: directoryArn(ctx.region, ctx.principal.accountId || ctx.accountId, src.bucket) });
    return;
  }
  const versioned = src.versionId !== undefined;
  await checkAccess(ctx, service, {
    action: versioned ? 's3:GetObjectVersion' : 's3:GetObject',
    resource: `arn:aws:s3:::${src.bucket}/${src.key}`,
    ...(versioned ? { conditions: { 's3:versionid': src.versionId } } : {}),
  });
}
