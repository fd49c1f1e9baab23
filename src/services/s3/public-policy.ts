/**
 * Whether a bucket policy is "public" as S3 defines it (Block Public Access,
 * GetBucketPolicyStatus): some Allow statement grants to a wildcard
 * principal (or through NotPrincipal) without a condition that pins the
 * caller to fixed values of one of the keys S3 accepts as limiting access:
 * source IP ranges no wider than /8 (IPv4) or /32 (IPv6), source ARN, VPC,
 * VPC endpoint, owner or account, caller user id, principal ARN, account or
 * organisation, access point ARN or account. A fixed value has no wildcard
 * and no policy variable.
 */

const LIMITING_KEYS = new Set([
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceowner',
  'aws:sourceaccount',
  'aws:userid',
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principalorgid',
  's3:dataaccesspointarn',
  's3:dataaccesspointaccount',
]);

/** Operators whose values, when fixed, pin the key to those values. */
const PINNING_OPERATORS = new Set(['stringequals', 'stringequalsignorecase', 'stringlike', 'arnequals', 'arnlike', 'ipaddress']);

const isFixed = (v: string) => !/[*?]|\$\{/.test(v);

function values(v: unknown): string[] | undefined {
  const arr = Array.isArray(v) ? v : [v];
  return arr.every((x) => typeof x === 'string') && arr.length > 0 ? (arr) : undefined;
}

/** A source IP range that S3 does not count as public: IPv4 /8 or narrower, IPv6 /32 or narrower. */
function narrowCidr(v: string): boolean {
  const slash = v.indexOf('/');
  const addr = slash < 0 ? v : v.slice(0, slash);
  const bits = slash < 0 ? undefined : Number(v.slice(slash + 1));
  const v6 = addr.includes(':');
  if (bits === undefined) return true;
  if (!Number.isInteger(bits)) return false;
  return v6 ? bits >= 32 : bits >= 8;
}

function pinsCaller(condition: unknown): boolean {
  if (condition === null || typeof condition !== 'object') return false;
  for (const [op, block] of Object.entries(condition as Record<string, unknown>)) {
    const base = op.toLowerCase();
    // ForAllValues holds vacuously on an absent key; IfExists too: neither pins anything.
    if (base.startsWith('forallvalues:') || base.endsWith('ifexists')) continue;
    const name = base.startsWith('foranyvalue:') ? base.slice('foranyvalue:'.length) : base;
    if (!PINNING_OPERATORS.has(name) || block === null || typeof block !== 'object') continue;
    for (const [key, raw] of Object.entries(block as Record<string, unknown>)) {
      const k = key.toLowerCase();
      const vs = values(raw);
      if (!vs || !vs.every(isFixed)) continue;
      if (k === 'aws:sourceip' && name === 'ipaddress' && vs.every(narrowCidr)) return true;
      if (LIMITING_KEYS.has(k)) {
        // aws:userid pins only when it is not a whole role's sessions ("AROA…:*" is not fixed anyway).
        return true;
      }
    }
  }
  return false;
}

function wildcardPrincipal(p: unknown): boolean {
  if (p === '*') return true;
  if (p === null || typeof p !== 'object') return false;
  for (const v of Object.values(p as Record<string, unknown>)) {
    const vs = values(v) ?? [];
    if (vs.some((x) => !isFixed(x))) return true;
  }
  return false;
}

/** Whether one Allow statement is public. */
export function isPublicStatement(st: Record<string, unknown>): boolean {
  if (st.Effect !== 'Allow') return false;
  const open = st.NotPrincipal !== undefined || wildcardPrincipal(st.Principal);
  return open && !pinsCaller(st.Condition);
}

/** Whether a (valid) policy document is public. */
export function isPublicPolicy(text: string): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return false;
  }
  const list = (doc as { Statement?: unknown } | null)?.Statement;
  const statements = Array.isArray(list) ? list : [list];
  return statements.some((st) => st !== null && typeof st === 'object' && isPublicStatement(st as Record<string, unknown>));
}
