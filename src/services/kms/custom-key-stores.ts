import { randomBytes } from 'node:crypto';
import * as sdk from '@aws-sdk/client-kms';
import type {
  ConnectionErrorCodeType, ConnectionStateType, CreateCustomKeyStoreRequest, CreateCustomKeyStoreResponse, CustomKeyStoresListEntry, DeleteCustomKeyStoreRequest,
  DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse, UpdateCustomKeyStoreRequest, ConnectCustomKeyStoreRequest, DisconnectCustomKeyStoreRequest,
} from '@aws-sdk/client-kms';
import type { Logger } from 'pino';
import type { OperationSpec } from '../../aws/service.js';
import type { RequestContext } from '../../server/context.js';
import { TokenError, type KeyToken, type OpenToken } from '../../crypto/token.js';
import { kmsError } from './errors.js';
import { NS_CKS, NS_KEY, type KeyRecord } from './model.js';
import type { Kms } from './runtime.js';
import { listPage, pageMarker } from './shared.js';
import { checks } from './validate.js';

/** A custom key store (namespace 'kms:cks', key `<region>/<id>`): type AWS_CLOUDHSM, backed by a PKCS#11 token. */
export interface CksRecord {
  id: string;
  region: string;
  name: string;
  clusterId: string;
  trustAnchor: string;
  /** The key store password (the token's user PIN), sealed under the KMS root key. */
  sealedPassword: Uint8Array;
  state: ConnectionStateType;
  errorCode?: ConnectionErrorCodeType;
  createdAt: Date;
}

const cksKey = (region: string, id: string) => `${region}/${id}`;

/** Live token sessions of connected custom key stores (in memory; reconnected at start). */
export class CustomKeyStores {
  private readonly tokens = new Map<string, KeyToken>();
  /** The connection attempt in flight per store: a Disconnect meanwhile makes it stale. */
  private readonly attempts = new Map<string, object>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly kms: Kms,
    private readonly open: OpenToken,
    private readonly log: Logger,
  ) {
    kms.store.tokenFor = (id) => this.tokens.get(id);
  }

  token(id: string): KeyToken | undefined {
    return this.tokens.get(id);
  }

  connecting(id: string): boolean {
    return this.attempts.has(id);
  }

  private password(rec: CksRecord): string {
    return this.kms.store.unsealRaw(rec.id, 'password', rec.sealedPassword).toString('utf8');
  }

  /**
   * ConnectCustomKeyStore, as AWS does it: the store is CONNECTING when the
   * call returns and the token is opened in the background; DescribeCustomKeyStores
   * then shows CONNECTED, or FAILED with a ConnectionErrorCode.
   */
  async startConnect(rec: CksRecord): Promise<void> {
    const attempt = {};
    this.attempts.set(rec.id, attempt);
    await this.save(rec, { state: 'CONNECTING' }, false);
    const p: Promise<unknown> = this.connect(rec, attempt)
      .catch((e: unknown) => this.log.error({ err: e, customKeyStoreId: rec.id }, 'custom key store connection crashed'))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Opens the token and records the outcome (CONNECTED or FAILED with a code); keys follow the store's state. */
  async connect(rec: CksRecord, attempt: object = {}): Promise<void> {
    this.attempts.set(rec.id, attempt);
    const old = this.tokens.get(rec.id);
    this.tokens.delete(rec.id);
    // Close first: a second login to the same token would be refused (USER_LOGGED_IN).
    await old?.close().catch(() => undefined);
    let token: KeyToken | undefined;
    let errorCode: ConnectionErrorCodeType | undefined;
    try {
      token = await this.open(rec.clusterId, this.password(rec));
    } catch (e) {
      this.log.warn({ err: e, customKeyStoreId: rec.id }, 'custom key store did not connect');
      errorCode = e instanceof TokenError ? e.code : 'INTERNAL_ERROR';
    }
    if (this.attempts.get(rec.id) !== attempt) {
      // Disconnected (or reconnected) while the token was opening: this outcome is stale.
      await token?.close().catch(() => undefined);
      return;
    }
    this.attempts.delete(rec.id);
    if (token) this.tokens.set(rec.id, token);
    await this.save(rec, token ? { state: 'CONNECTED' } : { state: 'FAILED', errorCode: errorCode ?? 'INTERNAL_ERROR' }, token !== undefined);
  }

  async disconnect(rec: CksRecord): Promise<void> {
    this.attempts.delete(rec.id);
    const token = this.tokens.get(rec.id);
    this.tokens.delete(rec.id);
    await token?.close().catch(() => undefined);
    await this.save(rec, { state: 'DISCONNECTED' }, false);
  }

  /**
   * Sets the store's connection state (on the record as stored now: a rename
   * meanwhile is kept) and moves its keys to Unavailable (or back) in one transaction.
   */
  private async save(rec: CksRecord, to: { state: ConnectionStateType; errorCode?: ConnectionErrorCodeType }, available: boolean): Promise<void> {
    await this.kms.store.write(async (tx) => {
      const cur = await tx.get<CksRecord>(NS_CKS, cksKey(rec.region, rec.id));
      if (!cur) return;
      const next: CksRecord = { ...cur, state: to.state };
      if (to.errorCode) next.errorCode = to.errorCode;
      else delete next.errorCode;
      await tx.put(NS_CKS, cksKey(rec.region, rec.id), next);
      for (const e of await tx.scan<KeyRecord>(NS_KEY, { prefix: `${rec.region}/` })) {
        const k = e.value;
        if (k.customKeyStoreId !== rec.id) continue;
        if (available && k.state === 'Unavailable') {
          k.state = k.stateBeforeUnavailable ?? 'Enabled';
          delete k.stateBeforeUnavailable;
        } else if (!available && k.state !== 'Unavailable' && k.state !== 'PendingDeletion') {
          k.stateBeforeUnavailable = k.state;
          k.state = 'Unavailable';
        } else continue;
        k.version++;
        await tx.put(NS_KEY, e.key, k);
      }
    });
    this.kms.store.forgetAll();
  }

  /** At start: stores that were connected (or connecting) reconnect before hanul answers. */
  async reconnectAll(): Promise<void> {
    const all = await this.kms.store.read((tx) => tx.scan<CksRecord>(NS_CKS));
    for (const e of all) if (e.value.state === 'CONNECTED' || e.value.state === 'CONNECTING') await this.connect(e.value);
  }

  async closeAll(): Promise<void> {
    this.attempts.clear();
    await Promise.all([...this.pending]);
    for (const t of this.tokens.values()) await t.close().catch(() => undefined);
    this.tokens.clear();
  }

  async get(ctx: RequestContext, id: string | undefined): Promise<CksRecord> {
    const rec = id === undefined ? undefined : await this.kms.store.read((tx) => tx.get<CksRecord>(NS_CKS, cksKey(ctx.region, id)));
    if (!rec) throw kmsError('CustomKeyStoreNotFoundException', `Custom key store ${String(id)} does not exist.`);
    return rec;
  }
}

