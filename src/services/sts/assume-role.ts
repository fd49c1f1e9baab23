import type * as sdk from '@aws-sdk/client-sts';
import { AssumeRole$, GetSessionToken$ } from '@aws-sdk/client-sts';
import type { ConditionValues, OperationSpec, ServiceDefinition } from '../../aws/service.js';
import { checkAccess } from '../../iam/authorize.js';
import { NS, lower, type RoleRecord, type Tag } from '../../iam/entities.js';
import { compilePolicy, PolicyError, policySize } from '../../iam/policy/document.js';
import type { IamRuntime } from '../../iam/runtime.js';
import { verifyUserMfa } from '../../iam/totp.js';
import type { RequestContext } from '../../server/context.js';
import { stsError } from './errors.js';
import { issueSession } from './sessions.js';

const SESSION_POLICY_MAX = 2048;
const PACKED_LIMIT = 2048;
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role(\/(?:.*\/)?)([\w+=,.@-]+)$/;

function validation(field: string, value: string | number | undefined, constraint: string) {
  return stsError('ValidationError', `1 validation error detected: Value ${value === undefined ? 'null' : `'${value}'`} at '${field}' failed to satisfy constraint: ${constraint}`);
}

function duration(v: number | undefined, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 900) throw validation('durationSeconds', v, 'Member must have value greater than or equal to 900');
  if (v > max) throw validation('durationSeconds', v, `Member must have value less than or equal to ${max}`);
  return v;
}

/** MFA checked while authorizing (a trust policy may require aws:MultiFactorAuthPresent); the handler reads the outcome. */
const mfaVerified = new WeakMap<object, boolean>();

async function mfaConditions(rt: IamRuntime, input: { SerialNumber?: string | undefined; TokenCode?: string | undefined }, ctx: RequestContext): Promise<ConditionValues> {
  if (input.SerialNumber === undefined && input.TokenCode === undefined) return {};
  if (input.SerialNumber === undefined || input.TokenCode === undefined) {
    throw stsError('ValidationError', 'SerialNumber and TokenCode must be provided together.');
  }
  if (!/^\d{6}$/.test(input.TokenCode)) throw validation('tokenCode', input.TokenCode, 'Member must satisfy regular expression pattern: [\\d]*');
  const check = await verifyUserMfa(rt, ctx.principal.type === 'user' ? ctx.principal.name : undefined, input.SerialNumber, input.TokenCode, ctx.clock.nowMs());
  if (!check.ok) throw stsError('AccessDenied', 'MultiFactorAuthentication failed with invalid MFA one time pass code.');
  mfaVerified.set(input, true);
  return { 'aws:MultiFactorAuthPresent': 'true', 'aws:MultiFactorAuthAge': '0' };
}

