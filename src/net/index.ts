export { safeFetch, checkUrlAllowed, systemResolver } from './safe-fetch.js';
export type { SafeFetchOptions, SafeFetchResponse, Resolver, ResolvedAddress } from './safe-fetch.js';
export { isPrivateAddress } from './address-policy.js';
export { pinnedLookup, PrivateAddressError } from './pinned-lookup.js';
