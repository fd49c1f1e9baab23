import { errorFactory } from '../../aws/errors.js';

/** Every error code STS answers with, once. */
export const StsErrors = {
  AccessDenied: 403,
  ValidationError: 400,
  MalformedPolicyDocument: 400,
  PackedPolicyTooLarge: 400,
  RegionDisabledException: 403,
  InvalidParameterValue: 400,
} as const;

export const stsError = errorFactory(StsErrors);
