import type { BlobReferrer } from '../storage/blob-sweep.js';
import type { AuditSink, RequestContext, ServiceDeps } from '../server/context.js';
import type { AwsError } from './errors.js';
import type { CredentialLookup } from './sigv4/index.js';
import type { HttpRequest, HttpResponse } from './http.js';

export type ProtocolName = 'rest-xml' | 'json-1.0' | 'json-1.1' | 'query' | 'rest-json';

/**
 * A Smithy operation schema as `@aws-sdk/client-*` export them (e.g.
 * `PutRecord$` from @aws-sdk/client-kinesis). Codecs read HTTP bindings,
 * blob/timestamp members and event streams from it.
 */
export type OperationSchemaRef = unknown;

export interface OperationSpec<I = any, O = any> {
  /** Input/output shapes; codecs use it to turn wire values into typed ones. */
  schema?: OperationSchemaRef;
  /**
   * IAM action, e.g. 'kms:Encrypt'. Default: `<signing name>:<Operation>`
   * (src/iam/defaults.ts knows S3's differing names, e.g. HeadObject → s3:GetObject).
   */
  action?: string;
  /**
   * The resource ARN(s) the action is on, e.g. the key ARN (after alias
   * resolution) or `arn:aws:s3:::bucket/key`. Default: src/iam/defaults.ts
   * infers one from the input (Bucket/Key, StreamName/StreamARN, KeyId…), else '*'.
   */
  resource?(input: I, ctx: RequestContext): string | readonly string[] | Promise<string | readonly string[]>;
  /**
   * Service condition keys of this request, e.g. { 's3:prefix': 'home/',
   * 'kms:EncryptionContext:dept': 'x' }; undefined values are left out.
   * Global keys (aws:SourceIp, aws:CurrentTime…) are added by the authorizer.
   */
  conditions?(input: I, ctx: RequestContext): ConditionValues | Promise<ConditionValues>;
  /**
   * This request's action, resource and conditions when they differ from the
   * operation's (`action`, `resource`, `conditions`): S3 directory buckets
   * authorize as s3express:*. Undefined: the operation's own.
   */
  access?(input: I, ctx: RequestContext): { action: string; resource: string; conditions?: ConditionValues } | undefined;
  /** AWS requires no permission for this operation (sts:GetCallerIdentity). */
  noAuthorization?: boolean;
  /** May run without credentials before policies say more (e.g. S3 POST Object's own signed form). */
  anonymous?: boolean;
  /** Largest request body accepted (bytes); more → the service's size error, read no further. */
  maxBodyBytes?: number;
  /** May answer at once (no Promise) when it has nothing to wait for; callers await only a real Promise. */
  handler(input: I, ctx: RequestContext): O | Promise<O>;
  /** CloudTrail shaping for this operation (what to record, without secrets). */
  audit?: OperationAudit<I, O>;
  /**
   * JSON protocols (not CBOR): the operation's own codec for its hot path
   * (Kinesis PutRecords). `decode` answers exactly the input the generic
   * codec would make of the body, or undefined to leave the body to the
   * generic codec (which then also answers every error); `encode` answers
   * exactly the bytes the generic codec would write, or undefined to leave
   * the output to it.
   */
  jsonFast?: { decode(body: Buffer): I | undefined; encode(output: O): string | Uint8Array | undefined };
}

/** Condition-key values of one request: key → one value or a set (multivalued keys). */
export type ConditionValues = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A resource's own policy (bucket policy, key policy, stream policy, role trust policy), and the condition keys it carries itself. */
export interface ResourcePolicy {
  /** The policy document as stored (JSON text); undefined when the resource has none but carries `keys`. */
  document?: string;
  /**
   * Condition keys the resource itself supplies to every request on it, e.g.
   * `aws:ResourceTag/<key>` of an S3 bucket with ABAC enabled. They hold for
   * checks made by handlers too (a copy's source), not only the operation's own.
   */
  keys?: ConditionValues;
  /**
   * True for KMS key policies (and role trust policies): the policy must
   * allow, at least by naming the account, before IAM policies count.
   */
  required?: boolean;
}

export interface OperationAudit<I = any, O = any> {
  /** requestParameters: never plaintext, ciphertext or secrets. */
  request?(input: I): Record<string, unknown> | null;
  /** responseElements. */
  response?(output: O): Record<string, unknown> | null;
  resources?(input: I, output: O | undefined, ctx: RequestContext): { ARN: string; type: string; accountId?: string }[];
  readOnly?: boolean;
  /**
   * A CloudTrail data event (S3 object-level calls): AWS does not record these
   * in event history, only for trails with data-event selectors, so the
   * pipeline does not hand them to the audit sink.
   */
  dataEvent?: boolean;
}

