import { isIP } from 'node:net';

/**
 * CIDR matching for IpAddress/NotIpAddress without allocating per check
 * (node:net's BlockList builds a SocketAddress on every call). Addresses are
 * parsed to bytes once; a request's address is parsed per request.
 */
export type CidrTest = (address: string) => boolean;

function v4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function v6(s: string): Uint8Array | undefined {
  if (isIP(s) !== 6) return undefined;
  let text = s;
  const tail: number[] = [];
  // A trailing dotted IPv4 part (::ffff:1.2.3.4) becomes the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const b = v4(text.slice(lastColon + 1));
    if (!b) return undefined;
    tail.push(((b[0] as number) << 8) | (b[1] as number), ((b[2] as number) << 8) | (b[3] as number));
    text = `${text.slice(0, lastColon + 1)}0`;
    text = text.endsWith('::0') ? text.slice(0, -1) : text.slice(0, -2);
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const groups = (x: string) => (x === '' ? [] : x.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const total = 8 - tail.length;
  const fill = rest === undefined ? 0 : total - h.length - r.length;
  const all = [...h, ...new Array<number>(Math.max(0, fill)).fill(0), ...r, ...tail];
  if (all.length !== 8 || all.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 255;
  });
  return out;
}

/** IPv4-mapped IPv6 addresses (from a dual-stack socket) count as their IPv4 address. */
export function parseIp(s: string): Uint8Array | undefined {
  if (s.startsWith('::ffff:') && s.includes('.')) return v4(s.slice(7));
  return s.includes(':') ? v6(s) : v4(s);
}

/** Compiles "203.0.113.0/24", "2001:DB8::/32" or a bare address; an invalid one matches nothing. */
export function compileCidr(spec: string): CidrTest {
  const raw = spec.trim();
  const slash = raw.indexOf('/');
  const net = parseIp(slash < 0 ? raw : raw.slice(0, slash));
  if (!net) return () => false;
  const bits = slash < 0 ? net.length * 8 : Number(raw.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > net.length * 8 || (slash >= 0 && !/^\d+$/.test(raw.slice(slash + 1)))) return () => false;
  const whole = bits >> 3;
  const rem = bits & 7;
  const mask = rem === 0 ? 0 : (0xff << (8 - rem)) & 0xff;
  return (address) => {
    const a = parseIp(address);
    if (!a || a.length !== net.length) return false;
    for (let i = 0; i < whole; i++) if (a[i] !== net[i]) return false;
    return rem === 0 || (((a[whole] as number) ^ (net[whole] as number)) & mask) === 0;
  };
}
