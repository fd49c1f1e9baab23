/**
 * Per-bucket configurations of features that run inside AWS (CloudWatch
 * request metrics, Storage Class Analysis, Inventory reports, Intelligent-
 * Tiering archive tiers): Put/Get/Delete/List for each kind, stored and
 * returned as put, with S3's validation — ids (1–64 of letters, digits, `.`,
 * `-`, `_`, and the body's Id equal to the `id` query), filters, enums,
 * destination bucket ARNs, tier days — at most 1,000 of a kind per bucket
 * (TooManyConfigurations), and List pages of 100 with a ContinuationToken.
 *
 * They live in their own namespace (s3:bcfg:<bucket>, key <kind> SEP <id>), not on
 * the cached bucket record, and go with their bucket.
 */
import { InventoryOptionalField, type AnalyticsConfiguration, type IntelligentTieringConfiguration, type InventoryConfiguration, type MetricsConfiguration } from '@aws-sdk/client-s3';
import type { RequestContext } from '../../server/context.js';
import { invalidArgument, malformedXml, s3Error } from './errors.js';
import { SEP } from './model.js';
import { requireBucket, type S3 } from './state.js';

export const nsBucketConfigs = (bucket: string) => `s3:bcfg:${bucket}`;

const MAX_PER_KIND = 1000;
const PAGE = 100;
const ID = /^[A-Za-z0-9._-]{1,64}$/;
const BUCKET_ARN = /^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

interface Kind<C> {
  /** The request/response member holding one configuration, e.g. 'MetricsConfiguration'. */
  member: string;
  /** ListBucket…Configurations' list member. */
  list: string;
  validate(c: C): void;
}

/** At most one of the filter's forms (the And form carries the rest). */
function oneFilter(f: object | undefined): void {
  if (f === undefined) return;
  const set = Object.entries(f).filter(([, v]) => v !== undefined).length;
  if (set > 1) throw malformedXml();
}

function bucketArn(arn: string | undefined, name: string): void {
  if (arn === undefined) throw malformedXml();
  if (!BUCKET_ARN.test(arn)) throw invalidArgument('Invalid bucket ARN', name, arn);
}

const metrics: Kind<MetricsConfiguration> = {
  member: 'MetricsConfiguration',
  list: 'MetricsConfigurationList',
  validate: (c) => oneFilter(c.Filter),
};

const analytics: Kind<AnalyticsConfiguration> = {
  member: 'AnalyticsConfiguration',
  list: 'AnalyticsConfigurationList',
  validate(c) {
    oneFilter(c.Filter);
    if (c.StorageClassAnalysis === undefined) throw malformedXml();
    const exp = c.StorageClassAnalysis.DataExport;
    if (exp === undefined) return;
    if (exp.OutputSchemaVersion !== 'V_1') throw malformedXml();
    const dest = exp.Destination?.S3BucketDestination;
    if (dest === undefined || dest.Format !== 'CSV') throw malformedXml();
    bucketArn(dest.Bucket, 'Bucket');
  },
};

const OPTIONAL_FIELDS = new Set<string>(Object.values(InventoryOptionalField));

const inventory: Kind<InventoryConfiguration> = {
  member: 'InventoryConfiguration',
  list: 'InventoryConfigurationList',
  validate(c) {
    if (typeof c.IsEnabled !== 'boolean') throw malformedXml();
    if (c.IncludedObjectVersions !== 'All' && c.IncludedObjectVersions !== 'Current') throw malformedXml();
    if (c.Schedule?.Frequency !== 'Daily' && c.Schedule?.Frequency !== 'Weekly') throw malformedXml();
    const dest = c.Destination?.S3BucketDestination;
    if (dest === undefined || !['CSV', 'ORC', 'Parquet'].includes(dest.Format ?? '')) throw malformedXml();
    bucketArn(dest.Bucket, 'Bucket');
    if (dest.Encryption && dest.Encryption.SSES3 !== undefined && dest.Encryption.SSEKMS !== undefined) throw malformedXml();
    if (dest.Encryption?.SSEKMS !== undefined && !dest.Encryption.SSEKMS.KeyId) throw malformedXml();
    for (const f of c.OptionalFields ?? []) if (!OPTIONAL_FIELDS.has(f)) throw malformedXml();
  },
};

const TIER_DAYS: Record<string, [number, number]> = { ARCHIVE_ACCESS: [90, 730], DEEP_ARCHIVE_ACCESS: [180, 730] };

