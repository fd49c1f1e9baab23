/**
 * Checks of destination configurations, shared by CreateDeliveryStream and
 * UpdateDestination: buffering hints' ranges, compression formats, ARNs,
 * processors and prefixes — AWS's codes and wording.
 */
import type { ExtendedS3DestinationConfiguration, HttpEndpointDestinationConfiguration, ProcessingConfiguration } from '@aws-sdk/client-firehose';
import { constraint, firehoseError } from './errors.js';
import { checkJqQuery } from './jq.js';
import { checkPrefixes } from './keys.js';
import { bucketOf } from './model.js';
import { checkConversion } from './parquet.js';

export const COMPRESSION = ['UNCOMPRESSED', 'GZIP', 'ZIP', 'Snappy', 'HADOOP_SNAPPY'] as const;
const PROCESSORS = ['RecordDeAggregation', 'Decompression', 'CloudWatchLogProcessing', 'Lambda', 'MetadataExtraction', 'AppendDelimiterToRecord'];

export function checkStreamName(name: string | undefined, member = 'deliveryStreamName'): string {
  if (name === undefined) throw constraint('null', member, 'Member must not be null');
  if (name.length < 1 || name.length > 64) throw constraint(name, member, 'Member must have length less than or equal to 64');
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) throw constraint(name, member, 'Member must satisfy regular expression pattern: [a-zA-Z0-9._-]+');
  return name;
}

export function checkRole(arn: string | undefined, member: string): void {
  if (arn === undefined) throw constraint('null', member, 'Member must not be null');
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(arn)) throw firehoseError('InvalidArgumentException', `Role ${arn} is not a valid IAM role ARN.`);
}

function range(v: number | undefined, min: number, max: number, member: string): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < min) throw constraint(String(v), member, `Member must have value greater than or equal to ${min}`);
  if (v > max) throw constraint(String(v), member, `Member must have value less than or equal to ${max}`);
}

export function checkProcessing(p: ProcessingConfiguration | undefined, member: string): void {
  if (!p?.Enabled) return;
  for (const [i, proc] of (p.Processors ?? []).entries()) {
    if (!proc.Type || !PROCESSORS.includes(proc.Type)) throw constraint(String(proc.Type), `${member}.processors.${i + 1}.member.type`, `Member must satisfy enum value set: [${PROCESSORS.join(', ')}]`);
    const params = new Map((proc.Parameters ?? []).map((x) => [x.ParameterName, x.ParameterValue]));
    if (proc.Type === 'Lambda') {
      const arn = params.get('LambdaArn');
      if (!arn || !/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/.test(arn)) {
        throw firehoseError('InvalidArgumentException', `LambdaArn ${arn ?? 'null'} is not a valid Lambda function ARN.`);
      }
    }
    if (proc.Type === 'MetadataExtraction' && !params.get('MetadataExtractionQuery')) {
      throw firehoseError('InvalidArgumentException', 'MetadataExtraction processor requires MetadataExtractionQuery and JsonParsingEngine parameters.');
    }
  }
}

export function checkS3(c: ExtendedS3DestinationConfiguration, member = 'extendedS3DestinationConfiguration'): void {
  checkRole(c.RoleARN, `${member}.roleARN`);
  if (!bucketOf(c.BucketARN)) throw firehoseError('InvalidArgumentException', `BucketARN ${c.BucketARN ?? 'null'} is not a valid S3 bucket ARN.`);
  range(c.BufferingHints?.SizeInMBs, 1, 128, `${member}.bufferingHints.sizeInMBs`);
  range(c.BufferingHints?.IntervalInSeconds, 0, 900, `${member}.bufferingHints.intervalInSeconds`);
  const fmt = c.CompressionFormat;
  if (fmt !== undefined && !(COMPRESSION as readonly string[]).includes(fmt)) {
    throw constraint(fmt, `${member}.compressionFormat`, `Member must satisfy enum value set: [${COMPRESSION.join(', ')}]`);
  }
  const dp = c.DynamicPartitioningConfiguration?.Enabled === true;
  if (dp && (c.BufferingHints?.SizeInMBs ?? 64) < 64) {
    throw firehoseError('InvalidArgumentException', 'BufferingHints.SizeInMBs must be at least 64 when dynamic partitioning is enabled.');
  }
  checkPrefixes(c.Prefix, c.ErrorOutputPrefix, { dynamicPartitioning: dp });
  checkProcessing(c.ProcessingConfiguration, `${member}.processingConfiguration`);
  checkConversion(c.DataFormatConversionConfiguration, c.CompressionFormat);
  if (c.S3BackupMode === 'Enabled') {
    if (!c.S3BackupConfiguration) throw firehoseError('InvalidArgumentException', 'S3BackupConfiguration is required when S3BackupMode is Enabled.');
    if (!bucketOf(c.S3BackupConfiguration.BucketARN)) throw firehoseError('InvalidArgumentException', `BucketARN ${c.S3BackupConfiguration.BucketARN ?? 'null'} is not a valid S3 bucket ARN.`);
  }
}

export function checkHttp(c: HttpEndpointDestinationConfiguration, member = 'httpEndpointDestinationConfiguration'): void {
  const url = c.EndpointConfiguration?.Url;
  if (!url || !/^https?:\/\//.test(url)) throw firehoseError('InvalidArgumentException', `Endpoint url ${url ?? 'null'} is not a valid HTTP(S) URL.`);
  range(c.BufferingHints?.SizeInMBs, 1, 64, `${member}.bufferingHints.sizeInMBs`);
  range(c.BufferingHints?.IntervalInSeconds, 0, 900, `${member}.bufferingHints.intervalInSeconds`);
  range(c.RetryOptions?.DurationInSeconds, 0, 7200, `${member}.retryOptions.durationInSeconds`);
  if (!c.S3Configuration) throw constraint('null', `${member}.s3Configuration`, 'Member must not be null');
  if (!bucketOf(c.S3Configuration.BucketARN)) throw firehoseError('InvalidArgumentException', `BucketARN ${c.S3Configuration.BucketARN ?? 'null'} is not a valid S3 bucket ARN.`);
  checkProcessing(c.ProcessingConfiguration, `${member}.processingConfiguration`);
}

/** Compile-checks every MetadataExtractionQuery in real jq (async, so before the store transaction). */
export async function checkQueries(...confs: Array<ProcessingConfiguration | undefined>): Promise<void> {
  for (const c of confs) {
    for (const p of c?.Processors ?? []) {
      if (p.Type !== 'MetadataExtraction') continue;
      const q = p.Parameters?.find((x) => x.ParameterName === 'MetadataExtractionQuery')?.ParameterValue;
      if (q) await checkJqQuery(q);
    }
  }
}
