import { gunzipSync } from 'node:zlib';
import * as f from '@aws-sdk/client-firehose';
import * as s3 from '@aws-sdk/client-s3';
import * as iam from '@aws-sdk/client-iam';
import { waitFor, type TestServer } from '../../support/hanul.js';

export const ROLE = 'arn:aws:iam::000000000000:role/firehose-delivery';

export const FIREHOSE_TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

/**
 * The role deliveries act as (ROLE): trusted by firehose.amazonaws.com and
 * allowed to write objects, as users set it up on AWS. `allow` narrows what it may write.
 */
export async function createDeliveryRole(config: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }, name = 'firehose-delivery', allow = 'arn:aws:s3:::*/*'): Promise<string> {
  const c = new iam.IAMClient({ ...config, region: 'us-east-1' });
  const r = await c.send(new iam.CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: FIREHOSE_TRUST }));
  await c.send(new iam.PutRolePolicyCommand({ RoleName: name, PolicyName: 'deliver', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject', 's3:GetBucketLocation'], Resource: allow }] }) }));
  return r.Role?.Arn as string;
}

/** A role Firehose may assume to read a Kinesis source stream (KinesisStreamSourceConfiguration.RoleARN). */
export async function createSourceRole(config: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }, name: string, streamArn: string): Promise<string> {
  const c = new iam.IAMClient({ ...config, region: 'us-east-1' });
  const r = await c.send(new iam.CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: FIREHOSE_TRUST }));
  await c.send(new iam.PutRolePolicyCommand({ RoleName: name, PolicyName: 'read-source', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kinesis:DescribeStream', 'kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords'], Resource: streamArn }] }) }));
  c.destroy();
  return r.Role?.Arn as string;
}

/**
 * Clients signing with hanul's clock (tests advance it): made fresh on each
 * access, because the SDK re-corrects its clock offset from responses.
 */
export function clients(server: TestServer) {
  return {
    get firehose() {
      return new f.FirehoseClient({ ...server.clientConfig, maxAttempts: 1, systemClockOffset: server.clock.offsetMs() });
    },
    get s3() {
      return new s3.S3Client({ ...server.clientConfig, forcePathStyle: true, systemClockOffset: server.clock.offsetMs() });
    },
  };
}

export async function waitActive(fh: f.FirehoseClient, name: string): Promise<f.DeliveryStreamDescription> {
  return waitFor(async () => {
    const d = await fh.send(new f.DescribeDeliveryStreamCommand({ DeliveryStreamName: name }));
    return d.DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE' ? d.DeliveryStreamDescription : undefined;
  }, { what: `${name} ACTIVE` });
}

export async function listKeys(c: s3.S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await c.send(new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of r.Contents ?? []) keys.push(o.Key as string);
    token = r.NextContinuationToken;
  } while (token);
  return keys;
}

export async function readObject(c: s3.S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await c.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }));
  const raw = Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  return key.endsWith('.gz') ? gunzipSync(raw) : raw;
}

/** Every byte delivered under a prefix, objects in key order. */
export async function readAll(c: s3.S3Client, bucket: string, prefix = ''): Promise<string> {
  const keys = await listKeys(c, bucket, prefix);
  const parts = await Promise.all(keys.map((k) => readObject(c, bucket, k)));
  return parts.map((p) => p.toString()).join('');
}

export function s3Dest(bucket: string, extra: Partial<f.ExtendedS3DestinationConfiguration> = {}): f.ExtendedS3DestinationConfiguration {
  return { RoleARN: ROLE, BucketARN: `arn:aws:s3:::${bucket}`, BufferingHints: { IntervalInSeconds: 1, SizeInMBs: 1 }, ...extra };
}
