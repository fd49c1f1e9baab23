import type * as sdk from '@aws-sdk/client-iam';
import { CreatePolicy$, CreatePolicyVersion$, DeletePolicy$, DeletePolicyVersion$, GetPolicy$, GetPolicyVersion$, ListPolicies$, ListPolicyVersions$, SetDefaultPolicyVersion$ } from '@aws-sdk/client-iam';
import type { OperationSpec } from '../../aws/service.js';
import { AWS_MANAGED_CREATED, awsManagedArn, awsManagedPolicies, awsManagedPolicy, type AwsManagedPolicy } from '../../iam/aws-managed.js';
import { NS, lower, type ManagedPolicyRecord, type PolicyHolder } from '../../iam/entities.js';
import { uniqueId } from '../../iam/ids.js';
import { policySize } from '../../iam/policy/document.js';
import type { IamRuntime } from '../../iam/runtime.js';
import type { ReadTx, WriteTx } from '../../storage/ports.js';
import { iamError } from './errors.js';
import { arnOf, encodeDocument, name, page, path, pathPrefix, policyDocument, required, tags, withinQuota } from './validate.js';

export const MANAGED_POLICY_MAX = 6144;
const MAX_VERSIONS = 5;

function noSuchPolicy(arn: string) {
  return iamError('NoSuchEntity', `Policy ${arn} was not found.`);
}

export async function getPolicy(rt: IamRuntime, tx: ReadTx, arn: string): Promise<ManagedPolicyRecord> {
  const p = await rt.managedPolicy(tx, arn);
  if (!p) throw noSuchPolicy(arn);
  return p;
}

/** A managed policy that can be attached or used as a boundary: customer managed or AWS managed. */
export async function attachable(rt: IamRuntime, tx: ReadTx, arn: string): Promise<string> {
  if (awsManagedPolicy(arn)) return arn;
  if (!(await rt.managedPolicy(tx, arn))) throw iamError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
  return arn;
}

export async function checkBoundary(rt: IamRuntime, tx: ReadTx, arn: string): Promise<string> {
  if (awsManagedPolicy(arn) || (await rt.managedPolicy(tx, arn))) return arn;
  throw iamError('NoSuchEntity', `Scope ARN: ${arn} does not exist or is not attachable.`);
}

async function adjust(rt: IamRuntime, tx: WriteTx, arn: string, field: 'attachmentCount' | 'boundaryCount', delta: number): Promise<void> {
  const p = await rt.managedPolicy(tx, arn);
  if (p) await tx.put(NS.policy, lower(p.name), { ...p, [field]: Math.max(0, p[field] + delta) });
}

export const setBoundaryCount = (rt: IamRuntime, tx: WriteTx, arn: string, delta: number) => adjust(rt, tx, arn, 'boundaryCount', delta);
export const setAttachmentCount = (rt: IamRuntime, tx: WriteTx, arn: string, delta: number) => adjust(rt, tx, arn, 'attachmentCount', delta);

/** AWS managed policies keep no counters: count their uses when asked. */
async function awsUsage(tx: ReadTx, arn: string): Promise<{ attachments: number; boundaries: number }> {
  let attachments = 0;
  let boundaries = 0;
  for (const ns of [NS.user, NS.group, NS.role]) {
    for (const { value } of await tx.scan<PolicyHolder & { boundary?: string }>(ns)) {
      if (value.attached.includes(arn)) attachments++;
      if (value.boundary === arn) boundaries++;
    }
  }
  return { attachments, boundaries };
}

export function policyShape(rt: IamRuntime, p: ManagedPolicyRecord, full = true): sdk.Policy {
  const out: sdk.Policy = {
    PolicyName: p.name, PolicyId: p.id, Arn: p.arn, Path: p.path, DefaultVersionId: p.defaultVersion,
    AttachmentCount: p.attachmentCount, PermissionsBoundaryUsageCount: p.boundaryCount, IsAttachable: true,
    CreateDate: p.createDate, UpdateDate: p.updateDate,
  };
  if (full && p.description !== undefined) out.Description = p.description;
  if (full && p.tags.length > 0) out.Tags = p.tags;
  void rt;
  return out;
}

function awsShape(p: AwsManagedPolicy, usage: { attachments: number; boundaries: number }, full = true): sdk.Policy {
  return {
    PolicyName: p.name, PolicyId: p.id, Arn: awsManagedArn(p), Path: p.path, DefaultVersionId: 'v1',
    AttachmentCount: usage.attachments, PermissionsBoundaryUsageCount: usage.boundaries, IsAttachable: true,
    ...(full ? { Description: p.description } : {}), CreateDate: AWS_MANAGED_CREATED, UpdateDate: AWS_MANAGED_CREATED,
  };
}

