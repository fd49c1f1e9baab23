import type * as sdk from '@aws-sdk/client-iam';
import { AddUserToGroup$, CreateGroup$, DeleteGroup$, GetGroup$, ListGroups$, ListGroupsForUser$, RemoveUserFromGroup$, UpdateGroup$ } from '@aws-sdk/client-iam';
import type { OperationSpec } from '../../aws/service.js';
import { NS, lower, type GroupRecord, type UserRecord } from '../../iam/entities.js';
import { uniqueId } from '../../iam/ids.js';
import type { IamRuntime } from '../../iam/runtime.js';
import { iamError } from './errors.js';
import { getHolder, holderArn } from './holders.js';
import { userShape } from './users.js';
import { name, page, path, pathPrefix, withinQuota } from './validate.js';

export const GROUPS_PER_USER = 10;

function groupShape(rt: IamRuntime, g: GroupRecord): sdk.Group {
  return { Path: g.path, GroupName: g.name, GroupId: g.id, Arn: rt.arn('group', g.path, g.name), CreateDate: g.createDate };
}

const groupName = (v: string | undefined, field = 'groupName') => name(v, field, 128);

export function groupOperations(rt: IamRuntime): Record<string, OperationSpec> {
  const resource = holderArn(rt, 'group', 'GroupName');
  return {
    CreateGroup: {
      schema: CreateGroup$,
      resource,
      async handler(input: sdk.CreateGroupRequest, ctx): Promise<sdk.CreateGroupResponse> {
        const gname = groupName(input.GroupName);
        const p = path(input.Path);
        const g = await rt.write(async (tx) => {
          if (await tx.get(NS.group, lower(gname))) throw iamError('EntityAlreadyExists', `Group with name ${gname} already exists.`);
          await withinQuota(tx, NS.group, 'group');
          const rec: GroupRecord = { name: gname, path: p, id: uniqueId('AGPA'), createDate: ctx.clock.now(), inline: {}, attached: [] };
          await tx.put(NS.group, lower(gname), rec);
          return rec;
        });
        return { Group: groupShape(rt, g) };
      },
    },
    GetGroup: {
      schema: GetGroup$,
      resource,
      async handler(input: sdk.GetGroupRequest): Promise<sdk.GetGroupResponse> {
        const gname = groupName(input.GroupName);
        const { g, users } = await rt.read(async (tx) => {
          const rec = await getHolder(tx, 'group', gname);
          const list: { key: string; value: UserRecord }[] = [];
          for (const { key } of await tx.scan(NS.member, { prefix: `${lower(rec.name)}/` })) {
            const u = await tx.get<UserRecord>(NS.user, key.slice(key.indexOf('/') + 1));
            if (u) list.push({ key: lower(u.name), value: u });
          }
          return { g: rec, users: list };
        });
        const p = page(users, input.Marker, input.MaxItems);
        return { Group: groupShape(rt, g), Users: p.items.map((u) => userShape(rt, u, false)), IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
      },
    },
    ListGroups: {
      schema: ListGroups$,
      async handler(input: sdk.ListGroupsRequest): Promise<sdk.ListGroupsResponse> {
        const prefix = pathPrefix(input.PathPrefix);
        const all = await rt.read((tx) => tx.scan<GroupRecord>(NS.group));
        const p = page(all.filter((e) => e.value.path.startsWith(prefix)), input.Marker, input.MaxItems);
        return { Groups: p.items.map((g) => groupShape(rt, g)), IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
      },
    },
    UpdateGroup: {
      schema: UpdateGroup$,
      resource,
      async handler(input: sdk.UpdateGroupRequest): Promise<Record<string, never>> {
        const gname = groupName(input.GroupName);
        const newName = input.NewGroupName === undefined ? undefined : groupName(input.NewGroupName, 'newGroupName');
        const newPath = input.NewPath === undefined ? undefined : path(input.NewPath, 'newPath');
        await rt.write(async (tx) => {
          const g = await getHolder(tx, 'group', gname);
          const next: GroupRecord = { ...g, ...(newPath !== undefined ? { path: newPath } : {}) };
          if (newName !== undefined && newName !== g.name) {
            if (lower(newName) !== lower(g.name) && (await tx.get(NS.group, lower(newName)))) throw iamError('EntityAlreadyExists', `Group with name ${newName} already exists.`);
            for (const { key, value } of await tx.scan<string>(NS.member, { prefix: `${lower(g.name)}/` })) {
              await tx.delete(NS.member, key);
              await tx.put(NS.member, `${lower(newName)}/${lower(value)}`, value);
              const u = await tx.get<UserRecord>(NS.user, lower(value));
              if (u) await tx.put(NS.user, lower(u.name), { ...u, groups: u.groups.map((x) => (lower(x) === lower(g.name) ? newName : x)) });
            }
            await tx.delete(NS.group, lower(g.name));
            next.name = newName;
          }
          await tx.put(NS.group, lower(next.name), next);
        });
        return {};
      },
    },
    DeleteGroup: {
      schema: DeleteGroup$,
      resource,
      async handler(input: sdk.DeleteGroupRequest): Promise<Record<string, never>> {
        const gname = groupName(input.GroupName);
        await rt.write(async (tx) => {
          const g = await getHolder(tx, 'group', gname);
          if ((await tx.count(NS.member, { prefix: `${lower(g.name)}/` })) > 0) throw iamError('DeleteConflict', 'Cannot delete entity, must remove users from group first.');
          if (Object.keys(g.inline).length > 0) throw iamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
          if (g.attached.length > 0) throw iamError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
          await tx.delete(NS.group, lower(g.name));
        });
        return {};
      },
    },
    AddUserToGroup: {
      schema: AddUserToGroup$,
      resource,
      async handler(input: sdk.AddUserToGroupRequest): Promise<Record<string, never>> {
        const gname = groupName(input.GroupName);
        const uname = name(input.UserName, 'userName');
        await rt.write(async (tx) => {
          const g = await getHolder(tx, 'group', gname);
          const u = await getHolder(tx, 'user', uname);
          if (u.groups.some((x) => lower(x) === lower(g.name))) return;
          if (u.groups.length >= GROUPS_PER_USER) throw iamError('LimitExceeded', `Cannot exceed quota for GroupsPerUser: ${GROUPS_PER_USER}`);
          await tx.put(NS.user, lower(u.name), { ...u, groups: [...u.groups, g.name] });
          await tx.put(NS.member, `${lower(g.name)}/${lower(u.name)}`, u.name);
        });
        return {};
      },
    },
    RemoveUserFromGroup: {
      schema: RemoveUserFromGroup$,
      resource,
      async handler(input: sdk.RemoveUserFromGroupRequest): Promise<Record<string, never>> {
        const gname = groupName(input.GroupName);
        const uname = name(input.UserName, 'userName');
        await rt.write(async (tx) => {
          const g = await getHolder(tx, 'group', gname);
          const u = await getHolder(tx, 'user', uname);
          if (!u.groups.some((x) => lower(x) === lower(g.name))) throw iamError('NoSuchEntity', `The user with name ${u.name} cannot be found in group ${g.name}.`);
          await tx.put(NS.user, lower(u.name), { ...u, groups: u.groups.filter((x) => lower(x) !== lower(g.name)) });
          await tx.delete(NS.member, `${lower(g.name)}/${lower(u.name)}`);
        });
        return {};
      },
    },
    ListGroupsForUser: {
      schema: ListGroupsForUser$,
      resource: holderArn(rt, 'user', 'UserName'),
      async handler(input: sdk.ListGroupsForUserRequest): Promise<sdk.ListGroupsForUserResponse> {
        const uname = name(input.UserName, 'userName');
        const groups = await rt.read(async (tx) => {
          const u = await getHolder(tx, 'user', uname);
          const out: { key: string; value: GroupRecord }[] = [];
          for (const gn of u.groups) {
            const g = await tx.get<GroupRecord>(NS.group, lower(gn));
            if (g) out.push({ key: lower(g.name), value: g });
          }
          return out.sort((a, b) => (a.key < b.key ? -1 : 1));
        });
        const p = page(groups, input.Marker, input.MaxItems);
        return { Groups: p.items.map((g) => groupShape(rt, g)), IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
      },
    },
  };
}
