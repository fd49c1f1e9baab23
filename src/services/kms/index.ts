import * as sdk from '@aws-sdk/client-kms';
import type { OperationSpec, ServiceDefinition } from '../../aws/service.js';
import type { ServiceDeps } from '../../server/context.js';
import { createFingerprinter, createSealer } from '../../crypto/envelope.js';
import { loadKmsRootKey } from '../../crypto/root-key.js';
import { iamIdentityEvaluator } from '../../iam/authorize.js';
import { sdkOperations } from '../sdk-operations.js';
import { pkcs11Opener } from '../../crypto/pkcs11-token.js';
import type { OpenToken } from '../../crypto/token.js';
import { CustomKeyStores, customKeyStoreOperations } from './custom-key-stores.js';
import { KmsAccess, type IdentityPolicyEvaluator } from './access.js';
import { aliasOperations } from './aliases.js';
import { cryptoOperations } from './crypto-ops.js';
import { dataKeyPairOperations } from './data-key-pairs.js';
import { grantOperations } from './grants.js';
import { importOperations } from './import.js';
import { kemOperations } from './kem.js';
import { UsageTracker, lastUsageOperations, trackUsage } from './last-usage.js';
import { keyOperations } from './keys.js';
import { macOperations } from './mac.js';
import { startSweeper } from './sweeper.js';
import { multiRegionOperations } from './multi-region.js';
import { policyOperations } from './policies.js';
import { rotationOperations } from './rotation.js';
import type { Kms } from './runtime.js';
import { signingOperations } from './signing.js';
import { KmsStore } from './store.js';
import { tagOperations } from './tags.js';

export interface KmsOptions {
  /** How a custom key store opens its token; default: PKCS#11 (config kmsPkcs11Module) through the npm binding pkcs11js. */
  openToken?: OpenToken;
  /** The IAM engine's view of identity policies (see access.ts); default: hanul's IAM engine. */
  identityPolicies?: IdentityPolicyEvaluator;
}

/**
 * AWS KMS (JSON 1.1, TrentService). Key material is sealed under the KMS
 * root key (config kmsRootKey, else generated into the data dir) and only
 * ever unsealed in memory; every call is audited (CloudTrail).
 */
export async function createKmsService(deps: ServiceDeps, opts: KmsOptions = {}): Promise<ServiceDefinition> {
  const root = await loadKmsRootKey({ dataDir: deps.config.dataDir, kmsRootKey: deps.config.kmsRootKey });
  const store = new KmsStore(deps.stores.metadata, createSealer(root.key), deps.clock, createFingerprinter(root.key));
  const kms: Kms = {
    store,
    access: new KmsAccess(store, opts.identityPolicies ?? iamIdentityEvaluator()),
    clock: deps.clock,
    isRegion: (r) => /^[a-z]{2}(-[a-z]+)+-\d+$/.test(r),
  };
  const cks = new CustomKeyStores(kms, opts.openToken ?? pkcs11Opener(deps.config.kmsPkcs11Module), deps.log);
  kms.customKeyStores = cks;
  const usage = new UsageTracker(deps.stores.metadata);
  const operations: Record<string, OperationSpec> = trackUsage({
    ...keyOperations(kms),
    ...aliasOperations(kms),
    ...tagOperations(kms),
    ...policyOperations(kms),
    ...cryptoOperations(kms),
    ...dataKeyPairOperations(kms),
    ...signingOperations(kms),
    ...macOperations(kms),
    ...kemOperations(kms),
    ...grantOperations(kms),
    ...rotationOperations(kms),
    ...importOperations(kms),
    ...multiRegionOperations(kms),
    ...lastUsageOperations(kms, usage),
    ...customKeyStoreOperations(kms, cks),
  }, usage, deps.clock);
  let sweeper: { stop(): void } | undefined;
  return {
    name: 'kms',
    signingNames: ['kms'],
    protocol: 'json-1.1',
    targetPrefix: 'TrentService',
    knownOperations: sdkOperations(sdk),
    operations,
    audited: true,
    eventSource: 'kms.amazonaws.com',
    // Key policy → identity policies (IAM) → grants, per request, in access.ts.
    authorizesItself: true,
    async start() {
      sweeper = startSweeper(kms, deps.log, () => usage.flush());
      await cks.reconnectAll();
    },
    async stop() {
      sweeper?.stop();
      await usage.flush();
      await cks.closeAll();
    },
  };
}
