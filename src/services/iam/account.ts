import type * as sdk from '@aws-sdk/client-iam';
import {
  GetAccountSummary$, GetLoginProfile$, ListAccountAliases$, ListEntitiesForPolicy$, ListInstanceProfiles$, ListInstanceProfilesForRole$, ListPolicyTags$,
  ListSSHPublicKeys$, ListServiceSpecificCredentials$, ListSigningCertificates$, TagPolicy$, UntagPolicy$,
} from '@aws-sdk/client-iam';
import type { OperationSpec } from '../../aws/service.js';
import { awsManagedPolicy } from '../../iam/aws-managed.js';
import { NS, lower, type GroupRecord, type ManagedPolicyRecord, type MfaRecord, type RoleRecord, type UserRecord } from '../../iam/entities.js';
import type { IamRuntime } from '../../iam/runtime.js';
import { iamError } from './errors.js';
import { getHolder, holderArn } from './holders.js';
import { getPolicy, MANAGED_POLICY_MAX } from './managed-policies.js';
import { arnOf, mergeTags, name, page, removeTags, required, tags } from './validate.js';

/**
 * Account-wide views (GetAccountSummary, ListEntitiesForPolicy), policy tags,
 * and the listings of entity kinds hanul does not have (login profiles,
 * instance profiles, certificates, SSH keys, service credentials, aliases):
 * tools such as Terraform read them before deleting a user or role, and an
 * honest empty answer lets them proceed.
 */
