import * as sdk from '@aws-sdk/client-iam';
import type { OperationSpec } from '../../aws/service.js';
import { awsManagedPolicy } from '../../iam/aws-managed.js';
import { lower } from '../../iam/entities.js';
import { policySize } from '../../iam/policy/document.js';
import type { IamRuntime } from '../../iam/runtime.js';
import { iamError } from './errors.js';
import { HOLDERS, getHolder, holderArn, type HolderKind } from './holders.js';
import { attachable, setAttachmentCount } from './managed-policies.js';
import { arnOf, encodeDocument, name, page, pathPrefix, policyDocument } from './validate.js';

/**
 * The policies a user, group or role holds: inline (Put/Get/Delete/List<Kind>Policy)
 * and attached managed ones (Attach/Detach/ListAttached<Kind>Policies). The
 * same twelve-operation shape for each kind, built once per kind.
 */

type Input = Record<string, unknown> & { PolicyName?: string; PolicyDocument?: string; PolicyArn?: string; PathPrefix?: string; Marker?: string; MaxItems?: number };

const FIELD = { user: 'UserName', group: 'GroupName', role: 'RoleName' } as const;
const NAME_MAX = { user: 64, group: 128, role: 64 } as const;

function schema(op: string): unknown {
  return (sdk as unknown as Record<string, unknown>)[`${op}$`];
}

export function holderPolicyOperations(rt: IamRuntime, kind: HolderKind): Record<string, OperationSpec> {
  const H = HOLDERS[kind];
  const field = FIELD[kind];
  const resource = holderArn(rt, kind, field);
  const holderName = (input: Input) => name(input[field] as string | undefined, `${kind}Name`, NAME_MAX[kind]);
  const ops: Record<string, OperationSpec> = {};

  ops[`Put${H.Label}Policy`] = {
    schema: schema(`Put${H.Label}Policy`),
    resource,
    async handler(input: Input) {
      const holder = holderName(input);
      const policyName = name(input.PolicyName, 'policyName', 128);
      const text = policyDocument(rt, input.PolicyDocument, 'policyDocument', 'identity');
      await rt.write(async (tx) => {
        const rec = await getHolder(tx, kind, holder);
        const inline = { ...rec.inline, [policyName]: text };
        // The quota is on all of a holder's inline policies together.
        const total = Object.values(inline).reduce((n, t) => n + policySize(t), 0);
        if (total > H.inlineMax) throw iamError('LimitExceeded', `Maximum policy size of ${H.inlineMax} bytes exceeded for ${kind} ${rec.name}`);
        await tx.put(H.ns, lower(rec.name), { ...rec, inline });
      });
      return {};
    },
  };

  ops[`Get${H.Label}Policy`] = {
    schema: schema(`Get${H.Label}Policy`),
    resource,
    async handler(input: Input) {
      const holder = holderName(input);
      const policyName = name(input.PolicyName, 'policyName', 128);
      const rec = await rt.read((tx) => getHolder(tx, kind, holder));
      const text = Object.hasOwn(rec.inline, policyName) ? rec.inline[policyName] : undefined;
      if (text === undefined) throw iamError('NoSuchEntity', `The ${kind} policy with name ${policyName} cannot be found.`);
      return { [field]: rec.name, PolicyName: policyName, PolicyDocument: encodeDocument(text) };
    },
  };

  ops[`Delete${H.Label}Policy`] = {
    schema: schema(`Delete${H.Label}Policy`),
    resource,
    async handler(input: Input) {
      const holder = holderName(input);
      const policyName = name(input.PolicyName, 'policyName', 128);
      await rt.write(async (tx) => {
        const rec = await getHolder(tx, kind, holder);
        if (!Object.hasOwn(rec.inline, policyName)) throw iamError('NoSuchEntity', `The ${kind} policy with name ${policyName} cannot be found.`);
        const inline = { ...rec.inline };
        delete inline[policyName];
        await tx.put(H.ns, lower(rec.name), { ...rec, inline });
      });
      return {};
    },
  };

  ops[`List${H.Label}Policies`] = {
    schema: schema(`List${H.Label}Policies`),
    resource,
    async handler(input: Input) {
      const rec = await rt.read((tx) => getHolder(tx, kind, holderName(input)));
      const names = Object.keys(rec.inline).sort().map((n) => ({ key: n, value: n }));
      const p = page(names, input.Marker, input.MaxItems);
      return { PolicyNames: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
    },
  };

  ops[`Attach${H.Label}Policy`] = {
    schema: schema(`Attach${H.Label}Policy`),
    resource,
    async handler(input: Input) {
      const holder = holderName(input);
      const arn = arnOf(input.PolicyArn, 'policyArn');
      await rt.write(async (tx) => {
        const rec = await getHolder(tx, kind, holder);
        await attachable(rt, tx, arn);
        if (rec.attached.includes(arn)) return;
        if (rec.attached.length >= H.attachedMax) throw iamError('LimitExceeded', `Cannot exceed quota for PoliciesPer${H.Label}: ${H.attachedMax}`);
        await tx.put(H.ns, lower(rec.name), { ...rec, attached: [...rec.attached, arn] });
        await setAttachmentCount(rt, tx, arn, +1);
      });
      return {};
    },
  };

  ops[`Detach${H.Label}Policy`] = {
    schema: schema(`Detach${H.Label}Policy`),
    resource,
    async handler(input: Input) {
      const holder = holderName(input);
      const arn = arnOf(input.PolicyArn, 'policyArn');
      await rt.write(async (tx) => {
        const rec = await getHolder(tx, kind, holder);
        if (!rec.attached.includes(arn)) throw iamError('NoSuchEntity', `Policy ${arn} was not found.`);
        await tx.put(H.ns, lower(rec.name), { ...rec, attached: rec.attached.filter((a) => a !== arn) });
        await setAttachmentCount(rt, tx, arn, -1);
      });
      return {};
    },
  };

  ops[`ListAttached${H.Label}Policies`] = {
    schema: schema(`ListAttached${H.Label}Policies`),
    resource,
    async handler(input: Input) {
      const prefix = pathPrefix(input.PathPrefix);
      const rec = await rt.read((tx) => getHolder(tx, kind, holderName(input)));
      const list = rec.attached
        .map((arn) => {
          const aws = awsManagedPolicy(arn);
          const policyPath = aws ? aws.path : arn.slice(arn.indexOf(':policy/') + 7, arn.lastIndexOf('/') + 1);
          return { key: arn, value: { PolicyName: arn.slice(arn.lastIndexOf('/') + 1), PolicyArn: arn }, path: policyPath };
        })
        .filter((e) => e.path.startsWith(prefix));
      const p = page(list, input.Marker, input.MaxItems);
      return { AttachedPolicies: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
    },
  };
  return ops;
}
