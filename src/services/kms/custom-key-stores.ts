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

  private password(rec: CksRecord): string {
    return this.kms.store.unsealRaw(rec.id, 'password', rec.sealedPassword).toString('utf8');
  }

  /** Opens the token and records the outcome (CONNECTED or FAILED with a code); keys follow the store's state. */
  async connect(rec: CksRecord): Promise<CksRecord> {
    let next: CksRecord;
    try {
      const token = await this.open(rec.clusterId, this.password(rec));
      await this.tokens.get(rec.id)?.close();
      this.tokens.set(rec.id, token);
      next = { ...rec, state: 'CONNECTED' };
      delete next.errorCode;
    } catch (e) {
      this.log.warn({ err: e, customKeyStoreId: rec.id }, 'custom key store did not connect');
      next = { ...rec, state: 'FAILED', errorCode: e instanceof TokenError ? e.code : 'INTERNAL_ERROR' };
    }
    await this.save(next, next.state === 'CONNECTED');
    return next;
  }

  async disconnect(rec: CksRecord): Promise<void> {
    const token = this.tokens.get(rec.id);
    this.tokens.delete(rec.id);
    await token?.close().catch(() => undefined);
    const next: CksRecord = { ...rec, state: 'DISCONNECTED' };
    delete next.errorCode;
    await this.save(next, false);
  }

  /** Writes the store record and moves its keys to Unavailable (or back) in one transaction. */
  private async save(rec: CksRecord, available: boolean): Promise<void> {
    await this.kms.store.write(async (tx) => {
      await tx.put(NS_CKS, cksKey(rec.region, rec.id), rec);
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

  /** At start: stores that were connected reconnect. */
  async reconnectAll(): Promise<void> {
    const all = await this.kms.store.read((tx) => tx.scan<CksRecord>(NS_CKS));
    for (const e of all) if (e.value.state === 'CONNECTED' || e.value.state === 'CONNECTING') await this.connect(e.value);
  }

  async closeAll(): Promise<void> {
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
        if (rec.state === 'CONNECTED' && cks.token(rec.id)) return {};
        // hanul connects before answering: the store is CONNECTED (or FAILED, with its code) when this returns.
        await cks.connect(rec);
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
        if (rec.state === 'DISCONNECTED') throw kmsError('CustomKeyStoreInvalidStateException', `Custom key store ${rec.id} is not connected.`);
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
        const next: CksRecord = {
          ...rec,
          ...(input.NewCustomKeyStoreName !== undefined ? { name: input.NewCustomKeyStoreName } : {}),
          ...(input.CloudHsmClusterId !== undefined ? { clusterId: input.CloudHsmClusterId } : {}),
          ...(input.KeyStorePassword !== undefined ? { sealedPassword: kms.store.seal(rec.id, 'password', Buffer.from(input.KeyStorePassword, 'utf8')) } : {}),
        };
        await kms.store.write((tx) => tx.put(NS_CKS, cksKey(ctx.region, rec.id), next));
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

