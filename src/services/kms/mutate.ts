import type { RequestContext } from '../../server/context.js';
import { kmsError } from './errors.js';
import { NS_KEY, keyKey, type KeyRecord } from './model.js';
import { resolveKey } from './resolve.js';
import type { Kms } from './runtime.js';
import { noteResource } from './shared.js';
import { checks } from './validate.js';

/** Resolve (key id or ARN only), authorize, change the record in one transaction. Returns the new record. */
export async function setState(kms: Kms, ctx: RequestContext, keyIdIn: string | undefined, op: string, change: (k: KeyRecord) => void): Promise<KeyRecord> {
  checks().required(keyIdIn, 'keyId').length(keyIdIn, 'keyId', 1, 2048).done();
  const loaded = await resolveKey(kms, ctx, keyIdIn as string, 'key');
  noteResource(ctx, loaded.key.arn);
  await kms.access.authorize(ctx, loaded, op);
  const { region, keyId } = loaded.key;
  return kms.store.write(async (tx) => {
    const k = await tx.get<KeyRecord>(NS_KEY, keyKey(region, keyId));
    if (!k) throw kmsError('NotFoundException', `Key '${loaded.key.arn}' does not exist`);
    change(k);
    k.version++;
    await tx.put(NS_KEY, keyKey(region, keyId), k);
    return k;
  }, [{ region, keyId }]);
}

