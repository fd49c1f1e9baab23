/** Read-modify-write of one bucket record (configuration operations), and the cache invalidation that goes with it. */
import type { RequestContext } from '../../server/context.js';
import { NS_BUCKETS, type BucketRecord } from './model.js';
import { requireBucket, type S3 } from './state.js';

export async function updateBucket(s3: S3, name: string | undefined, ctx: RequestContext, change: (b: BucketRecord) => BucketRecord | Promise<BucketRecord>): Promise<BucketRecord> {
  const out = await s3.meta.write(async (tx) => {
    const b = await requireBucket(tx, name, ctx);
    const next = await change(b);
    await tx.put(NS_BUCKETS, b.name, next);
    return next;
  });
  s3.buckets.invalidate(name ?? '');
  return out;
}
