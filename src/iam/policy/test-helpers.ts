import type { PrincipalFacts } from './document.js';
import type { ContextKeys } from './variables.js';

/** Test-only builders for the engine's inputs. */
export function keys(obj: Record<string, string | string[]>): ContextKeys {
  const m = new Map<string, readonly string[]>();
  for (const [k, v] of Object.entries(obj)) m.set(k.toLowerCase(), Array.isArray(v) ? v : [v]);
  return m;
}

export const ACCOUNT = '111122223333';

export function user(name: string, account = ACCOUNT): PrincipalFacts {
  return { anonymous: false, root: false, accountId: account, arns: [[`arn:aws:iam::${account}:user/${name}`, 'direct']] };
}

export function session(role: string, name: string, account = ACCOUNT): PrincipalFacts {
  return {
    anonymous: false,
    root: false,
    accountId: account,
    arns: [
      [`arn:aws:sts::${account}:assumed-role/${role}/${name}`, 'direct'],
      [`arn:aws:iam::${account}:role/${role}`, 'role'],
    ],
  };
}

export function root(account = ACCOUNT): PrincipalFacts {
  return { anonymous: false, root: true, accountId: account, arns: [[`arn:aws:iam::${account}:root`, 'direct']] };
}

export const anonymous: PrincipalFacts = { anonymous: true, root: false, accountId: '', arns: [] };

export function doc(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