/**
 * One service: its wire identity and its operation table (the service at a
 * glance, in services/<name>/index.ts).
 */
export interface ServiceDefinition {
  /** Short name: 's3', 'kms', 'kinesis', 'firehose', 'shield', 'iam', 'sts', 'cloudtrail'. */
  name: string;
  /** The SigV4 credential-scope service name(s) that route here. */
  signingNames: readonly string[];
  /**
   * Temporary credentials this service issues itself (S3 Express sessions),
   * looked up by access key id: ids starting with `prefix` are asked here.
   */
  credentials?: { prefix: string; lookup: CredentialLookup };
  /** X-Amz-Target prefix for JSON protocols, e.g. 'TrentService'. */
  targetPrefix?: string;
  protocol: ProtocolName;
  /** JSON error __type namespace prefix, where the service uses one. */
  errorNamespace?: string;
  operations: Readonly<Record<string, OperationSpec>>;
  /**
   * Every operation of the real AWS API (from the SDK's commands): a known
   * operation missing from `operations` answers 501 NotImplemented naming it,
   * an unknown one the protocol's unknown-operation error.
   */
  knownOperations?: readonly string[];
  /**
   * Optional: a service that needs raw HTTP for a route the generic codec
   * cannot express (S3 POST Object form uploads, SubscribeToShard's event
   * stream) answers it here; the pipeline still authenticates, logs and counts.
   */
  rawHandler?(req: HttpRequest, ctx: RequestContext): HttpResponse | undefined | Promise<HttpResponse | undefined>;
  /**
   * Requests this service answers without SigV4, before authentication, as the
   * anonymous principal, through `rawHandler` (S3: CORS preflights, which a
   * browser never signs and which may carry a presigned URL's query, and the
   * website endpoint). Called for every request: keep it a cheap check.
   */
  answersUnsigned?(req: HttpRequest): boolean;
  /**
   * Adds cross-origin headers to any response of this service, success or
   * error (S3's bucket CORS rules). Called only when the request has an Origin.
   */
  crossOrigin?(req: HttpRequest, res: HttpResponse): Promise<void>;
  /**
   * Told of every finished request of this service once its response is written, with what
   * the pipeline knows of it (S3 server access logs). Called per request: keep it a cheap check.
   */
  served?(req: HttpRequest, input: unknown, output: unknown, ctx: RequestContext | undefined, status: number, bytesOut: number, requestId: string, failure: AwsError | undefined, startedMs: number): void;
  /** Background work (lifecycle, rotation, delivery); stopped on shutdown. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** Whether calls to this service are recorded in CloudTrail. */
  audited?: boolean;
  /** CloudTrail eventSource, e.g. 'kms.amazonaws.com'. */
  eventSource?: string;
  /** The service that keeps the audit trail (CloudTrail) offers its sink here; the app wires it up. */
  auditSink?: AuditSink;
  /**
   * The resource policy of a resource ARN this service owns (S3 maps an
   * object ARN to its bucket's policy); undefined when it has none. The
   * authorizer calls it for every request, so keep it cheap (cache): a cached
   * answer may come back at once, not in a Promise.
   */
  resourcePolicy?(resourceArn: string, ctx: RequestContext): ResourcePolicy | undefined | Promise<ResourcePolicy | undefined>;
  /**
   * The service authorizes every call itself (KMS: key policy, then IAM via
   * `iamIdentityEvaluator()` from src/iam/authorize.ts, then grants), so the
   * pipeline's authorizer does not run for it.
   */
  authorizesItself?: boolean;
  /**
   * A service that keeps bytes in the BlobStore names every blob its records
   * refer to (walking them in the given snapshot), else the orphan sweep
   * (storage/blob-sweep.ts) deletes them.
   */
  blobRefs?: BlobReferrer;
  /** Blobs the service is using right now outside its records (being read); the sweep skips them. */
  blobInUse?: (id: string) => boolean;
  /** For /_hanul/health. */
  state?(): 'running' | 'starting' | 'degraded';
}

export type ServiceFactory = (deps: ServiceDeps) => Promise<ServiceDefinition> | ServiceDefinition;
