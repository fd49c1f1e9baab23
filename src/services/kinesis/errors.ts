import { errorFactory } from '../../aws/errors.js';

/**
 * Every error code Kinesis Data Streams answers with, once. All are 400
 * (Kinesis reports even throttling and internal failures with 400 except
 * InternalFailureException, which is a 500).
 */
export const KinesisErrors = {
  AccessDeniedException: 400,
  DryRunOperationException: 400,
  ExpiredIteratorException: 400,
  ExpiredNextTokenException: 400,
  InternalFailureException: 500,
  InvalidArgumentException: 400,
  KMSAccessDeniedException: 400,
  KMSDisabledException: 400,
  KMSInvalidStateException: 400,
  KMSNotFoundException: 400,
  KMSOptInRequired: 400,
  KMSThrottlingException: 400,
  LimitExceededException: 400,
  ProvisionedThroughputExceededException: 400,
  ResourceInUseException: 400,
  ResourceNotFoundException: 400,
  ValidationException: 400,
  SerializationException: 400,
  NotImplemented: 501,
} as const;

export type KinesisErrorCode = keyof typeof KinesisErrors;

export const kinesisError = errorFactory(KinesisErrors);

/** "Stream X under account Y not found." — AWS's wording, reused by every operation. */
export function streamNotFound(name: string, account: string) {
  return kinesisError('ResourceNotFoundException', `Stream ${name} under account ${account} not found.`);
}

export function streamNotActive(name: string, account: string, status: string) {
  return kinesisError('ResourceInUseException', `Stream ${name} under account ${account} not ACTIVE, instead in state ${status}`);
}

export function shardNotFound(shardId: string, stream: string, account: string) {
  return kinesisError('ResourceNotFoundException', `Could not find shard ${shardId} in stream ${stream} under account ${account}.`);
}

export function throughputExceeded(shardId: string, stream: string, account: string) {
  return kinesisError('ProvisionedThroughputExceededException', `Rate exceeded for shard ${shardId} in stream ${stream} under account ${account}.`);
}

/** DryRun: the request was valid and would have run. */
export function dryRunSucceeded() {
  return kinesisError('DryRunOperationException', 'Request would have succeeded, but DryRun flag is set.');
}
