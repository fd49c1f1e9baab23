import type * as sdk from '@aws-sdk/client-iam';
import { CreateUser$, DeleteUser$, DeleteUserPermissionsBoundary$, GetUser$, ListUserTags$, ListUsers$, PutUserPermissionsBoundary$, TagUser$, UntagUser$, UpdateUser$ } from '@aws-sdk/client-iam';
import type { OperationSpec } from '../../aws/service.js';
import { NS, lower, type AccessKeyRecord, type MfaRecord, type UserRecord } from '../../iam/entities.js';
import { uniqueId } from '../../iam/ids.js';
import type { IamRuntime } from '../../iam/runtime.js';
import type { WriteTx } from '../../storage/ports.js';
import { iamError } from './errors.js';
import { callerUserName, getHolder, holderArn } from './holders.js';
import { checkBoundary, setBoundaryCount } from './managed-policies.js';
import { mergeTags, name, page, path, pathPrefix, removeTags, required, tags, withinQuota } from './validate.js';

export function userShape(rt: IamRuntime, u: UserRecord, full = true): sdk.User {
  const out: sdk.User = { Path: u.path, UserName: u.name, UserId: u.id, Arn: rt.arn('user', u.path, u.name), CreateDate: u.createDate };
  if (full && u.boundary !== undefined) out.PermissionsBoundary = { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: u.boundary };
  if (full && u.tags.length > 0) out.Tags = u.tags;
  return out;
}

/** Moves everything keyed by a user's name when it is renamed. */
async function renameUser(tx: WriteTx, u: UserRecord, newName: string): Promise<void> {
  const oldKey = lower(u.name);
  for (const { key } of await tx.scan(NS.userKey, { prefix: `${oldKey}/` })) {
    const id = key.slice(oldKey.length + 1);
    await tx.delete(NS.userKey, key);
    await tx.put(NS.userKey, `${lower(newName)}/${id}`, true);
    const k = await tx.get<AccessKeyRecord>(NS.accessKey, id);
    if (k) await tx.put(NS.accessKey, id, { ...k, userName: newName });
  }
  for (const g of u.groups) {
    await tx.delete(NS.member, `${lower(g)}/${oldKey}`);
    await tx.put(NS.member, `${lower(g)}/${lower(newName)}`, newName);
  }
  for (const { value } of await tx.scan<MfaRecord>(NS.mfa)) {
    if (value.userName !== undefined && lower(value.userName) === oldKey) await tx.put(NS.mfa, lower(value.serial), { ...value, userName: newName });
  }
}

