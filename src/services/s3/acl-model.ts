/**
 * ACLs as data: canned ACLs and x-amz-grant-* headers turned into grants,
 * grants turned into the wire's Grant list, whether a grant list is public,
 * and the policy statements a grant list amounts to — S3's documented
 * mapping of ACL permissions to actions — so the IAM engine evaluates ACLs
 * beside the bucket policy (s3-authz.ts).
 */
import type { Grant } from '@aws-sdk/client-s3';
import { s3Error } from './errors.js';
import { canonicalUserId, type AclPermission, type StoredGrant } from './model.js';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const GROUPS = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]);

export const CANNED_ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control', 'log-delivery-write'] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];
const PERMISSIONS = new Set<AclPermission>(['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP']);

/**
 * The grants (beyond the owner's FULL_CONTROL) of a canned ACL. `bucketOwner`
 * is the bucket owner's canonical id, for the bucket-owner-* ACLs on objects.
 */
export function cannedGrants(acl: string, target: 'bucket' | 'object', ownerId: string, bucketOwnerId: string): StoredGrant[] {
  switch (acl) {
    case 'private':
      return [];
    case 'public-read':
      return [{ uri: ALL_USERS, permission: 'READ' }];
    case 'public-read-write':
      return [
        { uri: ALL_USERS, permission: 'READ' },
        { uri: ALL_USERS, permission: 'WRITE' },
      ];
    case 'authenticated-read':
      return [{ uri: AUTHENTICATED_USERS, permission: 'READ' }];
    case 'aws-exec-read':
      return [];
    case 'bucket-owner-read':
      return target === 'object' && bucketOwnerId !== ownerId ? [{ id: bucketOwnerId, permission: 'READ' }] : [];
    case 'bucket-owner-full-control':
      return target === 'object' && bucketOwnerId !== ownerId ? [{ id: bucketOwnerId, permission: 'FULL_CONTROL' }] : [];
    case 'log-delivery-write':
      return [
        { uri: LOG_DELIVERY, permission: 'WRITE' },
        { uri: LOG_DELIVERY, permission: 'READ_ACP' },
      ];
    default:
      throw s3Error('InvalidArgument', '', { ArgumentName: 'x-amz-acl', ArgumentValue: acl });
  }
}

/** The grantee list of one x-amz-grant-* header: `id="…", uri="…", emailAddress="…"`. */
export function parseGrantHeader(value: string, permission: AclPermission, header: string): StoredGrant[] {
  const out: StoredGrant[] = [];
  for (const part of value.split(',')) {
    const m = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/i.exec(part);
    if (!m) throw s3Error('InvalidArgument', 'Invalid argument', { ArgumentName: header, ArgumentValue: value });
    const kind = (m[1] as string).toLowerCase();
    const v = m[2] as string;
    if (kind === 'id') out.push({ id: checkCanonicalId(v), permission });
    else if (kind === 'uri') out.push({ uri: checkGroup(v), permission });
    else throw unresolvableEmail(v);
  }
  return out;
}

function unresolvableEmail(email: string) {
  return s3Error('UnresolvableGrantByEmailAddress', 'The e-mail address you provided does not match any account on record.', { EmailAddress: email });
}

function checkCanonicalId(id: string): string {
  if (!/^[0-9a-f]{64}$/.test(id)) throw s3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: id });
  return id;
}

function checkGroup(uri: string): string {
  if (!GROUPS.has(uri)) throw s3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'Group/URI', ArgumentValue: uri });
  return uri;
}

/** Grants from an AccessControlPolicy body; the owner's own FULL_CONTROL is implicit and left out. */
export function grantsFromBody(grants: readonly Grant[] | undefined, ownerId: string): StoredGrant[] {
  const out: StoredGrant[] = [];
  for (const g of grants ?? []) {
    const permission = g.Permission;
    if (permission === undefined || !PERMISSIONS.has(permission) || !g.Grantee) throw malformedAcl();
    const e = g.Grantee;
    // The xsi:type attribute is not carried by the codec: the grantee's element says which kind it is.
    if (e.ID !== undefined) {
      const id = checkCanonicalId(e.ID);
      if (!(id === ownerId && permission === 'FULL_CONTROL')) out.push({ id, permission });
    } else if (e.URI !== undefined) {
      out.push({ uri: checkGroup(e.URI), permission });
    } else if (e.EmailAddress !== undefined) {
      throw unresolvableEmail(e.EmailAddress);
    } else {
      throw malformedAcl();
    }
  }
  return out;
}

