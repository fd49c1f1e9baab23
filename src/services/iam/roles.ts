import type * as sdk from '@aws-sdk/client-iam';
import {
  CreateRole$, DeleteRole$, DeleteRolePermissionsBoundary$, GetRole$, ListRoleTags$, ListRoles$, PutRolePermissionsBoundary$, TagRole$, UntagRole$, UpdateAssumeRolePolicy$, UpdateRole$, UpdateRoleDescription$,
} from '@aws-sdk/client-iam';
import type { OperationSpec } from '../../aws/service.js';
import { NS, lower, type RoleRecord } from '../../iam/entities.js';
import { uniqueId } from '../../iam/ids.js';
import { policySize } from '../../iam/policy/document.js';
import type { IamRuntime } from '../../iam/runtime.js';
import type { ReadTx } from '../../storage/ports.js';
import { iamError } from './errors.js';
import { getHolder, holderArn } from './holders.js';
import { checkBoundary, setBoundaryCount } from './managed-policies.js';
import { encodeDocument, mergeTags, name, page, path, pathPrefix, policyDocument, removeTags, required, tags, withinQuota } from './validate.js';

export const TRUST_POLICY_MAX = 2048;

export function roleShape(rt: IamRuntime, r: RoleRecord, full = true): sdk.Role {
  const out: sdk.Role = {
    Path: r.path, RoleName: r.name, RoleId: r.id, Arn: rt.arn('role', r.path, r.name), CreateDate: r.createDate,
    AssumeRolePolicyDocument: encodeDocument(r.trust), MaxSessionDuration: r.maxSessionDuration,
  };
  if (r.description !== undefined) out.Description = r.description;
  if (full) {
    if (r.boundary !== undefined) out.PermissionsBoundary = { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: r.boundary };
    if (r.tags.length > 0) out.Tags = r.tags;
    out.RoleLastUsed = r.lastUsed ? { LastUsedDate: r.lastUsed.date, Region: r.lastUsed.region } : {};
  }
  return out;
}

function maxSession(v: number | undefined): number {
  if (v === undefined) return 3600;
  if (!Number.isInteger(v) || v < 3600 || v > 43200) {
    throw iamError('ValidationError', `1 validation error detected: Value '${v}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value ${v < 3600 ? 'greater than or equal to 3600' : 'less than or equal to 43200'}`);
  }
  return v;
}

function description(v: string | undefined): string | undefined {
  if (v !== undefined && v.length > 1000) throw iamError('ValidationError', "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000");
  return v;
}

/**
 * A trust policy: valid, within its quota, and naming only principals that
 * exist (IAM refuses an unknown user or role ARN of its own account).
 */
