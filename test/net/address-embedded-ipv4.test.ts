/**
 * IPv6 addresses that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are
 * judged by that IPv4 address: a tool or knowledge URL cannot reach 127.0.0.1 or the cloud
 * metadata service by writing it as `[2002:7f00:1::]` or as a Teredo client.
 */
import { describe, expect, it } from 'vitest';
import { checkUrlAllowed, isPrivateAddress } from '../../src/net/index.js';
import { VoxgateError } from '../../src/errors.js';

/** Teredo (RFC 4380 §4): the client's IPv4 address is stored XOR 0xffffffff in the last 32 bits. */
function teredo(server: string, client: string): string {
  const hex = (ip: string, xor: number) => {
    const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
    const hi = ((a << 8) | b) ^ xor;
    const lo = ((c << 8) | d) ^ xor;
    return `${hi.toString(16)}:${lo.toString(16)}`;
  };
  return `2001:0:${hex(server, 0)}:8000:63bf:${hex(client, 0xffff)}`;
}

describe('IPv4 embedded in IPv6', () => {
  it.each([
    ['6to4 of 127.0.0.1', '2002:7f00:1::'],
    ['6to4 of 127.0.0.1, full form', '2002:7f00:0001:0000:0000:0000:0000:0001'],
    ['6to4 of 10.1.2.3', '2002:a01:203::1'],
    ['6to4 of the metadata address', '2002:a9fe:a9fe::'],
    ['Teredo client 127.0.0.1', teredo('65.54.227.120', '127.0.0.1')],
    ['Teredo client 192.168.1.10', teredo('65.54.227.120', '192.168.1.10')],
    ['Teredo client 169.254.169.254', teredo('65.54.227.120', '169.254.169.254')],
    ['Teredo server 10.0.0.1', teredo('10.0.0.1', '8.8.8.8')],
    ['NAT64 of 127.0.0.1', '64:ff9b::7f00:1'],
    ['NAT64 of 127.0.0.1, dotted', '64:ff9b::127.0.0.1'],
    ['local-use NAT64 of 10.0.0.1', '64:ff9b:1::a00:1'],
    ['IPv4-mapped 127.0.0.1', '::ffff:7f00:1'],
    ['IPv4-compatible 127.0.0.1', '::127.0.0.1'],
    ['IPv4-compatible 10.0.0.1', '::a00:1'],
  ])('refuses %s (%s)', (_name, ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
    expect(isPrivateAddress(`[${ip}]`)).toBe(true);
  });

  it('decodes Teredo as RFC 4380 does (its own example address is a public client)', () => {
    // RFC 4380 §4 example: server 65.54.227.120, client 192.0.2.45 → 2001:0:4136:e378:8000:63bf:3fff:fdd2.
    expect(teredo('65.54.227.120', '192.0.2.45')).toBe('2001:0:4136:e378:8000:63bf:3fff:fdd2');
    expect(isPrivateAddress(teredo('65.54.227.120', '8.8.8.8'))).toBe(false);
  });

  it.each([
    ['6to4 of 8.8.8.8', '2002:808:808::1'],
    ['NAT64 of 8.8.8.8', '64:ff9b::808:808'],
    ['IPv4-mapped 8.8.8.8', '::ffff:808:808'],
    ['plain global IPv6', '2001:db9::1'],
  ])('allows %s (%s)', (_name, ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });

  it.each(['http://[2002:7f00:1::]/', 'http://[2002:7f00:1::]:8080/hook', `http://[${teredo('65.54.227.120', '127.0.0.1')}]/`, 'http://[64:ff9b::7f00:1]/'])(
    'refuses the tool or knowledge URL %s',
    async (url) => {
      const err = await checkUrlAllowed(url, false).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VoxgateError);
      expect((err as VoxgateError).message).toMatch(/private address/);
    },
  );
});