function sessionTags(tags: readonly sdk.Tag[] | undefined): Tag[] {
  if (tags === undefined) return [];
  if (tags.length > 50) throw validation('tags', '…', 'Member must have length less than or equal to 50');
  const seen = new Set<string>();
  return tags.map((t) => {
    const Key = t.Key ?? '';
    if (Key.length < 1 || Key.length > 128) throw validation('tags.member.key', Key, 'Member must have length less than or equal to 128');
    if ((t.Value ?? '').length > 256) throw validation('tags.member.value', t.Value, 'Member must have length less than or equal to 256');
    if (seen.has(lower(Key))) throw stsError('InvalidParameterValue', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(lower(Key));
    return { Key, Value: t.Value ?? '' };
  });
}

export function assumeRoleOperations(rt: IamRuntime, self: () => ServiceDefinition): Record<string, OperationSpec> {
  return {
    AssumeRole: {
      schema: AssumeRole$,
      action: 'sts:AssumeRole',
      resource: (input: sdk.AssumeRoleRequest) => input.RoleArn ?? '*',
      async conditions(input: sdk.AssumeRoleRequest, ctx): Promise<ConditionValues> {
        if (ctx.principal.type === 'root') throw stsError('AccessDenied', 'Roles may not be assumed by root accounts.');
        return {
          'sts:ExternalId': input.ExternalId,
          'sts:RoleSessionName': input.RoleSessionName,
          'sts:SourceIdentity': input.SourceIdentity,
          ...(await mfaConditions(rt, input, ctx)),
        };
      },
      async handler(input: sdk.AssumeRoleRequest, ctx): Promise<sdk.AssumeRoleResponse> {
        const roleArn = input.RoleArn;
        if (roleArn === undefined || roleArn.length < 20) throw validation('roleArn', roleArn, 'Member must have length greater than or equal to 20');
        const sessionName = input.RoleSessionName;
        if (sessionName === undefined || sessionName.length < 2 || sessionName.length > 64 || !/^[\w+=,.@-]*$/.test(sessionName)) {
          throw validation('roleSessionName', sessionName, 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
        }
        if (input.ExternalId !== undefined && (input.ExternalId.length < 2 || input.ExternalId.length > 1224)) throw validation('externalId', input.ExternalId, 'Member must have length greater than or equal to 2');
        const p = ctx.principal;
        const denied = () => stsError('AccessDenied', `User: ${p.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
        if (p.type === 'root') throw stsError('AccessDenied', 'Roles may not be assumed by root accounts.');
        const m = ROLE_ARN.exec(roleArn);
        const role = m && m[1] === rt.accountId ? await rt.read((tx) => tx.get<RoleRecord>(NS.role, lower(m[3] ?? ''))) : undefined;
        if (!role || role.path !== m?.[2]) throw denied();
        const chained = p.type === 'assumed-role';
        if (chained && (input.DurationSeconds ?? 3600) > 3600) throw stsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
        const seconds = duration(input.DurationSeconds, 3600, 43200);
        if (seconds > role.maxSessionDuration) throw stsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
        let packed = 0;
        if (input.Policy !== undefined) {
          if (input.Policy.length > SESSION_POLICY_MAX) throw validation('policy', '…', `Member must have length less than or equal to ${SESSION_POLICY_MAX}`);
          try {
            compilePolicy(input.Policy, 'session');
          } catch (e) {
            if (e instanceof PolicyError) throw stsError('MalformedPolicyDocument', e.message);
            throw e;
          }
          packed += policySize(input.Policy);
        }
        const arns = (input.PolicyArns ?? []).map((a) => a.arn ?? '');
        if (arns.length > 10) throw validation('policyArns', '…', 'Member must have length less than or equal to 10');
        await rt.read(async (tx) => {
          for (const a of arns) if ((await rt.managedDocument(tx, a)) === undefined) throw stsError('ValidationError', `Policy ${a} does not exist or is not attachable.`);
        });
        const tags = sessionTags(input.Tags);
        // Passing session tags needs sts:TagSession too (the trust policy must allow it).
        if (tags.length > 0) {
          const requestTags: Record<string, string | string[]> = { 'aws:TagKeys': tags.map((t) => t.Key) };
          for (const t of tags) requestTags[`aws:RequestTag/${t.Key}`] = t.Value;
          await checkAccess(ctx, self(), { action: 'sts:TagSession', resource: roleArn, conditions: requestTags });
        }
        packed += arns.reduce((n, a) => n + a.length, 0) + tags.reduce((n, t) => n + t.Key.length + t.Value.length, 0);
        const packedPercent = Math.ceil((packed / PACKED_LIMIT) * 100);
        if (packedPercent > 100) throw stsError('PackedPolicyTooLarge', `Packed size of policies and tags exceeds limit (${packedPercent}%).`);
        // Verified while authorizing, unless an embedder's authorizer skipped the conditions.
        if (input.SerialNumber !== undefined && !mfaVerified.has(input)) await mfaConditions(rt, input, ctx);
        const now = ctx.clock.now();
        const mfa = mfaVerified.get(input) === true || p.mfaAuthenticated === true;
        const credentials = await issueSession(rt, {
          issuedAt: now,
          expiresAt: new Date(now.getTime() + seconds * 1000),
          kind: 'role',
          roleName: role.name,
          roleId: role.id,
          sessionName,
          mfa,
          ...(input.Policy !== undefined ? { sessionPolicy: input.Policy } : {}),
          ...(arns.length > 0 ? { sessionPolicyArns: arns } : {}),
          ...(tags.length > 0 ? { sessionTags: tags } : {}),
          ...(chained ? { chained: true } : {}),
          ...(input.SourceIdentity !== undefined ? { sourceIdentity: input.SourceIdentity } : {}),
        });
        void rt.store.write(async (tx) => {
          const r = await tx.get<RoleRecord>(NS.role, lower(role.name));
          if (r) await tx.put(NS.role, lower(role.name), { ...r, lastUsed: { date: now, region: ctx.region } });
        }).catch((e: unknown) => ctx.log.warn({ err: e }, 'could not record role use'));
        const out: sdk.AssumeRoleResponse = {
          Credentials: credentials,
          AssumedRoleUser: { AssumedRoleId: `${role.id}:${sessionName}`, Arn: `arn:aws:sts::${rt.accountId}:assumed-role/${role.name}/${sessionName}` },
          PackedPolicySize: packedPercent,
        };
        if (input.SourceIdentity !== undefined) out.SourceIdentity = input.SourceIdentity;
        return out;
      },
      audit: {
        request: (i: sdk.AssumeRoleRequest) => ({ roleArn: i.RoleArn, roleSessionName: i.RoleSessionName, durationSeconds: i.DurationSeconds }),
        response: (o: sdk.AssumeRoleResponse) => ({ assumedRoleUser: o.AssumedRoleUser, credentials: { accessKeyId: o.Credentials?.AccessKeyId, expiration: o.Credentials?.Expiration } }),
      },
    },
    GetSessionToken: {
      schema: GetSessionToken$,
      // AWS: "No permissions are required for users to perform this operation."
      noAuthorization: true,
      async handler(input: sdk.GetSessionTokenRequest, ctx): Promise<sdk.GetSessionTokenResponse> {
        const p = ctx.principal;
        if (p.sessionToken !== undefined) throw stsError('AccessDenied', 'Cannot call GetSessionToken with session credentials');
        const root = p.type === 'root';
        const seconds = duration(input.DurationSeconds, root ? 3600 : 43200, root ? 3600 : 129600);
        const mfa = Object.keys(await mfaConditions(rt, input, ctx)).length > 0;
        const now = ctx.clock.now();
        const credentials = await issueSession(rt, {
          issuedAt: now,
          expiresAt: new Date(now.getTime() + seconds * 1000),
          kind: root ? 'root' : 'user',
          ...(p.type === 'user' && p.name !== undefined ? { userName: p.name } : {}),
          mfa,
        });
        return { Credentials: credentials };
      },
      audit: { response: (o: sdk.GetSessionTokenResponse) => ({ credentials: { accessKeyId: o.Credentials?.AccessKeyId, expiration: o.Credentials?.Expiration } }) },
    },
  };
}
