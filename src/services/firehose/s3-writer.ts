/**
 * Writes a delivery's objects into hanul's S3 (PutObject, in-process): the
 * transformed records by partition, failed records as AWS's JSON error
 * documents under the error prefix, and the source records to the backup
 * bucket when S3 backup is on. Every object is committed before the flusher
 * deletes its records from the buffer.
 */
import { Readable } from 'node:stream';
import type { ExtendedS3DestinationConfiguration, S3DestinationConfiguration } from '@aws-sdk/client-firehose';
import type { RequestContext } from '../../server/context.js';
import { compress } from './compress.js';
import type { FirehoseCore } from './core.js';
import { dataPrefix, errorPrefix, EXTENSIONS, objectName } from './keys.js';
import { toParquet } from './parquet.js';
import { checkPut, roleContext } from './role.js';
import { bucketOf, type DeliveryStreamMeta } from './model.js';
import type { FailedRecord, OutRecord, Processed, SourceRecord } from './processing.js';

export const MAX_ACTIVE_PARTITIONS = 500;

/** The oldest arrival time (no spread: a delivery may hold 100,000s of records). */
function minAt(recs: Array<{ at: number }>): number {
  let m = Infinity;
  for (const r of recs) if (r.at < m) m = r.at;
  return m;
}

export async function putObject(core: FirehoseCore, bucketArn: string | undefined, key: string, body: Buffer, ctx: RequestContext): Promise<void> {
  if (!core.peers) throw new Error('S3 is not available in-process');
  await checkPut(core, ctx, bucketArn, key);
  await core.peers.call('s3', 'PutObject', { Bucket: bucketOf(bucketArn), Key: key, Body: Readable.from([body]), ContentLength: body.length }, ctx);
}

/**
 * Whether a stream's records can be delivered as they were packed at put
 * time (BufferedChunk.packed): an S3 destination writing GZIP objects of the
 * records exactly as put — no processing, format conversion, dynamic
 * partitioning or source backup, which need the records one by one.
 */
export function deliversPackedGzip(meta: DeliveryStreamMeta): boolean {
  const c = meta.s3;
  return c !== undefined && c.CompressionFormat === 'GZIP' && c.ProcessingConfiguration?.Enabled !== true && c.DataFormatConversionConfiguration?.Enabled !== true
    && c.DynamicPartitioningConfiguration?.Enabled !== true && c.S3BackupMode !== 'Enabled';
}

/** One object of records, compressed as configured, under the evaluated prefix. */
export async function writeObject(core: FirehoseCore, meta: DeliveryStreamMeta, conf: S3DestinationConfiguration | ExtendedS3DestinationConfiguration, prefix: string, datas: Uint8Array[], at: number, ctx: RequestContext): Promise<string> {
  const fmt = conf.CompressionFormat ?? 'UNCOMPRESSED';
  const ext = (conf as ExtendedS3DestinationConfiguration).FileExtension;
  const name = objectName(meta.name, meta.versionId, at, EXTENSIONS[fmt] ?? '', ext);
  const raw = Buffer.concat(datas);
  const body = await compress(fmt, raw, name.replace(/\.zip$/, ''));
  const key = prefix + name;
  await putObject(core, conf.BucketARN, key, body, ctx);
  return key;
}

/** One GZIP object made of gzip members compressed at put time (deliversPackedGzip). */
export async function writePackedGzip(core: FirehoseCore, meta: DeliveryStreamMeta, members: Uint8Array[], at: number, ctx: RequestContext): Promise<string> {
  const conf = meta.s3 as ExtendedS3DestinationConfiguration;
  const key = dataPrefix(conf.Prefix, { at }) + objectName(meta.name, meta.versionId, at, EXTENSIONS['GZIP'] ?? '', conf.FileExtension);
  await putObject(core, conf.BucketARN, key, Buffer.concat(members), ctx);
  return key;
}

/** AWS's error document for a record that failed processing or delivery (one JSON per line). */
export function errorDocument(f: FailedRecord, now: number): Buffer {
  return Buffer.from(
    `${JSON.stringify({
      attemptsMade: f.attempts,
      arrivalTimestamp: f.at,
      errorCode: f.errorCode,
      errorMessage: f.errorMessage,
      attemptEndingTimestamp: now,
      rawData: Buffer.from(f.data).toString('base64'),
      ...(f.lambdaArn ? { lambdaArn: f.lambdaArn } : {}),
    })}\n`,
  );
}

