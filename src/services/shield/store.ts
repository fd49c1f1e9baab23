import type { Subscription, Protection, ProtectionGroup, EmergencyContact, Tag, AttackDetail } from '@aws-sdk/client-shield';
import type { MetadataStore, ReadTx, WriteTx } from '../../storage/ports.js';
import { noSubscription } from './errors.js';

export const NS = 'shield';

/** What is stored (all under one namespace; the state is small). */
export interface StoredSubscription extends Omit<Subscription, 'SubscriptionLimits'> {
  StartTime: Date;
  EndTime: Date;
}
export interface DrtAccess {
  RoleArn?: string;
  LogBucketList: string[];
}
export interface StoredAttack extends AttackDetail {
  AttackId: string;
  ResourceArn: string;
  StartTime: Date;
}

export const K = {
  subscription: 'subscription',
  protection: (id: string) => `protection/${id}`,
  protectionPrefix: 'protection/',
  group: (id: string) => `group/${id}`,
  groupPrefix: 'group/',
  drt: 'drt',
  contacts: 'contacts',
  tags: (arn: string) => `tags/${arn}`,
  attack: (id: string) => `attack/${id}`,
  attackPrefix: 'attack/',
} as const;

export class ShieldStore {
  constructor(readonly db: MetadataStore) {}

  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    return this.db.read(fn);
  }
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.db.write(fn);
  }

  static async subscription(tx: ReadTx): Promise<StoredSubscription> {
    const s = await tx.get<StoredSubscription>(NS, K.subscription);
    if (!s) throw noSubscription();
    return s;
  }

  static async protections(tx: ReadTx): Promise<Protection[]> {
    return (await tx.scan<Protection>(NS, { prefix: K.protectionPrefix })).map((e) => e.value);
  }

  static async groups(tx: ReadTx): Promise<ProtectionGroup[]> {
    return (await tx.scan<ProtectionGroup>(NS, { prefix: K.groupPrefix })).map((e) => e.value);
  }

  static async contacts(tx: ReadTx): Promise<EmergencyContact[]> {
    return (await tx.get<EmergencyContact[]>(NS, K.contacts)) ?? [];
  }

  static async tags(tx: ReadTx, arn: string): Promise<Tag[]> {
    return (await tx.get<Tag[]>(NS, K.tags(arn))) ?? [];
  }
}
