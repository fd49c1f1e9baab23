/**
 * S3: the operation table (the service at a glance). Handlers live per
 * resource (buckets, objects-put/get, delete, copy, listing, multipart,
 * tagging, restore, post-object); the rest-xml codec routes requests to them
 * from the official schemas.
 */
import * as sdk from '@aws-sdk/client-s3';
import * as control from '@aws-sdk/client-s3-control';
import { ListTagsForResource$, TagResource$, UntagResource$, type UntagResourceRequest } from '@aws-sdk/client-s3-control';
import type { CreateBucketRequest, CreateSessionRequest, DeleteObjectsRequest } from '@aws-sdk/client-s3';
import { checkAccess, type AccessCheck } from '../../iam/authorize.js';
import { isOperationSchema, virtualHostDomains, type StaticOperationSchema } from '../../aws/protocols/rest-xml-routing.js';
import type { HttpRequest } from '../../aws/http.js';
import { restXmlTarget, type RestXmlService } from '../../aws/protocols/rest-xml.js';
import type { OperationSpec } from '../../aws/service.js';
import type { RequestContext, ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';
import { BlobReaper } from './blob-reaper.js';
import { s3BlobRefs } from './blob-refs.js';
import * as buckets from './buckets.js';
import { checkBufferedBody } from './checksums.js';
import { copyObject, uploadPartCopy } from './copy.js';
import { deleteObject, deleteObjects } from './delete.js';
import * as lifecycle from './lifecycle.js';
import { LifecycleWorker } from './lifecycle-worker.js';
import { AccessLog } from './access-log.js';
import { ReplicationWorker } from './replication-worker.js';
import { s3RequestId } from '../../lib/ids.js';
import { listObjectVersions } from './listing-versions.js';
import { listObjects, listObjectsV2 } from './listing.js';
import { completeMultipartUpload } from './multipart-complete.js';
import { listMultipartUploads } from './multipart-list.js';
import { abortMultipartUpload, createMultipartUpload, listParts, uploadPart } from './multipart.js';
import { getObject, getObjectAttributes, headObject } from './objects-get.js';
import { putObject } from './objects-put.js';
import { postObjectHandler } from './post-object.js';
import * as lock from './object-lock.js';
import { restoreObject } from './restore.js';
import { selectObjectContent } from './select/handler.js';
import { updateObjectEncryption } from './update-encryption.js';
import { checkExpectedOwners } from './expected-owner.js';
import * as cors from './cors.js';
import * as website from './website.js';
import { isWebsiteRequest, serveWebsite, websiteBucket } from './website-serve.js';
import { BucketCache, type S3, watchBucketWrites } from './state.js';
import { directoryAccess, directoryGate, isDirectoryName } from './directory.js';
import { S3Sessions, SESSION_KEY_PREFIX } from './sessions.js';
import { renameObject } from './rename.js';
import { SseKeys } from './sse-keys.js';
import { loadKmsRootKey } from '../../crypto/root-key.js';
import * as bucketEncryption from './bucket-encryption.js';
import * as tagging from './tagging.js';
import * as annotations from './annotations.js';
import * as acl from './acl.js';
import * as policy from './bucket-policy.js';
import * as ownership from './ownership.js';
import * as pab from './public-access.js';
import * as settings from './bucket-settings.js';
import * as replication from './replication.js';
import * as notification from './notification.js';
import * as logging from './logging.js';
import * as configs from './bucket-configs.js';
import * as abac from './abac.js';
import { checkCopySource, deleteObjectsPerKey, EXISTING_TAG_OPERATIONS, existingObjectTagKeys, MISSING_KEY_HIDDEN, missingKeyAs, s3ResourcePolicy } from './s3-authz.js';

/** A handler may answer at once (HeadBucket on a cached bucket): the pipeline awaits only a real Promise. */
type Handler = (s3: S3, input: any, ctx: RequestContext) => unknown;

const MiB = 1024 * 1024;

/** The S3 Control operations hanul answers: tagging of general purpose buckets (abac.ts). */
const S3_CONTROL_OPERATIONS = ['TagResource', 'UntagResource', 'ListTagsForResource'];

/**
 * S3 Control (`<account>.s3-control.<region>.amazonaws.com` on AWS) signs as `s3` and reaches
 * hanul on the S3 endpoint: its calls are told apart by their versioned path and the account
 * header every S3 Control call carries, which no S3 request sends.
 */
function isS3ControlRequest(req: HttpRequest): boolean {
  return req.rawPath.startsWith('/v20180820/') && req.headers['x-amz-account-id'] !== undefined;
}

/** Object-level calls: CloudTrail data events, which AWS keeps out of event history. */
const DATA_EVENTS = new Set([
  'PutObject',
  'GetObject',
  'HeadObject',
  'GetObjectAttributes',
  'DeleteObject',
  'DeleteObjects',
  'CopyObject',
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
  'GetObjectTagging',
  'PutObjectTagging',
  'DeleteObjectTagging',
  'RestoreObject',
  'SelectObjectContent',
  'PostObject',
  'GetObjectRetention',
  'PutObjectRetention',
  'GetObjectLegalHold',
  'PutObjectLegalHold',
  'PreflightRequest',
  'RenameObject',
  'UpdateObjectEncryption',
  'PutObjectAnnotation',
  'GetObjectAnnotation',
  'ListObjectAnnotations',
  'DeleteObjectAnnotation',
]);

export async function createS3Service(deps: ServiceDeps): Promise<RestXmlService> {
  // SSE-S3's master key derives from the root key KMS seals its keys under (sse-keys.ts).
  const root = await loadKmsRootKey({ dataDir: deps.config.dataDir, kmsRootKey: deps.config.kmsRootKey });
  const bucketCache = new BucketCache();
  const s3: S3 = {
    meta: watchBucketWrites(deps.stores.metadata, bucketCache),
    blobs: deps.stores.blobs,
    reaper: new BlobReaper(deps.stores.blobs, deps.log),
    buckets: bucketCache,
    clock: deps.clock,
    config: deps.config,
    log: deps.log,
    sse: new SseKeys(root.key, deps.peers, deps.clock),
  };
  const sessions = new S3Sessions(s3, root.key);
  const worker = new LifecycleWorker(s3, { intervalMs: deps.config.s3LifecycleIntervalSeconds * 1000 });
  s3.lifecycleWorker = worker;
  // Background writers' contexts: log objects as the source bucket's owner (access-log.ts), replicas as the role's session.
  const ownerCtx = (account: string): RequestContext => ({
    ...deps,
    requestId: s3RequestId(),
    principal: { type: 'root', arn: `arn:aws:iam::${account}:root`, accountId: account, userId: account },
    region: deps.config.region,
    accountId: account,
    signal: new AbortController().signal,
    sourceIp: '',
    secure: false,
    userAgent: 'hanul-s3-access-log',
    service: 's3',
    operation: 'PutObject',
  });
  const accessLog = new AccessLog(s3, deps.config.s3AccessLogIntervalSeconds * 1000, ownerCtx, (req) => {
    try {
      return isWebsiteRequest(req) ? undefined : restXmlTarget(req, service);
    } catch {
      return undefined;
    }
  });
  const replicator = new ReplicationWorker(s3, deps, (principal, operation) => ({ ...ownerCtx(principal.accountId), principal, operation, userAgent: 'hanul-s3-replication' }));
  s3.replicationWorker = replicator;
  s3.accessLog = accessLog;
  const schemas: StaticOperationSchema[] = Object.values(sdk as Record<string, unknown>).filter(isOperationSchema);
  const schemaOf = (name: string) => (sdk as Record<string, unknown>)[`${name}$`];

  function op(name: string, action: string, handler: Handler, extra: Partial<OperationSpec> = {}): [string, OperationSpec] {
    const audit = DATA_EVENTS.has(name) ? { audit: { dataEvent: true } } : {};
    const tagKeys = EXISTING_TAG_OPERATIONS.has(name) ? { conditions: (input: Record<string, unknown>, ctx: RequestContext) => existingObjectTagKeys(s3, input, ctx) } : {};
    // Not async: a request with nothing to wait for (no expected owner, a sync handler) costs no promise here.
    // A request the authorizer found aimed at a Requester Pays bucket from another account must say it pays (bucket-settings.ts).
    const proceed = (input: Record<string, unknown>, ctx: RequestContext): unknown => (settings.payerCheck(input, ctx) ? settings.charged(dispatch(input, ctx)) : dispatch(input, ctx));
    const dispatch = (input: Record<string, unknown>, ctx: RequestContext): unknown => {
      if (isDirectoryName(input['Bucket'])) {
        directoryGate(name, input);
        // Authorized once, as s3express:CreateSession (directoryAccess), not per key.
        if (name === 'DeleteObjects') return checkAccess(ctx, service, directoryAccess(name, input, ctx) as AccessCheck).then(() => handler(s3, input, ctx));
      }
      if (name === 'DeleteObjects') return deleteObjectsPerKey(s3, service, input as unknown as DeleteObjectsRequest, ctx, (i) => deleteObjects(s3, i, ctx));
      if (name === 'CopyObject' || name === 'UploadPartCopy') {
        // The source bucket's Requester Pays applies too: the source check marks the request.
        return checkCopySource(service, input, ctx).then(() => (settings.payerCheck(input, ctx) ? settings.charged(handler(s3, input, ctx)) : handler(s3, input, ctx)));
      }
      if (!MISSING_KEY_HIDDEN.has(name)) return handler(s3, input, ctx);
      let out: unknown;
      try {
        out = handler(s3, input, ctx);
      } catch (e) {
        return missingKeyAs(e, service, input, ctx);
      }
      return out instanceof Promise ? out.catch((e: unknown) => missingKeyAs(e, service, input, ctx)) : out;
    };
    const run = (input: Record<string, unknown>, ctx: RequestContext): unknown =>
      input['ExpectedBucketOwner'] !== undefined || input['ExpectedSourceBucketOwner'] !== undefined
        ? checkExpectedOwners(s3, input).then(() => proceed(input, ctx))
        : proceed(input, ctx);
    const access = (input: Record<string, unknown>, ctx: RequestContext) => directoryAccess(name, input, ctx);
    return [name, { schema: schemaOf(name), action, handler: run, access, ...audit, ...tagKeys, ...extra }];
  }

  const operations: Record<string, OperationSpec> = Object.fromEntries([
    op('ListBuckets', 's3:ListAllMyBuckets', buckets.listBuckets),
    // S3 Express One Zone directory buckets (directory.ts, sessions.ts, rename.ts).
    op('ListDirectoryBuckets', 's3express:ListAllMyDirectoryBuckets', buckets.listDirectoryBuckets),
    op('CreateSession', 's3express:CreateSession', (_s, i: CreateSessionRequest, c) => sessions.create(i, c)),
    op('RenameObject', 's3express:CreateSession', renameObject),
    // Tags asked for at creation are aws:RequestTag/* of the CreateBucket too (and need s3:TagResource, buckets.ts).
    op('CreateBucket', 's3:CreateBucket', buckets.createBucket, {
      conditions: (i: CreateBucketRequest) => (i.CreateBucketConfiguration?.Tags?.length ? abac.requestTagKeys(i.CreateBucketConfiguration.Tags) : {}),
    }),
    op('HeadBucket', 's3:ListBucket', buckets.headBucket),
    op('DeleteBucket', 's3:DeleteBucket', buckets.deleteBucket),
    op('GetBucketLocation', 's3:GetBucketLocation', buckets.getBucketLocation),
    op('GetBucketVersioning', 's3:GetBucketVersioning', buckets.getBucketVersioning),
    op('PutBucketVersioning', 's3:PutBucketVersioning', buckets.putBucketVersioning),
    op('GetBucketTagging', 's3:GetBucketTagging', tagging.getBucketTagging),
    op('PutBucketTagging', 's3:PutBucketTagging', tagging.putBucketTagging),
    op('DeleteBucketTagging', 's3:PutBucketTagging', tagging.deleteBucketTagging),
    // ABAC (abac.ts): bucket tags as aws:ResourceTag once enabled; S3 Control's tagging calls on a bucket ARN (routed by restXml.labelled).
    op('PutBucketAbac', 's3:PutBucketAbac', abac.putBucketAbac),
    op('GetBucketAbac', 's3:GetBucketAbac', abac.getBucketAbac),
    // aws:RequestTag/* and aws:TagKeys of TagResource's Tags are the authorizer's defaults.
    op('TagResource', 's3:TagResource', abac.tagResource, { schema: TagResource$, resource: abac.tagResourceArn }),
    op('UntagResource', 's3:UntagResource', abac.untagResource, {
      schema: UntagResource$,
      resource: abac.tagResourceArn,
      conditions: (i: UntagResourceRequest) => ({ 'aws:TagKeys': i.TagKeys ?? [] }),
    }),
    op('ListTagsForResource', 's3:ListTagsForResource', abac.listTagsForResource, { schema: ListTagsForResource$, resource: abac.tagResourceArn }),
    op('GetBucketEncryption', 's3:GetEncryptionConfiguration', bucketEncryption.getBucketEncryption),
    op('PutBucketEncryption', 's3:PutEncryptionConfiguration', bucketEncryption.putBucketEncryption),
    op('DeleteBucketEncryption', 's3:PutEncryptionConfiguration', bucketEncryption.deleteBucketEncryption),
    op('PutObject', 's3:PutObject', putObject),
    op('GetObject', 's3:GetObject', getObject),
    op('HeadObject', 's3:GetObject', headObject),
    op('GetObjectAttributes', 's3:GetObjectAttributes', getObjectAttributes),
    op('DeleteObject', 's3:DeleteObject', deleteObject),
    // Authorized per key by deleteObjectsPerKey (s3-authz.ts), as S3 does.
    op('DeleteObjects', 's3:DeleteObject', deleteObjects, { maxBodyBytes: 2 * MiB, noAuthorization: true }),
    op('CopyObject', 's3:PutObject', copyObject),
    op('ListObjects', 's3:ListBucket', listObjects),
    op('ListObjectsV2', 's3:ListBucket', listObjectsV2),
    op('ListObjectVersions', 's3:ListBucketVersions', listObjectVersions),
    op('CreateMultipartUpload', 's3:PutObject', createMultipartUpload),
    op('UploadPart', 's3:PutObject', uploadPart),
    op('UploadPartCopy', 's3:PutObject', uploadPartCopy),
    op('CompleteMultipartUpload', 's3:PutObject', completeMultipartUpload, { maxBodyBytes: 4 * MiB }),
    op('AbortMultipartUpload', 's3:AbortMultipartUpload', abortMultipartUpload),
    op('ListParts', 's3:ListMultipartUploadParts', listParts),
    op('ListMultipartUploads', 's3:ListBucketMultipartUploads', listMultipartUploads),
    op('PutBucketCors', 's3:PutBucketCORS', cors.putBucketCors),
    op('GetBucketCors', 's3:GetBucketCORS', cors.getBucketCors),
    op('DeleteBucketCors', 's3:PutBucketCORS', cors.deleteBucketCors),
    op('PutBucketWebsite', 's3:PutBucketWebsite', website.putBucketWebsite),
    op('GetBucketWebsite', 's3:GetBucketWebsite', website.getBucketWebsite),
    op('DeleteBucketWebsite', 's3:DeleteBucketWebsite', website.deleteBucketWebsite),
    op('GetObjectTagging', 's3:GetObjectTagging', tagging.getObjectTagging),
    op('PutObjectTagging', 's3:PutObjectTagging', tagging.putObjectTagging),
    op('DeleteObjectTagging', 's3:DeleteObjectTagging', tagging.deleteObjectTagging),
    // Object annotations, per version (annotations.ts); directory buckets refuse them (directoryGate).
    op('PutObjectAnnotation', 's3:PutObjectAnnotation', annotations.putObjectAnnotation),
    op('GetObjectAnnotation', 's3:GetObjectAnnotation', annotations.getObjectAnnotation),
    op('ListObjectAnnotations', 's3:ListObjectAnnotations', annotations.listObjectAnnotations),
    op('DeleteObjectAnnotation', 's3:DeleteObjectAnnotation', annotations.deleteObjectAnnotation),
    op('RestoreObject', 's3:RestoreObject', restoreObject),
    // S3 Select (select/): authorized as a read of the object, as AWS documents.
    op('SelectObjectContent', 's3:GetObject', selectObjectContent),
    // Re-wraps an object's data keys under another KMS key (update-encryption.ts).
    op('UpdateObjectEncryption', 's3:UpdateObjectEncryption', updateObjectEncryption),
    // Access control (bucket-policy.ts, public-access.ts, ownership.ts, acl.ts; evaluation in s3-authz.ts).
    op('PutBucketPolicy', 's3:PutBucketPolicy', policy.putBucketPolicy, { maxBodyBytes: 64 * 1024 }),
    op('GetBucketPolicy', 's3:GetBucketPolicy', policy.getBucketPolicy),
    op('DeleteBucketPolicy', 's3:DeleteBucketPolicy', policy.deleteBucketPolicy),
    op('GetBucketPolicyStatus', 's3:GetBucketPolicyStatus', policy.getBucketPolicyStatus),
    op('PutPublicAccessBlock', 's3:PutBucketPublicAccessBlock', pab.putPublicAccessBlock),
    op('GetPublicAccessBlock', 's3:GetBucketPublicAccessBlock', pab.getPublicAccessBlock),
    op('DeletePublicAccessBlock', 's3:PutBucketPublicAccessBlock', pab.deletePublicAccessBlock),
    op('PutBucketOwnershipControls', 's3:PutBucketOwnershipControls', ownership.putBucketOwnershipControls),
    op('GetBucketOwnershipControls', 's3:GetBucketOwnershipControls', ownership.getBucketOwnershipControls),
    op('DeleteBucketOwnershipControls', 's3:PutBucketOwnershipControls', ownership.deleteBucketOwnershipControls),
    op('GetBucketAcl', 's3:GetBucketAcl', acl.getBucketAcl),
    op('PutBucketAcl', 's3:PutBucketAcl', acl.putBucketAcl),
    op('GetObjectAcl', 's3:GetObjectAcl', acl.getObjectAcl),
    op('PutObjectAcl', 's3:PutObjectAcl', acl.putObjectAcl),
    op('PutBucketLifecycleConfiguration', 's3:PutLifecycleConfiguration', lifecycle.putBucketLifecycleConfiguration),
    op('GetBucketLifecycleConfiguration', 's3:GetLifecycleConfiguration', lifecycle.getBucketLifecycleConfiguration),
    op('DeleteBucketLifecycle', 's3:PutLifecycleConfiguration', lifecycle.deleteBucketLifecycle),
    op('PutObjectLockConfiguration', 's3:PutBucketObjectLockConfiguration', lock.putObjectLockConfiguration),
    op('GetObjectLockConfiguration', 's3:GetBucketObjectLockConfiguration', lock.getObjectLockConfiguration),
    op('PutObjectRetention', 's3:PutObjectRetention', lock.putObjectRetention),
    op('GetObjectRetention', 's3:GetObjectRetention', lock.getObjectRetention),
    op('PutObjectLegalHold', 's3:PutObjectLegalHold', lock.putObjectLegalHold),
    op('GetObjectLegalHold', 's3:GetObjectLegalHold', lock.getObjectLegalHold),
    // Bucket settings (bucket-settings.ts), replication (replication.ts, replication-worker.ts), notifications, server access logs (logging.ts, access-log.ts).
    op('PutBucketAccelerateConfiguration', 's3:PutAccelerateConfiguration', settings.putBucketAccelerateConfiguration),
    op('GetBucketAccelerateConfiguration', 's3:GetAccelerateConfiguration', settings.getBucketAccelerateConfiguration),
    op('PutBucketRequestPayment', 's3:PutBucketRequestPayment', settings.putBucketRequestPayment),
    op('GetBucketRequestPayment', 's3:GetBucketRequestPayment', settings.getBucketRequestPayment),
    op('PutBucketReplication', 's3:PutReplicationConfiguration', replication.putBucketReplication),
    op('GetBucketReplication', 's3:GetReplicationConfiguration', replication.getBucketReplication),
    op('DeleteBucketReplication', 's3:PutReplicationConfiguration', replication.deleteBucketReplication),
    op('PutBucketNotificationConfiguration', 's3:PutBucketNotification', notification.putBucketNotificationConfiguration),
    op('GetBucketNotificationConfiguration', 's3:GetBucketNotification', notification.getBucketNotificationConfiguration),
    op('PutBucketLogging', 's3:PutBucketLogging', logging.putBucketLogging),
    op('GetBucketLogging', 's3:GetBucketLogging', logging.getBucketLogging),
    // Configurations of features that run inside AWS: stored and returned, validated (bucket-configs.ts).
    op('PutBucketMetricsConfiguration', 's3:PutMetricsConfiguration', (s, i, c) => configs.putConfig('metrics', s, i, c)),
    op('GetBucketMetricsConfiguration', 's3:GetMetricsConfiguration', (s, i, c) => configs.getConfig('metrics', s, i, c)),
    op('DeleteBucketMetricsConfiguration', 's3:PutMetricsConfiguration', (s, i, c) => configs.deleteConfig('metrics', s, i, c)),
    op('ListBucketMetricsConfigurations', 's3:GetMetricsConfiguration', (s, i, c) => configs.listConfigs('metrics', s, i, c)),
    op('PutBucketAnalyticsConfiguration', 's3:PutAnalyticsConfiguration', (s, i, c) => configs.putConfig('analytics', s, i, c)),
    op('GetBucketAnalyticsConfiguration', 's3:GetAnalyticsConfiguration', (s, i, c) => configs.getConfig('analytics', s, i, c)),
    op('DeleteBucketAnalyticsConfiguration', 's3:PutAnalyticsConfiguration', (s, i, c) => configs.deleteConfig('analytics', s, i, c)),
    op('ListBucketAnalyticsConfigurations', 's3:GetAnalyticsConfiguration', (s, i, c) => configs.listConfigs('analytics', s, i, c)),
    op('PutBucketInventoryConfiguration', 's3:PutInventoryConfiguration', (s, i, c) => configs.putConfig('inventory', s, i, c)),
    op('GetBucketInventoryConfiguration', 's3:GetInventoryConfiguration', (s, i, c) => configs.getConfig('inventory', s, i, c)),
    op('DeleteBucketInventoryConfiguration', 's3:PutInventoryConfiguration', (s, i, c) => configs.deleteConfig('inventory', s, i, c)),
    op('ListBucketInventoryConfigurations', 's3:GetInventoryConfiguration', (s, i, c) => configs.listConfigs('inventory', s, i, c)),
    op('PutBucketIntelligentTieringConfiguration', 's3:PutIntelligentTieringConfiguration', (s, i, c) => configs.putConfig('intelligentTiering', s, i, c)),
    op('GetBucketIntelligentTieringConfiguration', 's3:GetIntelligentTieringConfiguration', (s, i, c) => configs.getConfig('intelligentTiering', s, i, c)),
    op('DeleteBucketIntelligentTieringConfiguration', 's3:PutIntelligentTieringConfiguration', (s, i, c) => configs.deleteConfig('intelligentTiering', s, i, c)),
    op('ListBucketIntelligentTieringConfigurations', 's3:GetIntelligentTieringConfiguration', (s, i, c) => configs.listConfigs('intelligentTiering', s, i, c)),
    // Browser form uploads are answered by rawHandler (post-object.ts); listed for IAM and audit.
    op('PostObject', 's3:PutObject', () => Promise.reject(new Error('POST Object is served by rawHandler')), { anonymous: true }),
    // CORS preflights (cors.ts) are answered by rawHandler without authorization, as S3; listed for metrics and audit.
    op('PreflightRequest', 's3:GetObject', () => Promise.reject(new Error('preflights are served by rawHandler')), { anonymous: true }),
  ]);

  const service: RestXmlService = {
    name: 's3',
    signingNames: ['s3', 's3express'],
    credentials: { prefix: SESSION_KEY_PREFIX, lookup: sessions.lookup },
    protocol: 'rest-xml',
    knownOperations: [...sdkOperations(sdk), ...S3_CONTROL_OPERATIONS],
    operations,
    restXml: {
      schemas,
      domains: virtualHostDomains([deps.config.domain]),
      labelled: {
        schemas: [TagResource$, UntagResource$, ListTagsForResource$] as unknown as StaticOperationSchema[],
        claims: isS3ControlRequest,
        known: { api: 's3control', schemas: Object.values(control as Record<string, unknown>).filter(isOperationSchema) },
      },
      formPostOperation: 'PostObject',
      checkPayload: checkBufferedBody,
    },
    rawHandler: (req, ctx) => {
      if (isWebsiteRequest(req)) return req.method === 'OPTIONS' ? websitePreflight(req, ctx) : serveWebsite(s3, service, req, ctx);
      if (req.method === 'OPTIONS') {
        const target = restXmlTarget(req, service);
        ctx.operation = 'PreflightRequest';
        return cors.preflight(s3, req, target.bucket, target.key, ctx.requestId);
      }
      // Only a POST can be a form upload: every other request goes on to the codec at once, with no promise made.
      return req.method === 'POST' ? postObjectHandler(s3, service, req, ctx) : undefined;
    },
    answersUnsigned: (req) => req.method === 'OPTIONS' || isWebsiteRequest(req),
    async crossOrigin(req, res) {
      let bucket: string | undefined;
      try {
        bucket = isWebsiteRequest(req) ? (await websiteBucket(s3, req)).bucket?.name : restXmlTarget(req, service).bucket;
      } catch {
        return;
      }
      await cors.addCorsHeaders(s3, req, bucket, res);
    },
    resourcePolicy: (arn, ctx) => s3ResourcePolicy(s3, arn, ctx),
    audited: true,
    eventSource: 's3.amazonaws.com',
    blobRefs: s3BlobRefs,
    blobInUse: (id) => s3.reaper.holds(id),
    served: (req, input, output, ctx, status, bytesOut, requestId, failure, started) => accessLog.note(req, input, output, ctx, status, bytesOut, requestId, failure, started),
    async start() {
      worker.start();
      replicator.start();
      await accessLog.start();
    },
    async stop() {
      await worker.stop();
      await replicator.stop();
      await accessLog.stop();
      await s3.reaper.flush();
    },
  };
  s3.service = () => service;
  async function websitePreflight(req: HttpRequest, ctx: RequestContext) {
    ctx.operation = 'PreflightRequest';
    const { name } = await websiteBucket(s3, req);
    const key = req.rawPath.length > 1 ? req.rawPath.slice(1) : undefined;
    return cors.preflight(s3, req, name, key, ctx.requestId);
  }
  return service;
}
