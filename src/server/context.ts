import type { OperationAudit, ResourcePolicy, ServiceDefinition } from '../aws/service.js';
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config.js';
import type { Metrics } from './metrics.js';
import type { Stores } from '../storage/ports.js';
import type { CredentialLookup } from '../aws/sigv4/index.js';

/** Who made a request, as SigV4 (or its absence) established it. */
export interface Principal {
  type: 'root' | 'user' | 'assumed-role' | 'anonymous';
  /** e.g. arn:aws:iam::000000000000:root */
  arn: string;
  accountId: string;
  /** AWS "userId" (AIDA…, AROA…:session, or the account id for root). */
  userId: string;
  /** The friendly name (user name, role session name); absent for root/anonymous. */
  name?: string;
  accessKeyId?: string;
  /** Present for temporary credentials. */
  sessionToken?: string;
  mfaAuthenticated?: boolean;
  /** When temporary credentials were issued (aws:TokenIssueTime). */
  tokenIssueTime?: Date;
  /** Set when the request was signed with an S3 Express CreateSession credential: the bucket and mode it is scoped to. */
  s3Session?: { bucket: string; mode: 'ReadWrite' | 'ReadOnly' };
}

/** What every handler and service is built with. */
export interface ServiceDeps {
  config: Config;
  clock: Clock;
  stores: Stores;
  log: Logger;
  /** CloudTrail: services that audit their calls read this (the pipeline feeds it). */
  audit: AuditSink;
  /** Other services' operations, called in-process as the same caller (set by the app). */
  peers?: PeerServices | undefined;
  /** The Prometheus registry behind /metrics, for services' own metrics (Firehose delivery). */
  metrics?: Pick<Metrics, 'registry'> | undefined;
}

/**
 * In-process calls to another service's operation on behalf of the current
 * caller (Kinesis → KMS for stream encryption). The callee's handler runs its
 * own resource checks (key policies, grants), as AWS's service-to-service
 * calls with the caller's credentials do.
 */
export interface PeerServices {
  call<O = unknown>(service: string, operation: string, input: unknown, ctx: RequestContext): Promise<O>;
  /**
   * The resource's own policy as that service evaluates it (a bucket policy with its ACL grants,
   * a stream's resource policy), for a service acting with a customer's role that must authorize
   * each action as AWS would: the role's policies together with the resource's.
   */
  resourcePolicy(service: string, resourceArn: string, ctx: RequestContext): Promise<ResourcePolicy | undefined>;
}

/** Per request: handed to every handler. A handler never sees HTTP. */
export interface RequestContext extends ServiceDeps {
  requestId: string;
  principal: Principal;
  /** Region the request was signed for (else the configured region). */
  region: string;
  accountId: string;
  /**
   * Aborted when the client goes away or the server shuts down. The pipeline's context
   * builds it on first use (a getter): a copy must name it, `{ ...ctx, signal: ctx.signal }`.
   */
  signal: AbortSignal;
  sourceIp: string;
  secure: boolean;
  userAgent: string;
  /** The service-and-operation names, e.g. 'kms', 'Encrypt'. */
  service: string;
  operation: string;
  /**
   * Access key → secret, as SigV4 used it (the pipeline passes its own): for
   * signatures a service verifies itself, e.g. S3 POST Object's form policy.
   */
  credentials?: CredentialLookup;
  /**
   * The pipeline's authorizer (IAM), for requests a service answers itself
   * and must still authorize, e.g. S3's website endpoint reading as the anonymous principal.
   */
  authorize?: (ctx: RequestContext, service: ServiceDefinition, operation: string, input: unknown) => void | Promise<void>;
}

/** One finished call, handed to the audit sink (CloudTrail) after the response is written. */
export interface AuditRecord {
  ctx: RequestContext;
  input: unknown;
  output?: unknown;
  error?: { code: string; message: string };
  status: number;
  /** The service's CloudTrail eventSource (e.g. 'kms.amazonaws.com'). */
  eventSource?: string;
  /** The operation's CloudTrail shaping (OperationSpec.audit), so the sink needs no service table. */
  audit?: OperationAudit;
  /**
   * Set when another service made the call in-process for the caller (PeerServices.call):
   * its service principal, e.g. 'kinesis.amazonaws.com' — CloudTrail's userIdentity.invokedBy,
   * sourceIPAddress and userAgent.
   */
  invokedBy?: string;
}

/** Where finished calls go (CloudTrail). Must not throw; must not block the response. */
export interface AuditSink {
  record(rec: AuditRecord): void;
}
