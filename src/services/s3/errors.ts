import { errorFactory } from '../../aws/errors.js';

/** Every S3 error code hanul answers with, and its HTTP status (AWS's S3 error table). */
export const S3Errors = {
  AccessControlListNotSupported: 400,
  AccessDenied: 403,
  AccessForbidden: 403,
  BadRequest: 400,
  BadDigest: 400,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  ConditionalRequestConflict: 409,
  CrossLocationLoggingProhibitted: 403,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IllegalLocationConstraintException: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidArgument: 400,
  InvalidBucketAclWithBlockPublicAccessError: 400,
  InvalidBucketAclWithObjectOwnership: 400,
  InvalidBucketName: 400,
  InvalidBucketState: 409,
  InvalidDigest: 400,
  InvalidLocationConstraint: 400,
  InvalidObjectState: 403,
  InvalidPart: 400,
  InvalidPartNumber: 416,
  InvalidPartOrder: 400,
  InvalidPolicyDocument: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  InvalidStorageClass: 400,
  InvalidTargetBucketForLogging: 400,
  InvalidTag: 400,
  InvalidURI: 400,
  KeyTooLongError: 400,
  MalformedACLError: 400,
  MalformedPolicy: 400,
  MalformedPOSTRequest: 400,
  MalformedXML: 400,
  MaxMessageLengthExceeded: 400,
  MaxPostPreDataLengthExceededError: 400,
  MetadataTooLarge: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  MissingSecurityHeader: 400,
  MissingRequestBodyError: 400,
  NoSuchBucket: 404,
  NoSuchCORSConfiguration: 404,
  NoSuchBucketPolicy: 404,
  NoSuchConfiguration: 404,
  NoSuchPublicAccessBlockConfiguration: 404,
  NoSuchKey: 404,
  NoSuchLifecycleConfiguration: 404,
  NoSuchObjectLockConfiguration: 404,
  NoSuchTagSet: 404,
  NoSuchUpload: 404,
  NoSuchVersion: 404,
  NoSuchWebsiteConfiguration: 404,
  NotImplemented: 501,
  NotModified: 304,
  ObjectLockConfigurationNotFoundError: 404,
  OwnershipControlsNotFoundError: 404,
  PreconditionFailed: 412,
  ReplicationConfigurationNotFoundError: 404,
  RestoreAlreadyInProgress: 409,
  SignatureDoesNotMatch: 403,
  TooManyBuckets: 400,
  TooManyConfigurations: 400,
  UnresolvableGrantByEmailAddress: 400,
  IncorrectNumberOfFilesInPostRequest: 400,
  // Encryption at rest (sse.ts): KMS failures as S3 reports them, and the bucket default.
  'KMS.DisabledException': 400,
  'KMS.NotFoundException': 400,
  'KMS.KMSInvalidStateException': 400,
  'KMS.InvalidKeyUsageException': 400,
  'KMS.ThrottlingException': 503,
  ServerSideEncryptionConfigurationNotFoundError: 404,
} as const;

export type S3ErrorCode = keyof typeof S3Errors;

export const s3Error = errorFactory(S3Errors);

export const noSuchBucket = (bucket: string) => s3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
export const noSuchKey = (key: string, headers?: Record<string, string>) => s3Error('NoSuchKey', 'The specified key does not exist.', { Key: key }, headers);
export const noSuchVersion = (key: string, versionId: string) =>
  s3Error('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
export const noSuchUpload = (uploadId: string) =>
  s3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
export const invalidArgument = (message: string, name?: string, value?: string) =>
  s3Error('InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });
export const preconditionFailed = (condition: string) =>
  s3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
export const malformedXml = () => s3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
