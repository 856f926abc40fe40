/**
 * A `lookup` for node:http / ws clients that connect to user-supplied URLs over a long-lived or
 * streaming connection (conversation servers), where `safeFetch`'s buffered body does not fit.
 * The same rule as safe-fetch.ts: every address the name resolves to must be public unless
 * `allowPrivate`, checked inside the socket's own lookup so the address checked is the address
 * connected to (no DNS rebinding between check and connect).
 */
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateAddress } from './address-policy.js';
import { systemResolver, type Resolver } from './safe-fetch.js';

export class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
  constructor(host: string) {
    super(`${host} resolves to a private address`);
    this.name = 'PrivateAddressError';
  }
}

export function pinnedLookup(allowPrivate: boolean, resolver: Resolver = systemResolver): LookupFunction {
  return (hostname, opts, callback) => {
    const literal = isIP(hostname);
    const resolved = literal ? Promise.resolve([{ address: hostname, family: literal }]) : resolver(hostname);
    resolved.then(
      (addresses) => {
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '', 0);
        if (!allowPrivate && addresses.some((a) => isPrivateAddress(a.address))) return callback(new PrivateAddressError(hostname) as NodeJS.ErrnoException, '', 0);
        const wanted = typeof opts === 'object' && opts.family ? addresses.filter((a) => a.family === opts.family) : addresses;
        const list = wanted.length > 0 ? wanted : addresses;
        if (typeof opts === 'object' && opts.all) (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        else callback(null, list[0]!.address, list[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}
