import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkUrlAllowed, isPrivateAddress, safeFetch, type Resolver } from '../../src/net/index.js';
import { VoxgateError } from '../../src/errors.js';

/** Makes a public-looking name resolve to whatever the test says (DNS is not under test). */
const fakeDns = (table: Record<string, string[]>): Resolver => async (host) => {
  const addrs = table[host];
  if (!addrs) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
  return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

async function refusal(p: Promise<unknown>): Promise<VoxgateError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VoxgateError);
  const ve = err as VoxgateError;
  expect(ve.status).toBe(422);
  expect(ve.code).toBe('validation_failed');
  return ve;
}

describe('address policy', () => {
  it.each([
    '127.0.0.1',
    '127.9.9.9',
    '10.0.0.1',
    '172.16.5.5',
    '172.31.255.255',
    '192.168.0.1',
    '100.64.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe',
    '0:0:0:0:0:ffff:a00:1',
    '64:ff9b::a9fe:a9fe',
  ])('refuses %s', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows public %s', (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });
});

describe('checkUrlAllowed', () => {
  it.each([
    'http://127.0.0.1/x',
    'http://10.1.2.3/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:8080/',
    'http://[::ffff:127.0.0.1]/',
    'http://0.0.0.0/',
  ])('refuses the literal %s', async (url) => {
    const err = await refusal(checkUrlAllowed(url, false, fakeDns({})));
    expect(err.message).toMatch(/private address/);
  });

  it('refuses a public-looking name that resolves to a private address', async () => {
    const err = await refusal(checkUrlAllowed('https://hooks.example.com/x', false, fakeDns({ 'hooks.example.com': ['93.184.216.34', '10.0.0.7'] })));
    expect(err.message).toMatch(/private address/);
  });

  it('accepts a name whose addresses are all public', async () => {
    const u = await checkUrlAllowed('https://hooks.example.com/x', false, fakeDns({ 'hooks.example.com': ['93.184.216.34'] }));
    expect(u.hostname).toBe('hooks.example.com');
  });

  it.each(['ftp://example.com/', 'file:///etc/passwd', 'gopher://x/', 'not a url', 'http://user:pw@example.com/'])('refuses %s', async (url) => {
    await refusal(checkUrlAllowed(url, false, fakeDns({ 'example.com': ['93.184.216.34'] })));
  });

  it('allows private addresses when allowPrivate is set', async () => {
    await expect(checkUrlAllowed('http://127.0.0.1/', true)).resolves.toBeInstanceOf(URL);
  });
});

describe('safeFetch', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/redirect-private') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        res.end();
      } else if (req.url === '/redirect-name') {
        res.writeHead(301, { location: `http://internal.example.com:${port}/ok` });
        res.end();
      } else if (req.url === '/redirect-ok') {
        res.writeHead(302, { location: '/ok' });
        res.end();
      } else if (req.url === '/big') {
        res.end('x'.repeat(10_000));
      } else if (req.url === '/ok') {
        res.end('hello');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses loopback without allowPrivate', async () => {
    await refusal(safeFetch(`http://127.0.0.1:${port}/ok`));
  });

  it('fetches loopback with allowPrivate and follows a same-host redirect', async () => {
    const res = await safeFetch(`http://127.0.0.1:${port}/redirect-ok`, { allowPrivate: true });
    expect(res.status).toBe(200);
    expect(res.text()).toBe('hello');
    expect(res.url).toBe(`http://127.0.0.1:${port}/ok`);
  });

  // Loopback stands in for "a public server" here (there is none in a test), so the address
  // policy is swapped for the real one minus 127.0.0.1; everything else stays refused.
  const loopbackIsPublic = (ip: string) => ip !== '127.0.0.1' && isPrivateAddress(ip);

  it('refuses a redirect to the metadata address, checked per hop', async () => {
    const err = await refusal(safeFetch(`http://127.0.0.1:${port}/redirect-private`, { isBlocked: loopbackIsPublic }));
    expect(err.message).toMatch(/private address/);
  });

  it('refuses a redirect to a name that resolves to a private address', async () => {
    const err = await refusal(
      safeFetch(`http://127.0.0.1:${port}/redirect-name`, {
        isBlocked: loopbackIsPublic,
        resolver: fakeDns({ 'internal.example.com': ['10.0.0.8'] }),
      }),
    );
    expect(err.message).toMatch(/private address/);
  });

  it('connects to the address it checked (pinned lookup), not a fresh DNS answer', async () => {
    // A rebinding resolver: public first, private afterwards. Both the pre-check and the
    // socket's lookup go through the policy, so the private answer can never be connected to.
    let calls = 0;
    const rebinding: Resolver = async () => {
      calls++;
      return [{ address: calls === 1 ? '127.0.0.1' : '10.0.0.9', family: 4 }];
    };
    const err = await refusal(safeFetch(`http://rebind.example.com:${port}/ok`, { isBlocked: loopbackIsPublic, resolver: rebinding }));
    expect(err.message).toMatch(/private address/);
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('reaches a public name through the pinned lookup', async () => {
    const res = await safeFetch(`http://svc.example.com:${port}/ok`, {
      isBlocked: loopbackIsPublic,
      resolver: fakeDns({ 'svc.example.com': ['127.0.0.1'] }),
    });
    expect(res.text()).toBe('hello');
  });

  it('caps the body size', async () => {
    const err = await refusal(safeFetch(`http://127.0.0.1:${port}/big`, { allowPrivate: true, maxBytes: 1000 }));
    expect(err.message).toMatch(/exceeds 1000 bytes/);
  });
});
