import { errorFactory } from '../../aws/errors.js';

/** Every Shield error code (all 400 but InternalErrorException), as the API reference lists them. */
export const ShieldErrors = {
  AccessDeniedException: 400,
  AccessDeniedForDependencyException: 400,
  InternalErrorException: 500,
  InvalidOperationException: 400,
  InvalidPaginationTokenException: 400,
  InvalidParameterException: 400,
  InvalidResourceException: 400,
  LimitsExceededException: 400,
  LockedSubscriptionException: 400,
  NoAssociatedRoleException: 400,
  OptimisticLockException: 400,
  ResourceAlreadyExistsException: 400,
  ResourceNotFoundException: 400,
} as const;

export const shieldError = errorFactory(ShieldErrors);

export const noSubscription = () => shieldError('ResourceNotFoundException', 'The subscription does not exist.', { resourceType: 'subscription' });

export function invalidParam(message: string) {
  return shieldError('InvalidParameterException', message);
}
