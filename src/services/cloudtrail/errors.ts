import { errorFactory } from '../../aws/errors.js';

/** CloudTrail's error codes (LookupEvents and friends), once. */
export const CloudTrailErrors = {
  InvalidLookupAttributesException: 400,
  InvalidMaxResultsException: 400,
  InvalidNextTokenException: 400,
  InvalidTimeRangeException: 400,
  InvalidEventCategoryException: 400,
  UnsupportedOperationException: 400,
  OperationNotPermittedException: 400,
  ValidationException: 400,
} as const;

export const cloudTrailError = errorFactory(CloudTrailErrors);