const intelligentTiering: Kind<IntelligentTieringConfiguration> = {
  member: 'IntelligentTieringConfiguration',
  list: 'IntelligentTieringConfigurationList',
  validate(c) {
    oneFilter(c.Filter);
    if (c.Status !== 'Enabled' && c.Status !== 'Disabled') throw malformedXml();
    const tiers = c.Tierings ?? [];
    if (tiers.length === 0 || tiers.length > 2) throw malformedXml();
    const seen = new Set<string>();
    for (const t of tiers) {
      const range = TIER_DAYS[t.AccessTier ?? ''];
      if (!range) throw malformedXml();
      if (seen.has(t.AccessTier as string)) throw invalidArgument('Tierings must not contain the same AccessTier twice', 'AccessTier', t.AccessTier);
      seen.add(t.AccessTier as string);
      if (typeof t.Days !== 'number' || !Number.isInteger(t.Days) || t.Days < range[0] || t.Days > range[1]) {
        throw invalidArgument(`The Days for the ${t.AccessTier as string} tier must be between ${range[0]} and ${range[1]}`, 'Days', String(t.Days));
      }
    }
    const archive = tiers.find((t) => t.AccessTier === 'ARCHIVE_ACCESS');
    const deep = tiers.find((t) => t.AccessTier === 'DEEP_ARCHIVE_ACCESS');
    if (archive && deep && (deep.Days ?? 0) <= (archive.Days ?? 0)) {
      throw invalidArgument('The Days for DEEP_ARCHIVE_ACCESS must be greater than the Days for ARCHIVE_ACCESS', 'Days', String(deep.Days));
    }
  },
};

export const KINDS = { metrics, analytics, inventory, intelligentTiering } as const;
export type KindName = keyof typeof KINDS;

const noSuchConfiguration = () => s3Error('NoSuchConfiguration', 'The specified configuration does not exist.');

function checkId(id: string | undefined): string {
  if (id === undefined || id === '') throw s3Error('InvalidArgument', 'Id is required', { ArgumentName: 'id' });
  if (!ID.test(id)) throw invalidArgument('The Id is not valid: up to 64 letters, digits, periods, dashes and underscores', 'id', id);
  return id;
}

interface ConfigInput {
  Bucket?: string | undefined;
  Id?: string | undefined;
  ContinuationToken?: string | undefined;
}

export async function putConfig(kind: KindName, s3: S3, input: ConfigInput & Record<string, unknown>, ctx: RequestContext): Promise<Record<string, never>> {
  const k = KINDS[kind] as Kind<{ Id?: string | undefined }>;
  const id = checkId(input.Id);
  const cfg = input[k.member] as { Id?: string | undefined } | undefined;
  if (cfg === undefined) throw s3Error('MissingRequestBodyError', 'Request Body is empty');
  if (cfg.Id !== id) throw invalidArgument('The Id in the configuration does not match the id in the request', 'Id', cfg.Id);
  k.validate(cfg);
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const ns = nsBucketConfigs(b.name);
    const key = `${kind}${SEP}${id}`;
    if ((await tx.get(ns, key)) === undefined) {
      const existing = await tx.scan(ns, { start: `${kind}${SEP}`, end: `${kind}${SEP}\uffff`, limit: MAX_PER_KIND });
      if (existing.length >= MAX_PER_KIND) {
        throw s3Error('TooManyConfigurations', 'You are attempting to create a new configuration but have already reached the 1,000-configuration limit.');
      }
    }
    await tx.put(ns, key, cfg);
  });
  return {};
}

export async function getConfig(kind: KindName, s3: S3, input: ConfigInput, ctx: RequestContext): Promise<Record<string, unknown>> {
  const id = checkId(input.Id);
  const cfg = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    return tx.get(nsBucketConfigs(b.name), `${kind}${SEP}${id}`);
  });
  if (cfg === undefined) throw noSuchConfiguration();
  return { [KINDS[kind].member]: cfg };
}

export async function deleteConfig(kind: KindName, s3: S3, input: ConfigInput, ctx: RequestContext): Promise<Record<string, never>> {
  const id = checkId(input.Id);
  await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    const key = `${kind}${SEP}${id}`;
    if ((await tx.get(nsBucketConfigs(b.name), key)) === undefined) throw noSuchConfiguration();
    await tx.delete(nsBucketConfigs(b.name), key);
  });
  return {};
}

/** Pages of 100 in id order; the token is the last id of the previous page (opaque to clients). */
export async function listConfigs(kind: KindName, s3: S3, input: ConfigInput, ctx: RequestContext): Promise<Record<string, unknown>> {
  let after: string | undefined;
  if (input.ContinuationToken !== undefined) {
    after = Buffer.from(input.ContinuationToken, 'base64url').toString('utf8');
    if (!after.startsWith(`${kind}${SEP}`) || input.ContinuationToken === '') throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', input.ContinuationToken);
  }
  const rows = await s3.meta.read(async (tx) => {
    const b = await requireBucket(tx, input.Bucket, ctx);
    return tx.scan(nsBucketConfigs(b.name), { start: `${kind}${SEP}`, end: `${kind}${SEP}\uffff`, ...(after !== undefined ? { startAfter: after } : {}), limit: PAGE + 1 });
  });
  const page = rows.slice(0, PAGE);
  const out: Record<string, unknown> = { IsTruncated: rows.length > PAGE };
  if (page.length > 0) out[KINDS[kind].list] = page.map((r) => r.value);
  if (input.ContinuationToken !== undefined) out['ContinuationToken'] = input.ContinuationToken;
  const last = page[page.length - 1];
  if (rows.length > PAGE && last) out['NextContinuationToken'] = Buffer.from(last.key, 'utf8').toString('base64url');
  return out;
}