export function accountOperations(rt: IamRuntime): Record<string, OperationSpec> {
  const empty = (field: string) => () => Promise.resolve({ [field]: [], IsTruncated: false });
  const userArn = holderArn(rt, 'user', 'UserName');
  const roleArn = holderArn(rt, 'role', 'RoleName');
  const policyArn = (input: { PolicyArn?: string }) => input.PolicyArn ?? '*';
  return {
    GetAccountSummary: {
      schema: GetAccountSummary$,
      async handler(): Promise<sdk.GetAccountSummaryResponse> {
        return rt.read(async (tx) => {
          const users = await tx.scan<UserRecord>(NS.user);
          const groups = await tx.count(NS.group);
          const roles = await tx.count(NS.role);
          const policies = await tx.scan<ManagedPolicyRecord>(NS.policy);
          const mfa = await tx.scan<MfaRecord>(NS.mfa);
          return {
            SummaryMap: {
              Users: users.length, UsersQuota: 5000, Groups: groups, GroupsQuota: 300, Roles: roles, RolesQuota: 1000,
              Policies: policies.length, PoliciesQuota: 1500, PolicyVersionsInUse: policies.reduce((n, p) => n + p.value.versions.length, 0), PolicyVersionsInUseQuota: 10000,
              VersionsPerPolicyQuota: 5, PolicySizeQuota: MANAGED_POLICY_MAX, UserPolicySizeQuota: 2048, GroupPolicySizeQuota: 5120, RolePolicySizeQuota: 10240,
              AssumeRolePolicySizeQuota: 2048, AccessKeysPerUserQuota: 2, GroupsPerUserQuota: 10, AttachedPoliciesPerUserQuota: 10, AttachedPoliciesPerGroupQuota: 10,
              AttachedPoliciesPerRoleQuota: 10, MFADevices: mfa.length, MFADevicesInUse: mfa.filter((m) => m.value.userName !== undefined).length,
              AccountMFAEnabled: 0, AccountAccessKeysPresent: 1, AccountSigningCertificatesPresent: 0, InstanceProfiles: 0, InstanceProfilesQuota: 1000,
              ServerCertificates: 0, ServerCertificatesQuota: 20, Providers: 0, SigningCertificatesPerUserQuota: 2, GlobalEndpointTokenVersion: 1,
            },
          };
        });
      },
    },
    ListEntitiesForPolicy: {
      schema: ListEntitiesForPolicy$,
      resource: policyArn,
      async handler(input: sdk.ListEntitiesForPolicyRequest): Promise<sdk.ListEntitiesForPolicyResponse> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        const filter = input.EntityFilter;
        const usage = input.PolicyUsageFilter;
        const prefix = input.PathPrefix ?? '/';
        const found = await rt.read(async (tx) => {
          if (!awsManagedPolicy(arn)) await getPolicy(rt, tx, arn);
          const uses = (h: { attached: string[]; boundary?: string; path: string }) =>
            h.path.startsWith(prefix) && (usage === 'PermissionsBoundary' ? h.boundary === arn : usage === 'PermissionsPolicy' ? h.attached.includes(arn) : h.attached.includes(arn) || h.boundary === arn);
          const out: { key: string; value: { kind: 'User' | 'Group' | 'Role'; name: string; id: string } }[] = [];
          const add = async (ns: string, kind: 'User' | 'Group' | 'Role') => {
            if (filter !== undefined && filter !== kind && filter !== 'LocalManagedPolicy' && filter !== 'AWSManagedPolicy') return;
            for (const { key, value } of await tx.scan<UserRecord | GroupRecord | RoleRecord>(ns)) {
              if (uses(value)) out.push({ key: `${kind}/${key}`, value: { kind, name: value.name, id: value.id } });
            }
          };
          await add(NS.group, 'Group');
          await add(NS.role, 'Role');
          await add(NS.user, 'User');
          return out;
        });
        const p = page(found, input.Marker, input.MaxItems);
        return {
          PolicyGroups: p.items.filter((e) => e.kind === 'Group').map((e) => ({ GroupName: e.name, GroupId: e.id })),
          PolicyUsers: p.items.filter((e) => e.kind === 'User').map((e) => ({ UserName: e.name, UserId: e.id })),
          PolicyRoles: p.items.filter((e) => e.kind === 'Role').map((e) => ({ RoleName: e.name, RoleId: e.id })),
          IsTruncated: p.IsTruncated,
          ...(p.Marker ? { Marker: p.Marker } : {}),
        };
      },
    },
    TagPolicy: {
      schema: TagPolicy$,
      resource: policyArn,
      async handler(input: sdk.TagPolicyRequest): Promise<Record<string, never>> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        const t = tags(required(input.Tags, 'tags'));
        await rt.write(async (tx) => {
          const p = await getPolicy(rt, tx, arn);
          await tx.put(NS.policy, lower(p.name), { ...p, tags: mergeTags(p.tags, t) });
        });
        return {};
      },
    },
    UntagPolicy: {
      schema: UntagPolicy$,
      resource: policyArn,
      async handler(input: sdk.UntagPolicyRequest): Promise<Record<string, never>> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        await rt.write(async (tx) => {
          const p = await getPolicy(rt, tx, arn);
          await tx.put(NS.policy, lower(p.name), { ...p, tags: removeTags(p.tags, input.TagKeys) });
        });
        return {};
      },
    },
    ListPolicyTags: {
      schema: ListPolicyTags$,
      resource: policyArn,
      async handler(input: sdk.ListPolicyTagsRequest): Promise<sdk.ListPolicyTagsResponse> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        if (awsManagedPolicy(arn)) return { Tags: [], IsTruncated: false };
        const p = await rt.read((tx) => getPolicy(rt, tx, arn));
        const pg = page(p.tags.map((t) => ({ key: lower(t.Key), value: t })), input.Marker, input.MaxItems);
        return { Tags: pg.items, IsTruncated: pg.IsTruncated, ...(pg.Marker ? { Marker: pg.Marker } : {}) };
      },
    },
    GetLoginProfile: {
      schema: GetLoginProfile$,
      resource: userArn,
      async handler(input: sdk.GetLoginProfileRequest): Promise<sdk.GetLoginProfileResponse> {
        const u = await rt.read((tx) => getHolder(tx, 'user', name(input.UserName, 'userName')));
        throw iamError('NoSuchEntity', `Login Profile for User ${u.name} cannot be found.`);
      },
    },
    ListInstanceProfilesForRole: {
      schema: ListInstanceProfilesForRole$,
      resource: roleArn,
      async handler(input: sdk.ListInstanceProfilesForRoleRequest) {
        await rt.read((tx) => getHolder(tx, 'role', name(input.RoleName, 'roleName')));
        return { InstanceProfiles: [], IsTruncated: false };
      },
    },
    ListInstanceProfiles: { schema: ListInstanceProfiles$, handler: empty('InstanceProfiles') },
    ListAccountAliases: { schema: ListAccountAliases$, handler: empty('AccountAliases') },
    ListSigningCertificates: { schema: ListSigningCertificates$, resource: userArn, handler: empty('Certificates') },
    ListSSHPublicKeys: { schema: ListSSHPublicKeys$, resource: userArn, handler: empty('SSHPublicKeys') },
    ListServiceSpecificCredentials: { schema: ListServiceSpecificCredentials$, resource: userArn, handler: () => Promise.resolve({ ServiceSpecificCredentials: [] }) },
  };
}
