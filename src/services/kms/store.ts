import type { Clock } from '../../lib/clock.js';
import type { Sealer } from '../../crypto/envelope.js';
import { specInfo } from '../../crypto/key-specs.js';
import { loadMaterial, type LoadedMaterial } from '../../crypto/material.js';
import type { KeyToken } from '../../crypto/token.js';
import type { MetadataStore, ReadTx, WriteTx } from '../../storage/ports.js';
import type { GrantRecord } from './grant-model.js';
import { applyDue, isDue } from './maintenance.js';
import { NS_ALIAS, NS_GRANT, NS_IMPORT, NS_KEY, aliasKey, keyKey, type AliasRecord, type KeyRecord } from './model.js';

/** How long a cached key record may be served without re-reading (other cluster nodes' writes show after this). */
const RECORD_TTL_MS = 1000;
const MATERIAL_CACHE_MAX = 10_000;
const RECORD_CACHE_MAX = 50_000;

export interface LoadedKey {
  key: KeyRecord;
  grants: GrantRecord[];
}

/**
 * KMS's persistence: key records, aliases, grants in the metadata store, and
 * the caches that keep Encrypt/Decrypt off storage: key records (short TTL,
 * dropped on every local write) and unsealed key material (bounded LRU; the
 * material of a material id never changes, so it never goes stale).
 */
export class KmsStore {
  private readonly records = new Map<string, { value: LoadedKey | null; at: number }>();
  private readonly aliases = new Map<string, { value: AliasRecord | null; at: number }>();
  private readonly materials = new Map<string, LoadedMaterial>();

  constructor(
    readonly meta: MetadataStore,
    private readonly sealer: Sealer,
    private readonly clock: Clock,
    /** Keyed fingerprint of material (import: recognise the same material again). */
    readonly fingerprint: (material: Uint8Array) => Buffer,
  ) {}

  /** The key (maintained: due deletion/rotation/expiry applied first), or undefined. */
  async getKey(region: string, keyId: string): Promise<LoadedKey | undefined> {
    const k = keyKey(region, keyId);
    const hit = this.records.get(k);
    let loaded: LoadedKey | null;
    if (hit && performance.now() - hit.at < RECORD_TTL_MS) {
      loaded = hit.value;
    } else {
      loaded = await this.meta.read((tx) => readKey(tx, region, keyId));
      // Bounded: lookups of random ids (misses are cached too) must not grow memory without end.
      if (this.records.size >= RECORD_CACHE_MAX) this.records.clear();
      this.records.set(k, { value: loaded, at: performance.now() });
    }
    if (loaded && isDue(loaded.key, this.clock.now())) loaded = await this.maintain(region, keyId);
    return loaded ?? undefined;
  }

  async getAlias(region: string, alias: string): Promise<AliasRecord | undefined> {
    const k = aliasKey(region, alias);
    const hit = this.aliases.get(k);
    if (hit && performance.now() - hit.at < RECORD_TTL_MS) return hit.value ?? undefined;
    const value = (await this.meta.read((tx) => tx.get<AliasRecord>(NS_ALIAS, k))) ?? null;
    if (this.aliases.size >= RECORD_CACHE_MAX) this.aliases.clear();
    this.aliases.set(k, { value, at: performance.now() });
    return value ?? undefined;
  }

  /** Applies whatever the clock says is due (deletion, rotation, import expiry) in one transaction. */
  async maintain(region: string, keyId: string): Promise<LoadedKey | null> {
    let deleted: KeyRecord | undefined;
    const out = await this.meta.write(async (tx) => {
      const rec = await tx.get<KeyRecord>(NS_KEY, keyKey(region, keyId));
      if (!rec) return null;
      if (!isDue(rec, this.clock.now())) return readKey(tx, region, keyId);
      const next = applyDue(rec, this.clock.now(), (raw, id) => this.seal(rec.keyId, id, raw));
      if (next === null) {
        await deleteKeyEverywhere(tx, rec, this.clock.now());
        deleted = rec;
        return null;
      }
      next.version = rec.version + 1;
      await tx.put(NS_KEY, keyKey(region, keyId), next);
      await copyMaterialToReplicas(tx, next);
      return readKey(tx, region, keyId);
    });
    if (out === null) {
      // A deletion also removed aliases and touched multi-Region siblings: start the caches over.
      this.records.clear();
      this.aliases.clear();
    } else this.forget(region, keyId);
    if (deleted?.customKeyStoreId !== undefined) await this.destroyInToken(deleted, deleted.customKeyStoreId);
    return out;
  }

  /** One write transaction; drops the caches of what it touched. */
  async write<T>(fn: (tx: WriteTx) => Promise<T>, touched: { region: string; keyId?: string; alias?: string }[] = []): Promise<T> {
    try {
      return await this.meta.write(fn);
    } finally {
      for (const t of touched) {
        if (t.keyId !== undefined) this.forget(t.region, t.keyId);
        if (t.alias !== undefined) this.aliases.delete(aliasKey(t.region, t.alias));
      }
    }
  }

