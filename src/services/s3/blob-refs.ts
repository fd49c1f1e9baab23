/**
 * Every blob S3's records refer to, for the orphan sweep
 * (storage/blob-sweep.ts): current and noncurrent versions of every object,
 * their annotations, and the parts of every multipart upload in progress. Walked inside the
 * sweep's one snapshot, a page at a time.
 */
import { scanAll } from '../../storage/blob-sweep.js';
import type { ReadTx } from '../../storage/ports.js';
import { type AnnotationRecord, type BucketRecord, type ObjectRecord, type PartRecord, NS_BUCKETS, nsAnnotations, nsObjects, nsParts, nsVersions } from './model.js';

export async function s3BlobRefs(tx: ReadTx, visit: (id: string) => void): Promise<void> {
  const object = (r: ObjectRecord): void => {
    for (const b of r.blobs) if (b.inline !== true) visit(b.id);
  };
  const buckets: string[] = [];
  await scanAll<BucketRecord>(tx, NS_BUCKETS, (b) => buckets.push(b.name));
  for (const name of buckets) {
    await scanAll(tx, nsObjects(name), object);
    await scanAll(tx, nsVersions(name), object);
    await scanAll<PartRecord>(tx, nsParts(name), (p) => {
      if (p.blob.inline !== true) visit(p.blob.id);
    });
    await scanAll<AnnotationRecord>(tx, nsAnnotations(name), (a) => {
      if (a.blob.inline !== true) visit(a.blob.id);
    });
  }
}
