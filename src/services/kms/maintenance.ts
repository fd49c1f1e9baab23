import { randomBytes } from 'node:crypto';
import type { KeyRecord } from './model.js';

const DAY_MS = 86_400_000;

export const newMaterialId = (): string => randomBytes(16).toString('hex');

/**
 * Whether the clock has made something due on this key: its deletion, an
 * automatic rotation (only while Enabled — AWS does not rotate disabled keys,
 * and rotates at once on re-enable when overdue), or the expiry of imported
 * key material.
 */
export function isDue(k: KeyRecord, now: Date): boolean {
  const t = now.getTime();
  if (k.state === 'PendingDeletion' && k.deletionDate && k.deletionDate.getTime() <= t) return true;
  if (k.validTo && k.currentMaterialId !== undefined && k.validTo.getTime() <= t) return true;
  if (k.state === 'Enabled' && k.rotationEnabled && k.nextRotation && k.nextRotation.getTime() <= t) return true;
  return false;
}

/** The record after the due work (a copy), or null when the key is to be deleted. Pure but for new random material. */
export function applyDue(k: KeyRecord, now: Date, seal: (raw: Uint8Array, materialId: string) => Uint8Array): KeyRecord | null {
  const t = now.getTime();
  if (k.state === 'PendingDeletion' && k.deletionDate && k.deletionDate.getTime() <= t) return null;
  const next: KeyRecord = { ...k, materials: [...k.materials] };
  if (next.validTo && next.currentMaterialId !== undefined && next.validTo.getTime() <= t) {
    // Expired imported material is deleted; the key waits for a new import.
    next.materials = [];
    delete next.currentMaterialId;
    delete next.validTo;
    delete next.expirationModel;
    if (next.state === 'Enabled' || next.state === 'Disabled') next.state = 'PendingImport';
  }
  const period = (next.rotationPeriodDays ?? 365) * DAY_MS;
  for (let i = 0; i < 1000 && next.state === 'Enabled' && next.rotationEnabled && next.nextRotation && next.nextRotation.getTime() <= t; i++) {
    const id = newMaterialId();
    next.materials.push({ id, sealed: seal(randomBytes(32), id), createdAt: next.nextRotation, rotationType: 'AUTOMATIC' });
    next.currentMaterialId = id;
    next.nextRotation = new Date(next.nextRotation.getTime() + period);
  }
  return next;
}
