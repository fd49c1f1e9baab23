import type { AuditSink, RequestContext, ServiceDeps } from '../server/context.js';
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
  /** IAM action, e.g. 'kms:Encrypt' (the IAM issue fills these in and enforces them). */
  action?: string;
  /** May run without credentials before policies say more (e.g. S3 POST Object's own signed form). */
  anonymous?: boolean;
  /** Largest request body accepted (bytes); more → the service's size error, read no further. */
  maxBodyBytes?: number;
  handler(input: I, ctx: RequestContext): Promise<O>;
  /** CloudTrail shaping for this operation (what to record, without secrets). */
  audit?: OperationAudit<I, O>;
}

export interface OperationAudit<I = any, O = any> {
  /** requestParameters: never plaintext, ciphertext or secrets. */
  request?(input: I): Record<string, unknown> | null;
  /** responseElements. */
  response?(output: O): Record<string, unknown> | null;
  resources?(input: I, output: O | undefined, ctx: RequestContext): { ARN: string; type: string; accountId?: string }[];
  readOnly?: boolean;
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
  rawHandler?(req: HttpRequest, ctx: RequestContext): Promise<HttpResponse | undefined>;
  /** Background work (lifecycle, rotation, delivery); stopped on shutdown. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** Whether calls to this service are recorded in CloudTrail. */
  audited?: boolean;
  /** CloudTrail eventSource, e.g. 'kms.amazonaws.com'. */
  eventSource?: string;
  /** The service that keeps the audit trail (CloudTrail) offers its sink here; the app wires it up. */
  auditSink?: AuditSink;
  /** For /_hanul/health. */
  state?(): 'running' | 'starting' | 'degraded';
}

export type ServiceFactory = (deps: ServiceDeps) => Promise<ServiceDefinition> | ServiceDefinition;
