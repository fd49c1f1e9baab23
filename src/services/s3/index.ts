/**
 * S3: the operation table (the service at a glance). Handlers live per
 * resource (buckets, objects-put/get, delete, copy, listing, multipart,
 * tagging, restore, post-object); the rest-xml codec routes requests to them
 * from the official schemas.
 */
import * as sdk from '@aws-sdk/client-s3';
import { isOperationSchema, virtualHostDomains, type StaticOperationSchema } from '../../aws/protocols/rest-xml-routing.js';
import type { RestXmlService } from '../../aws/protocols/rest-xml.js';
import type { OperationSpec } from '../../aws/service.js';
import type { RequestContext, ServiceDeps } from '../../server/context.js';
import { sdkOperations } from '../sdk-operations.js';
import { BlobReaper } from './blob-reaper.js';
import { s3BlobRefs } from './blob-refs.js';
import * as buckets from './buckets.js';
import { copyObject, uploadPartCopy } from './copy.js';
import { deleteObject, deleteObjects } from './delete.js';
import { listObjectVersions } from './listing-versions.js';
import { listObjects, listObjectsV2 } from './listing.js';
import { completeMultipartUpload } from './multipart-complete.js';
import { listMultipartUploads } from './multipart-list.js';
import { abortMultipartUpload, createMultipartUpload, listParts, uploadPart } from './multipart.js';
import { getObject, getObjectAttributes, headObject } from './objects-get.js';
import { putObject } from './objects-put.js';
import { postObjectHandler } from './post-object.js';
import { restoreObject } from './restore.js';
import { checkExpectedOwners } from './expected-owner.js';
import { BucketCache, type S3 } from './state.js';
import * as tagging from './tagging.js';

type Handler = (s3: S3, input: any, ctx: RequestContext) => Promise<unknown>;

const MiB = 1024 * 1024;

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
  'PostObject',
]);

export async function createS3Service(deps: ServiceDeps): Promise<RestXmlService> {
  const s3: S3 = {
    meta: deps.stores.metadata,
    blobs: deps.stores.blobs,
    reaper: new BlobReaper(deps.stores.blobs, deps.log),
    buckets: new BucketCache(),
    clock: deps.clock,
    config: deps.config,
    log: deps.log,
  };
  const schemas: StaticOperationSchema[] = Object.values(sdk as Record<string, unknown>).filter(isOperationSchema);
  const schemaOf = (name: string) => (sdk as Record<string, unknown>)[`${name}$`];

  function op(name: string, action: string, handler: Handler, extra: Partial<OperationSpec> = {}): [string, OperationSpec] {
    const audit = DATA_EVENTS.has(name) ? { audit: { dataEvent: true } } : {};
    const run = async (input: Record<string, unknown>, ctx: RequestContext) => {
      await checkExpectedOwners(s3, input);
      return handler(s3, input, ctx);
    };
    return [name, { schema: schemaOf(name), action, handler: run, ...audit, ...extra }];
  }

  const operations: Record<string, OperationSpec> = Object.fromEntries([
    op('ListBuckets', 's3:ListAllMyBuckets', buckets.listBuckets),
    op('CreateBucket', 's3:CreateBucket', buckets.createBucket),
    op('HeadBucket', 's3:ListBucket', buckets.headBucket),
    op('DeleteBucket', 's3:DeleteBucket', buckets.deleteBucket),
    op('GetBucketLocation', 's3:GetBucketLocation', buckets.getBucketLocation),
    op('GetBucketVersioning', 's3:GetBucketVersioning', buckets.getBucketVersioning),
    op('PutBucketVersioning', 's3:PutBucketVersioning', buckets.putBucketVersioning),
    op('GetBucketTagging', 's3:GetBucketTagging', tagging.getBucketTagging),
    op('PutBucketTagging', 's3:PutBucketTagging', tagging.putBucketTagging),
    op('DeleteBucketTagging', 's3:PutBucketTagging', tagging.deleteBucketTagging),
    op('PutObject', 's3:PutObject', putObject),
    op('GetObject', 's3:GetObject', getObject),
    op('HeadObject', 's3:GetObject', headObject),
    op('GetObjectAttributes', 's3:GetObjectAttributes', getObjectAttributes),
    op('DeleteObject', 's3:DeleteObject', deleteObject),
    op('DeleteObjects', 's3:DeleteObject', deleteObjects, { maxBodyBytes: 2 * MiB }),
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
    op('GetObjectTagging', 's3:GetObjectTagging', tagging.getObjectTagging),
    op('PutObjectTagging', 's3:PutObjectTagging', tagging.putObjectTagging),
    op('DeleteObjectTagging', 's3:DeleteObjectTagging', tagging.deleteObjectTagging),
    op('RestoreObject', 's3:RestoreObject', restoreObject),
    // Browser form uploads are answered by rawHandler (post-object.ts); listed for IAM and audit.
    op('PostObject', 's3:PutObject', () => Promise.reject(new Error('POST Object is served by rawHandler')), { anonymous: true }),
  ]);

  const service: RestXmlService = {
    name: 's3',
    signingNames: ['s3'],
    protocol: 'rest-xml',
    knownOperations: sdkOperations(sdk),
    operations,
    restXml: {
      schemas,
      domains: virtualHostDomains([deps.config.domain]),
      formPostOperation: 'PostObject',
    },
    rawHandler: (req, ctx) => postObjectHandler(s3, service, req, ctx),
    audited: true,
    eventSource: 's3.amazonaws.com',
    blobRefs: s3BlobRefs,
    blobInUse: (id) => s3.reaper.holds(id),
    async stop() {
      await s3.reaper.flush();
    },
  };
  return service;
}
