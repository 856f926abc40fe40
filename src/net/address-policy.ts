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

const v4At = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * The IPv4 addresses an IPv6 address reaches or carries: IPv4-mapped (::ffff:a.b.c.d),
 * -compatible (::a.b.c.d), NAT64 (64:ff9b::/96, RFC 6052, and the local-use 64:ff9b:1::/48,
 * RFC 8215), 6to4 (2002:AABB:CCDD::/48, RFC 3056: the relay delivers to AABBCCDD) and Teredo
 * (2001:0::/32, RFC 4380: the client's IPv4 is the last 32 bits XOR 0xffffffff, the server's
 * sits in bits 32..63). Each is an IPv4 address in disguise: `[2002:7f00:1::]` is 127.0.0.1.
 */
function embeddedV4(h: number[]): string[] {
  const zeroPrefix = h.slice(0, 5).every((x) => x === 0);
  if (zeroPrefix && h[5] === 0xffff) return [v4At(h[6]!, h[7]!)];
  // IPv4-compatible (::a.b.c.d, deprecated), except `::` and `::1` which are IPv6's own.
  if (zeroPrefix && h[5] === 0 && !(h[6] === 0 && h[7]! <= 1)) return [v4At(h[6]!, h[7]!)];
  if (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0)) return [v4At(h[6]!, h[7]!)];
  if (h[0] === 0x64 && h[1] === 0xff9b && h[2] === 1) return [v4At(h[6]!, h[7]!)];
  if (h[0] === 0x2002) return [v4At(h[1]!, h[2]!)];
  if (h[0] === 0x2001 && h[1] === 0) return [v4At(h[6]! ^ 0xffff, h[7]! ^ 0xffff), v4At(h[2]!, h[3]!)];
  return [];
}

/** True when `ip` is loopback, private, link-local, metadata or otherwise not public. */
export function isPrivateAddress(ip: string): boolean {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(bare.split('%')[0]!);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    const h = hextets(bare);
    if (!h) return true; // unparseable: refuse rather than guess
    const v4s = embeddedV4(h);
    if (v4s.some((v4) => blocked.check(v4, 'ipv4'))) return true;
    // A mapped/compatible/NAT64 address is exactly its IPv4 address: public if that is.
    if (v4s.length > 0 && (h[0] === 0 || h[0] === 0x64)) return false;
    return blocked.check(h.map((x) => x.toString(16)).join(':'), 'ipv6');
  }
  return true;
}
