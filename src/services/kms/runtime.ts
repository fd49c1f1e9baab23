import type { Clock } from '../../lib/clock.js';
import type { KmsAccess } from './access.js';
import type { CustomKeyStores } from './custom-key-stores.js';
import type { KmsStore } from './store.js';

/** What every KMS handler is built with. */
export interface Kms {
  store: KmsStore;
  access: KmsAccess;
  clock: Clock;
  /** Regions a multi-Region key may be replicated to (any well-formed region name). */
  isRegion(name: string): boolean;
  /** Custom key stores (HSM tokens); set once the service is built. */
  customKeyStores?: CustomKeyStores;
}
