import { AwsError } from '../aws/errors.js';
import type { ServiceDefinition } from '../aws/service.js';
import type { Authorizer } from '../server/pipeline.js';
import type { RequestContext } from '../server/context.js';

/**
 * Until the IAM policy engine lands: the root user may do everything, an
 * anonymous caller nothing (S3 answers AccessDenied; the other services
 * refuse unsigned requests before this point).
 */
export const rootOnlyAuthorizer: Authorizer = (ctx: RequestContext, service: ServiceDefinition, operation: string) => {
  if (ctx.principal.type !== 'anonymous') return Promise.resolve();
  if (service.operations[operation]?.anonymous === true) return Promise.resolve();
  return Promise.reject(new AwsError('AccessDenied', 403, 'Access Denied'));
};
