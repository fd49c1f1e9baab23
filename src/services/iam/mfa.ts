import type * as sdk from '@aws-sdk/client-iam';
import { CreateVirtualMFADevice$, DeactivateMFADevice$, DeleteVirtualMFADevice$, EnableMFADevice$, ListMFADevices$, ListVirtualMFADevices$, ResyncMFADevice$ } from '@aws-sdk/client-iam';
import type { OperationSpec } from '../../aws/service.js';
import { NS, lower, type MfaRecord } from '../../iam/entities.js';
import type { IamRuntime } from '../../iam/runtime.js';
import { newSeed, stepAt, totp } from '../../iam/totp.js';
import type { ReadTx } from '../../storage/ports.js';
import { iamError } from './errors.js';
import { callerUserName, getHolder, holderArn } from './holders.js';
import { name, page, path, required, tags } from './validate.js';

export const MFA_DEVICES_PER_USER = 8;

async function device(tx: ReadTx, serial: string): Promise<MfaRecord> {
  const d = await tx.get<MfaRecord>(NS.mfa, lower(serial));
  if (!d) throw iamError('NoSuchEntity', `VirtualMFADevice with serial number ${serial} doesn't exist.`);
  return d;
}

function code(v: string | undefined, field: string): string {
  const c = required(v, field);
  if (!/^\d{6}$/.test(c)) throw iamError('ValidationError', `1 validation error detected: Value '${c}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]+`);
  return c;
}

/** Two consecutive codes, the second no later than one step ahead of now: proof the device holds the seed. */
function consecutive(seed: string, c1: string, c2: string, nowMs: number): number | undefined {
  const now = stepAt(nowMs);
  for (let s = now; s >= now - 10; s--) {
    if (totp(seed, s) === c1 && totp(seed, s + 1) === c2) return s + 1;
  }
  return undefined;
}

/**
 * The root user's virtual MFA device (what S3 MFA Delete checks): AWS enables
 * it in the console; here EnableMFADevice signed by the root key without a
 * UserName does the same. One device per root.
 */
async function enableForRoot(rt: IamRuntime, input: sdk.EnableMFADeviceRequest, nowMs: number, now: Date): Promise<Record<string, never>> {
  const serial = required(input.SerialNumber, 'serialNumber');
  const c1 = code(input.AuthenticationCode1, 'authenticationCode1');
  const c2 = code(input.AuthenticationCode2, 'authenticationCode2');
  await rt.write(async (tx) => {
    const d = await device(tx, serial);
    if (d.userName !== undefined || d.root) throw iamError('EntityAlreadyExists', 'MFA Device is already in use.');
    if ((await tx.scan<MfaRecord>(NS.mfa)).some((e) => e.value.root)) throw iamError('LimitExceeded', 'Cannot exceed quota for MFADevicesPerUser: 1');
    const step = consecutive(rt.box.open(d.seed, d.serial), c1, c2, nowMs);
    if (step === undefined) throw iamError('InvalidAuthenticationCode', 'Authentication code for device is not valid.');
    await tx.put(NS.mfa, lower(serial), { ...d, root: true, enableDate: now, lastStep: step });
  });
  return {};
}

