import { randomBytes, randomUUID } from 'node:crypto';

/** An AWS-looking request id (uuid), as the JSON services send in x-amzn-RequestId. */
export function requestId(): string {
  return randomUUID();
}

/** S3's x-amz-request-id is 16 upper-case hex characters. */
export function s3RequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** S3's x-amz-id-2: an opaque base64 host id. */
export function s3HostId(): string {
  return randomBytes(48).toString('base64');
}

/** A random id safe in file names and URLs: lower-case hex, 32 chars. */
export function randomId(): string {
  return randomBytes(16).toString('hex');
}