function entry(r: CksRecord): CustomKeyStoresListEntry {
  return {
    CustomKeyStoreId: r.id, CustomKeyStoreName: r.name, CloudHsmClusterId: r.clusterId, TrustAnchorCertificate: r.trustAnchor,
    ConnectionState: r.state, ...(r.errorCode ? { ConnectionErrorCode: r.errorCode } : {}), CreationDate: r.createdAt, CustomKeyStoreType: 'AWS_CLOUDHSM',
  };
}

const audit = (pick: (i: any) => Record<string, unknown>) => ({ request: pick, response: () => null, resources: () => [] });

export function customKeyStoreOperations(kms: Kms, cks: CustomKeyStores): Record<string, OperationSpec> {
  async function nameFree(ctx: RequestContext, name: string, except?: string): Promise<void> {
    const all = await kms.store.read((tx) => tx.scan<CksRecord>(NS_CKS, { prefix: `${ctx.region}/` }));
    if (all.some((e) => e.value.name === name && e.value.id !== except)) throw kmsError('CustomKeyStoreNameInUseException', `Custom key store name ${name} is already in use.`);
  }
  return {
    CreateCustomKeyStore: {
      schema: sdk.CreateCustomKeyStore$,
      action: 'kms:CreateCustomKeyStore',
      audit: audit((i: CreateCustomKeyStoreRequest) => ({ customKeyStoreName: i.CustomKeyStoreName, cloudHsmClusterId: i.CloudHsmClusterId, customKeyStoreType: i.CustomKeyStoreType ?? 'AWS_CLOUDHSM' })),
      async handler(input: CreateCustomKeyStoreRequest, ctx): Promise<CreateCustomKeyStoreResponse> {
        checks().required(input.CustomKeyStoreName, 'customKeyStoreName').length(input.CustomKeyStoreName, 'customKeyStoreName', 1, 256)
          .oneOf(input.CustomKeyStoreType, 'customKeyStoreType', ['AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'])
          .length(input.CloudHsmClusterId, 'cloudHsmClusterId', 1, 24).length(input.TrustAnchorCertificate, 'trustAnchorCertificate', 1, 5000)
          .length(input.KeyStorePassword, 'keyStorePassword', 7, 32).done();
        if (input.CustomKeyStoreType === 'EXTERNAL_KEY_STORE') throw kmsError('UnsupportedOperationException', 'External key stores (XKS) are not supported by hanul.');
        if (!input.CloudHsmClusterId || !input.TrustAnchorCertificate || !input.KeyStorePassword) {
          throw kmsError('ValidationException', 'CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are required for an AWS_CLOUDHSM key store.');
        }
        await kms.access.authorizeAccount(ctx, 'CreateCustomKeyStore');
        await nameFree(ctx, input.CustomKeyStoreName as string);
        const existing = await kms.store.read((tx) => tx.scan<CksRecord>(NS_CKS, { prefix: `${ctx.region}/` }));
        if (existing.some((e) => e.value.clusterId === input.CloudHsmClusterId)) throw kmsError('CloudHsmClusterInUseException', `Cluster ${input.CloudHsmClusterId} is already associated with a custom key store.`);
        const id = `cks-${randomBytes(9).toString('hex').slice(0, 17)}`;
        const rec: CksRecord = {
          id, region: ctx.region, name: input.CustomKeyStoreName as string, clusterId: input.CloudHsmClusterId, trustAnchor: input.TrustAnchorCertificate,
          sealedPassword: kms.store.seal(id, 'password', Buffer.from(input.KeyStorePassword, 'utf8')), state: 'DISCONNECTED', createdAt: ctx.clock.now(),
        };
        await kms.store.write((tx) => tx.put(NS_CKS, cksKey(ctx.region, id), rec));
        return { CustomKeyStoreId: id };
      },
    },
    ConnectCustomKeyStore: {
      schema: sdk.ConnectCustomKeyStore$,
      action: 'kms:ConnectCustomKeyStore',
      audit: audit((i: ConnectCustomKeyStoreRequest) => ({ customKeyStoreId: i.CustomKeyStoreId })),
      async handler(input: ConnectCustomKeyStoreRequest, ctx) {
        checks().required(input.CustomKeyStoreId, 'customKeyStoreId').length(input.CustomKeyStoreId, 'customKeyStoreId', 1, 64).done();
        await kms.access.authorizeAccount(ctx, 'ConnectCustomKeyStore');
        const rec = await cks.get(ctx, input.CustomKeyStoreId);
        if (rec.state === 'FAILED' || rec.state === 'DISCONNECTING') {
          throw kmsError('CustomKeyStoreInvalidStateException', `Custom key store ${rec.id} is ${rec.state}; disconnect it before connecting it again.`);
        }
        if ((rec.state === 'CONNECTED' && cks.token(rec.id)) || (rec.state === 'CONNECTING' && cks.connecting(rec.id))) return {};
        await cks.startConnect(rec);
        return {};
      },
    },
    DisconnectCustomKeyStore: {
      schema: sdk.DisconnectCustomKeyStore$,
      action: 'kms:DisconnectCustomKeyStore',
      audit: audit((i: DisconnectCustomKeyStoreRequest) => ({ customKeyStoreId: i.CustomKeyStoreId })),
      async handler(input: DisconnectCustomKeyStoreRequest, ctx) {
        checks().required(input.CustomKeyStoreId, 'customKeyStoreId').length(input.CustomKeyStoreId, 'customKeyStoreId', 1, 64).done();
        await kms.access.authorizeAccount(ctx, 'DisconnectCustomKeyStore');
        const rec = await cks.get(ctx, input.CustomKeyStoreId);
        if (rec.state === 'DISCONNECTED' || rec.state === 'DISCONNECTING') throw kmsError('CustomKeyStoreInvalidStateException', `Custom key store ${rec.id} is ${rec.state}.`);
        await cks.disconnect(rec);
        return {};
      },
    },
    DescribeCustomKeyStores: {
      schema: sdk.DescribeCustomKeyStores$,
      action: 'kms:DescribeCustomKeyStores',
      audit: { ...audit((i: DescribeCustomKeyStoresRequest) => ({ ...(i.CustomKeyStoreId ? { customKeyStoreId: i.CustomKeyStoreId } : {}), ...(i.CustomKeyStoreName ? { customKeyStoreName: i.CustomKeyStoreName } : {}) })), readOnly: true },
      async handler(input: DescribeCustomKeyStoresRequest, ctx): Promise<DescribeCustomKeyStoresResponse> {
        checks().length(input.CustomKeyStoreId, 'customKeyStoreId', 1, 64).length(input.CustomKeyStoreName, 'customKeyStoreName', 1, 256).range(input.Limit, 'limit', 1, 1000).done();
        await kms.access.authorizeAccount(ctx, 'DescribeCustomKeyStores');
        const page = await listPage<CksRecord>(kms, NS_CKS, `${ctx.region}/`, input.Marker, input.Limit ?? 1000,
          (r) => (input.CustomKeyStoreId === undefined || r.id === input.CustomKeyStoreId) && (input.CustomKeyStoreName === undefined || r.name === input.CustomKeyStoreName));
        if ((input.CustomKeyStoreId !== undefined || input.CustomKeyStoreName !== undefined) && page.items.length === 0) {
          throw kmsError('CustomKeyStoreNotFoundException', `Custom key store ${input.CustomKeyStoreId ?? input.CustomKeyStoreName ?? ''} does not exist.`);
        }
        return { CustomKeyStores: page.items.map(entry), Truncated: page.truncated, ...pageMarker(page) };
      },
    },
    UpdateCustomKeyStore: {
      schema: sdk.UpdateCustomKeyStore$,
      action: 'kms:UpdateCustomKeyStore',
      audit: audit((i: UpdateCustomKeyStoreRequest) => ({ customKeyStoreId: i.CustomKeyStoreId, ...(i.NewCustomKeyStoreName ? { newCustomKeyStoreName: i.NewCustomKeyStoreName } : {}), ...(i.CloudHsmClusterId ? { cloudHsmClusterId: i.CloudHsmClusterId } : {}) })),
      async handler(input: UpdateCustomKeyStoreRequest, ctx) {
        checks().required(input.CustomKeyStoreId, 'customKeyStoreId').length(input.NewCustomKeyStoreName, 'newCustomKeyStoreName', 1, 256)
          .length(input.KeyStorePassword, 'keyStorePassword', 7, 32).length(input.CloudHsmClusterId, 'cloudHsmClusterId', 1, 24).done();
        await kms.access.authorizeAccount(ctx, 'UpdateCustomKeyStore');
        const rec = await cks.get(ctx, input.CustomKeyStoreId);
        if ((input.KeyStorePassword !== undefined || input.CloudHsmClusterId !== undefined) && rec.state !== 'DISCONNECTED') {
          throw kmsError('CustomKeyStoreInvalidStateException', `Custom key store ${rec.id} must be disconnected to change its password or cluster.`);
        }
        if (input.NewCustomKeyStoreName !== undefined) await nameFree(ctx, input.NewCustomKeyStoreName, rec.id);
        const sealedPassword = input.KeyStorePassword !== undefined ? kms.store.seal(rec.id, 'password', Buffer.from(input.KeyStorePassword, 'utf8')) : undefined;
        // Read-modify-write in one transaction: a connection finishing meanwhile keeps its state.
        await kms.store.write(async (tx) => {
          const cur = await tx.get<CksRecord>(NS_CKS, cksKey(ctx.region, rec.id));
          if (!cur) throw kmsError('CustomKeyStoreNotFoundException', `Custom key store ${rec.id} does not exist.`);
          await tx.put(NS_CKS, cksKey(ctx.region, rec.id), {
            ...cur,
            ...(input.NewCustomKeyStoreName !== undefined ? { name: input.NewCustomKeyStoreName } : {}),
            ...(input.CloudHsmClusterId !== undefined ? { clusterId: input.CloudHsmClusterId } : {}),
            ...(sealedPassword ? { sealedPassword } : {}),
          });
        });
        return {};
      },
    },
    DeleteCustomKeyStore: {
      schema: sdk.DeleteCustomKeyStore$,
      action: 'kms:DeleteCustomKeyStore',
      audit: audit((i: DeleteCustomKeyStoreRequest) => ({ customKeyStoreId: i.CustomKeyStoreId })),
      async handler(input: DeleteCustomKeyStoreRequest, ctx) {
        checks().required(input.CustomKeyStoreId, 'customKeyStoreId').length(input.CustomKeyStoreId, 'customKeyStoreId', 1, 64).done();
        await kms.access.authorizeAccount(ctx, 'DeleteCustomKeyStore');
        const rec = await cks.get(ctx, input.CustomKeyStoreId);
        if (rec.state !== 'DISCONNECTED') throw kmsError('CustomKeyStoreInvalidStateException', `Custom key store ${rec.id} must be disconnected before it is deleted.`);
        await kms.store.write(async (tx) => {
          const keys = await tx.scan<KeyRecord>(NS_KEY, { prefix: `${ctx.region}/` });
          if (keys.some((e) => e.value.customKeyStoreId === rec.id)) throw kmsError('CustomKeyStoreHasCMKsException', `Custom key store ${rec.id} still has KMS keys; delete them first.`);
          await tx.delete(NS_CKS, cksKey(ctx.region, rec.id));
        });
        return {};
      },
    },
  };
}

