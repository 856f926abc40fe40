/**
 * SSRF-safe HTTP(S) requests for user-supplied URLs (webhook tools, knowledge imports).
 *
 * - only `http:` and `https:`;
 * - the host name is resolved (every address) and refused if any address is loopback, private,
 *   link-local (cloud metadata), unique-local or otherwise non-public (address-policy.ts),
 *   unless `allowPrivate` (ALLOW_PRIVATE_URLS);
 * - the connection is pinned to the checked address: the check runs inside the socket's own
 *   `lookup`, so a DNS answer that changes between check and connect (rebinding) cannot slip
 *   through. TLS still verifies the certificate against the host name;
 * - redirects are followed by hand, each hop checked the same way;
 * - the response body is capped (`maxBytes`) and the whole exchange bounded by `timeoutMs`.
 *
 * Refusals and failures throw a VoxgateError (`validation_failed`, 422) whose message says why,
 * so routes surface it as is.
 */
import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { VoxgateError } from '../errors.js';
import { isPrivateAddress } from './address-policy.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Resolves a host name to all its addresses; tests pass their own to fake public names. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

export interface SafeFetchOptions {
  allowPrivate?: boolean;
  signal?: AbortSignal;
  /** Largest response body accepted; default 5 MiB. */
  maxBytes?: number;
  /** Default 5. */
  maxRedirects?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whole request, redirects included; default 10 s. */
  timeoutMs?: number;
  resolver?: Resolver;
  /** Address policy; defaults to isPrivateAddress. Tests use it to treat loopback as public. */
  isBlocked?: (address: string) => boolean;
}

export interface SafeFetchResponse {
  status: number;
  ok: boolean;
  /** The final URL after redirects. */
  url: string;
  headers: Headers;
  body: Buffer;
  text(): string;
}

const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const refused = (message: string): VoxgateError => new VoxgateError('validation_failed', message, [{ field: 'url', message }]);

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused('url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused('url must use http or https');
  if (url.username || url.password) throw refused('url must not carry credentials');
  return url;
}

/** Host name without IPv6 brackets. */
const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

async function checkHost(
  host: string,
  allowPrivate: boolean,
  resolver: Resolver,
  isBlocked: (address: string) => boolean = isPrivateAddress,
): Promise<ResolvedAddress[]> {
  if (isIP(host)) {
    if (!allowPrivate && isBlocked(host)) throw refused('url resolves to a private address');
    return [{ address: host, family: isIP(host) }];
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolver(host);
  } catch {
    throw refused(`url host ${host} does not resolve`);
  }
  if (addresses.length === 0) throw refused(`url host ${host} does not resolve`);
  if (!allowPrivate && addresses.some((a) => isBlocked(a.address))) throw refused('url resolves to a private address');
  return addresses;
}

/**
 * Throws unless `url` is http(s) and every address its host resolves to is public (or
 * `allowPrivate`). Used at create time for webhook tools; `safeFetch` repeats it per hop.
 */
export async function checkUrlAllowed(url: string, allowPrivate: boolean, resolver: Resolver = systemResolver): Promise<URL> {
  const u = parseUrl(url);
  await checkHost(bareHost(u), allowPrivate, resolver);
  return u;
}

export async function safeFetch(url: string, options: SafeFetchOptions = {}): Promise<SafeFetchResponse> {
  const allowPrivate = options.allowPrivate ?? false;
  const resolver = options.resolver ?? systemResolver;
  const maxRedirects = options.maxRedirects ?? 5;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;

  try {
    return await follow(url, options, allowPrivate, resolver, maxRedirects, signal);
  } catch (err) {
    // The caller's own abort is an outcome for the caller, not a verdict on the URL.
    if (options.signal?.aborted) throw options.signal.reason ?? err;
    throw err;
  }
}

async function follow(
  url: string,
  options: SafeFetchOptions,
  allowPrivate: boolean,
  resolver: Resolver,
  maxRedirects: number,
  signal: AbortSignal,
): Promise<SafeFetchResponse> {
  let current = parseUrl(url);
  let method = (options.method ?? 'GET').toUpperCase();
  let body = options.body;
  let headers: Record<string, string> = { ...(options.headers ?? {}) };
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(current, {
      method,
      headers,
      body,
      signal,
      allowPrivate,
      resolver,
      isBlocked: options.isBlocked ?? isPrivateAddress,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    });
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || !location) return res;
    if (hop >= maxRedirects) throw refused(`url redirected more than ${maxRedirects} times`);
    const next = parseUrl(new URL(location, current).toString());
    if (next.origin !== current.origin) {
      // Credentials meant for one origin must not travel to wherever it redirects.
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^(authorization|cookie|proxy-authorization)$/i.test(k)));
    }
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-(type|length)$/i.test(k)));
    }
    current = next;
  }
}

interface OnceOptions {
  method: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  signal: AbortSignal;
  allowPrivate: boolean;
  resolver: Resolver;
  isBlocked: (address: string) => boolean;
  maxBytes: number;
}

async function requestOnce(url: URL, o: OnceOptions): Promise<SafeFetchResponse> {
  const host = bareHost(url);
  // Checked before connecting (clear errors for IP literals and unresolvable names) and again
  // inside `lookup`, whose answer is the address the socket actually connects to.
  await checkHost(host, o.allowPrivate, o.resolver, o.isBlocked);
  const pinnedLookup: LookupFunction = (hostname, opts, callback) => {
    checkHost(hostname, o.allowPrivate, o.resolver, o.isBlocked).then(
      (addresses) => {
        const wanted = typeof opts === 'object' && opts.family ? addresses.filter((a) => a.family === opts.family) : addresses;
        const list = wanted.length > 0 ? wanted : addresses;
        if (typeof opts === 'object' && opts.all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, list);
        else callback(null, list[0]!.address, list[0]!.family);
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<SafeFetchResponse>((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method: o.method,
        headers: o.headers,
        signal: o.signal,
        lookup: pinnedLookup,
        // A fresh connection per request: a pooled socket could be one resolved before a check.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > o.maxBytes) {
            res.destroy();
            reject(refused(`response from url exceeds ${o.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => reject(fetchFailed(err)));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v === undefined) continue;
            for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
          }
          const body = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, url: url.toString(), headers, body, text: () => body.toString('utf8') });
        });
      },
    );
    req.on('error', (err) => reject(fetchFailed(err)));
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

function fetchFailed(err: unknown): unknown {
  if (err instanceof VoxgateError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError' || e?.code === 'ABORT_ERR') {
    // Our own timeout versus the caller's abort: both end the request, only one is an error.
    return refused('url did not answer in time');
  }
  return refused(`could not fetch url: ${e?.code ?? e?.message ?? 'network error'}`);
}