export async function writeFailed(core: FirehoseCore, meta: DeliveryStreamMeta, conf: S3DestinationConfiguration | ExtendedS3DestinationConfiguration, failed: FailedRecord[], defaultType: string, ctx: RequestContext): Promise<void> {
  const byType = new Map<string, FailedRecord[]>();
  for (const f of failed) {
    const t = f.errorType ?? defaultType;
    byType.set(t, [...(byType.get(t) ?? []), f]);
  }
  const now = core.clock.nowMs();
  for (const [type, list] of byType) {
    const at = minAt(list);
    const prefix = errorPrefix(conf.Prefix, conf.ErrorOutputPrefix, { at, errorType: type });
    await writeObject(core, meta, conf, prefix, list.map((f) => errorDocument(f, now)), at, ctx);
  }
}

/** The source records, untransformed, to the backup bucket, as the backup configuration's own RoleARN. */
export async function writeBackup(core: FirehoseCore, meta: DeliveryStreamMeta, conf: S3DestinationConfiguration, recs: Array<{ data: Uint8Array; at: number }>, ctx: RequestContext): Promise<void> {
  if (recs.length === 0) return;
  const at = minAt(recs);
  const asBackupRole = conf.RoleARN !== undefined && ctx.principal.type === 'assumed-role' ? await roleContext(core, conf.RoleARN, 'Deliver') : ctx;
  await writeObject(core, meta, conf, dataPrefix(conf.Prefix, { at }), recs.map((r) => r.data), at, asBackupRole);
}

export async function deliverS3(core: FirehoseCore, meta: DeliveryStreamMeta, source: SourceRecord[], processed: Processed, ctx: RequestContext): Promise<void> {
  const conf = meta.s3 as ExtendedS3DestinationConfiguration;
  const dynamic = conf.DynamicPartitioningConfiguration?.Enabled === true;
  const failed = [...processed.failed];
  const groups = new Map<string, OutRecord[]>();
  const at0 = minAt(source);
  for (const r of processed.ok) {
    let prefix: string;
    if (dynamic) {
      const needed = [...(conf.Prefix ?? '').matchAll(/!\{partitionKeyFrom(?:Query|Lambda):([^}]*)\}/g)].map((m) => m[1] as string);
      const missing = needed.find((k) => r.partitionKeys?.[k] === undefined);
      if (missing !== undefined) {
        failed.push({ data: r.data, at: r.at, errorCode: 'DynamicPartitioning.PartitionKeyMissing', errorMessage: `Partition key ${missing} was not found for the record.`, attempts: 1, errorType: 'partitioning-failed' });
        continue;
      }
      // The random-string stays per object: evaluate it after grouping.
      prefix = dataPrefix((conf.Prefix ?? '').replace(/!\{firehose:random-string\}/g, '\u0000'), { at: at0, ...(r.partitionKeys ? { partitionKeys: r.partitionKeys } : {}) });
      if (!groups.has(prefix) && groups.size >= MAX_ACTIVE_PARTITIONS) {
        failed.push({ data: r.data, at: r.at, errorCode: 'DynamicPartitioning.ActivePartitionsLimitExceeded', errorMessage: `The number of active partitions exceeded the limit of ${MAX_ACTIVE_PARTITIONS}.`, attempts: 1, errorType: 'partitioning-failed' });
        continue;
      }
    } else prefix = '';
    const list = groups.get(prefix);
    if (list) list.push(r);
    else groups.set(prefix, [r]);
  }
  const conversion = conf.DataFormatConversionConfiguration?.Enabled === true ? conf.DataFormatConversionConfiguration : undefined;
  for (const [group, list] of groups) {
    const at = minAt(list);
    // eslint-disable-next-line no-control-regex -- NUL separates partition keys in the group name
    const prefix = dynamic ? group.replace(/\u0000/g, () => dataPrefix('!{firehose:random-string}', { at })) : dataPrefix(conf.Prefix, { at });
    if (!conversion) {
      await writeObject(core, meta, conf, prefix, list.map((r) => r.data), at, ctx);
      continue;
    }
    const { file, failed: bad } = toParquet(conversion, list.map((r) => r.data));
    for (const b of bad) {
      const r = list[b.index] as OutRecord;
      failed.push({ data: r.data, at: r.at, errorCode: 'DataFormatConversion.MalformedData', errorMessage: b.message, attempts: 1, errorType: 'format-conversion-failed' });
    }
    if (file) await putObject(core, conf.BucketARN, prefix + objectName(meta.name, meta.versionId, at, '.parquet', conf.FileExtension), file, ctx);
  }
  if (failed.length > 0) await writeFailed(core, meta, conf, failed, 'processing-failed', ctx);
  if (conf.S3BackupMode === 'Enabled' && conf.S3BackupConfiguration) await writeBackup(core, meta, conf.S3BackupConfiguration, source, ctx);
}
