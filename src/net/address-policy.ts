/**
 * Which IP addresses an outbound request from voxgate may reach. Webhook tools and knowledge
 * URLs are user input: without this a key holder could make the gateway read cloud metadata
 * (169.254.169.254), the admin port of a sidecar, or anything else on the private network.
 */
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
// IPv4: "this network", RFC 1918, CGNAT (RFC 6598), loopback, link-local (incl. metadata),
// IETF protocol assignments, benchmarking, multicast and reserved, broadcast.
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
// IPv6: unspecified, loopback, unique-local, link-local, multicast.
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** The 8 hextets of an IPv6 address (handles `::` and a dotted IPv4 tail). */
function hextets(ip: string): number[] | null {
  let s = ip.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const parts = dotted[1]!.split('.').map(Number);
    if (parts.some((p) => p > 255)) return null;
    s = s.slice(0, -dotted[1]!.length) + `${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const [head, tail, ...rest] = s.split('::');
  if (rest.length > 0) return null;
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  if (fill < 0 || (tail === undefined && h.length !== 8)) return null;
  const all = [...h, ...Array<string>(fill).fill('0'), ...t];
  const nums = all.map((x) => parseInt(x, 16));
  return nums.length === 8 && nums.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff) ? nums : null;
}

/** The IPv4 address embedded in an IPv4-mapped (::ffff:a.b.c.d), -compatible or NAT64 address. */
function embeddedV4(h: number[]): string | null {
  const v4 = () => `${h[6]! >> 8}.${h[6]! & 255}.${h[7]! >> 8}.${h[7]! & 255}`;
  const zeroPrefix = h.slice(0, 5).every((x) => x === 0);
  if (zeroPrefix && h[5] === 0xffff) return v4();
  // IPv4-compatible (::a.b.c.d, deprecated), except `::` and `::1` which are IPv6's own.
  if (zeroPrefix && h[5] === 0 && !(h[6] === 0 && h[7]! <= 1)) return v4();
  // 64:ff9b::/96, the well-known NAT64 prefix, reaches the embedded IPv4 address.
  if (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0)) return v4();
  return null;
}

/** True when `ip` is loopback, private, link-local, metadata or otherwise not public. */
export function isPrivateAddress(ip: string): boolean {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(bare.split('%')[0]!);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    const h = hextets(bare);
    if (!h) return true; // unparseable: refuse rather than guess
    const v4 = embeddedV4(h);
    if (v4 !== null) return blocked.check(v4, 'ipv4');
    return blocked.check(h.map((x) => x.toString(16)).join(':'), 'ipv6');
  }
  return true;
}
