import type * as sdk from '@aws-sdk/client-iam';
import { CreateAccessKey$, DeleteAccessKey$, GetAccessKeyLastUsed$, ListAccessKeys$, UpdateAccessKey$ } from '@aws-sdk/client-iam';
import type { OperationSpec } from '../../aws/service.js';
import { NS, lower, type AccessKeyRecord } from '../../iam/entities.js';
import { newAccessKeyId, newSecretAccessKey } from '../../iam/ids.js';
import type { IamRuntime } from '../../iam/runtime.js';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx } from '../../storage/ports.js';
import { iamError } from './errors.js';
import { callerUserName, getHolder, holderArn } from './holders.js';
import { page, required } from './validate.js';

export const ACCESS_KEYS_PER_USER = 2;

function noSuchKey(id: string) {
  return iamError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
}

/** The key, owned by the named (or calling) user. */
async function ownedKey(tx: ReadTx, userName: string, id: string): Promise<AccessKeyRecord> {
  const key = await tx.get<AccessKeyRecord>(NS.accessKey, id);
  if (!key || lower(key.userName) !== lower(userName)) {
    await getHolder(tx, 'user', userName);
    throw noSuchKey(id);
  }
  return key;
}

function keyId(value: string | undefined): string {
  const id = required(value, 'accessKeyId');
  if (!/^[\w]{16,128}$/.test(id)) throw iamError('ValidationError', `1 validation error detected: Value '${id}' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+`);
  return id;
}

/** Creates a key for a user inside a transaction: also what `hanul create-user` uses. */
export async function createAccessKey(rt: IamRuntime, userName: string, now: Date): Promise<sdk.AccessKey> {
  const id = newAccessKeyId('AKIA');
  const secret = newSecretAccessKey();
  const user = await rt.write(async (tx) => {
    const u = await getHolder(tx, 'user', userName);
    if ((await tx.count(NS.userKey, { prefix: `${lower(u.name)}/` })) >= ACCESS_KEYS_PER_USER) {
      throw iamError('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${ACCESS_KEYS_PER_USER}`);
    }
    const rec: AccessKeyRecord = { id, userName: u.name, status: 'Active', createDate: now, secret: rt.box.seal(secret, id) };
    await tx.put(NS.accessKey, id, rec);
    await tx.put(NS.userKey, `${lower(u.name)}/${id}`, true);
    return u;
  });
  return { UserName: user.name, AccessKeyId: id, Status: 'Active', SecretAccessKey: secret, CreateDate: now };
}

export function accessKeyOperations(rt: IamRuntime): Record<string, OperationSpec> {
  const resource = holderArn(rt, 'user', 'UserName');
  const who = (ctx: RequestContext, given: string | undefined) => callerUserName(ctx, given);
  return {
    CreateAccessKey: {
      schema: CreateAccessKey$,
      resource,
      async handler(input: sdk.CreateAccessKeyRequest, ctx): Promise<sdk.CreateAccessKeyResponse> {
        return { AccessKey: await createAccessKey(rt, who(ctx, input.UserName), ctx.clock.now()) };
      },
      audit: { response: (o: sdk.CreateAccessKeyResponse) => ({ accessKey: { accessKeyId: o.AccessKey?.AccessKeyId, userName: o.AccessKey?.UserName, status: o.AccessKey?.Status } }) },
    },
    ListAccessKeys: {
      schema: ListAccessKeys$,
      resource,
      async handler(input: sdk.ListAccessKeysRequest, ctx): Promise<sdk.ListAccessKeysResponse> {
        const userName = who(ctx, input.UserName);
        const keys = await rt.read(async (tx) => {
          const u = await getHolder(tx, 'user', userName);
          const out: { key: string; value: sdk.AccessKeyMetadata }[] = [];
          for (const { key } of await tx.scan(NS.userKey, { prefix: `${lower(u.name)}/` })) {
            const k = await tx.get<AccessKeyRecord>(NS.accessKey, key.slice(key.indexOf('/') + 1));
            if (k) out.push({ key: k.id, value: { UserName: k.userName, AccessKeyId: k.id, Status: k.status, CreateDate: k.createDate } });
          }
          return out;
        });
        const p = page(keys, input.Marker, input.MaxItems);
        return { AccessKeyMetadata: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
      },
    },
    UpdateAccessKey: {
      schema: UpdateAccessKey$,
      resource,
      async handler(input: sdk.UpdateAccessKeyRequest, ctx): Promise<Record<string, never>> {
        const userName = who(ctx, input.UserName);
        const id = keyId(input.AccessKeyId);
        const status = required(input.Status, 'status');
        if (status !== 'Active' && status !== 'Inactive') {
          throw iamError('ValidationError', `1 validation error detected: Value '${String(status)}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`);
        }
        await rt.write(async (tx) => {
          const k = await ownedKey(tx, userName, id);
          await tx.put(NS.accessKey, id, { ...k, status });
        });
        return {};
      },
    },
    DeleteAccessKey: {
      schema: DeleteAccessKey$,
      resource,
      async handler(input: sdk.DeleteAccessKeyRequest, ctx): Promise<Record<string, never>> {
        const userName = who(ctx, input.UserName);
        const id = keyId(input.AccessKeyId);
        await rt.write(async (tx) => {
          const k = await ownedKey(tx, userName, id);
          await tx.delete(NS.accessKey, id);
          await tx.delete(NS.userKey, `${lower(k.userName)}/${id}`);
        });
        return {};
      },
    },
    GetAccessKeyLastUsed: {
      schema: GetAccessKeyLastUsed$,
      async resource(input: sdk.GetAccessKeyLastUsedRequest, ctx) {
        const k = input.AccessKeyId ? await rt.read((tx) => tx.get<AccessKeyRecord>(NS.accessKey, input.AccessKeyId ?? '')) : undefined;
        return k ? resource({ UserName: k.userName }, ctx) : '*';
      },
      async handler(input: sdk.GetAccessKeyLastUsedRequest): Promise<sdk.GetAccessKeyLastUsedResponse> {
        const id = keyId(input.AccessKeyId);
        const k = await rt.read((tx) => tx.get<AccessKeyRecord>(NS.accessKey, id));
        if (!k) throw noSuchKey(id);
        const used: sdk.AccessKeyLastUsed = k.lastUsed
          ? { LastUsedDate: k.lastUsed.date, ServiceName: k.lastUsed.service, Region: k.lastUsed.region }
          : { ServiceName: 'N/A', Region: 'N/A' };
        return { UserName: k.userName, AccessKeyLastUsed: used };
      },
    },
  };
}
