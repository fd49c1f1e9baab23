import * as sdk from '@aws-sdk/client-sts';
import { GetAccessKeyInfo$, GetCallerIdentity$ } from '@aws-sdk/client-sts';
import type { ServiceDefinition } from '../../aws/service.js';
import { NS, lower, type RoleRecord } from '../../iam/entities.js';
import { iamRuntime } from '../../iam/runtime.js';
import type { ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';
import { assumeRoleOperations } from './assume-role.js';
import { stsError } from './errors.js';
import { sweepSessions } from './sessions.js';

const SWEEP_EVERY_MS = 10 * 60 * 1000;

/**
 * STS (Query protocol): who am I, and temporary credentials (AssumeRole with
 * trust policy, session policies, ExternalId, MFA and tags; GetSessionToken).
 * A role's trust policy is the resource policy of sts:AssumeRole on the role.
 */
export async function createStsService(deps: ServiceDeps): Promise<ServiceDefinition> {
  const rt = await iamRuntime(deps);
  let timer: NodeJS.Timeout | undefined;
  const roleArn = new RegExp(`^arn:aws:iam::${deps.config.accountId}:role(/(?:.*/)?)([\\w+=,.@-]+)$`);
  const service: ServiceDefinition = {
    name: 'sts',
    signingNames: ['sts'],
    protocol: 'query',
    audited: true,
    eventSource: 'sts.amazonaws.com',
    knownOperations: sdkOperations(sdk),
    operations: {
      GetCallerIdentity: {
        schema: GetCallerIdentity$,
        noAuthorization: true,
        handler: (_input: sdk.GetCallerIdentityRequest, ctx): Promise<sdk.GetCallerIdentityResponse> =>
          Promise.resolve({ UserId: ctx.principal.userId, Account: ctx.principal.accountId, Arn: ctx.principal.arn }),
        audit: { readOnly: true },
      },
      GetAccessKeyInfo: {
        schema: GetAccessKeyInfo$,
        resource: () => '*',
        handler(input: sdk.GetAccessKeyInfoRequest): Promise<sdk.GetAccessKeyInfoResponse> {
          const id = input.AccessKeyId ?? '';
          if (!/^[\w]{16,128}$/.test(id)) return Promise.reject(stsError('ValidationError', `1 validation error detected: Value '${id}' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]*`));
          return Promise.resolve({ Account: deps.config.accountId });
        },
        audit: { readOnly: true },
      },
      ...assumeRoleOperations(rt, () => service),
    },
    async resourcePolicy(arn) {
      const m = roleArn.exec(arn);
      if (!m) return undefined;
      const role = await rt.read((tx) => tx.get<RoleRecord>(NS.role, lower(m[2] ?? '')));
      return role && role.path === m[1] ? { document: role.trust, required: true } : undefined;
    },
    start() {
      timer = setInterval(() => {
        sweepSessions(rt).catch((e: unknown) => deps.log.warn({ err: e }, 'STS session sweep failed'));
      }, SWEEP_EVERY_MS);
      timer.unref();
      return Promise.resolve();
    },
    stop() {
      if (timer) clearInterval(timer);
      return Promise.resolve();
    },
  };
  return service;
}