  /** A multi-Region primary's materials (after a rotation) go to every replica, so they decrypt what it encrypts. */
  async syncReplicas(primary: KeyRecord): Promise<void> {
    if (!primary.multiRegion || primary.primaryRegion !== primary.region || !(primary.replicaRegions ?? []).length) return;
    await this.meta.write(async (tx) => {
      const fresh = await tx.get<KeyRecord>(NS_KEY, keyKey(primary.region, primary.keyId));
      if (fresh) await copyMaterialToReplicas(tx, fresh);
    });
    this.records.clear();
  }

  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    return this.meta.read(fn);
  }

  forget(region: string, keyId: string): void {
    this.records.delete(keyKey(region, keyId));
  }

  /** After writes that touch several keys or aliases (deletions, multi-Region changes). */
  forgetAll(): void {
    this.records.clear();
    this.aliases.clear();
  }

  seal(keyId: string, materialId: string, raw: Uint8Array): Uint8Array {
    return this.sealer.seal(raw, `kms-material:${keyId}:${materialId}`);
  }

  unsealRaw(keyId: string, materialId: string, sealed: Uint8Array): Buffer {
    return this.sealer.open(sealed, `kms-material:${keyId}:${materialId}`);
  }

  /**
   * AWS, for a deleted key of a CloudHSM key store: "makes a best effort to delete
   * the key material from the associated cluster". After the commit: a store that is
   * disconnected now leaves the objects in the token (orphans, as in AWS).
   */
  private async destroyInToken(rec: KeyRecord, storeId: string): Promise<void> {
    const token = this.tokenFor?.(storeId);
    for (const m of token ? rec.materials : []) await token?.destroyKey(tokenKeyLabel(rec.keyId, m.id)).catch(() => undefined);
  }

  /** The live token of a connected custom key store (set by the custom key store manager). */
  tokenFor: ((customKeyStoreId: string) => KeyToken | undefined) | undefined;

  /** Unsealed, parsed material of a key (the current one unless named); undefined when the key has no such material. */
  material(key: KeyRecord, materialId = key.currentMaterialId): LoadedMaterial | undefined {
    if (materialId === undefined) return undefined;
    if (key.customKeyStoreId !== undefined) {
      // Custom key store keys live in the token: nothing to unseal, nothing to cache.
      const token = this.tokenFor?.(key.customKeyStoreId);
      return token && key.materials.some((m) => m.id === materialId) ? { kind: 'token', token, label: tokenKeyLabel(key.keyId, materialId) } : undefined;
    }
    const cacheKey = `${key.keyId}#${materialId}`;
    const hit = this.materials.get(cacheKey);
    if (hit) {
      this.materials.delete(cacheKey);
      this.materials.set(cacheKey, hit);
      return hit;
    }
    const rec = key.materials.find((m) => m.id === materialId);
    const info = specInfo(key.keySpec);
    if (!rec || !info) return undefined;
    const loaded = loadMaterial(info, this.unsealRaw(key.keyId, materialId, rec.sealed));
    this.materials.set(cacheKey, loaded);
    if (this.materials.size > MATERIAL_CACHE_MAX) {
      const oldest = this.materials.keys().next().value;
      if (oldest !== undefined) this.materials.delete(oldest);
    }
    return loaded;
  }

  /** Drops cached material of a key (deleted imported material must stop working at once). */
  dropMaterial(keyId: string): void {
    for (const k of [...this.materials.keys()]) if (k.startsWith(`${keyId}#`)) this.materials.delete(k);
  }
}

async function readKey(tx: ReadTx, region: string, keyId: string): Promise<LoadedKey | null> {
  const key = await tx.get<KeyRecord>(NS_KEY, keyKey(region, keyId));
  if (!key) return null;
  const grants = (await tx.scan<GrantRecord>(NS_GRANT, { prefix: `${region}/${keyId}/` })).map((e) => e.value);
  return { key, grants };
}

/** Removes a key with its aliases, grants and import parameters; unlinks it from its multi-Region siblings. */
export async function deleteKeyEverywhere(tx: WriteTx, rec: KeyRecord, now: Date): Promise<void> {
  await tx.delete(NS_KEY, keyKey(rec.region, rec.keyId));
  await tx.deleteRange(NS_GRANT, { prefix: `${rec.region}/${rec.keyId}/` });
  await tx.delete(NS_IMPORT, keyKey(rec.region, rec.keyId));
  for (const a of await tx.scan<AliasRecord>(NS_ALIAS, { prefix: `${rec.region}/` })) {
    if (a.value.targetKeyId === rec.keyId) await tx.delete(NS_ALIAS, a.key);
  }
  if (rec.multiRegion && rec.primaryRegion !== undefined) {
    const regions = [rec.primaryRegion, ...(rec.replicaRegions ?? [])].filter((r) => r !== rec.region);
    for (const r of regions) {
      const sib = await tx.get<KeyRecord>(NS_KEY, keyKey(r, rec.keyId));
      if (!sib) continue;
      sib.replicaRegions = (sib.replicaRegions ?? []).filter((x) => x !== rec.region);
      if (sib.state === 'PendingReplicaDeletion' && sib.replicaRegions.length === 0) {
        // The primary's waiting period begins when its last replica is deleted (at that replica's deletion date).
        sib.state = 'PendingDeletion';
        sib.deletionDate = new Date((rec.deletionDate ?? now).getTime() + (sib.pendingWindowDays ?? 30) * 86_400_000);
      }
      sib.version++;
      await tx.put(NS_KEY, keyKey(r, rec.keyId), sib);
    }
  }
}

async function copyMaterialToReplicas(tx: WriteTx, primary: KeyRecord): Promise<void> {
  if (!primary.multiRegion || primary.primaryRegion !== primary.region) return;
  for (const r of primary.replicaRegions ?? []) {
    const rep = await tx.get<KeyRecord>(NS_KEY, keyKey(r, primary.keyId));
    if (!rep) continue;
    rep.materials = primary.materials.map((m) => ({ ...m }));
    if (primary.currentMaterialId !== undefined) rep.currentMaterialId = primary.currentMaterialId;
    rep.version++;
    await tx.put(NS_KEY, keyKey(r, primary.keyId), rep);
  }
}

/** The label of a KMS key's material inside its custom key store's token. */
export const tokenKeyLabel = (keyId: string, materialId: string) => `hanul-kms/${keyId}/${materialId}`;