async function trustPolicy(rt: IamRuntime, tx: ReadTx, value: string | undefined, field: string): Promise<string> {
  const text = policyDocument(rt, value, field, 'trust');
  if (policySize(text) > TRUST_POLICY_MAX) throw iamError('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${TRUST_POLICY_MAX}`);
  const doc = JSON.parse(text) as { Statement: unknown };
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Record<string, unknown>[];
  for (const st of statements) {
    const p = (st.Principal ?? st.NotPrincipal) as Record<string, unknown> | string | undefined;
    if (p === undefined || typeof p === 'string') continue;
    const aws = p.AWS;
    for (const arn of (Array.isArray(aws) ? aws : aws === undefined ? [] : [aws]) as string[]) {
      const m = /^arn:aws:iam::(\d{12}):(user|role)(\/.*\/|\/)([^/]+)$/.exec(arn);
      if (!m || m[1] !== rt.accountId) continue;
      const rec = await tx.get<{ path: string }>(m[2] === 'user' ? NS.user : NS.role, lower(m[4] ?? ''));
      if (!rec || rec.path !== m[3]) throw iamError('MalformedPolicyDocument', `Invalid principal in policy: "AWS":"${arn}"`);
    }
  }
  return text;
}

export function roleOperations(rt: IamRuntime): Record<string, OperationSpec> {
  const resource = holderArn(rt, 'role', 'RoleName');
  const roleName = (v: string | undefined) => name(v, 'roleName');
  const update = async (n: string, f: (r: RoleRecord, tx: ReadTx) => Promise<RoleRecord> | RoleRecord) => {
    await rt.write(async (tx) => {
      const r = await getHolder(tx, 'role', n);
      await tx.put(NS.role, lower(r.name), await f(r, tx));
    });
    return {};
  };
  return {
    CreateRole: {
      schema: CreateRole$,
      resource,
      async handler(input: sdk.CreateRoleRequest, ctx): Promise<sdk.CreateRoleResponse> {
        const rname = roleName(input.RoleName);
        const p = path(input.Path);
        const t = tags(input.Tags);
        const max = maxSession(input.MaxSessionDuration);
        const desc = description(input.Description);
        const role = await rt.write(async (tx) => {
          const trust = await trustPolicy(rt, tx, input.AssumeRolePolicyDocument, 'assumeRolePolicyDocument');
          if (await tx.get(NS.role, lower(rname))) throw iamError('EntityAlreadyExists', `Role with name ${rname} already exists.`);
          await withinQuota(tx, NS.role, 'role');
          const r: RoleRecord = { name: rname, path: p, id: uniqueId('AROA'), createDate: ctx.clock.now(), trust, maxSessionDuration: max, tags: t, inline: {}, attached: [] };
          if (desc !== undefined) r.description = desc;
          if (input.PermissionsBoundary !== undefined) {
            r.boundary = await checkBoundary(rt, tx, input.PermissionsBoundary);
            await setBoundaryCount(rt, tx, r.boundary, +1);
          }
          await tx.put(NS.role, lower(rname), r);
          return r;
        });
        const out = roleShape(rt, role);
        delete out.RoleLastUsed;
        return { Role: out };
      },
    },
    GetRole: {
      schema: GetRole$,
      resource,
      async handler(input: sdk.GetRoleRequest): Promise<sdk.GetRoleResponse> {
        return { Role: roleShape(rt, await rt.read((tx) => getHolder(tx, 'role', roleName(input.RoleName)))) };
      },
    },
    ListRoles: {
      schema: ListRoles$,
      async handler(input: sdk.ListRolesRequest): Promise<sdk.ListRolesResponse> {
        const prefix = pathPrefix(input.PathPrefix);
        const all = await rt.read((tx) => tx.scan<RoleRecord>(NS.role));
        const p = page(all.filter((e) => e.value.path.startsWith(prefix)), input.Marker, input.MaxItems);
        return { Roles: p.items.map((r) => roleShape(rt, r, false)), IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
      },
    },
    UpdateRole: {
      schema: UpdateRole$,
      resource,
      handler: (input: sdk.UpdateRoleRequest) => {
        const max = input.MaxSessionDuration === undefined ? undefined : maxSession(input.MaxSessionDuration);
        const desc = description(input.Description);
        return update(roleName(input.RoleName), (r) => ({ ...r, ...(max !== undefined ? { maxSessionDuration: max } : {}), ...(desc !== undefined ? { description: desc } : {}) }));
      },
    },
    UpdateRoleDescription: {
      schema: UpdateRoleDescription$,
      resource,
      async handler(input: sdk.UpdateRoleDescriptionRequest): Promise<sdk.UpdateRoleDescriptionResponse> {
        const desc = description(required(input.Description, 'description'));
        await update(roleName(input.RoleName), (r) => ({ ...r, description: desc ?? '' }));
        return { Role: roleShape(rt, await rt.read((tx) => getHolder(tx, 'role', roleName(input.RoleName)))) };
      },
    },
    UpdateAssumeRolePolicy: {
      schema: UpdateAssumeRolePolicy$,
      resource,
      handler: (input: sdk.UpdateAssumeRolePolicyRequest) => update(roleName(input.RoleName), async (r, tx) => ({ ...r, trust: await trustPolicy(rt, tx, input.PolicyDocument, 'policyDocument') })),
    },
    DeleteRole: {
      schema: DeleteRole$,
      resource,
      async handler(input: sdk.DeleteRoleRequest): Promise<Record<string, never>> {
        const rname = roleName(input.RoleName);
        await rt.write(async (tx) => {
          const r = await getHolder(tx, 'role', rname);
          if (Object.keys(r.inline).length > 0) throw iamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
          if (r.attached.length > 0) throw iamError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
          if (r.boundary !== undefined) await setBoundaryCount(rt, tx, r.boundary, -1);
          await tx.delete(NS.role, lower(r.name));
        });
        return {};
      },
    },
    TagRole: {
      schema: TagRole$,
      resource,
      handler: (input: sdk.TagRoleRequest) => {
        const t = tags(required(input.Tags, 'tags'));
        return update(roleName(input.RoleName), (r) => ({ ...r, tags: mergeTags(r.tags, t) }));
      },
    },
    UntagRole: {
      schema: UntagRole$,
      resource,
      handler: (input: sdk.UntagRoleRequest) => update(roleName(input.RoleName), (r) => ({ ...r, tags: removeTags(r.tags, input.TagKeys) })),
    },
    ListRoleTags: {
      schema: ListRoleTags$,
      resource,
      async handler(input: sdk.ListRoleTagsRequest): Promise<sdk.ListRoleTagsResponse> {
        const r = await rt.read((tx) => getHolder(tx, 'role', roleName(input.RoleName)));
        const p = page(r.tags.map((t) => ({ key: lower(t.Key), value: t })), input.Marker, input.MaxItems);
        return { Tags: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
      },
    },
    PutRolePermissionsBoundary: {
      schema: PutRolePermissionsBoundary$,
      resource,
      handler: (input: sdk.PutRolePermissionsBoundaryRequest) =>
        rt.write(async (tx) => {
          const r = await getHolder(tx, 'role', roleName(input.RoleName));
          const arn = await checkBoundary(rt, tx, required(input.PermissionsBoundary, 'permissionsBoundary'));
          if (r.boundary !== undefined) await setBoundaryCount(rt, tx, r.boundary, -1);
          await setBoundaryCount(rt, tx, arn, +1);
          await tx.put(NS.role, lower(r.name), { ...r, boundary: arn });
          return {};
        }),
    },
    DeleteRolePermissionsBoundary: {
      schema: DeleteRolePermissionsBoundary$,
      resource,
      handler: (input: sdk.DeleteRolePermissionsBoundaryRequest) =>
        rt.write(async (tx) => {
          const r = await getHolder(tx, 'role', roleName(input.RoleName));
          if (r.boundary === undefined) throw iamError('NoSuchEntity', `The role with name ${r.name} does not have a permissions boundary.`);
          await setBoundaryCount(rt, tx, r.boundary, -1);
          const { boundary: _dropped, ...rest } = r;
          await tx.put(NS.role, lower(r.name), rest);
          return {};
        }),
    },
  };
}