export function userOperations(rt: IamRuntime): Record<string, OperationSpec> {
  const arnOf = holderArn(rt, 'user', 'UserName');
  return {
    CreateUser: {
      schema: CreateUser$,
      resource: arnOf,
      async handler(input: sdk.CreateUserRequest, ctx): Promise<sdk.CreateUserResponse> {
        const userName = name(input.UserName, 'userName');
        const p = path(input.Path);
        const t = tags(input.Tags);
        const user = await rt.write(async (tx) => {
          if (await tx.get(NS.user, lower(userName))) throw iamError('EntityAlreadyExists', `User with name ${userName} already exists.`);
          await withinQuota(tx, NS.user, 'user');
          const u: UserRecord = { name: userName, path: p, id: uniqueId('AIDA'), createDate: ctx.clock.now(), tags: t, inline: {}, attached: [], groups: [] };
          if (input.PermissionsBoundary !== undefined) {
            u.boundary = await checkBoundary(rt, tx, input.PermissionsBoundary);
            await setBoundaryCount(rt, tx, u.boundary, +1);
          }
          await tx.put(NS.user, lower(userName), u);
          return u;
        });
        return { User: userShape(rt, user) };
      },
    },
    GetUser: {
      schema: GetUser$,
      resource: arnOf,
      async handler(input: sdk.GetUserRequest, ctx): Promise<sdk.GetUserResponse> {
        if ((input.UserName === undefined || input.UserName === '') && ctx.principal.type === 'root') {
          // The root user asking about itself.
          return { User: { UserId: ctx.accountId, Arn: ctx.principal.arn, CreateDate: new Date(0) } as sdk.User };
        }
        const userName = callerUserName(ctx, input.UserName);
        const u = await rt.read((tx) => getHolder(tx, 'user', userName));
        return { User: userShape(rt, u) };
      },
    },
    ListUsers: {
      schema: ListUsers$,
      async handler(input: sdk.ListUsersRequest): Promise<sdk.ListUsersResponse> {
        const prefix = pathPrefix(input.PathPrefix);
        const all = await rt.read((tx) => tx.scan<UserRecord>(NS.user));
        const p = page(all.filter((e) => e.value.path.startsWith(prefix)), input.Marker, input.MaxItems);
        return { Users: p.items.map((u) => userShape(rt, u, false)), IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
      },
    },
    UpdateUser: {
      schema: UpdateUser$,
      resource: arnOf,
      async handler(input: sdk.UpdateUserRequest): Promise<Record<string, never>> {
        const userName = name(input.UserName, 'userName');
        const newName = input.NewUserName === undefined ? undefined : name(input.NewUserName, 'newUserName');
        const newPath = input.NewPath === undefined ? undefined : path(input.NewPath, 'newPath');
        await rt.write(async (tx) => {
          const u = await getHolder(tx, 'user', userName);
          const next: UserRecord = { ...u, ...(newPath !== undefined ? { path: newPath } : {}) };
          if (newName !== undefined && newName !== u.name) {
            if (lower(newName) !== lower(u.name) && (await tx.get(NS.user, lower(newName)))) throw iamError('EntityAlreadyExists', `User with name ${newName} already exists.`);
            await renameUser(tx, u, newName);
            await tx.delete(NS.user, lower(u.name));
            next.name = newName;
          }
          await tx.put(NS.user, lower(next.name), next);
        });
        return {};
      },
    },
    DeleteUser: {
      schema: DeleteUser$,
      resource: arnOf,
      async handler(input: sdk.DeleteUserRequest): Promise<Record<string, never>> {
        const userName = name(input.UserName, 'userName');
        await rt.write(async (tx) => {
          const u = await getHolder(tx, 'user', userName);
          const key = lower(u.name);
          if ((await tx.count(NS.userKey, { prefix: `${key}/` })) > 0) throw iamError('DeleteConflict', 'Cannot delete entity, must delete access keys first.');
          const mfas = await tx.scan<MfaRecord>(NS.mfa);
          if (mfas.some((m) => m.value.userName !== undefined && lower(m.value.userName) === key)) throw iamError('DeleteConflict', 'Cannot delete entity, must delete MFA device first.');
          if (Object.keys(u.inline).length > 0) throw iamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
          if (u.attached.length > 0) throw iamError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
          if (u.groups.length > 0) throw iamError('DeleteConflict', 'Cannot delete entity, must remove user from all groups first.');
          if (u.boundary !== undefined) await setBoundaryCount(rt, tx, u.boundary, -1);
          await tx.delete(NS.user, key);
        });
        return {};
      },
    },
    TagUser: {
      schema: TagUser$,
      resource: arnOf,
      async handler(input: sdk.TagUserRequest): Promise<Record<string, never>> {
        const userName = name(input.UserName, 'userName');
        const t = tags(required(input.Tags, 'tags'));
        await rt.write(async (tx) => {
          const u = await getHolder(tx, 'user', userName);
          await tx.put(NS.user, lower(u.name), { ...u, tags: mergeTags(u.tags, t) });
        });
        return {};
      },
    },
    UntagUser: {
      schema: UntagUser$,
      resource: arnOf,
      async handler(input: sdk.UntagUserRequest): Promise<Record<string, never>> {
        const userName = name(input.UserName, 'userName');
        await rt.write(async (tx) => {
          const u = await getHolder(tx, 'user', userName);
          await tx.put(NS.user, lower(u.name), { ...u, tags: removeTags(u.tags, input.TagKeys) });
        });
        return {};
      },
    },
    ListUserTags: {
      schema: ListUserTags$,
      resource: arnOf,
      async handler(input: sdk.ListUserTagsRequest): Promise<sdk.ListUserTagsResponse> {
        const u = await rt.read((tx) => getHolder(tx, 'user', name(input.UserName, 'userName')));
        const p = page(u.tags.map((t) => ({ key: lower(t.Key), value: t })), input.Marker, input.MaxItems);
        return { Tags: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
      },
    },
    PutUserPermissionsBoundary: {
      schema: PutUserPermissionsBoundary$,
      resource: arnOf,
      async handler(input: sdk.PutUserPermissionsBoundaryRequest): Promise<Record<string, never>> {
        const userName = name(input.UserName, 'userName');
        await rt.write(async (tx) => {
          const u = await getHolder(tx, 'user', userName);
          const arn = await checkBoundary(rt, tx, required(input.PermissionsBoundary, 'permissionsBoundary'));
          if (u.boundary !== undefined) await setBoundaryCount(rt, tx, u.boundary, -1);
          await setBoundaryCount(rt, tx, arn, +1);
          await tx.put(NS.user, lower(u.name), { ...u, boundary: arn });
        });
        return {};
      },
    },
    DeleteUserPermissionsBoundary: {
      schema: DeleteUserPermissionsBoundary$,
      resource: arnOf,
      async handler(input: sdk.DeleteUserPermissionsBoundaryRequest): Promise<Record<string, never>> {
        const userName = name(input.UserName, 'userName');
        await rt.write(async (tx) => {
          const u = await getHolder(tx, 'user', userName);
          if (u.boundary === undefined) throw iamError('NoSuchEntity', `The user with name ${u.name} does not have a permissions boundary.`);
          await setBoundaryCount(rt, tx, u.boundary, -1);
          const { boundary: _dropped, ...rest } = u;
          await tx.put(NS.user, lower(u.name), rest);
        });
        return {};
      },
    },
  };
}
