import net from 'node:net';

/**
 * Who a connection belongs to: an IPv4 address, or an IPv6 /64 (one host
 * usually owns a whole /64, so keying by full v6 address lets it rotate freely).
 */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const a = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (net.isIPv4(a)) return a;
  const groups = expandV6(a);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : a;
}

function expandV6(a: string): string[] | undefined {
  if (!net.isIPv6(a)) return undefined;
  const [head = '', tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  if (t.length && net.isIPv4(t[t.length - 1] as string)) t.splice(t.length - 1, 1, '0', '0');
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}

/** A parsed CIDR list; `contains(ip)` answers whether any entry covers the address. */
export interface CidrList {
  contains(address: string | undefined): boolean;
  readonly size: number;
}

export function parseCidrs(spec: string): CidrList {
  const list = new net.BlockList();
  let size = 0;
  for (const raw of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [ip = '', bits] = raw.split('/');
    const type = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : undefined;
    if (!type) throw new Error(`'${raw}' is not an IP address or CIDR`);
    const prefix = bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)) throw new Error(`'${raw}' has a bad prefix length`);
    list.addSubnet(ip, prefix, type);
    size++;
  }
  return {
    size,
    contains(address) {
      if (!address || size === 0) return false;
      const a = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
      return list.check(a, net.isIPv4(a) ? 'ipv4' : 'ipv6');
    },
  };
}

/** The client address of a request: X-Forwarded-For's right-most untrusted hop when the peer is a trusted proxy. */
export function effectiveAddress(peer: string | undefined, xff: string | string[] | undefined, proxies: CidrList): string | undefined {
  if (!xff || proxies.size === 0 || !proxies.contains(peer)) return peer;
  const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (!net.isIP(hop)) return peer;
    if (!proxies.contains(hop)) return hop;
  }
  return hops[0] ?? peer;
}
