/**
 * The replication worker: copies queued object versions (replication.ts
 * queues them with the write that made them) to their destination buckets,
 * asynchronously, as the replication configuration's role — the role's trust
 * policy must let s3.amazonaws.com assume it, and the role (with each
 * bucket's own policy) must allow s3:GetObjectVersionForReplication on the
 * source and s3:ReplicateObject on the destination, as in AWS.
 *
 * A delete marker is replicated as a marker with the same version id
 * (s3:ReplicateDelete). The copy of an object keeps the source's version id, ETag, metadata, tags and
 * checksum, is encrypted with the destination bucket's default, and says
 * x-amz-replication-status REPLICA; the source version then says COMPLETED
 * (FAILED when the role, a policy or the destination refuses). The replica,
 * the source's status and the task's removal commit in one transaction, so a
 * crash mid-copy leaves the task queued and the next run redoes it (a replica
 * already there is not written twice).
 */
import type { Logger } from 'pino';
import { isAwsError } from '../../aws/errors.js';
import { actAsRole, type RoleActor } from '../../iam/service-roles.js';
import type { RequestContext, ServiceDeps } from '../../server/context.js';
import { type InlineData, loadInline } from './blob-stream.js';
import { randomId } from '../../lib/ids.js';
import { type BlobRef, type BucketRecord, NS_BUCKETS, NS_REPLICATION, nsInline, nsObjects, nsVersions, type ObjectRecord, type ReplicationTask, type SseRecord, versionKey } from './model.js';
import type { WriteTx } from '../../storage/ports.js';
import { INLINE_MAX_BYTES, receiveBody } from './receive-body.js';
import { replicationTaskKey } from './replication.js';
import { s3ResourcePolicy } from './s3-authz.js';
import { dataKeys, decryptedStream, newCipher, sealingBody } from './sse.js';
import type { S3 } from './state.js';
import { findVersion, putReplica } from './versions.js';

export const REPLICATION_PRINCIPAL = 's3.amazonaws.com';
const MAX_ATTEMPTS = 5;
/** S3's largest object (5 TiB): a replica is never refused for its size. */
const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

/** A replica's bytes, stored: its blobs, the inline ones' bytes (written with the record), its encryption. */
interface Copied {
  blobs: BlobRef[];
  inline: Array<[string, Uint8Array]>;
  sse?: SseRecord;
}

