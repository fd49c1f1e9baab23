import { errorFactory } from '../../aws/errors.js';

/** Every error code IAM answers with, once. */
export const IamErrors = {
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  MalformedPolicyDocument: 400,
  LimitExceeded: 409,
  DeleteConflict: 409,
  InvalidInput: 400,
  ValidationError: 400,
  InvalidAuthenticationCode: 403,
  UnmodifiableEntity: 400,
  PolicyNotAttachable: 400,
  AccessDenied: 403,
} as const;

export const iamError = errorFactory(IamErrors);