export function mfaOperations(rt: IamRuntime): Record<string, OperationSpec> {
  const userResource = holderArn(rt, 'user', 'UserName');
  const serialResource = (input: { SerialNumber?: string }) => input.SerialNumber ?? '*';
  return {
    CreateVirtualMFADevice: {
      schema: CreateVirtualMFADevice$,
      resource: (input: sdk.CreateVirtualMFADeviceRequest) => rt.arn('mfa', input.Path ?? '/', input.VirtualMFADeviceName ?? ''),
      async handler(input: sdk.CreateVirtualMFADeviceRequest, ctx): Promise<sdk.CreateVirtualMFADeviceResponse> {
        const devName = name(input.VirtualMFADeviceName, 'virtualMFADeviceName', 226);
        const p = path(input.Path);
        const t = tags(input.Tags);
        const serial = rt.arn('mfa', p, devName);
        const seed = newSeed();
        await rt.write(async (tx) => {
          if (await tx.get(NS.mfa, lower(serial))) throw iamError('EntityAlreadyExists', 'MFADevice entity at the same path and name already exists.');
          const rec: MfaRecord = { serial, name: devName, path: p, seed: rt.box.seal(seed, serial), createDate: ctx.clock.now(), tags: t };
          await tx.put(NS.mfa, lower(serial), rec);
        });
        // Base32StringSeed is the Base32 text itself (a blob: the wire carries it base64-encoded).
        return { VirtualMFADevice: { SerialNumber: serial, Base32StringSeed: new TextEncoder().encode(seed), ...(t.length ? { Tags: t } : {}) } };
      },
      audit: { response: (o: sdk.CreateVirtualMFADeviceResponse) => ({ virtualMFADevice: { serialNumber: o.VirtualMFADevice?.SerialNumber } }) },
    },
    EnableMFADevice: {
      schema: EnableMFADevice$,
      resource: userResource,
      async handler(input: sdk.EnableMFADeviceRequest, ctx): Promise<Record<string, never>> {
        if (ctx.principal.type === 'root' && (input.UserName === undefined || input.UserName === '')) return enableForRoot(rt, input, ctx.clock.nowMs(), ctx.clock.now());
        const userName = name(input.UserName, 'userName');
        const serial = required(input.SerialNumber, 'serialNumber');
        const c1 = code(input.AuthenticationCode1, 'authenticationCode1');
        const c2 = code(input.AuthenticationCode2, 'authenticationCode2');
        await rt.write(async (tx) => {
          const u = await getHolder(tx, 'user', userName);
          const d = await device(tx, serial);
          if (d.userName !== undefined) throw iamError('EntityAlreadyExists', 'MFA Device is already in use.');
          const mine = (await tx.scan<MfaRecord>(NS.mfa)).filter((e) => e.value.userName !== undefined && lower(e.value.userName) === lower(u.name));
          if (mine.length >= MFA_DEVICES_PER_USER) throw iamError('LimitExceeded', `Cannot exceed quota for MFADevicesPerUser: ${MFA_DEVICES_PER_USER}`);
          const step = consecutive(rt.box.open(d.seed, d.serial), c1, c2, ctx.clock.nowMs());
          if (step === undefined) throw iamError('InvalidAuthenticationCode', 'Authentication code for device is not valid.');
          await tx.put(NS.mfa, lower(serial), { ...d, userName: u.name, enableDate: ctx.clock.now(), lastStep: step });
        });
        return {};
      },
    },
    ResyncMFADevice: {
      schema: ResyncMFADevice$,
      resource: userResource,
      async handler(input: sdk.ResyncMFADeviceRequest, ctx): Promise<Record<string, never>> {
        const userName = name(input.UserName, 'userName');
        const serial = required(input.SerialNumber, 'serialNumber');
        const c1 = code(input.AuthenticationCode1, 'authenticationCode1');
        const c2 = code(input.AuthenticationCode2, 'authenticationCode2');
        await rt.write(async (tx) => {
          const d = await device(tx, serial);
          if (d.userName === undefined || lower(d.userName) !== lower(userName)) throw iamError('NoSuchEntity', `MFA Device with serial number ${serial} does not exist.`);
          const step = consecutive(rt.box.open(d.seed, d.serial), c1, c2, ctx.clock.nowMs());
          if (step === undefined) throw iamError('InvalidAuthenticationCode', 'Authentication code for device is not valid.');
          await tx.put(NS.mfa, lower(serial), { ...d, lastStep: step });
        });
        return {};
      },
    },
    ListMFADevices: {
      schema: ListMFADevices$,
      resource: userResource,
      async handler(input: sdk.ListMFADevicesRequest, ctx): Promise<sdk.ListMFADevicesResponse> {
        const userName = callerUserName(ctx, input.UserName);
        const list = await rt.read(async (tx) => {
          await getHolder(tx, 'user', userName);
          return (await tx.scan<MfaRecord>(NS.mfa)).filter((e) => e.value.userName !== undefined && lower(e.value.userName) === lower(userName));
        });
        const p = page(list, input.Marker, input.MaxItems);
        return {
          MFADevices: p.items.map((d) => ({ UserName: d.userName ?? '', SerialNumber: d.serial, EnableDate: d.enableDate ?? d.createDate })),
          IsTruncated: p.IsTruncated,
          ...(p.Marker ? { Marker: p.Marker } : {}),
        };
      },
    },
    ListVirtualMFADevices: {
      schema: ListVirtualMFADevices$,
      async handler(input: sdk.ListVirtualMFADevicesRequest): Promise<sdk.ListVirtualMFADevicesResponse> {
        const status = input.AssignmentStatus ?? 'Any';
        const all = await rt.read((tx) => tx.scan<MfaRecord>(NS.mfa));
        const list = all.filter((e) => status === 'Any' || (status === 'Assigned') === (e.value.userName !== undefined || e.value.root === true));
        const p = page(list, input.Marker, input.MaxItems);
        return {
          VirtualMFADevices: p.items.map((d) => ({
            SerialNumber: d.serial,
            ...(d.root ? { User: { UserName: '', Path: '/', UserId: rt.accountId, Arn: `arn:aws:iam::${rt.accountId}:root`, CreateDate: d.createDate } } : {}),
            ...(d.userName !== undefined ? { User: { UserName: d.userName, Path: '/', UserId: '', Arn: rt.arn('user', '/', d.userName), CreateDate: d.createDate } } : {}),
            ...(d.enableDate ? { EnableDate: d.enableDate } : {}),
          })),
          IsTruncated: p.IsTruncated,
          ...(p.Marker ? { Marker: p.Marker } : {}),
        };
      },
    },
    DeactivateMFADevice: {
      schema: DeactivateMFADevice$,
      resource: userResource,
      async handler(input: sdk.DeactivateMFADeviceRequest, ctx): Promise<Record<string, never>> {
        if (ctx.principal.type === 'root' && (input.UserName === undefined || input.UserName === '')) {
          const serial = required(input.SerialNumber, 'serialNumber');
          await rt.write(async (tx) => {
            const d = await device(tx, serial);
            if (!d.root) throw iamError('NoSuchEntity', `MFA Device with serial number ${serial} does not exist.`);
            const { root: _r, enableDate: _e, ...rest } = d;
            await tx.put(NS.mfa, lower(serial), rest);
          });
          return {};
        }
        const userName = callerUserName(ctx, input.UserName);
        const serial = required(input.SerialNumber, 'serialNumber');
        await rt.write(async (tx) => {
          const d = await device(tx, serial);
          if (d.userName === undefined || lower(d.userName) !== lower(userName)) throw iamError('NoSuchEntity', `MFA Device with serial number ${serial} does not exist.`);
          const { userName: _u, enableDate: _e, ...rest } = d;
          await tx.put(NS.mfa, lower(serial), rest);
        });
        return {};
      },
    },
    DeleteVirtualMFADevice: {
      schema: DeleteVirtualMFADevice$,
      resource: serialResource,
      async handler(input: sdk.DeleteVirtualMFADeviceRequest): Promise<Record<string, never>> {
        const serial = required(input.SerialNumber, 'serialNumber');
        await rt.write(async (tx) => {
          const d = await device(tx, serial);
          if (d.userName !== undefined || d.root) throw iamError('DeleteConflict', 'MFA VirtualDevice in use. Must deactivate first.');
          await tx.delete(NS.mfa, lower(serial));
        });
        return {};
      },
    },
  };
}
