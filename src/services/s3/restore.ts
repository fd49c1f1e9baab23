/**
 * Archived storage classes (GLACIER, DEEP_ARCHIVE): their bytes are readable
 * only while a restored copy exists. RestoreObject starts a restore that
 * completes after the tier's retrieval time and lasts `Days` (until the
 * following midnight UTC, as S3 rounds it); every instant is read from the
 * injectable clock, so a test advances time instead of waiting.
 */
import type { RestoreObjectOutput, RestoreObjectRequest } from '@aws-sdk/client-s3';
import { HTTP_STATUS, type RestXmlOutputExtras } from '../../aws/protocols/rest-xml.js';
import type { RequestContext } from '../../server/context.js';
import { invalidArgument, malformedXml, s3Error } from './errors.js';
import type { ObjectRecord, RestoreState } from './model.js';
import { checkKey, requireBucket, type S3 } from './state.js';
import { readableVersion, updateVersion } from './versions.js';
import { isArchived } from './write-object.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Retrieval times (the upper ends of S3's published ranges). */
const RETRIEVAL_MS: Record<string, Partial<Record<string, number>>> = {
  GLACIER: { Expedited: 5 * MINUTE, Standard: 5 * HOUR, Bulk: 12 * HOUR },
  DEEP_ARCHIVE: { Standard: 12 * HOUR, Bulk: 48 * HOUR },
};

export function restoredNow(rec: ObjectRecord, now: Date): boolean {
  const r = rec.restore;
  return r !== undefined && now.getTime() >= r.readyAt.getTime() && now.getTime() < r.expiresAt.getTime();
}

/** The x-amz-restore header, while a restore is running or its copy exists. */
export function restoreHeader(rec: ObjectRecord, now: Date): string | undefined {
  const r = rec.restore;
  if (!r || now.getTime() >= r.expiresAt.getTime()) return undefined;
  if (now.getTime() < r.readyAt.getTime()) return 'ongoing-request="true"';
  return `ongoing-request="false", expiry-date="${r.expiresAt.toUTCString()}"`;
}

function nextMidnight(ms: number): Date {
  return new Date(Math.ceil(ms / DAY) * DAY);
}

export async function restoreObject(s3: S3, input: RestoreObjectRequest, ctx: RequestContext): Promise<RestoreObjectOutput & RestXmlOutputExtras> {
  const key = checkKey(input.Key);
  const req = input.RestoreRequest;
  if (!req) throw malformedXml();
  if (req.Type !== undefined || req.SelectParameters !== undefined || req.OutputLocation !== undefined) {
    throw s3Error('NotImplemented', 'Restore with SELECT is not implemented in hanul');
  }
  const days = req.Days;
  if (days === undefined || !Number.isInteger(days) || days < 1) {
    throw invalidArgument('Days must be a positive integer', 'Days', String(days));
  }
  const tier = req.GlacierJobParameters?.Tier ?? req.Tier ?? 'Standard';
  if (!['Expedited', 'Standard', 'Bulk'].includes(tier)) throw malformedXml();
  return s3.meta.write(async (tx) => {
    const bucket = await requireBucket(tx, input.Bucket, ctx);
    const rec = await readableVersion(tx, bucket, key, input.VersionId);
    if (!isArchived(rec.storageClass)) {
      throw s3Error('InvalidObjectState', "Restore is not allowed for the object's current storage class", { StorageClass: rec.storageClass });
    }
    const retrieval = RETRIEVAL_MS[rec.storageClass]?.[tier];
    if (retrieval === undefined) {
      throw invalidArgument(`The ${tier} tier is not available for the ${rec.storageClass} storage class`, 'Tier', tier);
    }
    const now = s3.clock.nowMs();
    const r = rec.restore;
    if (r && now < r.readyAt.getTime()) throw s3Error('RestoreAlreadyInProgress', 'Object restore is already in progress');
    let restore: RestoreState;
    let status: number;
    if (r && now < r.expiresAt.getTime()) {
      // Already restored: only the expiry moves.
      restore = { ...r, days, expiresAt: nextMidnight(now + days * DAY) };
      status = 200;
    } else {
      const readyAt = now + retrieval;
      restore = { tier, days, readyAt: new Date(readyAt), expiresAt: nextMidnight(readyAt + days * DAY) };
      status = 202;
    }
    await updateVersion(tx, bucket, key, input.VersionId, (x) => ({ ...x, restore }));
    return { [HTTP_STATUS]: status };
  });
}
