import type { RequestContext } from '../../server/context.js';
import { AWS_MANAGED_ALIAS, awsManagedKey } from './aws-managed.js';
import { kmsError } from './errors.js';
import { aliasArn, keyArn, type KeyRecord } from './model.js';
import type { Kms } from './runtime.js';
import type { LoadedKey } from './store.js';

const KEY_ID = /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

export interface ResolvedKey extends LoadedKey {
  /** The alias name when the caller named the key by alias (kms:RequestAlias). */
  alias?: string;
}

/**
 * Finds the key a request names. `form` says what AWS accepts for this
 * operation: 'any' = key id, key ARN, alias name or alias ARN; 'key' = key id
 * or key ARN only.
 */
export async function resolveKey(kms: Kms, ctx: RequestContext, raw: string, form: 'any' | 'key'): Promise<ResolvedKey> {
  let region = ctx.region;
  let account = ctx.accountId;
  let kind: 'key' | 'alias';
  let name: string;
  const arn = ARN.exec(raw);
  if (raw.startsWith('arn:')) {
    if (!arn) throw kmsError('NotFoundException', `Invalid arn ${raw}`);
    region = arn[1] as string;
    account = arn[2] as string;
    kind = arn[3] as 'key' | 'alias';
    name = kind === 'alias' ? `alias/${arn[4] as string}` : (arn[4] as string);
    if (region !== ctx.region) throw kmsError('NotFoundException', `Invalid arn ${region}`);
  } else if (raw.startsWith('alias/')) {
    kind = 'alias';
    name = raw;
  } else {
    kind = 'key';
    name = raw;
  }
  if (kind === 'alias') {
    if (form === 'key') throw kmsError('NotFoundException', `Invalid keyId '${raw}'`);
    let target = account === ctx.accountId ? (await kms.store.getAlias(region, name))?.targetKeyId : undefined;
    if (target === undefined && account === ctx.accountId && AWS_MANAGED_ALIAS.test(name)) target = await awsManagedKey(kms, ctx, name);
    if (target === undefined) throw kmsError('NotFoundException', `Alias ${aliasArn(region, account, name)} is not found.`);
    const loaded = await kms.store.getKey(region, target);
    if (!loaded) throw kmsError('NotFoundException', `Alias ${aliasArn(region, account, name)} is not found.`);
    return { ...loaded, alias: name };
  }
  if (!KEY_ID.test(name)) throw kmsError('NotFoundException', `Invalid keyId '${raw}'`);
  const loaded = account === ctx.accountId ? await kms.store.getKey(region, name) : undefined;
  if (!loaded) throw kmsError('NotFoundException', `Key '${keyArn(region, account, name)}' does not exist`);
  return loaded;
}

export function isKeyId(s: string): boolean {
  return KEY_ID.test(s);
}

/** A cryptographic operation needs an Enabled key with material. */
export function requireUsable(key: KeyRecord): void {
  if (key.state === 'Disabled') throw kmsError('DisabledException', `${key.arn} is disabled.`);
  if (key.state !== 'Enabled') throw invalidState(key);
  if (key.currentMaterialId === undefined) throw kmsError('KMSInvalidStateException', `${key.arn} is pending import.`);
}

/** Management operations refuse keys that are pending deletion (and some, PendingImport). */
export function requireState(key: KeyRecord, refuse: readonly KeyRecord['state'][] = ['PendingDeletion', 'PendingReplicaDeletion']): void {
  if (refuse.includes(key.state)) throw invalidState(key);
}

export function invalidState(key: KeyRecord) {
  const words: Record<string, string> = {
    PendingDeletion: 'pending deletion',
    PendingImport: 'pending import',
    PendingReplicaDeletion: 'pending replica deletion',
    Unavailable: 'unavailable',
    Creating: 'creating',
    Updating: 'updating',
    Disabled: 'disabled',
    Enabled: 'enabled',
  };
  return kmsError('KMSInvalidStateException', `${key.arn} is ${words[key.state] ?? key.state}.`);
}
