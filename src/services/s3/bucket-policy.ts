/**
 * Bucket policies: Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus.
 * A policy is checked as S3 checks it (MalformedPolicy with S3's messages:
 * JSON, principals, actions known to S3, resources inside this bucket, each
 * statement's actions applying to its resources), refused when Block Public
 * Access's BlockPublicPolicy is on and the policy is public, and stored on the
 * bucket record. s3-authz.ts hands it to the IAM engine.
 */
import type {
  DeleteBucketPolicyRequest,
  GetBucketPolicyOutput,
  GetBucketPolicyRequest,
  GetBucketPolicyStatusOutput,
  GetBucketPolicyStatusRequest,
  PutBucketPolicyRequest,
} from '@aws-sdk/client-s3';
import { compilePolicy, PolicyError } from '../../iam/policy/document.js';
import type { RequestContext } from '../../server/context.js';
import { s3Error } from './errors.js';
import { isPublicPolicy } from './public-policy.js';
import { requireBucket, type S3 } from './state.js';
import { updateBucket } from './bucket-config.js';
import { isObjectAction, isS3Action } from './s3-actions.js';
import { isDirectoryName } from './directory.js';

const MAX_POLICY_BYTES = 20 * 1024;

const malformedPolicy = (message: string) => s3Error('MalformedPolicy', message);

/** Whether a Resource pattern of a policy on `bucket` stays inside it; what kind of ARN it is. */
function resourceKind(bucket: string, r: string): 'bucket' | 'object' | 'both' | undefined {
  // A directory bucket's policy names the bucket's s3express ARN (its actions are s3express:*).
  if (isDirectoryName(bucket)) return /^arn:aws:s3express:[a-z0-9-]*:(\d{12}|\*)?:bucket\/(.+)$/.exec(r)?.[2] === bucket ? 'both' : undefined;
  const arn = `arn:aws:s3:::${bucket}`;
  if (r === arn) return 'bucket';
  if (r.startsWith(`${arn}/`)) return 'object';
  const wild = r.search(/[*?]/);
  if (wild < 0 || !r.startsWith('arn:aws:s3:::')) return undefined;
  const head = r.slice(0, wild);
  // "arn:aws:s3:::buck*" may name the bucket and its objects; it must still be able to match this bucket.
  if (!`${arn}/`.startsWith(head) || head.length <= 'arn:aws:s3:::'.length) return undefined;
  return 'both';
}

function list(v: unknown): string[] {
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

/** Validates a bucket policy document for `bucket`; throws MalformedPolicy as S3 does. */
export function validateBucketPolicy(bucket: string, text: string): void {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) throw malformedPolicy('Policies must be less than 20 KB');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformedPolicy("Policies must be valid JSON and the first byte must be '{'");
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || !text.trimStart().startsWith('{')) {
    throw malformedPolicy("Policies must be valid JSON and the first byte must be '{'");
  }
  const statements = (doc as { Statement?: unknown }).Statement;
  for (const raw of Array.isArray(statements) ? statements : [statements]) {
    if (raw === null || typeof raw !== 'object') continue;
    const st = raw as Record<string, unknown>;
    if (st.Resource === undefined && st.NotResource === undefined) throw malformedPolicy('Missing required field Resource');
    const kinds = new Set<string>();
    for (const r of list(st.Resource ?? st.NotResource)) {
      const k = resourceKind(bucket, r);
      if (!k) throw malformedPolicy('Policy has invalid resource');
      kinds.add(k);
    }
    const actions = list(st.Action ?? st.NotAction);
    for (const a of actions) if (a !== '*' && !(isDirectoryName(bucket) ? /^s3express:[A-Za-z*?]+$/.test(a) : isS3Action(a))) throw malformedPolicy('Policy has invalid action');
    if (st.Action !== undefined && !kinds.has('both')) {
      const applies = actions.some((a) => /[*?]/.test(a) || (isObjectAction(a) ? kinds.has('object') : kinds.has('bucket')));
      if (!applies) throw malformedPolicy('Action does not apply to any resource(s) in statement');
    }
  }
  try {
    compilePolicy(text, 'resource');
  } catch (e) {
    if (e instanceof PolicyError) throw malformedPolicy(e.message === 'Syntax errors in policy.' ? "Policies must be valid JSON and the first byte must be '{'" : e.message);
    throw e;
  }
}

function noSuchBucketPolicy(bucket: string) {
  return s3Error('NoSuchBucketPolicy', 'The bucket policy does not exist', { BucketName: bucket });
}

/** The AccessDenied S3 gives for a public policy on a bucket that blocks them. */
export function publicPolicyBlocked(ctx: RequestContext, bucket: string) {
  const who = ctx.principal.type === 'anonymous' ? 'anonymous' : ctx.principal.arn;
  return s3Error(
    'AccessDenied',
    `User: ${who} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::${bucket}" because public policies are blocked by the BlockPublicPolicy block public access setting.`,
  );
}

export async function putBucketPolicy(s3: S3, input: PutBucketPolicyRequest, ctx: RequestContext): Promise<Record<string, never>> {
  const text = input.Policy ?? '';
  if (text.trim() === '') throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  await updateBucket(s3, input.Bucket, ctx, (b) => {
    validateBucketPolicy(b.name, text);
    if (b.publicAccessBlock?.BlockPublicPolicy === true && isPublicPolicy(text)) throw publicPolicyBlocked(ctx, b.name);
    return { ...b, policy: text };
  });
  return {};
}

export async function getBucketPolicy(s3: S3, input: GetBucketPolicyRequest, ctx: RequestContext): Promise<GetBucketPolicyOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (b.policy === undefined) throw noSuchBucketPolicy(b.name);
  return { Policy: b.policy };
}

export async function deleteBucketPolicy(s3: S3, input: DeleteBucketPolicyRequest, ctx: RequestContext): Promise<Record<string, never>> {
  await updateBucket(s3, input.Bucket, ctx, (b) => {
    const { policy: _drop, ...rest } = b;
    return rest;
  });
  return {};
}

export async function getBucketPolicyStatus(s3: S3, input: GetBucketPolicyStatusRequest, ctx: RequestContext): Promise<GetBucketPolicyStatusOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  if (b.policy === undefined) throw noSuchBucketPolicy(b.name);
  return { PolicyStatus: { IsPublic: isPublicPolicy(b.policy) } };
}
