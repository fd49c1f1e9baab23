import { NS, lower, type GroupRecord, type RoleRecord, type UserRecord } from '../../iam/entities.js';
import type { IamRuntime } from '../../iam/runtime.js';
import type { RequestContext } from '../../server/context.js';
import type { ReadTx } from '../../storage/ports.js';
import { iamError } from './errors.js';

/** Users, groups and roles all hold inline and attached policies; this is what differs between them. */
export type HolderKind = 'user' | 'group' | 'role';

export const HOLDERS = {
  user: { ns: NS.user, label: 'user', Label: 'User', inlineMax: 2048, attachedMax: 10 },
  group: { ns: NS.group, label: 'group', Label: 'Group', inlineMax: 5120, attachedMax: 10 },
  role: { ns: NS.role, label: 'role', Label: 'Role', inlineMax: 10240, attachedMax: 10 },
} as const;

export type HolderRecord<K extends HolderKind> = K extends 'user' ? UserRecord : K extends 'group' ? GroupRecord : RoleRecord;

export function noSuch(kind: HolderKind, name: string) {
  return iamError('NoSuchEntity', `The ${HOLDERS[kind].label} with name ${name} cannot be found.`);
}

export async function getHolder<K extends HolderKind>(tx: ReadTx, kind: K, name: string): Promise<HolderRecord<K>> {
  const rec = await tx.get<HolderRecord<K>>(HOLDERS[kind].ns, lower(name));
  if (!rec) throw noSuch(kind, name);
  return rec;
}

/** The ARN a request on a user, group or role is authorized against (with the entity's path when it exists). */
export function holderArn(rt: IamRuntime, kind: HolderKind, field: string) {
  return async (input: Record<string, unknown>, ctx: RequestContext): Promise<string> => {
    let nameValue = input[field];
    if (nameValue === undefined && kind === 'user' && ctx.principal.type === 'user') nameValue = ctx.principal.name;
    if (typeof nameValue !== 'string' || nameValue === '') return '*';
    if (typeof input.Path === 'string' && field !== 'NewUserName') return rt.arn(kind, input.Path, nameValue);
    const rec = await rt.read((tx) => tx.get<{ path: string }>(HOLDERS[kind].ns, lower(nameValue)));
    return rt.arn(kind, rec?.path ?? '/', nameValue);
  };
}

/** The user a call is about: the named one, else the calling IAM user. */
export function callerUserName(ctx: RequestContext, given: string | undefined): string {
  if (given !== undefined && given !== '') return given;
  if (ctx.principal.type === 'user' && ctx.principal.name !== undefined) return ctx.principal.name;
  throw iamError('ValidationError', 'Must specify userName when calling with non-User credentials');
}