export class ReplicationWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly log: Logger;
  /** Unexpected failures per task (store key), this process. */
  private readonly attempts = new Map<string, number>();

  constructor(
    private readonly s3: S3,
    private readonly deps: Pick<ServiceDeps, 'stores' | 'clock' | 'config'>,
    private readonly background: (principal: RequestContext['principal'], operation: string) => RequestContext,
  ) {
    this.log = s3.log.child({ component: 's3-replication' });
  }

  /**
   * Picks up what a previous run left queued. After that it runs when poked (every
   * write that queues a version pokes it) and, after an unexpected failure, once more
   * a second later: no polling while nothing is queued.
   */
  start(): void {
    this.stopped = false;
    this.poke();
  }

  /** A task failed unexpectedly: try the queue again in a second. */
  private retrySoon(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.poke();
    }, 1000);
    this.timer.unref();
  }

  /** Versions were queued: run now (or once more after the current run). */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Works through the queue in batches until it is empty (or a task fails unexpectedly: retried a second later). */
  async run(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const batch = await this.s3.meta.read((tx) => tx.scan<ReplicationTask>(NS_REPLICATION, { limit: 16 }));
      if (batch.length === 0) return;
      for (const { key, value } of batch) {
        try {
          await this.replicate(value);
          this.attempts.delete(key);
        } catch (err) {
          // Retried on the next tick; a task that keeps failing is marked FAILED so it cannot hold up the queue.
          const n = (this.attempts.get(key) ?? 0) + 1;
          this.log.warn({ err, bucket: value.bucket, key: value.key, versionId: value.versionId, attempt: n }, 'replication attempt failed');
          if (n < MAX_ATTEMPTS) {
            this.attempts.set(key, n);
            this.retrySoon();
            return;
          }
          this.attempts.delete(key);
          await this.finish(value, 'FAILED');
        }
      }
    }
  }

  private async replicate(task: ReplicationTask): Promise<void> {
    const s3 = this.s3;
    const source = await s3.meta.read(async (tx) => {
      const b = await tx.get<BucketRecord>(NS_BUCKETS, task.bucket);
      const found = b ? await findVersion(tx, b.name, task.key, task.versionId) : undefined;
      return b && found ? { bucket: b, rec: found.rec, inline: await loadInline(tx, b.name, found.rec.blobs) } : undefined;
    });
    // The bucket, the version or the configuration is gone: nothing left to replicate.
    if (!source || !source.bucket.replication) return this.finish(task, undefined);
    const rec = source.rec;
    if (task.tagsOnly === true) return this.syncTags(source.bucket, rec, task);
    const marker = rec.deleteMarker === true;
    const refused = await this.refusal(source.bucket, task, marker ? 's3:ReplicateDelete' : 's3:ReplicateObject');
    if (typeof refused === 'string') {
      this.log.info({ bucket: task.bucket, key: task.key, destination: task.destination, reason: refused }, 'replication failed');
      // A delete marker has no replication status to show the failure.
      return this.finish(task, marker ? undefined : 'FAILED');
    }
    const { ctx, dest } = refused;
    if (marker) {
      await s3.meta.write(async (tx) => {
        const d = await tx.get<BucketRecord>(NS_BUCKETS, dest.name);
        if (d && d.id === dest.id) await putReplica(tx, d, { ...rec, ownerAccount: d.ownerAccount });
        await this.settle(tx, task, undefined);
      });
      return;
    }
    let copy: Copied;
    try {
      copy = rec.sse?.customer !== undefined ? await this.copyAsStored(rec, source.inline) : await this.copyReencrypted(ctx, source.bucket, dest, rec, source.inline, task);
    } catch (e) {
      if (!isAwsError(e)) throw e;
      this.log.info({ bucket: task.bucket, key: task.key, destination: task.destination, reason: `${e.code}: ${e.message}` }, 'replication failed');
      return this.finish(task, 'FAILED');
    }
    // The replica is the source version as it was: same id, ETag, metadata, tags, checksum; the lock and ACL stay behind.
    const { lockMode: _m, lockRetainUntil: _u, legalHold: _h, eventHold: _e, eventHoldDuration: _d, acl: _a, sse: _s, restore: _r, ...kept } = rec;
    const replica: ObjectRecord = Object.assign({}, kept, {
      blobs: copy.blobs,
      ownerAccount: dest.ownerAccount,
      replicationStatus: 'REPLICA' as const,
      storageClass: task.storageClass ?? rec.storageClass,
      ...(copy.sse ? { sse: copy.sse } : {}),
    });
    const files = copy.blobs.filter((b) => !b.inline).map((b) => b.id);
    let written = false;
    try {
      await s3.meta.write(async (tx) => {
        const d = await tx.get<BucketRecord>(NS_BUCKETS, dest.name);
        if (!d || d.id !== dest.id) throw new Error('destination bucket changed during replication');
        written = await putReplica(tx, d, replica);
        if (written) for (const [id, bytes] of copy.inline) await tx.put(nsInline(d.name), id, bytes);
        await this.settle(tx, task, 'COMPLETED');
      });
    } catch (e) {
      s3.reaper.discard(files);
      throw e;
    }
    s3.buckets.invalidate(dest.name);
    if (!written) s3.reaper.discard(files);
  }

  /** A replicated version's tags changed: the replica takes them (a refusal leaves the replica as it was). */
  private async syncTags(source: BucketRecord, rec: ObjectRecord, task: ReplicationTask): Promise<void> {
    const refused = rec.deleteMarker === true ? 'a delete marker has no tags' : await this.refusal(source, task, 's3:ReplicateTags');
    if (typeof refused === 'string') return this.finish(task, undefined);
    await this.s3.meta.write(async (tx) => {
      const found = await findVersion(tx, refused.dest.name, task.key, task.versionId);
      if (found?.rec.replicationStatus === 'REPLICA') {
        const { tags: _old, ...rest } = found.rec;
        const next: ObjectRecord = rec.tags && rec.tags.length > 0 ? { ...rest, tags: rec.tags } : rest;
        if (found.current) await tx.put(nsObjects(refused.dest.name), task.key, next);
        else await tx.put(nsVersions(refused.dest.name), found.storeKey ?? versionKey(task.key, next.seq), next);
      }
      await this.settle(tx, task, undefined);
    });
  }

  /** Decrypts the source and stores it under the destination's encryption (its default, or the rule's ReplicaKmsKeyID), as the role. */
  private async copyReencrypted(ctx: RequestContext, source: BucketRecord, dest: BucketRecord, rec: ObjectRecord, inline: InlineData | undefined, task: ReplicationTask): Promise<Copied> {
    const s3 = this.s3;
    // KMS decides Decrypt (source) and GenerateDataKey (ReplicaKmsKeyID) with the role's policies and the key policy.
    const keys = await dataKeys(s3, ctx, source.name, rec.key, rec.sse, undefined);
    const cipher = await newCipher(s3, ctx, dest, rec.key, task.replicaKmsKeyId !== undefined ? { algorithm: 'aws:kms', kmsKeyId: task.replicaKmsKeyId } : {});
    const { blob, data } = await receiveBody(s3, ctx, decryptedStream(s3, rec.blobs, keys, undefined, inline), {
      seal: cipher && sealingBody(cipher.keys),
      declared: rec.size,
      maxBytes: MAX_OBJECT_BYTES,
      checksum: { algorithm: undefined, value: undefined, trailer: undefined },
      contentMd5Hex: undefined,
      inlineMax: INLINE_MAX_BYTES,
    });
    return { blobs: [blob], inline: data && blob.inline ? [[blob.id, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]] : [], ...(cipher ? { sse: cipher.sse } : {}) };
  }

  /**
   * SSE-C: hanul never holds the customer's key, so the blobs are copied as stored (ciphertext,
   * the same frame salts) with the same encryption record: the replica opens with the same key.
   */
  private async copyAsStored(rec: ObjectRecord, inline: InlineData | undefined): Promise<Copied> {
    const s3 = this.s3;
    const blobs: BlobRef[] = [];
    const inlineOut: Array<[string, Uint8Array]> = [];
    try {
      for (const b of rec.blobs) {
        if (b.inline) {
          const bytes = inline?.get(b.id);
          if (!bytes) throw new Error(`s3: inline data ${b.id} is missing`);
          const id = randomId();
          inlineOut.push([id, bytes]);
          blobs.push({ ...b, id });
          continue;
        }
        const release = s3.reaper.acquire([b.id]);
        try {
          const w = await s3.blobs.write(s3.blobs.read(b.id), { maxBytes: MAX_OBJECT_BYTES * 2 });
          blobs.push({ ...b, id: w.id });
        } finally {
          release();
        }
      }
    } catch (e) {
      s3.reaper.discard(blobs.filter((b) => !b.inline).map((b) => b.id));
      throw e;
    }
    return { blobs, inline: inlineOut, ...(rec.sse ? { sse: rec.sse } : {}) };
  }

  /** Why the role may not replicate this task (a string), else its context and the destination. */
  private async refusal(source: BucketRecord, task: ReplicationTask, write: string): Promise<string | { ctx: RequestContext; dest: BucketRecord }> {
    const role = source.replication?.Role ?? '';
    const r = await actAsRole(this.deps, role, REPLICATION_PRINCIPAL, 's3-replication');
    if (!r.ok) return r.reason === 'no-such-role' ? `role ${role} does not exist` : `role ${role} does not trust ${REPLICATION_PRINCIPAL}`;
    const ctx = this.background(r.actor.principal, 'ReplicateObject');
    const dest = await this.s3.buckets.get(this.s3, task.destination);
    if (!dest) return `destination bucket ${task.destination} does not exist`;
    if (dest.versioning !== 'Enabled') return `destination bucket ${task.destination} is not versioned`;
    const denied = (await this.allows(r.actor, ctx, 's3:GetObjectVersionForReplication', `arn:aws:s3:::${source.name}/${task.key}`))
      ? (await this.allows(r.actor, ctx, write, `arn:aws:s3:::${dest.name}/${task.key}`))
        ? undefined
        : `${write} denied`
      : 's3:GetObjectVersionForReplication denied';
    return denied ?? { ctx, dest };
  }

  private async allows(actor: RoleActor, ctx: RequestContext, action: string, resource: string): Promise<boolean> {
    const policy = await s3ResourcePolicy(this.s3, resource, ctx);
    return (await actor.decide({ action, resource }, policy)).allowed;
  }

  /** Removes the task; the source version says `status` once no other destination is still pending. */
  private async finish(task: ReplicationTask, status: 'FAILED' | undefined): Promise<void> {
    await this.s3.meta.write((tx) => this.settle(tx, task, status));
  }

  private async settle(tx: WriteTx, task: ReplicationTask, status: 'COMPLETED' | 'FAILED' | undefined): Promise<void> {
    await tx.delete(NS_REPLICATION, replicationTaskKey(task));
    if (status === undefined) return;
    const b = await tx.get<BucketRecord>(NS_BUCKETS, task.bucket);
    if (!b) return;
    const prefix = replicationTaskKey({ ...task, destination: '' });
    // Copies to other destinations still queued (a tag sync does not make a version PENDING).
    const others = (await tx.scan<ReplicationTask>(NS_REPLICATION, { start: prefix, end: prefix + '\uffff' })).filter((e) => e.value.tagsOnly !== true);
    const found = await findVersion(tx, b.name, task.key, task.versionId);
    if (!found) return;
    // FAILED sticks: a later destination's success does not hide an earlier failure.
    const next = found.rec.replicationStatus === 'FAILED' ? 'FAILED' : others.length > 0 ? (status === 'FAILED' ? 'FAILED' : 'PENDING') : status;
    if (next === found.rec.replicationStatus) return;
    const rec: ObjectRecord = { ...found.rec, replicationStatus: next };
    if (found.current) await tx.put(nsObjects(b.name), task.key, rec);
    else await tx.put(nsVersions(b.name), found.storeKey ?? versionKey(task.key, rec.seq), rec);
  }
}
