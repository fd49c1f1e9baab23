import { errorFactory } from '../../aws/errors.js';

/** Every error code Data Firehose answers with, once. */
export const FirehoseErrors = {
  ConcurrentModificationException: 400,
  InvalidArgumentException: 400,
  InvalidKMSResourceException: 400,
  InvalidSourceException: 400,
  LimitExceededException: 400,
  ResourceInUseException: 400,
  ResourceNotFoundException: 400,
  ServiceUnavailableException: 503,
  ValidationException: 400,
  SerializationException: 400,
  NotImplemented: 501,
} as const;

export type FirehoseErrorCode = keyof typeof FirehoseErrors;

export const firehoseError = errorFactory(FirehoseErrors);

/** AWS's wording for a missing stream. */
export function streamNotFound(name: string, account: string) {
  return firehoseError('ResourceNotFoundException', `Firehose ${name} under account ${account} not found.`);
}

/** A Smithy-style constraint failure, as AWS's front end words it. */
export function constraint(value: string, member: string, rule: string) {
  return firehoseError('ValidationException', `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${rule}`);
}