export function malformedAcl() {
  return s3Error('MalformedACLError', 'The XML you provided was not well-formed or did not validate against our published schema');
}

/** The wire's Grant list: the owner's FULL_CONTROL first, then the stored grants. */
export function wireGrants(ownerId: string, grants: readonly StoredGrant[] | undefined): Grant[] {
  const out: Grant[] = [{ Grantee: { Type: 'CanonicalUser', ID: ownerId, DisplayName: 'hanul' }, Permission: 'FULL_CONTROL' }];
  for (const g of grants ?? []) {
    out.push(g.uri !== undefined ? { Grantee: { Type: 'Group', URI: g.uri }, Permission: g.permission } : { Grantee: { Type: 'CanonicalUser', ID: g.id ?? '', DisplayName: 'hanul' }, Permission: g.permission });
  }
  return out;
}

export const isPublicGrant = (g: StoredGrant) => g.uri === ALL_USERS || g.uri === AUTHENTICATED_USERS;

const BUCKET_ACTIONS: Record<AclPermission, { actions: string[]; objects: boolean }[]> = {
  READ: [{ actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'], objects: false }],
  WRITE: [{ actions: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload'], objects: true }],
  READ_ACP: [{ actions: ['s3:GetBucketAcl'], objects: false }],
  WRITE_ACP: [{ actions: ['s3:PutBucketAcl'], objects: false }],
  FULL_CONTROL: [],
};
BUCKET_ACTIONS.FULL_CONTROL = [...BUCKET_ACTIONS.READ, ...BUCKET_ACTIONS.WRITE, ...BUCKET_ACTIONS.READ_ACP, ...BUCKET_ACTIONS.WRITE_ACP];

const OBJECT_ACTIONS: Record<AclPermission, string[]> = {
  READ: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTorrent'],
  WRITE: [],
  READ_ACP: ['s3:GetObjectAcl', 's3:GetObjectVersionAcl'],
  WRITE_ACP: ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'],
  FULL_CONTROL: [],
};
OBJECT_ACTIONS.FULL_CONTROL = [...OBJECT_ACTIONS.READ, ...OBJECT_ACTIONS.READ_ACP, ...OBJECT_ACTIONS.WRITE_ACP];

function principalOf(g: StoredGrant, accountId: string): { Principal: unknown; Condition?: unknown } | undefined {
  if (g.uri === ALL_USERS) return { Principal: '*' };
  // Any signed caller: every principal but the anonymous one.
  if (g.uri === AUTHENTICATED_USERS) return { Principal: '*', Condition: { StringNotEquals: { 'aws:PrincipalType': 'Anonymous' } } };
  if (g.id !== undefined && g.id === canonicalUserId(accountId)) return { Principal: { AWS: `arn:aws:iam::${accountId}:root` } };
  // Other canonical users (other accounts, log delivery) match no caller of this node.
  return undefined;
}

/**
 * The Allow statements an ACL amounts to. `accountId` is the account whose
 * canonical id a grant may name (hanul serves one account).
 */
export function aclStatements(target: 'bucket' | 'object', bucket: string, grants: readonly StoredGrant[], accountId: string, ignorePublic: boolean): object[] {
  const out: object[] = [];
  for (const g of grants) {
    if (ignorePublic && isPublicGrant(g)) continue;
    const who = principalOf(g, accountId);
    if (!who) continue;
    if (target === 'object') {
      const actions = OBJECT_ACTIONS[g.permission];
      if (actions.length > 0) out.push({ Effect: 'Allow', ...who, Action: actions, Resource: `arn:aws:s3:::${bucket}/*` });
      continue;
    }
    for (const part of BUCKET_ACTIONS[g.permission]) {
      out.push({ Effect: 'Allow', ...who, Action: part.actions, Resource: part.objects ? `arn:aws:s3:::${bucket}/*` : `arn:aws:s3:::${bucket}` });
    }
  }
  return out;
}