function managedText(rt: IamRuntime, value: string | undefined, field: string): string {
  const text = policyDocument(rt, value, field, 'identity');
  if (policySize(text) > MANAGED_POLICY_MAX) throw iamError('LimitExceeded', `Cannot exceed quota for PolicySize: ${MANAGED_POLICY_MAX}`);
  return text;
}

const policyArnResource = (input: { PolicyArn?: string }) => input.PolicyArn ?? '*';

export function managedPolicyOperations(rt: IamRuntime): Record<string, OperationSpec> {
  return {
    CreatePolicy: {
      schema: CreatePolicy$,
      resource: (input: sdk.CreatePolicyRequest) => rt.arn('policy', input.Path ?? '/', input.PolicyName ?? ''),
      async handler(input: sdk.CreatePolicyRequest, ctx): Promise<sdk.CreatePolicyResponse> {
        const policyName = name(input.PolicyName, 'policyName', 128);
        const p = path(input.Path);
        const text = managedText(rt, input.PolicyDocument, 'policyDocument');
        const t = tags(input.Tags);
        if (input.Description !== undefined && input.Description.length > 1000) throw iamError('ValidationError', "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000");
        const now = ctx.clock.now();
        const rec = await rt.write(async (tx) => {
          if (await tx.get(NS.policy, lower(policyName))) throw iamError('EntityAlreadyExists', `A policy called ${policyName} already exists. Duplicate names are not allowed.`);
          await withinQuota(tx, NS.policy, 'policy');
          const r: ManagedPolicyRecord = {
            name: policyName, path: p, id: uniqueId('ANPA'), arn: rt.arn('policy', p, policyName), createDate: now, updateDate: now,
            defaultVersion: 'v1', nextVersion: 2, versions: [{ id: 'v1', document: text, createDate: now }], attachmentCount: 0, boundaryCount: 0, tags: t,
            ...(input.Description !== undefined ? { description: input.Description } : {}),
          };
          await tx.put(NS.policy, lower(policyName), r);
          return r;
        });
        return { Policy: policyShape(rt, rec) };
      },
    },
    GetPolicy: {
      schema: GetPolicy$,
      resource: policyArnResource,
      async handler(input: sdk.GetPolicyRequest): Promise<sdk.GetPolicyResponse> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        const aws = awsManagedPolicy(arn);
        if (aws) return { Policy: awsShape(aws, await rt.read((tx) => awsUsage(tx, arn))) };
        return { Policy: policyShape(rt, await rt.read((tx) => getPolicy(rt, tx, arn))) };
      },
    },
    DeletePolicy: {
      schema: DeletePolicy$,
      resource: policyArnResource,
      async handler(input: sdk.DeletePolicyRequest): Promise<Record<string, never>> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        if (awsManagedPolicy(arn)) throw iamError('UnmodifiableEntity', `Cannot delete an AWS managed policy: ${arn}`);
        await rt.write(async (tx) => {
          const p = await getPolicy(rt, tx, arn);
          if (p.attachmentCount > 0 || p.boundaryCount > 0) throw iamError('DeleteConflict', 'Cannot delete a policy attached to entities.');
          if (p.versions.length > 1) throw iamError('DeleteConflict', "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
          await tx.delete(NS.policy, lower(p.name));
        });
        return {};
      },
    },
    ListPolicies: {
      schema: ListPolicies$,
      async handler(input: sdk.ListPoliciesRequest): Promise<sdk.ListPoliciesResponse> {
        const scope = input.Scope ?? 'All';
        const prefix = pathPrefix(input.PathPrefix);
        const entries = await rt.read(async (tx) => {
          const out: { key: string; value: sdk.Policy }[] = [];
          if (scope !== 'Local') {
            for (const p of awsManagedPolicies()) out.push({ key: `aws/${lower(p.name)}`, value: awsShape(p, await awsUsage(tx, awsManagedArn(p)), false) });
          }
          if (scope !== 'AWS') for (const { key, value } of await tx.scan<ManagedPolicyRecord>(NS.policy)) out.push({ key: `local/${key}`, value: policyShape(rt, value, false) });
          return out;
        });
        const filtered = entries.filter(({ value: v }) => {
          if (!(v.Path ?? '/').startsWith(prefix)) return false;
          const used = (v.AttachmentCount ?? 0) > 0;
          if (input.OnlyAttached === true && !used) return false;
          if (input.PolicyUsageFilter === 'PermissionsPolicy' && !used) return false;
          if (input.PolicyUsageFilter === 'PermissionsBoundary' && (v.PermissionsBoundaryUsageCount ?? 0) === 0) return false;
          return true;
        });
        const p = page(filtered, input.Marker, input.MaxItems);
        return { Policies: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
      },
    },
    CreatePolicyVersion: {
      schema: CreatePolicyVersion$,
      resource: policyArnResource,
      async handler(input: sdk.CreatePolicyVersionRequest, ctx): Promise<sdk.CreatePolicyVersionResponse> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        if (awsManagedPolicy(arn)) throw iamError('UnmodifiableEntity', `Cannot modify an AWS managed policy: ${arn}`);
        const text = managedText(rt, input.PolicyDocument, 'policyDocument');
        const now = ctx.clock.now();
        const version = await rt.write(async (tx) => {
          const p = await getPolicy(rt, tx, arn);
          if (p.versions.length >= MAX_VERSIONS) {
            throw iamError('LimitExceeded', `A managed policy can have up to ${MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version.`);
          }
          const v = { id: `v${p.nextVersion}`, document: text, createDate: now };
          const next: ManagedPolicyRecord = { ...p, versions: [...p.versions, v], nextVersion: p.nextVersion + 1, updateDate: now };
          if (input.SetAsDefault === true) next.defaultVersion = v.id;
          await tx.put(NS.policy, lower(p.name), next);
          return { VersionId: v.id, IsDefaultVersion: next.defaultVersion === v.id, CreateDate: now };
        });
        return { PolicyVersion: version };
      },
    },
    GetPolicyVersion: {
      schema: GetPolicyVersion$,
      resource: policyArnResource,
      async handler(input: sdk.GetPolicyVersionRequest): Promise<sdk.GetPolicyVersionResponse> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        const versionId = required(input.VersionId, 'versionId');
        const aws = awsManagedPolicy(arn);
        if (aws) {
          if (versionId !== 'v1') throw iamError('NoSuchEntity', `Policy ${arn} version ${versionId} does not exist or is not attachable.`);
          return { PolicyVersion: { Document: encodeDocument(aws.document), VersionId: 'v1', IsDefaultVersion: true, CreateDate: AWS_MANAGED_CREATED } };
        }
        const p = await rt.read((tx) => getPolicy(rt, tx, arn));
        const v = p.versions.find((x) => x.id === versionId);
        if (!v) throw iamError('NoSuchEntity', `Policy ${arn} version ${versionId} does not exist or is not attachable.`);
        return { PolicyVersion: { Document: encodeDocument(v.document), VersionId: v.id, IsDefaultVersion: v.id === p.defaultVersion, CreateDate: v.createDate } };
      },
    },
    ListPolicyVersions: {
      schema: ListPolicyVersions$,
      resource: policyArnResource,
      async handler(input: sdk.ListPolicyVersionsRequest): Promise<sdk.ListPolicyVersionsResponse> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        if (awsManagedPolicy(arn)) return { Versions: [{ VersionId: 'v1', IsDefaultVersion: true, CreateDate: AWS_MANAGED_CREATED }], IsTruncated: false };
        const p = await rt.read((tx) => getPolicy(rt, tx, arn));
        // Newest first, as IAM lists them.
        const versions = [...p.versions].reverse().map((v) => ({ key: String(1e9 - Number(v.id.slice(1))).padStart(10, '0'), value: { VersionId: v.id, IsDefaultVersion: v.id === p.defaultVersion, CreateDate: v.createDate } }));
        const pg = page(versions, input.Marker, input.MaxItems);
        return { Versions: pg.items, IsTruncated: pg.IsTruncated, ...(pg.Marker ? { Marker: pg.Marker } : {}) };
      },
    },
    DeletePolicyVersion: {
      schema: DeletePolicyVersion$,
      resource: policyArnResource,
      async handler(input: sdk.DeletePolicyVersionRequest): Promise<Record<string, never>> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        const versionId = required(input.VersionId, 'versionId');
        await rt.write(async (tx) => {
          const p = await getPolicy(rt, tx, arn);
          if (!p.versions.some((v) => v.id === versionId)) throw iamError('NoSuchEntity', `Policy ${arn} version ${versionId} does not exist or is not attachable.`);
          if (p.defaultVersion === versionId) throw iamError('DeleteConflict', 'Cannot delete the default version of a policy.');
          await tx.put(NS.policy, lower(p.name), { ...p, versions: p.versions.filter((v) => v.id !== versionId) });
        });
        return {};
      },
    },
    SetDefaultPolicyVersion: {
      schema: SetDefaultPolicyVersion$,
      resource: policyArnResource,
      async handler(input: sdk.SetDefaultPolicyVersionRequest, ctx): Promise<Record<string, never>> {
        const arn = arnOf(input.PolicyArn, 'policyArn');
        const versionId = required(input.VersionId, 'versionId');
        await rt.write(async (tx) => {
          const p = await getPolicy(rt, tx, arn);
          if (!p.versions.some((v) => v.id === versionId)) throw iamError('NoSuchEntity', `Policy ${arn} version ${versionId} does not exist or is not attachable.`);
          await tx.put(NS.policy, lower(p.name), { ...p, defaultVersion: versionId, updateDate: ctx.clock.now() });
        });
        return {};
      },
    },
  };
}
