/**
 * Default bucket encryption: Put/Get/DeleteBucketEncryption. A bucket with
 * no configuration encrypts new objects with SSE-S3 and GetBucketEncryption
 * says so, as AWS does since January 2023; DeleteBucketEncryption goes back
 * to that default. With the server's default turned off
 * (HANUL_S3_DEFAULT_ENCRYPTION=off) an unconfigured bucket stores objects
 * unencrypted and GetBucketEncryption answers
 * ServerSideEncryptionConfigurationNotFoundError, as AWS did before.
 */
import type {
  DeleteBucketEncryptionRequest,
  GetBucketEncryptionOutput,
  GetBucketEncryptionRequest,
  PutBucketEncryptionRequest,
  ServerSideEncryption,
} from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { invalidArgument, malformedXml, s3Error } from './errors.js';
import { type BucketEncryption, type BucketRecord, NS_BUCKETS } from './model.js';
import { SSE_ALGORITHMS } from './sse.js';
import { requireBucket, type S3 } from './state.js';

function parseRule(input: PutBucketEncryptionRequest): BucketEncryption {
  const rules = input.ServerSideEncryptionConfiguration?.Rules;
  if (!rules || rules.length !== 1) throw malformedXml();
  const rule = rules[0] as NonNullable<typeof rules>[number];
  const def = rule.ApplyServerSideEncryptionByDefault;
  if (!def || def.SSEAlgorithm === undefined) throw malformedXml();
  const alg = def.SSEAlgorithm as string;
  if (!(SSE_ALGORITHMS as readonly string[]).includes(alg)) throw malformedXml();
  const out: BucketEncryption = { algorithm: alg as BucketEncryption['algorithm'], bucketKey: rule.BucketKeyEnabled === true };
  if (def.KMSMasterKeyID !== undefined && def.KMSMasterKeyID !== '') {
    if (alg === 'AES256') throw invalidArgument('a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse', 'ApplyServerSideEncryptionByDefault', '');
    out.kmsKeyId = def.KMSMasterKeyID;
  }
  return out;
}

export async function putBucketEncryption(s3: S3, input: PutBucketEncryptionRequest, ctx: RequestContext): Promise<Record<string, never>> {
  const rule = parseRule(input);
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    await tx.put(NS_BUCKETS, b.name, { ...b, encryption: rule } satisfies BucketRecord);
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}

export async function getBucketEncryption(s3: S3, input: GetBucketEncryptionRequest, ctx: RequestContext): Promise<GetBucketEncryptionOutput> {
  const b = await s3.meta.read((tx) => requireBucket(tx, input.Bucket, ctx));
  const rule = b.encryption ?? (s3.config.s3DefaultEncryption ? { algorithm: 'AES256' as const, bucketKey: false } : undefined);
  if (!rule) {
    throw s3Error('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found', { BucketName: b.name });
  }
  return {
    ServerSideEncryptionConfiguration: {
      Rules: [
        {
          ApplyServerSideEncryptionByDefault: {
            SSEAlgorithm: rule.algorithm as ServerSideEncryption,
            ...(rule.kmsKeyId !== undefined ? { KMSMasterKeyID: rule.kmsKeyId } : {}),
          },
          BucketKeyEnabled: rule.bucketKey,
        },
      ],
    },
  };
}

export async function deleteBucketEncryption(s3: S3, input: DeleteBucketEncryptionRequest, ctx: RequestContext): Promise<Record<string, never>> {
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const { encryption: _dropped, ...rest } = b;
    await tx.put(NS_BUCKETS, b.name, rest);
  });
  s3.buckets.invalidate(input.Bucket ?? '');
  return {};
}
