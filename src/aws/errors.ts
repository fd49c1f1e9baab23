/**
 * Every failure a handler or a stage reports is an AwsError; each protocol
 * codec renders it in its own wire shape. `fields` become extra members of the
 * error body (e.g. S3's <BucketName>, <Key>, or a JSON error's extra members).
 */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fields: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Extra response headers (e.g. x-amz-delete-marker on a 404, Allow on 405). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: string,
    status: number,
    message: string,
    fields: Record<string, string | number | boolean | undefined> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
    this.fields = fields;
    this.headers = headers;
  }

  /** 4xx is the client's fault ("Sender"), 5xx ours ("Receiver"). */
  get senderFault(): boolean {
    return this.status < 500;
  }
}

export function isAwsError(e: unknown): e is AwsError {
  return e instanceof AwsError;
}

/**
 * Builds a service's error constructor from its `as const` table of codes and
 * statuses, so each service lists its codes once (its errors.ts) and callers
 * can only name codes that exist.
 */
export function errorFactory<T extends Record<string, number>>(table: T) {
  return (
    code: keyof T & string,
    message: string,
    fields?: Record<string, string | number | boolean | undefined>,
    headers?: Record<string, string>,
  ): AwsError => new AwsError(code, table[code] as number, message, fields, headers);
}

/** Errors every service shares (the AWS "common errors"). */
export const CommonErrors = {
  InternalError: 500,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  NotImplemented: 501,
  ValidationException: 400,
  ValidationError: 400,
  InvalidParameterValue: 400,
  MissingParameter: 400,
  MalformedQueryString: 400,
  InvalidAction: 400,
  UnknownOperationException: 400,
  SerializationException: 400,
  RequestEntityTooLarge: 413,
  RequestHeaderFieldsTooLarge: 431,
  ThrottlingException: 400,
} as const;

export const commonError = errorFactory(CommonErrors);

export function notImplemented(service: string, operation: string): AwsError {
  return commonError('NotImplemented', `${service} operation ${operation} is not implemented in hanul yet`);
}

/** What the pipeline turns any non-AwsError into; never leaks the cause. */
export function internalError(requestId: string): AwsError {
  return commonError('InternalError', `We encountered an internal error. Please try again. (request ${requestId})`);
}
