import type * as sdk from '@aws-sdk/client-iam';
import { GetAccountAuthorizationDetails$ } from '@aws-sdk/client-iam';
import type { OperationSpec } from '../../aws/service.js';
import { AWS_MANAGED_CREATED, awsManagedArn, awsManagedPolicies } from '../../iam/aws-managed.js';
import { NS, type GroupRecord, type ManagedPolicyRecord, type PolicyHolder, type RoleRecord, type UserRecord } from '../../iam/entities.js';
import type { IamRuntime } from '../../iam/runtime.js';
import { policyShape } from './managed-policies.js';
import { encodeDocument } from './validate.js';

const inline = (h: PolicyHolder) => Object.entries(h.inline).map(([PolicyName, text]) => ({ PolicyName, PolicyDocument: encodeDocument(text) }));
const attached = (h: PolicyHolder) => h.attached.map((arn) => ({ PolicyName: arn.slice(arn.lastIndexOf('/') + 1), PolicyArn: arn }));
const boundary = (arn: string | undefined) => (arn === undefined ? {} : { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy' as const, PermissionsBoundaryArn: arn } });

/**
 * GetAccountAuthorizationDetails: the whole account's users, groups, roles
 * and policies with their documents, as security tools read it. One page.
 */
export function authorizationDetailsOperations(rt: IamRuntime): Record<string, OperationSpec> {
  return {
    GetAccountAuthorizationDetails: {
      schema: GetAccountAuthorizationDetails$,
      async handler(input: sdk.GetAccountAuthorizationDetailsRequest): Promise<sdk.GetAccountAuthorizationDetailsResponse> {
        const want = (f: sdk.EntityType) => input.Filter === undefined || input.Filter.length === 0 || input.Filter.includes(f);
        return rt.read(async (tx) => {
          const out: sdk.GetAccountAuthorizationDetailsResponse = { IsTruncated: false };
          if (want('User')) {
            out.UserDetailList = (await tx.scan<UserRecord>(NS.user)).map(({ value: u }) => ({
              Path: u.path, UserName: u.name, UserId: u.id, Arn: rt.arn('user', u.path, u.name), CreateDate: u.createDate,
              UserPolicyList: inline(u), GroupList: u.groups, AttachedManagedPolicies: attached(u), Tags: u.tags, ...boundary(u.boundary),
            }));
          }
          if (want('Group')) {
            out.GroupDetailList = (await tx.scan<GroupRecord>(NS.group)).map(({ value: g }) => ({
              Path: g.path, GroupName: g.name, GroupId: g.id, Arn: rt.arn('group', g.path, g.name), CreateDate: g.createDate,
              GroupPolicyList: inline(g), AttachedManagedPolicies: attached(g),
            }));
          }
          if (want('Role')) {
            out.RoleDetailList = (await tx.scan<RoleRecord>(NS.role)).map(({ value: r }) => ({
              Path: r.path, RoleName: r.name, RoleId: r.id, Arn: rt.arn('role', r.path, r.name), CreateDate: r.createDate,
              AssumeRolePolicyDocument: encodeDocument(r.trust), InstanceProfileList: [], RolePolicyList: inline(r), AttachedManagedPolicies: attached(r),
              Tags: r.tags, RoleLastUsed: r.lastUsed ? { LastUsedDate: r.lastUsed.date, Region: r.lastUsed.region } : {}, ...boundary(r.boundary),
            }));
          }
          const policies: sdk.ManagedPolicyDetail[] = [];
          if (want('LocalManagedPolicy')) {
            for (const { value: p } of await tx.scan<ManagedPolicyRecord>(NS.policy)) {
              policies.push({
                ...policyShape(rt, p),
                PolicyVersionList: p.versions.map((v) => ({ Document: encodeDocument(v.document), VersionId: v.id, IsDefaultVersion: v.id === p.defaultVersion, CreateDate: v.createDate })),
              });
            }
          }
          if (want('AWSManagedPolicy')) {
            const used = new Set<string>();
            for (const ns of [NS.user, NS.group, NS.role]) for (const { value } of await tx.scan<PolicyHolder>(ns)) for (const a of value.attached) used.add(a);
            for (const p of awsManagedPolicies()) {
              const arn = awsManagedArn(p);
              // Like AWS, only the AWS managed policies in use are listed.
              if (!used.has(arn)) continue;
              policies.push({
                PolicyName: p.name, PolicyId: p.id, Arn: arn, Path: p.path, DefaultVersionId: 'v1', IsAttachable: true, Description: p.description,
                CreateDate: AWS_MANAGED_CREATED, UpdateDate: AWS_MANAGED_CREATED,
                PolicyVersionList: [{ Document: encodeDocument(p.document), VersionId: 'v1', IsDefaultVersion: true, CreateDate: AWS_MANAGED_CREATED }],
              });
            }
          }
          if (want('LocalManagedPolicy') || want('AWSManagedPolicy')) out.Policies = policies;
          return out;
        });
      },
    },
  };
}
